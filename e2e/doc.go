// Package e2e holds the end-to-end tests: the Caddy binary built from this
// repository, in front of a real MinIO, driven by the real aws cli, the Go
// SDK and headless Chromium. A test whose component is missing skips with
// the reason outside CI and fails in CI (the CI environment variable set).
//
// The helpers the tests share are in helpers_test.go (requests and their
// answers, the admin API, sites, the stand-in store, MinIO setup, waiting),
// clients_test.go (the aws cli and the AWS SDK for Go),
// storeauth_helpers_test.go (sites whose store authorizes `?cors`
// requests, startStoreSidecar beside helpers_test.go's startS3Sidecar, and
// a counting proxy in front of MinIO) and browser_helpers_test.go
// (Chromium); internal/testenv starts the binary and MinIO, and makes
// MinIO users with policies (MinIO.AddUser, BucketPolicy).
package e2e
