package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// MinIOStreamBinEnv names a MinIO binary whose notification streams reach
// the client, which wins over .cache/bin/minio-stream.
//
// The pinned MinIO (scripts/install-minio.sh) never flushes a streaming
// response: since minio/minio#21651 (October 2025) every S3 API response
// writer is wrapped in a trackingResponseWriter (cmd/api-response.go) that
// has no Flush method, and xhttp.Flush (internal/http/flush.go) asserts
// http.Flusher on it, so each flush of ListenBucketNotification
// (cmd/listen-notification-handlers.go) does nothing: the response
// headers and the events wait in net/http's buffers until about 6 KB
// accumulate. scripts/install-minio.sh builds minio-stream, the same
// version with the one missing method added.
const MinIOStreamBinEnv = "MINIO_STREAM_BIN"

// FindMinIOStream returns the path of a MinIO binary whose notification
// streams work: $MINIO_STREAM_BIN if set, else the repository's
// .cache/bin/minio-stream.
func FindMinIOStream() (string, error) {
	if p := os.Getenv(MinIOStreamBinEnv); p != "" {
		if isExecutable(p) {
			return p, nil
		}
		return "", fmt.Errorf("testenv: %s=%s is not an executable file", MinIOStreamBinEnv, p)
	}
	if root, ok := repoRoot(); ok {
		p := filepath.Join(root, ".cache", "bin", "minio-stream")
		if isExecutable(p) {
			return p, nil
		}
		return "", fmt.Errorf("testenv: no MinIO that streams notifications in $%s or %s (MINIO_STREAM=1 scripts/install-minio.sh builds it)",
			MinIOStreamBinEnv, p)
	}
	return "", fmt.Errorf("testenv: no MinIO that streams notifications in $%s", MinIOStreamBinEnv)
}

// StartMinIOStream is StartMinIO with the binary of FindMinIOStream, for
// tests of bucket notifications; a missing binary ends the test as
// RequireMinIO does.
func StartMinIOStream(t testing.TB) *MinIO {
	t.Helper()
	bin, err := FindMinIOStream()
	Require(t, err)
	return startMinIOBinary(t, bin, nil)
}
