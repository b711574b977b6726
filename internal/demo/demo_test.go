package demo_test

import (
	"bytes"
	"context"
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
// accepted an email (and for 15 s at least), then stops it as SIGINT would:
// everything the summary counts happened, nothing failed, the printed
// address and token open the admin API, and the temporary data directory is
// gone.
func TestDemo(t *testing.T) {
	out := &demoOutput{match: regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d  .* notify .* caught=[1-9]`), seen: make(chan struct{})}
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
			Out:    out,
			Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
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
		if !regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d  .*\s` + job + `\s+\S+\s+succeeded\s`).MatchString(printed) {
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
