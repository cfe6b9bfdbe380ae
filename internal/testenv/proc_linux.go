package testenv

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal has the kernel kill the server when the test process
// dies without running its cleanups (a panic, a timeout, kill -9), so that
// no MinIO outlives its test. The signal follows the death of the OS thread
// that started the child, which the Go runtime rarely retires, so this is a
// best effort behind the cleanup, not a replacement for it.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
