package caddys3cors

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/certmagic"

	"github.com/s3cors/caddy-s3cors/internal/store"
)

// ObjectStoreConfig says where the configurations are kept as objects
// `<prefix>/<bucket>.xml`, in a bucket of an S3-compatible store reached with
// its own credentials. Every field takes placeholders such as
// `{env.S3_CORS_SECRET_KEY}`.
type ObjectStoreConfig struct {
	// Endpoint is the store's S3 API, as host:port (`minio:9000`).
	Endpoint string `json:"endpoint"`
	// AccessKey is the access key of the credentials the sidecar uses.
	AccessKey string `json:"access_key"`
	// SecretKey is their secret key.
	SecretKey string `json:"secret_key"`
	// Bucket holds the configuration objects. It is created when missing.
	Bucket string `json:"bucket"`
	// Prefix is the key prefix of the objects. Default: `s3_cors/buckets`.
	Prefix string `json:"prefix,omitempty"`
	// TLS connects with HTTPS instead of plain HTTP.
	TLS bool `json:"tls,omitempty"`
	// Region is the signing region; empty lets the client find it out.
	Region string `json:"region,omitempty"`
	// Notifications makes each node listen to MinIO's bucket notifications
	// for the change journal, so that a write on one node is read by the
	// others at once instead of at their next sync; `sync_interval` stays
	// the fallback while the stream is down, and a store that refuses to
	// notify (AWS, another S3 implementation, credentials without
	// `s3:ListenBucketNotification`) gets the sync interval only. Default:
	// true; false turns it off. Changing it starts the node's state anew
	// (storage is read again), as changing the endpoint does.
	Notifications *bool `json:"notifications,omitempty"`
}

// notifications reports whether the configuration asks for notifications.
func (c *ObjectStoreConfig) notifications() bool {
	return c.Notifications == nil || *c.Notifications
}

// openStore returns the configured store (the object store, the app's
// storage module, or Caddy's storage) and its identity, the key of its
// state in states.
func (a *App) openStore(ctx caddy.Context) (store.Store, string, error) {
	if a.ObjectStore != nil {
		repl := caddy.NewReplacer()
		cfg := a.ObjectStore
		prefix := cfg.Prefix
		if prefix == "" {
			prefix = store.KeyPrefix
		}
		oc := store.ObjectStoreConfig{
			Endpoint:  repl.ReplaceAll(cfg.Endpoint, ""),
			AccessKey: repl.ReplaceAll(cfg.AccessKey, ""),
			SecretKey: repl.ReplaceAll(cfg.SecretKey, ""),
			Bucket:    repl.ReplaceAll(cfg.Bucket, ""),
			Prefix:    repl.ReplaceAll(prefix, ""),
			Secure:    cfg.TLS,
			Region:    repl.ReplaceAll(cfg.Region, ""),
			// The bucket is documented as created when missing, also when
			// the store was down as the node started.
			CreateBucket: true,
		}
		st, err := store.NewObjectStore(oc)
		if err != nil {
			return nil, "", fmt.Errorf("s3_cors: object_store: %w", err)
		}
		secret := sha256.Sum256([]byte(oc.SecretKey))
		key := fmt.Sprintf("object_store %s tls=%t region=%s %s/%s key=%s secret=%x",
			oc.Endpoint, oc.Secure, oc.Region, oc.Bucket, oc.Prefix, oc.AccessKey, secret[:8])
		if !cfg.notifications() {
			// A state listens or not from its start.
			key += " notifications=off"
		}
		return st, key, nil
	}
	if a.StorageRaw != nil {
		key := "storage " + string(a.StorageRaw)
		mod, err := ctx.LoadModule(a, "StorageRaw")
		if err != nil {
			return nil, "", fmt.Errorf("s3_cors: loading storage module: %w", err)
		}
		conv, ok := mod.(caddy.StorageConverter)
		if !ok {
			return nil, "", fmt.Errorf("s3_cors: storage module %T is not a storage converter", mod)
		}
		cm, err := conv.CertMagicStorage()
		if err != nil {
			return nil, "", fmt.Errorf("s3_cors: creating storage: %w", err)
		}
		return store.NewCaddyStorage(cm), key, nil
	}
	cm := ctx.Storage()
	return store.NewCaddyStorage(cm), "caddy " + storageIdentity(cm), nil
}

// storageIdentity names a certmagic storage: its String when it has one
// (the file system's names its path), else its type and JSON form.
func storageIdentity(cm certmagic.Storage) string {
	if s, ok := cm.(fmt.Stringer); ok {
		return fmt.Sprintf("%T %s", cm, s.String())
	}
	b, err := json.Marshal(cm)
	if err != nil {
		return fmt.Sprintf("%T %p", cm, cm)
	}
	return fmt.Sprintf("%T %s", cm, b)
}
