package redistest

import "syscall"

// procAttr kills the server with the test binary, should that die before
// its cleanup runs: no redis-server is left behind on a port.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
