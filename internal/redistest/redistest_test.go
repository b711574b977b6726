package redistest_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dvcwatch/dvcwatch/internal/redistest"
)

// TestKillRestartPause: a server killed refuses connections, restarted on its
// port it reads back its append-only file, and paused it does not answer
// until resumed.
func TestKillRestartPause(t *testing.T) {
	s := redistest.Start(t, "appendonly yes", "appendfsync always")
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: 300 * time.Millisecond,
		ReadTimeout: 300 * time.Millisecond})
	defer c.Close()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}

	s.Kill(t)
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("a killed server answered PING")
	}
	s.Restart(t)
	if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Errorf("after the restart GET k = %q, %v; want the value written before the kill", v, err)
	}

	s.Pause(t)
	if err := c.Ping(ctx).Err(); err == nil {
		t.Error("a paused server answered PING")
	}
	s.Resume(t)
	if err := c.Ping(ctx).Err(); err != nil {
		t.Errorf("after Resume: %v", err)
	}
}
