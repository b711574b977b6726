package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Serve is one `dvcwatch serve` process and what it logged.
type Serve struct {
	Name, Config string
	Admin        string // base URL of its admin server
	Cmd          *exec.Cmd
	Log          *Log
	done         chan struct{} // closed when it has exited; then Err is set
	Err          error
}

// StartServe starts `dvcwatch serve --config path`; it is killed at cleanup if
// still running, and its log's end is shown if the test failed.
func StartServe(t testing.TB, bin, name, path string, adminPort int) *Serve {
	t.Helper()
	p := &Serve{Name: name, Config: path, Admin: fmt.Sprintf("http://127.0.0.1:%d", adminPort),
		Log: &Log{}, done: make(chan struct{})}
	p.Cmd = exec.Command(bin, "serve", "--config", path)
	p.Cmd.Stdout, p.Cmd.Stderr = p.Log, p.Log
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.Err = p.Cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.Exited() {
			_ = p.Cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("replica %s (pid %d), last lines of its log:\n%s", p.Name, p.Cmd.Process.Pid, p.Log.Tail(60))
		}
	})
	return p
}

// Exited reports whether the process has exited.
func (p *Serve) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Kill SIGKILLs the process and waits for it to be gone.
func (p *Serve) Kill(t testing.TB) {
	t.Helper()
	if err := p.Cmd.Process.Signal(syscall.SIGKILL); err != nil && !p.Exited() {
		t.Fatalf("kill replica %s: %v", p.Name, err)
	}
	<-p.done
}

// WaitReady waits for the replica's /readyz (the compose healthcheck) to
// answer 200.
func (p *Serve) WaitReady(t testing.TB) {
	t.Helper()
	WaitFor(t, 60*time.Second, "replica "+p.Name+" never answered /readyz with 200", func() bool {
		if p.Exited() {
			t.Fatalf("replica %s exited at start: %v", p.Name, p.Err)
		}
		resp, err := http.Get(p.Admin + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// WaitExit waits for the SIGTERMed replica to exit, and checks it exited 0
// having logged that it stopped.
func (p *Serve) WaitExit(t testing.TB, within time.Duration) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(within):
		t.Fatalf("replica %s still running %s after SIGTERM", p.Name, within)
	}
	if p.Err != nil {
		t.Errorf("replica %s: %v after SIGTERM, want exit status 0", p.Name, p.Err)
	}
	if p.Log.Count("worker stopped") != 1 {
		t.Errorf("replica %s did not log %q", p.Name, "worker stopped")
	}
}

// Log collects a process's output (JSON log lines, and any plain line).
type Log struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *Log) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

// Lines returns the output, line by line.
func (l *Log) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// Entries returns the JSON log lines decoded, in order.
func (l *Log) Entries() []map[string]any {
	var out []map[string]any
	for _, line := range l.Lines() {
		var e map[string]any
		if json.Unmarshal([]byte(line), &e) == nil {
			out = append(out, e)
		}
	}
	return out
}

// Count returns how many lines logged msg.
func (l *Log) Count(msg string) int {
	n := 0
	for _, e := range l.Entries() {
		if e["msg"] == msg {
			n++
		}
	}
	return n
}

// Tail returns the last n lines.
func (l *Log) Tail(n int) string {
	lines := l.Lines()
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
