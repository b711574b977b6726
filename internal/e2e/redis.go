package e2e

import (
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Redis is a redis-server of the test's own on a loopback port, which the
// test can kill (SIGKILL) and start again on the same port and directory.
type Redis struct {
	Addr       string
	port       int
	dir        string
	appendOnly bool
	cmd        *exec.Cmd
}

// StartRedis starts redis-server on port; with appendOnly it logs every write
// to an append-only file in a directory of its own, which a restart reads
// back (fsync every second, Redis's default). It is killed at cleanup.
func StartRedis(t testing.TB, port int, appendOnly bool) *Redis {
	t.Helper()
	r := &Redis{Addr: "127.0.0.1:" + strconv.Itoa(port), port: port, dir: t.TempDir(), appendOnly: appendOnly}
	r.Start(t)
	t.Cleanup(func() {
		if r.cmd != nil {
			r.Kill(t)
		}
	})
	return r
}

// Start starts the server again after Kill, and waits until it accepts connections.
func (r *Redis) Start(t testing.TB) {
	t.Helper()
	aof := "no"
	if r.appendOnly {
		aof = "yes"
	}
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", aof, "--dir", r.dir)
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", r.Addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s: %v", r.Addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill SIGKILLs the server: what it had not written to its file is lost.
func (r *Redis) Kill(t testing.TB) {
	t.Helper()
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}
