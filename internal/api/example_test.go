package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/s3cors/caddy-s3cors/internal/api"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

// store is a minimal Configs; the Caddy app is the real one.
type store struct {
	mu sync.Mutex
	m  map[string]*s3cors.Configuration
}

func (s *store) Configuration(b string) (*s3cors.Configuration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.m[b]
	return c, ok
}

func (s *store) SetConfiguration(_ context.Context, b string, c *s3cors.Configuration, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[b] = c
	return nil
}

func (s *store) DeleteConfiguration(_ context.Context, b, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, b)
	return nil
}

func (s *store) Buckets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for b := range s.m {
		out = append(out, b)
	}
	return out
}

// The admin module registers one route, api.AdminPrefix, and looks the live
// app up on every request.
func ExampleAdmin() {
	live := &store{m: map[string]*s3cors.Configuration{}}
	admin := &api.Admin{Lookup: func() api.Configs { return live }}

	put := httptest.NewRequest("PUT", "/s3_cors/buckets/photos",
		strings.NewReader(`{"CORSRules":[{"AllowedOrigins":["https://app.example.com"],"AllowedMethods":["GET"]}]}`))
	put.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	admin.ServeHTTP(rec, put)
	fmt.Println("put:", rec.Code)

	rec = httptest.NewRecorder()
	admin.ServeHTTP(rec, httptest.NewRequest("GET", "/s3_cors/buckets", nil))
	fmt.Print("list: ", rec.Body)

	rec = httptest.NewRecorder()
	admin.ServeHTTP(rec, httptest.NewRequest("GET", "/s3_cors/buckets/..%2Fetc", nil))
	fmt.Println("traversal:", rec.Code)
	// Output:
	// put: 200
	// list: {"buckets":["photos"]}
	// traversal: 400
}

// The site handler sends `?cors` requests to ServeCORS with the bucket it
// resolved, and everything else on to the store.
func ExampleS3API() {
	live := &store{m: map[string]*s3cors.Configuration{}}
	s3 := &api.S3API{
		// The real verifier is SigV4; this one lets every request in.
		Verify: func(r *http.Request, _ string, limit int64) ([]byte, http.Header, error) {
			return nil, nil, nil
		},
	}
	site := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s3.IsCORSRequest(r) {
			bucket, _ := s3cors.SplitPath(r.URL.Path)
			s3.ServeCORS(w, r, bucket, live, nil)
			return
		}
		fmt.Println("to the store:", r.URL)
	})
	site.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/photos/a.jpg?X-Amz-Signature=abc", nil))
	rec := httptest.NewRecorder()
	site.ServeHTTP(rec, httptest.NewRequest("GET", "/photos?cors", nil))
	fmt.Println("get-bucket-cors:", rec.Code)
	// Output:
	// to the store: /photos/a.jpg?X-Amz-Signature=abc
	// get-bucket-cors: 404
}
