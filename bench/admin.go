package bench

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
)

// AdminPut stores the aws cli JSON configuration body of bucket through
// the admin API at admin (http://host:port), and returns an error unless
// it answered 200.
func AdminPut(client *http.Client, admin, bucket string, body []byte) error {
	req, err := http.NewRequest(http.MethodPut, admin+"/s3_cors/buckets/"+bucket, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("PUT %s: %s: %s", bucket, resp.Status, answer)
	}
	return nil
}
