package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/dvcwatch/dvcwatch/internal/e2e"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// A tiny sync benchmark on both engines syncs the simulator's whole
// population and writes the same rows through both baselines (Sync fails
// if the portal's pages and the state dump disagree). Its rates are not
// asserted: the machine is shared.
func TestSyncTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("builds dvcwatch and starts the simulator")
	}
	var out bytes.Buffer
	res, err := Sync(context.Background(), SyncOptions{
		Dossiers: 600, Postgres: storetest.PostgresServer(t), Dir: t.TempDir(), PageSize: 100, Exe: e2e.Build(t), Out: &out,
	})
	t.Log(out.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 {
		t.Fatalf("%d engines measured, want postgres and sqlite", len(res))
	}
	for _, e := range res {
		// The population has steps: the baseline writes more rows than dossiers.
		if e.Dossiers < 600 || e.RawRows <= e.Dossiers || e.SyncTime <= 0 || e.RawTime <= 0 || e.RawKeyOrderTime <= 0 || e.RawSyncRowsTime <= 0 || e.PeakRSSBytes <= 0 {
			t.Errorf("%s: %+v: want every dossier synced and every figure measured", e.Name, e)
		}
		for _, line := range []string{": sync ", ": reference: the same raw upsert of the rows in code order", ": reference: the same raw upsert in the same pages plus"} {
			if !strings.Contains(out.String(), e.Name+line) {
				t.Errorf("no line %q for %s", e.Name+line, e.Name)
			}
		}
	}
}
