package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"
)

// notifyStall is how long an established stream may stay silent before it
// is taken for dead (a half-open connection, a proxy that dropped it) and
// opened again: MinIO writes an empty record every 10 s on the streams
// minio-go opens (ping=10), so three are missing.
const notifyStall = 35 * time.Second

// errStalled ends a stream that stayed silent for notifyStall.
var errStalled = errors.New("notification stream silent for too long")

// Notify implements Notifier with MinIO's ListenBucketNotification on the
// journal's prefix: every entry another node appends is announced as soon
// as it is written. The stream has a client and a connection of its own;
// minio-go opens it again by itself when the server ends it cleanly, and
// Notify returns on any other end. A store that is not MinIO (minio-go
// refuses AWS and Google endpoints), answers the request with an S3 error
// such as NotImplemented or AccessDenied, or with something that is not a
// stream of notifications, is refused (ErrNotificationsRefused).
func (o *ObjectStore) Notify(ctx context.Context, state func(up bool), entry func(name string)) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	base, err := minio.DefaultTransport(o.listenOptions.Secure)
	if err != nil {
		return fmt.Errorf("object store: listen: transport: %w", err)
	}
	defer base.CloseIdleConnections()
	watch := &streamWatch{next: base, ctx: ctx, states: make(chan bool)}
	opts := o.listenOptions
	opts.Transport = watch
	client, err := minio.New(o.client.EndpointURL().Host, &opts)
	if err != nil {
		return fmt.Errorf("object store: listen: client: %w", err)
	}
	prefix := o.journalPrefix()
	events := client.ListenBucketNotification(ctx, o.bucket, prefix, "", []string{"s3:ObjectCreated:*"})
	stall := notifyStall
	if o.notifyStall > 0 {
		stall = o.notifyStall
	}
	check := time.NewTicker(stall / 5)
	defer check.Stop()
	up := false
	for {
		select {
		case now := <-watch.states:
			if now != up {
				up = now
				state(up)
			}
		case info, ok := <-events:
			if !ok {
				// minio-go closes the channel only once ctx ended.
				return fmt.Errorf("object store: listen %s/%s: %w", o.bucket, prefix, context.Cause(ctx))
			}
			if info.Err != nil {
				return o.listenError(prefix, info.Err)
			}
			for _, rec := range info.Records {
				if name, ok := strings.CutPrefix(rec.S3.Object.Key, prefix); ok {
					entry(name)
				}
			}
		case <-check.C:
			if up && watch.silence() > stall {
				cancel(errStalled)
			}
		case <-ctx.Done():
			return fmt.Errorf("object store: listen %s/%s: %w", o.bucket, prefix, context.Cause(ctx))
		}
	}
}

// listenError wraps an error of the notification stream, as a refusal when
// retrying soon cannot help.
func (o *ObjectStore) listenError(prefix string, err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	resp := minio.ToErrorResponse(err)
	switch {
	case errors.As(err, &syntax), errors.As(err, &typ):
		return fmt.Errorf("object store: listen %s/%s: the answer is not a notification stream: %w (%w)",
			o.bucket, prefix, ErrNotificationsRefused, err)
	case resp.Code == minio.APINotSupported, resp.Code == "NotImplemented", resp.Code == "AccessDenied",
		resp.StatusCode == http.StatusForbidden, resp.StatusCode == http.StatusMethodNotAllowed,
		resp.StatusCode == http.StatusNotImplemented:
		return fmt.Errorf("object store: listen %s/%s: %w (%w)", o.bucket, prefix, ErrNotificationsRefused, err)
	}
	return fmt.Errorf("object store: listen %s/%s: %w", o.bucket, prefix, err)
}

// streamWatch is the transport of a notification stream's client. It sees
// what minio-go hides: when the server answers a listen request (the
// stream is up), when the stream's body ends (down), and when it last
// delivered bytes (MinIO's pings included), to find a stream gone silent.
type streamWatch struct {
	next   http.RoundTripper
	ctx    context.Context
	states chan bool    // up and down, to Notify's loop
	last   atomic.Int64 // Unix nanoseconds of the last bytes read
}

// RoundTrip implements http.RoundTripper.
func (w *streamWatch) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := w.next.RoundTrip(r)
	if err != nil || !r.URL.Query().Has("events") {
		return resp, err // also the region lookup minio-go may make first
	}
	if resp.StatusCode == http.StatusOK && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		w.last.Store(time.Now().UnixNano())
		w.report(true)
		resp.Body = &watchedBody{ReadCloser: resp.Body, w: w}
	}
	return resp, nil
}

// report tells Notify's loop that the stream is up or down, unless Notify
// is done.
func (w *streamWatch) report(up bool) {
	select {
	case w.states <- up:
	case <-w.ctx.Done():
	}
}

// silence returns how long the stream has delivered no bytes.
func (w *streamWatch) silence() time.Duration {
	return time.Since(time.Unix(0, w.last.Load()))
}

// watchedBody is the body of an established stream.
type watchedBody struct {
	io.ReadCloser
	w    *streamWatch
	done atomic.Bool
}

// Read implements io.Reader: bytes keep the stream alive; its end, clean or
// not, takes it down.
func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.w.last.Store(time.Now().UnixNano())
	}
	if err != nil && !b.done.Swap(true) {
		b.w.report(false)
	}
	return n, err
}

// Close implements io.Closer.
func (b *watchedBody) Close() error {
	err := b.ReadCloser.Close()
	if !b.done.Swap(true) {
		b.w.report(false)
	}
	return err
}

var _ Notifier = (*ObjectStore)(nil)
