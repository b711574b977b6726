package portalsim

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMillionDossiers measures a simulator of 1,000,000 dossiers: start-up
// time, resident heap, serving pages and windows, advancing. It only logs
// what it measures (run with -v); it asserts correctness, never speed.
func TestMillionDossiers(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("1,000,000 dossiers: not with -short or -race")
	}
	const n = 1_000_000
	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	s := New(Options{Seed: 1, Dossiers: n, Start: testStart})
	took := time.Since(start)
	runtime.GC()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	heap := float64(m1.HeapAlloc - m0.HeapAlloc)
	t.Logf("start-up: %d dossiers (%d on DVCQG) in %s; live heap %.1f MB = %.1f bytes per dossier; %s",
		len(s.view().os), len(s.view().dv), took.Round(time.Millisecond), heap/1e6, heap/float64(len(s.view().os)), rss())

	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	c := &client{t: t, base: srv.URL, hc: &http.Client{Timeout: time.Minute}, met: map[string]int{}}
	var cur osCursor
	var page osPageReply
	start = time.Now()
	const pages = 20
	for i := 0; i < pages; i++ {
		var err error
		if page, err = c.osPage(cur, 500); err != nil || len(page.Items) != 500 {
			t.Fatalf("page %d: %v, %d items", i, err, len(page.Items))
		}
		cur = *page.Next
	}
	t.Logf("one-stop: %s per page of 500", (time.Since(start) / pages).Round(time.Microsecond))

	start = time.Now()
	from := testStart.Add(-24 * time.Hour)
	store := map[string]string{}
	tooMany := c.syncDVCQG(&from, store, time.Hour)
	t.Logf("DVCQG: the last day (%d records, %d windows answered 413) in %s", len(store), tooMany, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	res, err := s.Advance(24 * 60)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("advance one day: %d changed, %d arrived, in %s", res.Changed, res.Arrived, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	cen := s.Census()
	t.Logf("census in %s: %v %v", time.Since(start).Round(time.Millisecond), cen.ByStatus, cen.Lateness)

	start = time.Now()
	cw := &countWriter{}
	if err := s.WriteState(cw, OneStop); err != nil {
		t.Fatal(err)
	}
	t.Logf("state: %d records, %.0f MB in %s", cw.lines, float64(cw.bytes)/1e6, time.Since(start).Round(time.Millisecond))
	if cw.lines != res.Dossiers {
		t.Errorf("state has %d records, the simulator says %d dossiers", cw.lines, res.Dossiers)
	}
}

type countWriter struct{ bytes, lines int }

func (w *countWriter) Write(p []byte) (int, error) {
	w.bytes += len(p)
	w.lines += strings.Count(string(p), "\n")
	return len(p), nil
}

// rss reads the resident set size where /proc has it.
func rss() string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "RSS unknown"
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			return "process RSS " + strings.Join(strings.Fields(line)[1:], " ")
		}
	}
	return "RSS unknown"
}
