package scheduler_test

import (
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/scheduler"
)

func TestCronTimeZone(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 0, 30, 0, 0, time.UTC) // 07:30 in Hanoi
	eight := time.Date(2026, 3, 2, 8, 0, 0, 0, hcm)
	cases := []struct {
		name     string
		schedule config.Schedule
		spec     string
	}{
		{"timezone field", config.Schedule{Cron: "0 8 * * *", Timezone: "Asia/Ho_Chi_Minh"}, "CRON_TZ=Asia/Ho_Chi_Minh 0 8 * * *"},
		{"CRON_TZ prefix", config.Schedule{Cron: "CRON_TZ=Asia/Ho_Chi_Minh 0 8 * * *"}, "CRON_TZ=Asia/Ho_Chi_Minh 0 8 * * *"},
		{"default zone", config.Schedule{Cron: "0 8 * * *"}, "CRON_TZ=Asia/Ho_Chi_Minh 0 8 * * *"},
		{"prefix wins", config.Schedule{Cron: "CRON_TZ=Asia/Ho_Chi_Minh 0 8 * * *", Timezone: "UTC"}, "CRON_TZ=Asia/Ho_Chi_Minh 0 8 * * *"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.schedule.Name, c.schedule.Job = "digest", config.JobDigest
			s := scheduler.New(scheduler.Options{Schedules: []config.Schedule{c.schedule}, Clock: fixed(now)})
			e := s.Entries()[0]
			if e.Spec != c.spec {
				t.Errorf("Spec = %q, want %q", e.Spec, c.spec)
			}
			if !e.Next.Equal(eight) {
				t.Errorf("Next = %v, want %v", e.Next, eight)
			}
			if _, off := e.Next.Zone(); off != 7*3600 || e.Next.Hour() != 8 {
				t.Errorf("Next = %v: want 08:00 at +07:00", e.Next)
			}
			if id := scheduler.TaskID(e.Name, e.Next); id != "digest@2026-03-02T01:00:00Z" {
				t.Errorf("TaskID = %q", id)
			}
		})
	}

	c, err := scheduler.Parse("CRON_TZ=Asia/Ho_Chi_Minh 0 8 * * *")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ at, next, prev time.Time }{
		{now, eight, eight.AddDate(0, 0, -1)},
		{eight, eight.AddDate(0, 0, 1), eight}, // a tick is its own Prev, not its own Next
		{eight.Add(-time.Nanosecond), eight, eight.AddDate(0, 0, -1)},
	} {
		if got := c.Next(tc.at); !got.Equal(tc.next) {
			t.Errorf("Next(%v) = %v, want %v", tc.at, got, tc.next)
		}
		if got := scheduler.Prev(c, tc.at); !got.Equal(tc.prev) {
			t.Errorf("Prev(%v) = %v, want %v", tc.at, got, tc.prev)
		}
	}
}

func TestEveryIsAlignedToTheEpoch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		spec string
		d    time.Duration
	}{{"@every 15m", 15 * time.Minute}, {"CRON_TZ=Asia/Ho_Chi_Minh @every 7m", 7 * time.Minute}, {"@every 1s", time.Second}} {
		c, err := scheduler.Parse(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		// Two replicas started 3 s apart agree on the next tick.
		a := time.Date(2026, 3, 2, 8, 7, 13, 250, hcm)
		next := c.Next(a)
		if b := c.Next(a.Add(tc.d / 3)); !b.Equal(next) && tc.d > time.Second {
			t.Errorf("%s: Next from two start times: %v and %v", tc.spec, next, b)
		}
		if next.UnixNano()%int64(tc.d) != 0 || !next.After(a) || next.Sub(a) > tc.d {
			t.Errorf("%s: Next(%v) = %v, want the first multiple of %v after it", tc.spec, a, next, tc.d)
		}
		if c.Next(next).Sub(next) != tc.d || !scheduler.Prev(c, next).Equal(next) {
			t.Errorf("%s: ticks after %v not %v apart", tc.spec, next, tc.d)
		}
	}
	c, _ := scheduler.Parse("@every 15m")
	if got, want := c.Next(time.Date(2026, 3, 2, 8, 7, 13, 0, hcm)), time.Date(2026, 3, 2, 8, 15, 0, 0, hcm); !got.Equal(want) {
		t.Errorf("@every 15m after 08:07:13: %v, want %v", got, want)
	}
}
