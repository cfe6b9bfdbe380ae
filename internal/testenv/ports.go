package testenv

import (
	"net"
	"testing"
)

// FreePorts returns n distinct TCP ports free on 127.0.0.1 right now, for
// servers a test starts; it fails the test when it cannot listen. Another
// process may take a port before the server binds it, which is why
// StartMinIO retries with new ones.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, 0, n)
	listeners := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for range n {
		// Hold every listener until all ports are chosen, so the kernel
		// does not hand out the same port twice.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("testenv: free port: %v", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}
