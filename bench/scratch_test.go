package bench

import (
	"net/http"
	"testing"
)

func BenchmarkScratch(b *testing.B) {
	servers, _, _ := load(b, caddyConfig(b, b.TempDir(), map[string][]string{
		"s3_cors": {s3CORS, staticBody},
		"plain":   {staticBody},
		"noop":    {`{"handler":"vars"}`, staticBody},
	}))
	req := func() *http.Request { return request("GET", bucket, origin) }
	b.Run("noop", func(b *testing.B) { paired(b, servers["plain"], servers["noop"], req(), req(), 200) })
	b.Run("s3_cors", func(b *testing.B) { paired(b, servers["plain"], servers["s3_cors"], req(), req(), 200) })
}
