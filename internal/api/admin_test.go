package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/s3cors/caddy-s3cors/internal/conformance"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

func newAdmin(m *memConfigs, logs *errLog) *Admin {
	a := &Admin{
		Lookup: func() Configs { return m },
		Owner:  func() string { return owner },
	}
	if logs != nil {
		a.LogError = logs.log
	}
	return a
}

func TestAdminRoutes(t *testing.T) {
	putXML := `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><CORSRule><ID>r1</ID><AllowedOrigin>https://a.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedHeader>X-Amz-*</AllowedHeader></CORSRule></CORSConfiguration>`
	putJSON := `{"CORSRules":[{"AllowedOrigins":["https://b.example"],"AllowedMethods":["PUT","POST"],"ExposeHeaders":["ETag"],"MaxAgeSeconds":30}]}`
	tooLarge := "<CORSConfiguration>" + strings.Repeat(" ", s3cors.MaxBodySize) + "</CORSConfiguration>"
	tests := []struct {
		name    string
		req     *http.Request
		status  int
		code    string            // an S3 error code, "" for a success
		fields  map[string]string // extra error elements
		header  map[string]string // response headers that must be exactly so
		body    string            // exact success body, when not empty
		stored  string            // configuration photos must hold afterwards ("-" none)
		noTouch bool              // Configs must not have been called
	}{
		// PUT
		{name: "put xml", req: newRequest("PUT", "/s3_cors/buckets/photos", putXML),
			status: 200, stored: putXML},
		{name: "put xml with content-md5", req: newRequest("PUT", "/s3_cors/buckets/photos", putXML, "Content-MD5", md5Base64(putXML)),
			status: 200, stored: putXML},
		{name: "put xml with crc32", req: newRequest("PUT", "/s3_cors/buckets/photos", putXML, "X-Amz-Checksum-Crc32", conformance.CRC32([]byte(putXML))),
			status: 200, stored: putXML},
		{name: "put json", req: newRequest("PUT", "/s3_cors/buckets/photos", putJSON, "Content-Type", "application/json"),
			status: 200, stored: putJSON},
		{name: "put json with charset", req: newRequest("PUT", "/s3_cors/buckets/photos", putJSON, "Content-Type", "application/json; charset=utf-8"),
			status: 200, stored: putJSON},
		{name: "put json without content-type is read as xml", req: newRequest("PUT", "/s3_cors/buckets/photos", putJSON),
			status: 400, code: "MalformedXML", stored: photosJSON},
		{name: "put invalid xml", req: newRequest("PUT", "/s3_cors/buckets/photos", "<CORSConfiguration><CORSRule>"),
			status: 400, code: "MalformedXML", stored: photosJSON},
		{name: "put invalid method value", req: newRequest("PUT", "/s3_cors/buckets/photos", `{"CORSRules":[{"AllowedOrigins":["*"],"AllowedMethods":["get"]}]}`, "Content-Type", "application/json"),
			status: 400, code: "InvalidRequest", stored: photosJSON},
		{name: "put empty body", req: newRequest("PUT", "/s3_cors/buckets/photos", ""),
			status: 400, code: "MalformedXML", stored: photosJSON},
		{name: "put too large", req: newRequest("PUT", "/s3_cors/buckets/photos", tooLarge),
			status: 400, code: "MaxMessageLengthExceeded", fields: map[string]string{"MaxMessageLengthBytes": "65536"}, stored: photosJSON},
		{name: "put bad md5", req: newRequest("PUT", "/s3_cors/buckets/photos", putXML, "Content-MD5", "MTIz"),
			status: 400, code: "InvalidDigest", fields: map[string]string{"Content-MD5": "MTIz"}, stored: photosJSON},
		{name: "put wrong md5", req: newRequest("PUT", "/s3_cors/buckets/photos", putXML, "Content-MD5", md5Base64("other")),
			status: 400, code: "BadDigest", fields: map[string]string{"ExpectedDigest": md5Base64("other"), "CalculatedDigest": md5Base64(putXML)}, stored: photosJSON},
		{name: "put wrong crc32", req: newRequest("PUT", "/s3_cors/buckets/photos", putXML, "X-Amz-Checksum-Crc32", conformance.CRC32([]byte("other"))),
			status: 400, code: "BadDigest", stored: photosJSON},
		{name: "put malformed crc32", req: newRequest("PUT", "/s3_cors/buckets/photos", putXML, "X-Amz-Checksum-Crc32", "!!"),
			status: 400, code: "InvalidRequest", stored: photosJSON},
		{name: "put owner matches", req: newRequest("PUT", "/s3_cors/buckets/photos", putXML, "X-Amz-Expected-Bucket-Owner", owner),
			status: 200, stored: putXML},
		{name: "put owner mismatch", req: newRequest("PUT", "/s3_cors/buckets/photos", putXML, "X-Amz-Expected-Bucket-Owner", "999988887777"),
			status: 403, code: "AccessDenied", stored: photosJSON},
		{name: "put owner invalid", req: newRequest("PUT", "/s3_cors/buckets/photos", putXML, "X-Amz-Expected-Bucket-Owner", "abcd"),
			status: 400, code: "InvalidBucketOwnerAWSAccountID", stored: photosJSON},
		{name: "put owner checked before the body", req: newRequest("PUT", "/s3_cors/buckets/photos", tooLarge, "X-Amz-Expected-Bucket-Owner", "999988887777"),
			status: 403, code: "AccessDenied", stored: photosJSON},

		// GET
		{name: "get xml", req: newRequest("GET", "/s3_cors/buckets/photos", ""),
			status: 200, header: map[string]string{"Content-Type": "application/xml"}, body: string(mustConfig(t, photosJSON).XML()), stored: photosJSON},
		{name: "get json", req: newRequest("GET", "/s3_cors/buckets/photos", "", "Accept", "application/json"),
			status: 200, header: map[string]string{"Content-Type": "application/json"}, body: string(mustConfig(t, photosJSON).JSON()), stored: photosJSON},
		{name: "get json preferred by quality", req: newRequest("GET", "/s3_cors/buckets/photos", "", "Accept", "application/xml;q=0.5, application/json"),
			status: 200, header: map[string]string{"Content-Type": "application/json"}, stored: photosJSON},
		{name: "get xml preferred by quality", req: newRequest("GET", "/s3_cors/buckets/photos", "", "Accept", "application/json;q=0.1, application/*"),
			status: 200, header: map[string]string{"Content-Type": "application/xml"}, stored: photosJSON},
		{name: "get any", req: newRequest("GET", "/s3_cors/buckets/photos", "", "Accept", "*/*"),
			status: 200, header: map[string]string{"Content-Type": "application/xml"}, stored: photosJSON},
		{name: "get missing", req: newRequest("GET", "/s3_cors/buckets/nothing-here", ""),
			status: 404, code: "NoSuchCORSConfiguration", fields: map[string]string{"BucketName": "nothing-here"}, stored: photosJSON},
		{name: "get missing wants json, gets the xml error", req: newRequest("GET", "/s3_cors/buckets/nothing-here", "", "Accept", "application/json"),
			status: 404, code: "NoSuchCORSConfiguration", fields: map[string]string{"BucketName": "nothing-here"}, stored: photosJSON},
		{name: "get owner mismatch", req: newRequest("GET", "/s3_cors/buckets/photos", "", "X-Amz-Expected-Bucket-Owner", "999988887777"),
			status: 403, code: "AccessDenied", stored: photosJSON},
		{name: "get owner invalid", req: newRequest("GET", "/s3_cors/buckets/photos", "", "X-Amz-Expected-Bucket-Owner", "12"),
			status: 400, code: "InvalidBucketOwnerAWSAccountID", stored: photosJSON},

		// DELETE
		{name: "delete", req: newRequest("DELETE", "/s3_cors/buckets/photos", ""),
			status: 204, stored: "-"},
		{name: "delete none", req: newRequest("DELETE", "/s3_cors/buckets/nothing-here", ""),
			status: 204, stored: photosJSON},
		{name: "delete owner mismatch", req: newRequest("DELETE", "/s3_cors/buckets/photos", "", "X-Amz-Expected-Bucket-Owner", "999988887777"),
			status: 403, code: "AccessDenied", stored: photosJSON},

		// bucket names, refused before Configs is asked anything
		{name: "name dot-dot decoded from %2F", req: newRequest("PUT", "/s3_cors/buckets/..%2F..%2Fx", putXML),
			status: 400, code: "InvalidBucketName", fields: map[string]string{"BucketName": "../../x"}, stored: photosJSON, noTouch: true},
		{name: "name dot-dot", req: newRequest("GET", "/s3_cors/buckets/..", ""),
			status: 400, code: "InvalidBucketName", fields: map[string]string{"BucketName": ".."}, stored: photosJSON, noTouch: true},
		{name: "name with slash", req: newRequest("DELETE", "/s3_cors/buckets/a/b", ""),
			status: 400, code: "InvalidBucketName", fields: map[string]string{"BucketName": "a/b"}, stored: photosJSON, noTouch: true},
		{name: "name with %2F", req: newRequest("PUT", "/s3_cors/buckets/abc%2Fdef", putXML),
			status: 400, code: "InvalidBucketName", fields: map[string]string{"BucketName": "abc/def"}, stored: photosJSON, noTouch: true},
		{name: "name upper case", req: newRequest("PUT", "/s3_cors/buckets/Photos", putXML),
			status: 400, code: "InvalidBucketName", fields: map[string]string{"BucketName": "Photos"}, stored: photosJSON, noTouch: true},
		{name: "name 2 chars", req: newRequest("GET", "/s3_cors/buckets/ab", ""),
			status: 400, code: "InvalidBucketName", fields: map[string]string{"BucketName": "ab"}, stored: photosJSON, noTouch: true},
		{name: "name 64 chars", req: newRequest("GET", "/s3_cors/buckets/"+strings.Repeat("a", 64), ""),
			status: 400, code: "InvalidBucketName", fields: map[string]string{"BucketName": strings.Repeat("a", 64)}, stored: photosJSON, noTouch: true},
		{name: "name ip address", req: newRequest("GET", "/s3_cors/buckets/192.168.5.4", ""),
			status: 400, code: "InvalidBucketName", stored: photosJSON, noTouch: true},
		{name: "name 63 chars is fine", req: newRequest("GET", "/s3_cors/buckets/"+strings.Repeat("a", 63), ""),
			status: 404, code: "NoSuchCORSConfiguration", stored: photosJSON},

		// methods
		{name: "post on a bucket", req: newRequest("POST", "/s3_cors/buckets/photos", putXML),
			status: 405, code: "MethodNotAllowed", fields: map[string]string{"Method": "POST", "ResourceType": "BUCKET"},
			header: map[string]string{"Allow": "GET, PUT, DELETE"}, stored: photosJSON, noTouch: true},
		{name: "head on a bucket", req: newRequest("HEAD", "/s3_cors/buckets/photos", ""),
			status: 405, code: "MethodNotAllowed", header: map[string]string{"Allow": "GET, PUT, DELETE"}, stored: photosJSON, noTouch: true},
		{name: "patch on an invalid name is a method error first", req: newRequest("PATCH", "/s3_cors/buckets/..%2Fx", ""),
			status: 405, code: "MethodNotAllowed", stored: photosJSON, noTouch: true},
		{name: "put on the list", req: newRequest("PUT", "/s3_cors/buckets", putXML),
			status: 405, code: "MethodNotAllowed", fields: map[string]string{"Method": "PUT", "ResourceType": "SERVICE"},
			header: map[string]string{"Allow": "GET"}, stored: photosJSON, noTouch: true},
		{name: "get on explain", req: newRequest("GET", "/s3_cors/explain", ""),
			status: 405, code: "MethodNotAllowed", header: map[string]string{"Allow": "POST"}, stored: photosJSON, noTouch: true},

		// list and unknown routes
		{name: "list", req: newRequest("GET", "/s3_cors/buckets", ""),
			status: 200, header: map[string]string{"Content-Type": "application/json"}, body: `{"buckets":["other","photos"]}` + "\n", stored: photosJSON},
		{name: "list with trailing slash", req: newRequest("GET", "/s3_cors/buckets/", ""),
			status: 200, body: `{"buckets":["other","photos"]}` + "\n", stored: photosJSON},
		{name: "unknown route", req: newRequest("GET", "/s3_cors/nothing", ""),
			status: 404, code: "NotFound", stored: photosJSON, noTouch: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMem(t, map[string]string{"photos": photosJSON, "other": otherXML})
			rec := httptest.NewRecorder()
			newAdmin(m, nil).ServeHTTP(rec, tt.req)
			if tt.code != "" {
				checkError(t, rec, tt.status, tt.code, tt.fields)
			} else {
				if rec.Code != tt.status {
					t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
				}
				checkIDs(t, rec.Header())
				if (tt.status == 204 || tt.req.Method == "PUT") && rec.Body.Len() != 0 {
					t.Errorf("body %q, want empty", rec.Body)
				}
				if tt.body != "" && rec.Body.String() != tt.body {
					t.Errorf("body\n%s\nwant\n%s", rec.Body, tt.body)
				}
			}
			checkHeaders(t, rec.Header(), tt.header)
			checkStored(t, m, "photos", tt.stored)
			if tt.noTouch && m.callCount() != 0 {
				t.Errorf("Configs was called %d times (last bucket %q)", m.callCount(), m.lastSeen)
			}
			if tt.req.Method != "GET" && tt.status < 300 && tt.req.URL.Path != BucketsPath {
				if len(m.sources) != 1 || m.sources[0] != SourceAdmin {
					t.Errorf("sources %q, want one %q", m.sources, SourceAdmin)
				}
			}
		})
	}
}

func TestAdminListEmpty(t *testing.T) {
	rec := httptest.NewRecorder()
	newAdmin(newMem(t, nil), nil).ServeHTTP(rec, newRequest("GET", "/s3_cors/buckets", ""))
	if rec.Code != 200 || rec.Body.String() != `{"buckets":[]}`+"\n" {
		t.Errorf("empty list: %d %s", rec.Code, rec.Body)
	}
	var list BucketList
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || list.Buckets == nil {
		t.Errorf("decode %s: %v %#v", rec.Body, err, list)
	}
}

func TestAdminDeleteTwice(t *testing.T) {
	m := newMem(t, map[string]string{"photos": photosJSON})
	a := newAdmin(m, nil)
	for i := 0; i < 2; i++ {
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, newRequest("DELETE", "/s3_cors/buckets/photos", ""))
		if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
			t.Fatalf("delete %d: %d %q", i+1, rec.Code, rec.Body)
		}
		if rec.Header().Get("Content-Type") != "" {
			t.Errorf("delete %d: Content-Type %q", i+1, rec.Header().Get("Content-Type"))
		}
	}
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, newRequest("GET", "/s3_cors/buckets/photos", ""))
	checkError(t, rec, 404, "NoSuchCORSConfiguration", map[string]string{"BucketName": "photos"})
}

func TestAdminStorageFailure(t *testing.T) {
	storageErr := errors.New("disk full")
	tests := []struct {
		name   string
		method string
		body   string
		fail   func(m *memConfigs)
	}{
		{"put", "PUT", otherXML, func(m *memConfigs) { m.failSet = storageErr }},
		{"delete", "DELETE", "", func(m *memConfigs) { m.failDel = storageErr }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMem(t, map[string]string{"photos": photosJSON})
			tt.fail(m)
			logs := &errLog{}
			a := newAdmin(m, logs)
			rec := httptest.NewRecorder()
			a.ServeHTTP(rec, newRequest(tt.method, "/s3_cors/buckets/photos", tt.body))
			checkError(t, rec, 500, "InternalError", nil)
			doc := conformance.ParseErrorDoc(t, rec.Body.Bytes())
			if doc.Message != "We encountered an internal error. Please try again." {
				t.Errorf("message %q", doc.Message)
			}
			if strings.Contains(rec.Body.String(), "disk full") {
				t.Errorf("storage error leaked to the client: %s", rec.Body)
			}
			errs := logs.all()
			if len(errs) != 1 || !errors.Is(errs[0], storageErr) || !strings.Contains(errs[0].Error(), "photos") {
				t.Errorf("logged %v, want the storage error with the bucket", errs)
			}
			// The previous configuration is still served.
			rec = httptest.NewRecorder()
			a.ServeHTTP(rec, newRequest("GET", "/s3_cors/buckets/photos", ""))
			if rec.Code != 200 || rec.Body.String() != string(mustConfig(t, photosJSON).XML()) {
				t.Errorf("after the failure GET answers %d %s", rec.Code, rec.Body)
			}
		})
	}
}

func TestAdminNoLiveApp(t *testing.T) {
	for _, a := range []struct {
		name  string
		admin *Admin
	}{
		{"lookup answers nil", &Admin{Lookup: func() Configs { return nil }}},
		{"no lookup", &Admin{}},
	} {
		for _, req := range []struct{ method, target, body string }{
			{"PUT", "/s3_cors/buckets/photos", otherXML},
			{"GET", "/s3_cors/buckets/photos", ""},
			{"DELETE", "/s3_cors/buckets/photos", ""},
			{"GET", "/s3_cors/buckets", ""},
			{"POST", "/s3_cors/explain", `{"bucket":"photos","method":"GET","origin":"https://a"}`},
		} {
			t.Run(a.name+" "+req.method+" "+req.target, func(t *testing.T) {
				rec := httptest.NewRecorder()
				a.admin.ServeHTTP(rec, newRequest(req.method, req.target, req.body))
				checkError(t, rec, 503, "ServiceUnavailable", nil)
			})
		}
	}
}

// countingReader yields n zero bytes and counts what was read.
type countingReader struct {
	n, read int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.read >= c.n {
		return 0, io.EOF
	}
	if rest := c.n - c.read; int64(len(p)) > rest {
		p = p[:rest]
	}
	clear(p)
	c.read += int64(len(p))
	return len(p), nil
}

func TestAdminBodyLimit(t *testing.T) {
	const size = 10 << 20
	tests := []struct {
		name          string
		contentLength int64
		maxRead       int64
	}{
		{"unknown length is read up to the limit", -1, s3cors.MaxBodySize + 1},
		{"declared length is refused unread", size, 0},
	}
	for _, tt := range tests {
		for _, target := range []string{"/s3_cors/buckets/photos", "/s3_cors/explain"} {
			t.Run(tt.name+" "+target, func(t *testing.T) {
				body := &countingReader{n: size}
				method := "PUT"
				if target == ExplainPath {
					method = "POST"
				}
				req := httptest.NewRequest(method, target, body)
				req.ContentLength = tt.contentLength
				m := newMem(t, map[string]string{"photos": photosJSON})
				rec := httptest.NewRecorder()
				newAdmin(m, nil).ServeHTTP(rec, req)
				checkError(t, rec, 400, "MaxMessageLengthExceeded", map[string]string{"MaxMessageLengthBytes": "65536"})
				if body.read > tt.maxRead {
					t.Errorf("read %d bytes, want at most %d", body.read, tt.maxRead)
				}
				if got, _ := m.get("photos"); !got.Equal(mustConfig(t, photosJSON)) {
					t.Errorf("configuration changed")
				}
			})
		}
	}
}

// failingReader fails after the first bytes, as a client that goes away.
type failingReader struct{ sent bool }

func (f *failingReader) Read(p []byte) (int, error) {
	if !f.sent {
		f.sent = true
		return copy(p, "<CORS"), nil
	}
	return 0, errors.New("connection reset")
}

func TestAdminBodyReadError(t *testing.T) {
	logs := &errLog{}
	req := httptest.NewRequest("PUT", "/s3_cors/buckets/photos", &failingReader{})
	rec := httptest.NewRecorder()
	newAdmin(newMem(t, nil), logs).ServeHTTP(rec, req)
	checkError(t, rec, 400, "IncompleteBody", nil)
	if errs := logs.all(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "connection reset") {
		t.Errorf("logged %v", errs)
	}
}

func TestAdminOverHTTP(t *testing.T) {
	// Through a real server and client: the %2F in the path is decoded
	// by the server before the route sees it.
	m := newMem(t, map[string]string{"photos": photosJSON})
	srv := httptest.NewServer(newAdmin(m, nil))
	defer srv.Close()
	for _, tt := range []struct {
		name, method, path string
		status             int
		code, bucket       string
	}{
		{"dot-dot %2F", "PUT", "/s3_cors/buckets/..%2F..%2Fx", 400, "InvalidBucketName", "../../x"},
		{"%2F inside", "DELETE", "/s3_cors/buckets/pho%2Ftos", 400, "InvalidBucketName", "pho/tos"},
		{"encoded dot-dot", "GET", "/s3_cors/buckets/%2E%2E", 400, "InvalidBucketName", ".."},
		{"get", "GET", "/s3_cors/buckets/photos", 200, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(otherXML))
			if err != nil {
				t.Fatal(err)
			}
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(res.Body)
			_ = res.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.status, body)
			}
			if tt.code != "" {
				doc := conformance.ParseErrorDoc(t, body)
				if doc.Code != tt.code || doc.Fields["BucketName"] != tt.bucket {
					t.Errorf("got %s %q", doc.Code, doc.Fields["BucketName"])
				}
			}
		})
	}
	if got := sorted(m.Buckets()); len(got) != 1 || got[0] != "photos" {
		t.Errorf("buckets %q", got)
	}
}

func TestAdminConcurrent(t *testing.T) {
	// Admin keeps no state of its own: concurrent requests only meet in
	// Configs. Run with -race.
	m := newMem(t, nil)
	a := newAdmin(m, nil)
	buckets := []string{"one", "two", "three"}
	done := make(chan struct{})
	for g := 0; g < 8; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 50; i++ {
				b := buckets[(g+i)%len(buckets)]
				var req *http.Request
				switch i % 4 {
				case 0:
					req = newRequest("PUT", "/s3_cors/buckets/"+b, otherXML)
				case 1:
					req = newRequest("GET", "/s3_cors/buckets/"+b, "")
				case 2:
					req = newRequest("GET", "/s3_cors/buckets", "")
				default:
					req = newRequest("DELETE", "/s3_cors/buckets/"+b, "")
				}
				rec := httptest.NewRecorder()
				a.ServeHTTP(rec, req)
				if rec.Code >= 500 || rec.Code == 400 {
					t.Errorf("%s %s: %d %s", req.Method, req.URL.Path, rec.Code, rec.Body)
				}
			}
		}()
	}
	for g := 0; g < 8; g++ {
		<-done
	}
}
