package store

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/s3cors/caddy-s3cors/internal/testenv"
)

// streamCutter is a proxy in front of MinIO that can cut notification
// streams: while cut, the streams open are ended (the client sees the
// connection drop) and new listen requests are answered 503; every other
// request passes, so that syncs work while the stream is down.
type streamCutter struct {
	proxy *httputil.ReverseProxy
	mu    sync.Mutex
	cut   bool
	// streams ends with the cut of the streams open.
	streams context.Context
	end     context.CancelFunc
}

// newStreamCutter starts a streamCutter in front of target and returns it
// with its host:port.
func newStreamCutter(t *testing.T, target string) (*streamCutter, string) {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &streamCutter{proxy: httputil.NewSingleHostReverseProxy(u)}
	p.proxy.FlushInterval = -1
	p.proxy.ErrorLog = log.New(io.Discard, "", 0) // the cut streams
	p.streams, p.end = context.WithCancel(context.Background())
	srv := httptest.NewServer(p)
	t.Cleanup(func() {
		p.end()
		srv.Close()
	})
	return p, srv.Listener.Addr().String()
}

func (p *streamCutter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !r.URL.Query().Has("events") {
		p.proxy.ServeHTTP(w, r)
		return
	}
	p.mu.Lock()
	cut, streams := p.cut, p.streams
	p.mu.Unlock()
	if cut {
		http.Error(w, "stream cut by the test", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(streams, cancel)
	defer stop()
	p.proxy.ServeHTTP(w, r.WithContext(ctx))
}

// setCut cuts the streams (ending those open) or lets them through again.
func (p *streamCutter) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		p.end()
		p.streams, p.end = context.WithCancel(context.Background())
	}
}

// TestObjectStoreNotifications runs checkNotifiedAndFallback on one MinIO
// whose notification streams work, node B going through a proxy that cuts
// its stream.
func TestObjectStoreNotifications(t *testing.T) {
	m := testenv.StartMinIOStream(t)
	a := NewSyncer(newObjectStore(t, m, "notify"), nil, SyncerOptions{})
	if _, err := a.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	cutter, addr := newStreamCutter(t, m.URL)
	bStore, err := NewObjectStore(ObjectStoreConfig{
		Endpoint: addr, AccessKey: m.AccessKey, SecretKey: m.SecretKey,
		Bucket: "cors-config", Prefix: "notify", Region: "us-east-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.InfoLevel)
	b := NewSyncer(bStore, zap.New(core), SyncerOptions{Notifications: true, notifyRetryMax: 50 * time.Millisecond})
	runLoop(t, b, time.Hour)
	checkNotifiedAndFallback(t, a, b, logs, streamControl{
		announced: func() {},
		cut:       func() { cutter.setCut(true) },
		restore:   func() { cutter.setCut(false) },
	})
}

// TestObjectStoreNotificationsDenied runs node B with credentials that may
// read and write the configurations but not listen: MinIO answers
// AccessDenied, B says once that notifications are not available, warns
// about nothing, and syncs at its interval.
func TestObjectStoreNotificationsDenied(t *testing.T) {
	ctx := context.Background()
	m := testenv.StartMinIO(t)
	a := NewSyncer(newObjectStore(t, m, "denied"), nil, SyncerOptions{})
	m.AddUser(t, "no-listen", "no-listen-secret", testenv.BucketPolicy(
		[]string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetBucketLocation"},
		"cors-config", "cors-config/*"))
	bStore, err := NewObjectStore(ObjectStoreConfig{
		Endpoint: m.Endpoint, AccessKey: "no-listen", SecretKey: "no-listen-secret",
		Bucket: "cors-config", Prefix: "denied", Region: "us-east-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.InfoLevel)
	b := NewSyncer(bStore, zap.New(core), SyncerOptions{Notifications: true, notifyRetryMax: 50 * time.Millisecond})
	runLoop(t, b, 20*time.Millisecond)
	if err := a.Put(ctx, "photos", mustParse(t, testXML("https://a.example"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "B serving photos", serves(b, "photos"))
	waitFor(t, "B told notifications are not available", func() bool {
		return logCount(logs, zapcore.InfoLevel, "notifications not available") > 0
	})
	checkRefused(t, b, logs)
	for _, e := range logs.All() {
		if strings.Contains(e.Message, "not available") {
			if err, _ := e.ContextMap()["error"].(string); !strings.Contains(err, "Access Denied") {
				t.Errorf("refusal logged with error %q, want MinIO's Access Denied", err)
			}
		}
	}
}

// TestObjectStoreNotifyAnswers runs Notify against a server that plays
// MinIO's listen API in the ways a store can answer: a stream that
// announces an entry and then goes silent is taken down once silent for
// the stall time; an S3 error such as NotImplemented or AccessDenied, or
// an answer that is not a notification stream, is a refusal; a 503 is not.
func TestObjectStoreNotifyAnswers(t *testing.T) {
	const entry = "01764000000000000000-0123abcd-photos"
	tests := []struct {
		name    string
		answer  func(w http.ResponseWriter, r *http.Request)
		refused bool
		stalled bool
		entries []string
	}{
		{
			name: "stream then silence",
			answer: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				// The key as MinIO's listen API gives it (not escaped).
				_, _ = io.WriteString(w, `{"Records":null}`+"\n"+
					`{"Records":[{"eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"cors-config"},"object":{"key":"cfg/.journal/`+entry+`"}}}]}`+"\n")
				w.(http.Flusher).Flush()
				<-r.Context().Done()
			},
			stalled: true,
			entries: []string{entry},
		},
		{
			name: "not implemented",
			answer: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(http.StatusNotImplemented)
				_, _ = io.WriteString(w, `<Error><Code>NotImplemented</Code><Message>A header you provided implies functionality that is not implemented</Message></Error>`)
			},
			refused: true,
		},
		{
			name: "access denied",
			answer: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(http.StatusForbidden)
				_, _ = io.WriteString(w, `<Error><Code>AccessDenied</Code><Message>Access Denied.</Message></Error>`)
			},
			refused: true,
		},
		{
			name: "a listing instead of a stream",
			answer: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/xml")
				_, _ = io.WriteString(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult><Name>cors-config</Name></ListBucketResult>\n")
			},
			refused: true,
		},
		{
			name: "unavailable",
			answer: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = io.WriteString(w, `<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !r.URL.Query().Has("events") || r.URL.Query().Get("prefix") != "cfg/.journal/" {
					http.Error(w, "unexpected request "+r.URL.String(), http.StatusBadRequest)
					return
				}
				tt.answer(w, r)
			}))
			defer srv.Close()
			o, err := NewObjectStore(ObjectStoreConfig{Endpoint: srv.Listener.Addr().String(),
				AccessKey: "k", SecretKey: "s", Bucket: "cors-config", Prefix: "cfg", Region: "us-east-1"})
			if err != nil {
				t.Fatal(err)
			}
			o.notifyStall = 200 * time.Millisecond
			var states []bool
			var entries []string
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err = o.Notify(ctx, func(up bool) { states = append(states, up) },
				func(name string) { entries = append(entries, name) })
			if ctx.Err() != nil {
				t.Fatalf("Notify returned only when the test gave up: %v", err)
			}
			if got := errors.Is(err, ErrNotificationsRefused); got != tt.refused {
				t.Errorf("refused = %v, want %v (%v)", got, tt.refused, err)
			}
			if got := errors.Is(err, errStalled); got != tt.stalled {
				t.Errorf("stalled = %v, want %v (%v)", got, tt.stalled, err)
			}
			if !slices.Equal(entries, tt.entries) {
				t.Errorf("entries %q, want %q", entries, tt.entries)
			}
			if wantUp := tt.stalled; (len(states) > 0 && states[0]) != wantUp {
				t.Errorf("states %v: up first = %v", states, wantUp)
			}
		})
	}
}
