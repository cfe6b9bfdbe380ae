package testenv

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal has the kernel kill the server when the test process
// dies without running its cleanups (a panic, a timeout, kill -9), so that
// no MinIO outlives its test.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
