package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestBucketFromKey(t *testing.T) {
	tests := []struct {
		name   string
		key    string
		bucket string
		ok     bool
	}{
		{"configuration key", "photos.xml", "photos", true},
		{"dotted bucket", "www.example.com.xml", "www.example.com", true},
		{"no suffix", "photos", "", false},
		{"other suffix", "photos.json", "", false},
		{"upper-case suffix", "photos.XML", "", false},
		{"temporary file of atomicfile", "1234567890", "", false},
		{"invalid bucket", "Ph.xml", "", false},
		{"suffix only", ".xml", "", false},
		// Names S3 reserves are refused by the APIs, but a key written
		// before is still read.
		{"reserved prefix", "xn--photos.xml", "xn--photos", true},
		{"reserved suffix", "photos-s3alias.xml", "photos-s3alias", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bucket, ok := bucketFromKey(tt.key)
			if bucket != tt.bucket || ok != tt.ok {
				t.Errorf("bucketFromKey(%q) = %q, %v; want %q, %v", tt.key, bucket, ok, tt.bucket, tt.ok)
			}
		})
	}
}

// testXML returns a valid PutBucketCors body whose only rule admits origin.
func testXML(origin string) []byte {
	return fmt.Appendf(nil, `<CORSConfiguration><CORSRule><AllowedOrigin>%s</AllowedOrigin>`+
		`<AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`, origin)
}

// countingStore wraps a Store and counts Loads per bucket. It forwards
// PutVersion and Locate when the wrapped store has them, so that the Syncer
// behaves as it does with the real store.
type countingStore struct {
	Store
	mu    sync.Mutex
	loads map[string]int
}

func newCountingStore(s Store) *countingStore {
	return &countingStore{Store: s, loads: make(map[string]int)}
}

func (c *countingStore) Load(ctx context.Context, bucket string) ([]byte, error) {
	c.mu.Lock()
	c.loads[bucket]++
	c.mu.Unlock()
	return c.Store.Load(ctx, bucket)
}

func (c *countingStore) PutVersion(ctx context.Context, bucket string, xml []byte) (string, error) {
	if vp, ok := c.Store.(VersionedPutter); ok {
		return vp.PutVersion(ctx, bucket, xml)
	}
	return "", c.Store.Put(ctx, bucket, xml)
}

func (c *countingStore) Locate(bucket string) string {
	if l, ok := c.Store.(Locator); ok {
		return l.Locate(bucket)
	}
	return bucket
}

// takeLoads returns the Loads counted since the last call and resets them.
func (c *countingStore) takeLoads() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	loads := c.loads
	c.loads = make(map[string]int)
	return loads
}

// faultStore wraps a Store and fails the operations whose error is set.
type faultStore struct {
	Store
	mu      sync.Mutex
	listErr error
	putErr  error
	// listGate, when set, is received from before List lists, so that a
	// test can act while a Sync is in progress.
	listGate chan struct{}
}

func (f *faultStore) setListErr(err error) {
	f.mu.Lock()
	f.listErr = err
	f.mu.Unlock()
}

func (f *faultStore) List(ctx context.Context) ([]Entry, error) {
	f.mu.Lock()
	err, gate := f.listErr, f.listGate
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	entries, err := f.Store.List(ctx)
	if gate != nil {
		<-gate
	}
	return entries, err
}

func (f *faultStore) Put(ctx context.Context, bucket string, xml []byte) error {
	f.mu.Lock()
	err := f.putErr
	f.mu.Unlock()
	if err != nil {
		return err
	}
	return f.Store.Put(ctx, bucket, xml)
}

var errInjected = errors.New("injected fault")
