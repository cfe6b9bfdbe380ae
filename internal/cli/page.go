package cli

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/s3cors/caddy-s3cors/internal/api"
)

// pagePrefix is the admin API prefix the bridge forwards, the page's own
// (GET /s3_cors/) among them.
const pagePrefix = api.AdminPrefix

// The secret of a run travels in the fragment of the printed URL (which a
// browser sends to no server) and then in the api.PageTokenHeader header
// of the page's requests, never in a cookie: a browser sends a cookie of
// 127.0.0.1 to every port of 127.0.0.1, so any other local user's server
// the browser visits would receive it. The header is also one that no
// other site can make the browser send.
const tokenFragment = "#token="

// pageCommand is `caddy s3-cors page`: the operator page of the running
// instance, for a browser.
func pageCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "page [--listen <addr>] [--config <path> [--adapter <name>]] [--address <interface>]",
		Short: "Serves the bucket CORS page of the running instance to a local browser",
		Long: `
Opens the operator page of the running Caddy instance (GET /s3_cors/ on its
admin API) to a browser on this machine.

Caddy's admin API refuses every request a browser makes on its own (it
checks the Origin and the Sec-Fetch-* headers, and a typed URL has no
Origin), so the page cannot be opened at the admin address directly. This
command listens on a loopback address (--listen, default 127.0.0.1 on a
free port), prints a URL holding a secret made for this run, and forwards the page
and its requests to the admin API as the other subcommands send theirs.

The page and its two files are served to anyone; every other request must
carry the secret (the page takes it from the URL's fragment and sends it
in a header, never in a cookie) and name this address as its Host, and
writes must come from its own origin: other local users and other sites
get nothing. It runs until interrupted.
`,
		Args: cobra.NoArgs,
		RunE: runE(cmdPage),
	}
	addAdminFlags(cmd)
	cmd.Flags().StringP("listen", "l", "127.0.0.1:0", "Loopback address to serve the page on")
	return cmd
}

func cmdPage(s streams, fl caddycmd.Flags) (int, error) {
	adminAddr, err := adminAddress(fl)
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	b, err := newPageBridge(adminAddr)
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	ln, err := listenLoopback(fl.String("listen"))
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	b.host = bridgeHost(ln.Addr())
	srv := &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown) // the process ends next; nothing is left to tell
	}()
	fmt.Fprintf(s.out, "Bucket CORS page of the admin API at %s:\n\n    %s\n\nPress Ctrl+C to stop.\n", adminAddr, b.loginURL())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return caddy.ExitCodeFailedStartup, fmt.Errorf("serving the page: %v", err)
	}
	return caddy.ExitCodeSuccess, nil
}

// bridgeHost is the address a browser names the bridge by, in Host and in
// Origin: the listener's, without the port when it is HTTP's default 80,
// which browsers leave out.
func bridgeHost(addr net.Addr) string {
	host := addr.String()
	if h, port, err := net.SplitHostPort(host); err == nil && port == "80" {
		if strings.Contains(h, ":") {
			return "[" + h + "]"
		}
		return h
	}
	return host
}

// listenLoopback listens on addr, which must be a loopback address: the
// bridge is for a browser on this machine.
func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--listen %q: %v", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("--listen %q: not a loopback IP address such as 127.0.0.1", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--listen: %v", err)
	}
	return ln, nil
}

// pageBridge forwards a browser's requests for the page to the admin API,
// after checking that they come from the browser that opened the printed
// URL.
type pageBridge struct {
	// host is the Host every request must name: the listener's address,
	// so that a DNS-rebound name cannot reach the bridge.
	host  string
	token string
	proxy *httputil.ReverseProxy
}

// newPageBridge makes a bridge to the admin API at adminAddr, with a fresh
// random token.
func newPageBridge(adminAddr string) (*pageBridge, error) {
	addr, err := caddy.ParseNetworkAddress(adminAddr)
	if err != nil || addr.PortRangeSize() > 1 {
		return nil, fmt.Errorf("invalid admin address %s: %v", adminAddr, err)
	}
	network, dialAddr := addr.Network, addr.JoinHostPort(0)
	// The Host and Origin the admin API expects of a local client, as
	// caddycmd.AdminAPIRequest sends them.
	adminHost := dialAddr
	if addr.IsUnixNetwork() {
		dialAddr, _, _ = strings.Cut(addr.Host, "|") // without the socket's permission bits
		adminHost = "127.0.0.1"
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // crypto/rand.Read never fails on supported platforms
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	b := &pageBridge{token: base64.RawURLEncoding.EncodeToString(raw)}
	b.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			out := pr.Out
			out.URL.Scheme, out.URL.Host, out.Host = "http", adminHost, adminHost
			// The admin API must see a local client, not a browser: none
			// of the browser's headers that its checks look at, and not
			// the secret.
			for name := range out.Header {
				if strings.HasPrefix(name, "Sec-Fetch-") {
					out.Header.Del(name)
				}
			}
			out.Header.Del("Cookie")
			out.Header.Del("Referer")
			out.Header.Del(api.PageTokenHeader)
			out.Header.Set("Origin", "http://"+adminHost)
		},
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, dialAddr)
			},
			ResponseHeaderTimeout: 30 * time.Second,
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, "cannot reach the admin API at "+adminAddr+": "+err.Error(), http.StatusBadGateway)
		},
	}
	return b, nil
}

// loginURL is the URL the command prints: the page, with the token in the
// fragment, which the page moves to its tab's session storage.
func (b *pageBridge) loginURL() string {
	return "http://" + b.host + pagePrefix + tokenFragment + b.token
}

// ServeHTTP checks a request and forwards it.
func (b *pageBridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Host, b.host) {
		http.Error(w, "unexpected Host", http.StatusForbidden)
		return
	}
	if !strings.HasPrefix(r.URL.Path, pagePrefix) {
		http.Redirect(w, r, pagePrefix, http.StatusSeeOther)
		return
	}
	// The page's own files hold nothing secret (every binary has them),
	// and a browser loads them without the header.
	if !api.IsPageFile(r) {
		if !b.valid(r.Header.Get(api.PageTokenHeader)) {
			http.Error(w, "open the URL that `caddy s3-cors page` printed", http.StatusUnauthorized)
			return
		}
		// Writes only from the page itself. Only the page's script can
		// send the header; this holds even without it.
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if origin := r.Header.Get("Origin"); origin != "http://"+b.host {
				http.Error(w, "cross-origin request refused", http.StatusForbidden)
				return
			}
		}
	}
	b.proxy.ServeHTTP(w, r)
}

func (b *pageBridge) valid(token string) bool {
	return subtle.ConstantTimeCompare([]byte(token), []byte(b.token)) == 1
}
