//go:build !linux

package testenv

import "os/exec"

// setParentDeathSignal is Linux only; elsewhere the server is stopped by the
// test's cleanup alone.
func setParentDeathSignal(*exec.Cmd) {}
