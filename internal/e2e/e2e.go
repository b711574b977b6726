// Package e2e is what the end-to-end tests share (the worker's and the chaos
// suite): the dvcwatch binary built for a test, `serve` processes and their
// JSON logs, their configuration for the simulator's commune, servers of the
// test's own (Redis, a mail server), and the checks of the outbox and the
// store against what the mail server and the simulator hold. Only tests
// import it.
package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/internal/mailcatch"
	"github.com/dvcwatch/dvcwatch/internal/portalsim"
	"github.com/dvcwatch/dvcwatch/jobs"
	"github.com/dvcwatch/dvcwatch/store"
)

// Build builds ./cmd/dvcwatch of this module into the test's temporary
// directory and returns the binary's path.
func Build(t *testing.T) string {
	t.Helper()
	mod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(mod)) == "" {
		t.Fatalf("find the module's go.mod: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "dvcwatch")
	build := exec.Command("go", "build", "-o", bin, "./cmd/dvcwatch")
	build.Dir = filepath.Dir(strings.TrimSpace(string(mod)))
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build dvcwatch: %v\n%s", err, out)
	}
	return bin
}

// WaitFor polls cond until it holds, or fails the test after within.
func WaitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", within, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// StartMail runs a mail server on addr until the test ends.
func StartMail(t testing.TB, addr string) *mailcatch.Catcher {
	t.Helper()
	mail, err := mailcatch.Start(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mail.Close() })
	return mail
}

// Counts returns the outbox's rows by state (pending, sent, failed).
func Counts(t testing.TB, db *store.DB) map[string]int {
	t.Helper()
	c, err := db.NotificationCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// CheckOnce checks that every sent notification arrived exactly once, to its
// address, and that nothing else arrived.
func CheckOnce(t testing.TB, db *store.DB, mail *mailcatch.Catcher) []dvcwatch.Notification {
	t.Helper()
	ns, err := db.Notifications(context.Background(), 100000)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]dvcwatch.Notification{}
	for _, n := range ns {
		byID[strconv.FormatInt(n.ID, 10)] = n
	}
	got := map[string]int{}
	for _, m := range mail.Messages() {
		id := m.Header.Get("X-Dvcwatch-Notification")
		n, ok := byID[id]
		if !ok {
			t.Errorf("received an email for unknown notification %q", id)
			continue
		}
		got[id]++
		if len(m.To) != 1 || m.To[0] != n.Email {
			t.Errorf("notification %s to %v, want %s", id, m.To, n.Email)
		}
		if want := "<" + n.MessageID + "@"; n.MessageID == "" || !strings.HasPrefix(m.Header.Get("Message-Id"), want) {
			t.Errorf("notification %s: Message-ID %q, want it to contain %q", id, m.Header.Get("Message-Id"), want)
		}
	}
	for _, n := range ns {
		id := strconv.FormatInt(n.ID, 10)
		switch {
		case !n.SentAt.IsZero() && got[id] != 1:
			t.Errorf("notification %s (%s) sent, received %d times", id, n.Email, got[id])
		case n.SentAt.IsZero() && got[id] != 0:
			t.Errorf("notification %s (%s) not recorded as sent, received %d times", id, n.Email, got[id])
		}
	}
	return ns
}

// StoreMatchesSim returns "" if the stored one-stop dossiers have the
// simulator's statuses in the same numbers, else the difference.
func StoreMatchesSim(t testing.TB, db *store.DB, sim *portalsim.Sim) string {
	t.Helper()
	rows, err := db.DossiersByStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, r := range rows {
		if r.Source == "onestop" {
			got[strconv.Itoa(r.Status)] = r.N
		}
	}
	want := sim.Census().ByStatus
	for k, v := range want {
		if v == 0 {
			delete(want, k)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		return fmt.Sprintf("stored dossiers by status %v, the simulator has %v", got, want)
	}
	return ""
}

// Queued counts the tasks of type typ waiting, running or due for a retry
// in dvcwatch's queues on the Redis at opt; a queue that does not exist
// holds none.
func Queued(t testing.TB, opt asynq.RedisClientOpt, typ string) int {
	t.Helper()
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	n := 0
	for _, q := range jobs.Queues() {
		for _, list := range []func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){
			insp.ListPendingTasks, insp.ListActiveTasks, insp.ListRetryTasks, insp.ListScheduledTasks,
		} {
			tasks, err := list(q, asynq.PageSize(1000))
			if errors.Is(err, asynq.ErrQueueNotFound) {
				break // a Redis that lost its data, or a queue never used
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, task := range tasks {
				if task.Type == typ {
					n++
				}
			}
		}
	}
	return n
}
