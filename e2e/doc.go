// Package e2e holds the end-to-end tests: the Caddy binary built from this
// repository, in front of a real MinIO, driven by the real aws cli, the Go
// SDK and headless Chromium. A test whose component is missing skips with
// the reason outside CI and fails in CI (the CI environment variable set).
package e2e
