package putcors

import (
	"io"
	"testing"

	"github.com/s3cors/caddy-s3cors/internal/s3err"
	"github.com/s3cors/caddy-s3cors/s3cors"
)

func TestReadBody(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		tooLong bool
	}{
		{"empty", 0, false},
		{"limit", s3cors.MaxBodySize, false},
		{"one over", s3cors.MaxBodySize + 1, true},
		{"much larger", 10 * s3cors.MaxBodySize, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &countingReader{n: tt.size}
			body, err := ReadBody(r)
			if tt.tooLong {
				e, ok := err.(*s3err.Error)
				if !ok || e.Code != "MaxMessageLengthExceeded" {
					t.Fatalf("got %v", err)
				}
				if v, _ := e.Field("MaxMessageLengthBytes"); v != "65536" {
					t.Errorf("MaxMessageLengthBytes %q", v)
				}
			} else if err != nil || len(body) != tt.size {
				t.Fatalf("got %d bytes, %v", len(body), err)
			}
			if r.read > s3cors.MaxBodySize+1 {
				t.Errorf("read %d bytes, want at most %d", r.read, s3cors.MaxBodySize+1)
			}
		})
	}
}

// countingReader yields n bytes of 'x' and counts what was read.
type countingReader struct{ n, read int }

func (r *countingReader) Read(p []byte) (int, error) {
	if r.read >= r.n {
		return 0, io.EOF
	}
	k := min(len(p), r.n-r.read)
	for i := range p[:k] {
		p[i] = 'x'
	}
	r.read += k
	return k, nil
}
