package outage_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch/internal/logbuf"
	"github.com/dvcwatch/dvcwatch/outage"
)

func TestOutageIsTwoLines(t *testing.T) {
	var out logbuf.Buffer // the monitor's goroutine and the test share it
	m := outage.New(slog.NewTextHandler(&out, nil))
	var down atomic.Bool
	m.Watch(outage.Dependency{Name: "redis", Addr: "127.0.0.1:16379", Components: []string{"asynq"},
		Ping: func(context.Context) error {
			if down.Load() {
				return errors.New("dial tcp 127.0.0.1:16379: connect: connection refused")
			}
			return nil
		}})
	log := m.Logger()

	// Before Run nothing is held back: a one-shot command logs everything.
	log.Error("enqueue", "err", "dial tcp 127.0.0.1:16379: connect: connection refused")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx, 20*time.Millisecond) }()
	time.Sleep(50 * time.Millisecond)

	down.Store(true)
	sched := log.With("component", "scheduler", "schedule", "detect")
	for range 50 {
		log.Error("Dequeue error: UNKNOWN: redis eval error: EOF", "component", "asynq") // no address: its component
		sched.Warn("scheduler: enqueue failed; retrying", "err", "dial tcp 127.0.0.1:16379: connect: connection refused")
		log.Error("task failed", "err", "portal 10.0.0.1:443: connection refused") // another server: kept
		time.Sleep(2 * time.Millisecond)
	}
	if errs := m.Down(); len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "redis: ") {
		t.Errorf("Down() = %v, want redis", errs)
	}
	log.Info("dial tcp 127.0.0.1:16379 is an info line: kept")
	down.Store(false)
	deadline := time.Now().Add(2 * time.Second)
	for len(m.Down()) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done

	var unreachable, back, kept, other int
	for _, l := range out.Lines() {
		switch {
		case strings.Contains(l, `msg="redis unreachable; trying again every 20ms`):
			unreachable++
			if !strings.Contains(l, "retry_every=20ms") || !strings.Contains(l, "addr=127.0.0.1:16379") {
				t.Errorf("outage line lacks the cadence or the address: %s", l)
			}
		case strings.Contains(l, `msg="redis reachable again"`):
			back++
			if !strings.Contains(l, "lines_withheld=100") {
				t.Errorf("recovery line = %s, want lines_withheld=100", l)
			}
		case strings.Contains(l, "portal 10.0.0.1:443"):
			kept++
		default:
			other++
		}
	}
	if unreachable != 1 || back != 1 || kept != 50 || other != 2 {
		t.Errorf("%d outage, %d recovery, %d other server's and %d other lines; want 1, 1, 50 and 2:\n%s",
			unreachable, back, kept, other, strings.Join(out.Lines(), "\n"))
	}
}
