package bench

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch/internal/e2e"
)

// A tiny soak on the embedded stack runs every kind of pass through serve's
// worker, with syncs that bring the simulator's changes, and delivers
// emails; it samples memory and gives a verdict. Its timings are not
// asserted: the machine is shared.
func TestSoakTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("builds dvcwatch and runs for 30 s")
	}
	exe := e2e.Build(t)
	var out bytes.Buffer
	o := SoakOptions{
		Dossiers: 2000, For: 30 * time.Second, Sample: 2 * time.Second, Dir: t.TempDir(), Exe: exe, Out: &out,
		MemProfile: filepath.Join(t.TempDir(), "heap.prof"),
		Intervals: SoakIntervals{Sync: 2 * time.Second, Detect: 2 * time.Second, Dispatch: 2 * time.Second,
			// After the first pass, every scheduled one is incremental:
			// when a sweep falls due depends on how long passes take.
			Digest: 5 * time.Second, FullSweep: time.Hour},
	}
	res, err := Soak(context.Background(), o)
	t.Log(out.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Samples) < 5 {
		t.Errorf("%d samples in 30 s, one every 2 s, want at least 5", len(res.Samples))
	}
	for _, s := range res.Samples {
		if s.RSSBytes <= 0 {
			t.Errorf("sample at %s without RSS", s.At)
		}
	}
	for _, kind := range []string{"sync", "detect-first", "detect-incremental", "notify", "digest"} {
		if len(res.Passes[kind]) == 0 {
			t.Errorf("no %s pass succeeded; passes %v, skipped %v, failed %v", kind, res.Passes, res.Skipped, res.Failed)
		}
		if len(res.Passes[kind]) != len(res.Items[kind]) {
			t.Errorf("%s: %d passes, %d counts", kind, len(res.Passes[kind]), len(res.Items[kind]))
		}
	}
	if len(res.Failed) > 0 {
		t.Errorf("failed runs: %v", res.Failed)
	}
	fetched := 0
	for _, n := range res.Items["sync"] {
		fetched += n
	}
	if fetched == 0 {
		t.Error("the syncs fetched nothing: the simulated time did not move the population")
	}
	if len(res.Latency["sync"]) == 0 || len(res.Latency["detect"]) == 0 {
		t.Errorf("no queue latency of scheduled syncs or detections: %v", res.Latency)
	}
	if res.Emails == 0 || res.Outbox["sent"] != res.Emails {
		t.Errorf("the sink accepted %d emails, the outbox says %v: want some, each recorded sent once", res.Emails, res.Outbox)
	}
	if res.FirstHalfMaxRSS == 0 || res.LastHalfMaxRSS == 0 || res.FirstHalfMaxGo == 0 || res.LastHalfMaxGo == 0 ||
		res.FirstHalfMinLive == 0 || res.LastHalfMinLive == 0 {
		t.Errorf("no memory verdict: first half RSS %d, Go %d, live floor %d; last half RSS %d, Go %d, live floor %d",
			res.FirstHalfMaxRSS, res.FirstHalfMaxGo, res.FirstHalfMinLive, res.LastHalfMaxRSS, res.LastHalfMaxGo, res.LastHalfMinLive)
	}
	if st, err := os.Stat(o.MemProfile); err != nil || st.Size() == 0 {
		t.Errorf("heap profile: %v", err)
	}
	for _, want := range []string{"RSS MB", "live MB", "detect-first", "queue latency", "emails accepted", "memory after", "low-water mark"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report without %q", want)
		}
	}
}
