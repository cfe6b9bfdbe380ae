// Package caddys3cors gives any S3-compatible object store (MinIO, Ceph,
// legacy storage) Amazon S3's per-bucket CORS, as Caddy modules:
//
//   - http.handlers.s3_cors (Caddyfile directive `s3_cors`, ordered before
//     `basic_auth`) answers CORS preflights itself and decorates the store's
//     responses with the matched rule's Access-Control-* headers;
//   - http.matchers.s3_cors matches preflights, configured buckets or
//     allowed CORS requests;
//   - the s3_cors app (global option `s3_cors`) holds the bucket CORS
//     configurations set at run time.
//
// The CORS behaviour itself lives in the engine, package
// github.com/s3cors/caddy-s3cors/s3cors; this package resolves the bucket,
// finds its policy and calls the engine.
package caddys3cors

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"go.uber.org/zap"

	"github.com/s3cors/caddy-s3cors/internal/cli"
	"github.com/s3cors/caddy-s3cors/internal/putcors"
	"github.com/s3cors/caddy-s3cors/internal/store"
)

func init() {
	caddy.RegisterModule(new(App))
	caddy.RegisterModule(Handler{})
	caddy.RegisterModule(MatchS3CORS{})
	httpcaddyfile.RegisterHandlerDirective("s3_cors", parseHandlerCaddyfile)
	httpcaddyfile.RegisterDirectiveOrder("s3_cors", httpcaddyfile.Before, "basic_auth")
	httpcaddyfile.RegisterGlobalOption("s3_cors", parseGlobalOption)
	caddycmd.RegisterCommand(cli.Command())
}

// DefaultSyncInterval is how often a node picks up the configurations other
// nodes wrote to shared storage, when sync_interval is not set: the
// syncer's own default.
const DefaultSyncInterval = store.DefaultInterval

// App is the s3_cors app: it holds the bucket CORS configurations set at run
// time (through the admin API or the S3 API), keeps them in storage, and
// picks up those other nodes sharing the storage write. Every s3_cors
// handler and matcher consults it before its own static configurations.
// Caddy instantiates it when the configuration does not mention it.
//
// Reads take no lock (see store.Syncer), and the configurations outlive
// the app: they belong to the storage, and a config reload that keeps the
// storage keeps them without reading storage again.
type App struct {
	// StorageRaw is the storage module that keeps the configurations, one
	// key per bucket (`s3_cors/buckets/<bucket>.xml`). Default: Caddy's
	// configured storage (the file system in Caddy's data directory).
	// Several sidecars share configurations through a shared storage: a
	// shared volume, Redis, Consul, or the object store below.
	StorageRaw json.RawMessage `json:"storage,omitempty" caddy:"namespace=caddy.storage inline_key=module"`

	// ObjectStore keeps the configurations as objects in a bucket of an
	// S3-compatible store (typically the MinIO behind the sidecars), so
	// that every sidecar in front of one MinIO cluster shares them with no
	// extra infrastructure. It takes precedence over StorageRaw.
	ObjectStore *ObjectStoreConfig `json:"object_store,omitempty"`

	// SyncInterval is how often configurations written by other nodes to
	// shared storage are picked up. Default: 5s.
	SyncInterval caddy.Duration `json:"sync_interval,omitempty"`

	// FullSyncInterval is how often a node lists the whole storage and
	// reads every configuration again, when the storage keeps a change
	// journal (every storage this module writes does): between these full
	// syncs, a sync reads only the journal and the keys it names, so a key
	// changed by hand, not through this module, is picked up by the next
	// full sync only. Default: 5m.
	FullSyncInterval caddy.Duration `json:"full_sync_interval,omitempty"`

	// Owner is the 12-digit AWS account id that plays the bucket owner:
	// PutBucketCors and GetBucketCors requests carrying
	// x-amz-expected-bucket-owner are checked against it. When empty, any
	// such expectation is refused, since it cannot be confirmed.
	Owner string `json:"owner,omitempty"`

	statics staticSets // the handlers' static configurations, for the admin API
	logger  *zap.Logger
	// key and state: the configurations of the storage, shared with every
	// app on the same storage (see states).
	key     string
	state   *appState
	cleaned atomic.Bool
}

// CaddyModule returns the Caddy module information.
func (*App) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "s3_cors",
		New: func() caddy.Module { return new(App) },
	}
}

// Validate checks the app's settings.
func (a *App) Validate() error {
	if a.SyncInterval < 0 {
		return fmt.Errorf("s3_cors: sync_interval %s is negative", time.Duration(a.SyncInterval))
	}
	if a.FullSyncInterval < 0 {
		return fmt.Errorf("s3_cors: full_sync_interval %s is negative", time.Duration(a.FullSyncInterval))
	}
	if a.Owner != "" {
		if err := checkOwner(a.Owner); err != nil {
			return fmt.Errorf("s3_cors: %v", err)
		}
	}
	return nil
}

// checkOwner checks the owner setting, for Validate and for the Caddyfile
// parser, which points at the token.
func checkOwner(owner string) error {
	if !putcors.IsAccountID(owner) {
		return fmt.Errorf("owner %q is not a 12-digit account id", owner)
	}
	return nil
}

// Interface guards
var (
	_ caddy.App          = (*App)(nil)
	_ caddy.Provisioner  = (*App)(nil)
	_ caddy.Validator    = (*App)(nil)
	_ caddy.CleanerUpper = (*App)(nil)
)
