// Package redistest runs redis-server processes of a test's own on loopback
// ports, which the test can kill, freeze and start again: a primary, a
// replica, sentinels. The shared Redis on 6379 is never touched.
package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch/internal/e2e"
	"github.com/redis/go-redis/v9"
)

// Server is one redis-server (or sentinel) process. Its configuration file
// and data stay in a directory of its own, so that Restart brings back what
// it had persisted, and a sentinel what it had learnt.
type Server struct {
	Port int
	Addr string // 127.0.0.1:Port

	dir, conf string
	sentinel  bool
	cmd       *exec.Cmd
}

// Skip skips the test when redis-server is not installed.
func Skip(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed (apt-get install redis-server): this test runs its own")
	}
}

// Start runs redis-server on a free loopback port, without persistence
// unless conf says otherwise: conf are lines of redis.conf ("replicaof
// 127.0.0.1 6400", "appendonly yes"), written after the defaults, so that
// they win. The server is killed when the test ends; the test is skipped
// when redis-server is not installed.
func Start(t testing.TB, conf ...string) *Server {
	t.Helper()
	return start(t, false, append([]string{`save ""`, "appendonly no"}, conf...))
}

// StartSentinel runs redis-server --sentinel with conf ("sentinel monitor m
// 127.0.0.1 6400 2", ...) like Start.
func StartSentinel(t testing.TB, conf ...string) *Server {
	t.Helper()
	return start(t, true, conf)
}

func start(t testing.TB, sentinel bool, conf []string) *Server {
	t.Helper()
	Skip(t)
	dir := t.TempDir()
	s := &Server{dir: dir, conf: filepath.Join(dir, "redis.conf"), sentinel: sentinel}
	t.Cleanup(func() {
		if s.cmd != nil {
			s.Kill(t)
		}
		if t.Failed() {
			s.logTail(t)
		}
	})
	// A free port may be taken by another test between the look and the
	// listen: a few tries.
	var err error
	for range 3 {
		s.Port = e2e.FreePort(t)
		s.Addr = "127.0.0.1:" + strconv.Itoa(s.Port)
		text := strings.Join(append([]string{"port " + strconv.Itoa(s.Port), "bind 127.0.0.1", "dir " + dir,
			"logfile " + filepath.Join(dir, "redis.log")}, conf...), "\n") + "\n"
		if err = os.WriteFile(s.conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err = s.run(); err == nil {
			return s
		}
	}
	t.Fatalf("redis-server: %v", err)
	return nil
}

// Restart starts the server again after Kill, on the same port, with the
// same configuration and directory.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if err := s.run(); err != nil {
		t.Fatalf("restart redis-server on %s: %v", s.Addr, err)
	}
}

// run starts the process and waits until it answers PING.
func (s *Server) run() error {
	args := []string{s.conf}
	if s.sentinel {
		args = append(args, "--sentinel")
	}
	cmd := exec.Command("redis-server", args...)
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("exited (%v): port %d taken? see %s", err, s.Port, filepath.Join(s.dir, "redis.log"))
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			s.cmd = cmd // reaped by the goroutine above; Kill waits for that
			return nil
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("no answer within 10 s: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill SIGKILLs the server: what it had not persisted is lost, and its
// replicas keep only what had reached them.
func (s *Server) Kill(t testing.TB) {
	t.Helper()
	if s.cmd == nil {
		t.Fatalf("redis-server on %s is not running", s.Addr)
	}
	_ = s.cmd.Process.Kill()
	// Gone once its port refuses connections: the reaping goroutine owns Wait.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if err := s.cmd.Process.Signal(syscall.Signal(0)); errors.Is(err, os.ErrProcessDone) {
			break
		}
	}
	s.cmd = nil
}

// Pause freezes the process (SIGSTOP) until Resume: to its peers it is a
// server that stopped answering; a replica paused this way misses every
// write of its master meanwhile, as a lagging one would.
func (s *Server) Pause(t testing.TB) { s.signal(t, syscall.SIGSTOP) }

// Resume lets a paused process go on (SIGCONT).
func (s *Server) Resume(t testing.TB) { s.signal(t, syscall.SIGCONT) }

func (s *Server) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if s.cmd == nil {
		t.Fatalf("redis-server on %s is not running", s.Addr)
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal redis-server on %s: %v", s.Addr, err)
	}
}

// logTail puts the end of the server's log in the test's output.
func (s *Server) logTail(t testing.TB) {
	b, err := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	lines = lines[max(0, len(lines)-20):]
	t.Logf("redis-server %s, last lines of its log:\n%s", s.Addr, strings.Join(lines, "\n"))
}
