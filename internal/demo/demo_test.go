package demo_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch/internal/demo"
)

// demoOutput collects what the demo prints and tells when a line matches.
type demoOutput struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	match *regexp.Regexp
	seen  chan struct{} // closed at the first line matching match
	once  sync.Once
}

func (o *demoOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.match.Match(p) {
		o.once.Do(func() { close(o.seen) })
	}
	return o.buf.Write(p)
}

func (o *demoOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// TestDemo runs the demo on short schedules until the mail catcher has
// accepted an email and a reconciliation has run (and for 15 s at least),
// then stops it as SIGINT would:
// everything the summary counts happened, nothing failed, the printed
// address and token open the admin API, and the temporary data directory is
// gone.
func TestDemo(t *testing.T) {
	out := &demoOutput{match: regexp.MustCompile(`(?m)^` + simTime + `  notify .* caught=[1-9]`), seen: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		sum demo.Summary
		err error
	}
	done := make(chan result, 1)
	began := time.Now()
	go func() {
		sum, err := demo.Run(ctx, demo.Options{
			Dossiers: 500,
			// Short enough that a sync, a detection pass and the deliveries
			// follow one another within seconds even under -race.
			Intervals: demo.Intervals{
				SyncOneStop: time.Second, SyncDVCQG: 2 * time.Second, Reconcile: 3 * time.Second,
				Detect: 2 * time.Second, Dispatch: time.Second, Digest: 5 * time.Second,
			},
			Out:      out,
			LogLevel: slog.LevelInfo, // so that the log file has lines to keep out of the table
		})
		done <- result{sum, err}
	}()

	select {
	case <-out.seen:
	case r := <-done:
		t.Fatalf("demo stopped by itself: %v\n%s", r.err, out)
	case <-time.After(2 * time.Minute):
		t.Log("no email caught after 2 minutes; stopping the demo")
	}
	checkAdmin(t, out.String())
	time.Sleep(time.Until(began.Add(15 * time.Second)))
	// A reconciliation waits for both portals' first syncs, which a loaded
	// machine (-race, other tests) may take longer than that to finish.
	reconciled := regexp.MustCompile(`(?m)^` + simTime + `  reconcile\s+\S+\s+succeeded\s`)
	for deadline := time.Now().Add(time.Minute); !reconciled.MatchString(out.String()) && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
	}
	cancel()
	r := <-done
	printed := out.String()
	t.Logf("demo output:\n%s", printed)
	if r.err != nil {
		t.Fatalf("Run: %v", r.err)
	}
	s := r.sum
	if s.Dossiers == 0 || s.Events == 0 || s.Breaches == 0 || s.Emails == 0 || s.FailedJobs != 0 {
		t.Errorf("summary %+v: want dossiers, events, breaches and emails, and no failed job", s)
	}
	// Gmail clips a message over about 102 KB: every email stays under 100.
	if s.MaxEmailKB == 0 || s.MaxEmailKB >= 100 {
		t.Errorf("largest email %d KB: want some mail, all under 100 KB", s.MaxEmailKB)
	}
	lines := strings.Split(strings.TrimRight(printed, "\n"), "\n")
	if last := lines[len(lines)-1]; last != s.String() ||
		!regexp.MustCompile(`^summary: dossiers=\d+ events=\d+ breaches=\d+ emails=\d+ failed_jobs=\d+ max_email_kb=\d+$`).MatchString(last) {
		t.Errorf("last line %q, want the summary %q", last, s.String())
	}
	for _, job := range []string{"sync", "reconcile", "detect", "notify"} {
		if !regexp.MustCompile(`(?m)^` + simTime + `  ` + job + `\s+\S+\s+succeeded\s`).MatchString(printed) {
			t.Errorf("no succeeded %s run printed", job)
		}
	}
	if m := regexp.MustCompile(`(?m)^  data +(\S+)`).FindStringSubmatch(printed); m == nil {
		t.Error("the data directory was not printed")
	} else if dir := filepath.Dir(m[1]); !strings.Contains(dir, "dvcwatch-demo-") {
		t.Errorf("data directory %s: want a temporary one", dir)
	} else if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temporary data directory %s still there after the demo (stat: %v)", dir, err)
	}
	checkTable(t, printed)
}

// simTime is a job line's time: simulated, in Asia/Ho_Chi_Minh.
const simTime = `(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d/\d\d \d\d:\d\d`

// checkTable checks that the job table is labelled simulated time, shows no
// wall clock, and that the log went to the file the header names, kept after
// the temporary data directory is gone, and counted at the end.
func checkTable(t *testing.T, printed string) {
	t.Helper()
	for _, want := range []string{
		"\njob runs as they end, at simulated time (giờ mô phỏng, Asia/Ho_Chi_Minh)",
		"\ngiờ mô phỏng     job        portal   status     counts\n",
	} {
		if !strings.Contains(printed, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	_, table, _ := strings.Cut(printed, "giờ mô phỏng     job")
	for _, l := range strings.Split(table, "\n")[1:] {
		if l == "" || strings.HasPrefix(l, "log: ") || strings.HasPrefix(l, "summary: ") {
			continue
		}
		if !regexp.MustCompile(`^` + simTime + `  \S`).MatchString(l) {
			t.Errorf("table line %q: want the simulated time first, and nothing but job lines", l)
		}
	}
	m := regexp.MustCompile(`(?m)^  log +(/\S+\.log) \(INFO and above, kept out of this table; --verbose prints them here\)$`).FindStringSubmatch(printed)
	if m == nil {
		t.Fatal("the header does not name the log file")
	}
	t.Cleanup(func() { _ = os.Remove(m[1]) })
	b, err := os.ReadFile(m[1])
	if err != nil {
		t.Fatalf("log file: %v", err)
	}
	n := strings.Count(string(b), "\n")
	if n == 0 || !strings.Contains(string(b), "level=INFO") {
		t.Errorf("log file %s: %d lines, want the INFO lines", m[1], n)
	}
	if want := fmt.Sprintf("\nlog: %d lines in %s\n", n, m[1]); !strings.Contains(printed, want) {
		t.Errorf("output lacks %q", want)
	}
}

// checkAdmin checks that the printed admin address and token open the API.
func checkAdmin(t *testing.T, printed string) {
	t.Helper()
	addr := regexp.MustCompile(`(?m)^  admin UI +(http://\S+)`).FindStringSubmatch(printed)
	token := regexp.MustCompile(`(?m)^  login +([0-9a-f]{32}) `).FindStringSubmatch(printed)
	if addr == nil || token == nil {
		t.Errorf("admin address or token not printed:\n%s", printed)
		return
	}
	for _, c := range []struct {
		name, auth string
		want       int
	}{{"the token", "Bearer " + token[1], http.StatusOK}, {"no token", "", http.StatusUnauthorized}} {
		req, err := http.NewRequest(http.MethodGet, addr[1]+"/api/v1/schedules", nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("GET /api/v1/schedules: %v", err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("GET /api/v1/schedules with %s: status %d, want %d", c.name, resp.StatusCode, c.want)
		}
	}
}
