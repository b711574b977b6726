package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/dvcwatch/dvcwatch/internal/redistest"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// A tiny notification benchmark on both engines delivers every email through
// the pipeline, measures every stage and tells how SQLite's one writer at
// a time was used. Its rates are not asserted: the machine is shared.
func TestNotifyTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("runs redis-server and both databases")
	}
	redis := redistest.Start(t)
	var out bytes.Buffer
	res, err := Notify(context.Background(), NotifyOptions{
		Emails: 60, Redis: redis.Addr, Concurrency: 4, Postgres: storetest.PostgresServer(t), Dir: t.TempDir(), Out: &out,
	})
	t.Log(out.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 {
		t.Fatalf("%d engines measured, want postgres and sqlite", len(res))
	}
	for _, e := range res {
		if e.Received != 60 || e.BaselineTime <= 0 || e.SMTPTime <= 0 || e.ClaimTime <= 0 || e.PipelineTime <= 0 {
			t.Errorf("%s: %+v: want every email delivered and every stage measured", e.Name, e)
		}
		// A claim and a mark sent per email, committed in groups, and the
		// dispatcher's marks.
		sqlite := e.Name == "sqlite"
		if sqlite != (e.ClaimWriter.Writes > 0 && e.ClaimWriter.Writes <= 120) ||
			sqlite != (e.PipelineWriter.Writes > 0 && e.PipelineWriter.Writes <= 121) || sqlite != (e.PipelineWriter.Held > 0) {
			t.Errorf("%s: writers' gate %+v alone, %+v in the pipeline: want at most a commit per claim and per mark (and the dispatcher's) on SQLite, none counted on PostgreSQL",
				e.Name, e.ClaimWriter, e.PipelineWriter)
		}
		for _, line := range []string{": pipeline ÷ its slowest stage alone", ": pipeline ÷ what the cores carry"} {
			if !strings.Contains(out.String(), e.Name+line) {
				t.Errorf("no line %q for %s", e.Name+line, e.Name)
			}
		}
	}
	if !strings.Contains(out.String(), "sqlite: one writer at a time: held ") || strings.Contains(out.String(), "postgres: one writer at a time") {
		t.Error("want the writers' gate line for SQLite only")
	}
}
