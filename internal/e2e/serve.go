package e2e

import (
	"fmt"
	"net/http"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch/internal/logbuf"
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
type Log = logbuf.Buffer
