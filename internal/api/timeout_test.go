package api

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/s3cors/caddy-s3cors/s3cors"
)

// slowConfigs is a Configs whose writes take a while and fail when the
// request's context ends first, as a storage write would.
type slowConfigs struct {
	*memConfigs
	delay time.Duration
}

func (s slowConfigs) SetConfiguration(ctx context.Context, bucket string, cfg *s3cors.Configuration, source string) error {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return fmt.Errorf("slow storage: %w", ctx.Err())
	}
	return s.memConfigs.SetConfiguration(ctx, bucket, cfg, source)
}

// rawPut sends a PUT /<bucket>?cors to addr announcing announced bytes of
// body and sending sent of them, with the extra header lines given, then
// waits for the answer: its status line, body and how long it took from
// the end of the headers.
func rawPut(t *testing.T, addr string, announced, sent int, body string, extra ...string) (string, string, time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT /photos?cors HTTP/1.1\r\nHost: s3.example\r\nContent-MD5: %s\r\nContent-Length: %d\r\n%s\r\n%s",
		md5Base64(body), announced, strings.Join(append(extra, ""), "\r\n"), body[:sent])
	start := time.Now()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer after %v: %v", time.Since(start), err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res.Status, string(b), time.Since(start)
}

// TestS3APIBodyTimeout: a body that stops arriving is answered 400
// RequestTimeout once BodyTimeout has passed, and changes nothing; a body
// that arrived in time is not affected by the deadline afterwards, even
// when storage takes longer than BodyTimeout.
func TestS3APIBodyTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	tests := []struct {
		name       string
		bucket     string
		sent       int // bytes of otherXML sent, of len(otherXML) announced
		storage    time.Duration
		wantStatus string
		wantCode   string
		stored     bool
	}{
		{"stalled body", "photos", 10, 0, "400 Bad Request", "RequestTimeout", false},
		{"no body", "photos", 0, 0, "400 Bad Request", "RequestTimeout", false},
		{"whole body, slow storage", "photos", len(otherXML), 3 * timeout, "200 OK", "", true},
		// Refused before the body is read: net/http drains the rest of
		// the body before it writes the answer, under the same deadline.
		{"invalid bucket, stalled body", "Photos", 10, 0, "400 Bad Request", "InvalidBucketName", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMem(t, nil)
			s := &S3API{Verify: (&fakeVerifier{}).verify, BodyTimeout: timeout}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s.ServeCORS(w, r, tc.bucket, slowConfigs{m, tc.storage}, nil)
			}))
			defer srv.Close()
			status, body, took := rawPut(t, srv.Listener.Addr().String(), len(otherXML), tc.sent, otherXML)
			if status != tc.wantStatus || (tc.wantCode != "" && !strings.Contains(body, "<Code>"+tc.wantCode+"</Code>")) {
				t.Fatalf("answer %s %s, want %s %s", status, body, tc.wantStatus, tc.wantCode)
			}
			if limit := tc.storage + timeout + 2*time.Second; took > limit {
				t.Errorf("answered after %v, want under %v", took, limit)
			}
			if _, ok := m.get("photos"); ok != tc.stored {
				t.Errorf("stored = %v, want %v", ok, tc.stored)
			}
		})
	}
}

// TestAdminBodyTimeout: the admin routes rely on the admin listener's read
// timeout; a body cut off by it is 400 RequestTimeout, not IncompleteBody.
func TestAdminBodyTimeout(t *testing.T) {
	m := newMem(t, nil)
	a := newAdmin(m, nil)
	srv := httptest.NewUnstartedServer(a)
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Start()
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT /s3_cors/buckets/photos HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n%s",
		len(otherXML), otherXML[:10])
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 400 || !strings.Contains(string(b), "<Code>RequestTimeout</Code>") {
		t.Errorf("answer %d %s, want 400 RequestTimeout", res.StatusCode, b)
	}
	if _, ok := m.get("photos"); ok {
		t.Error("a cut-off body was stored")
	}
}

// TestStoreBodyTimeout: in the store mode the body is buffered before the
// store is asked, under the same bound: a body that stops arriving is
// answered 400 RequestTimeout and the store never sees the request.
func TestStoreBodyTimeout(t *testing.T) {
	store := newFakeStore()
	m := newMem(t, nil)
	s := &S3API{Store: &StoreAuthority{}, BodyTimeout: 300 * time.Millisecond}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.ServeCORS(w, r, "photos", m, store.serve)
	}))
	defer srv.Close()
	status, body, _ := rawPut(t, srv.Listener.Addr().String(), len(otherXML), 10, otherXML,
		"Authorization: AWS4-HMAC-SHA256 Credential=CORSADMIN/20261130/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0")
	if status != "400 Bad Request" || !strings.Contains(body, "<Code>RequestTimeout</Code>") {
		t.Fatalf("answer %s %s, want 400 RequestTimeout", status, body)
	}
	if n := len(store.clientRequests()) + store.probes(); n != 0 {
		t.Errorf("the store saw %d requests", n)
	}
	if _, ok := m.get("photos"); ok {
		t.Error("a cut-off body was stored")
	}
}
