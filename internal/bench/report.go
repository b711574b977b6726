package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"os"
	"reflect"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/detect"
	"github.com/dvcwatch/dvcwatch/report"
	"github.com/dvcwatch/dvcwatch/sla"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/worker"
)

// ReportOptions configure the monthly results benchmark.
type ReportOptions struct {
	Dossiers int
	Postgres string // PostgreSQL URL; a fresh schema, dropped after; "" skips PostgreSQL
	Dir      string // where SQLite files go; "" skips SQLite
	Seed     int64
	Start    time.Time // the simulated time: the detection's now; the month reported is the one before
	Runs     int       // timed runs of each side; the best is compared
	Keep     bool
	Out      io.Writer
}

// ReportEngine is one database's figures.
type ReportEngine struct {
	Name         string
	Dossiers     int
	DetectTime   time.Duration // the full pass that records the verdicts (not compared)
	ReportTime   time.Duration // report.Build of the agency at every level: best of the runs
	BaselineTime time.Duration // the hand-written GROUP BYs of the same counts: best of the runs
	PeakRSSBytes int64
}

// Report fills a fresh store per engine from the simulator, records the
// verdicts with a full detection pass, then times the month's results of the
// simulator's agency at every level (report.Build over store.Tallies)
// against hand-written GROUP BY statements of the same counts over the same
// tables, checks that both give the same numbers, and prints the figures.
func Report(ctx context.Context, o ReportOptions) ([]ReportEngine, error) {
	return eachFresh(ctx, o.Postgres, o.Dir, "bench-report-", o.Keep, o.Out, func(name, driver, dsn string) (ReportEngine, error) {
		return reportEngine(ctx, o, name, driver, dsn)
	})
}

func reportEngine(ctx context.Context, o ReportOptions, name, driver, dsn string) (ReportEngine, error) {
	e := ReportEngine{Name: name}
	w := o.Out
	db, err := openMigrated(ctx, driver, dsn)
	if err != nil {
		return e, err
	}
	defer db.Close()
	now, dir, err := fillFromSimulator(ctx, db, DetectOptions{Dossiers: o.Dossiers, Seed: o.Seed, Start: o.Start})
	if err != nil {
		return e, fmt.Errorf("fill: %w", err)
	}
	if e.Dossiers, err = db.CountDossiers(ctx); err != nil {
		return e, err
	}
	cfg, err := detectConfig(dir, driver, dsn, false)
	if err != nil {
		return e, err
	}
	svc, err := worker.New(cfg, db, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if err != nil {
		return e, err
	}
	t0 := time.Now()
	if _, err := svc.Detector.Run(ctx, detect.Options{Now: now, Full: true, Holder: "bench"}); err != nil {
		return e, err
	}
	e.DetectTime = time.Since(t0)
	local := now.In(sla.Location())
	month := report.Month(local.Year(), local.Month()).Previous()
	agency := dir.Agency.Code
	fmt.Fprintf(w, "%s: %d dossiers from the simulator (seed %d), verdicts recorded by a full detection pass at %s in %s (not compared); the results of %s for agency %s (no ANALYZE: the plans must not need statistics)\n",
		name, e.Dossiers, o.Seed, now.Format("2006-01-02 15:04"), e.DetectTime.Round(time.Millisecond), month.Name, agency)

	x, err := sqlx.Open(map[string]string{store.DriverPostgres: "pgx", store.DriverSQLite: "sqlite"}[driver], store.ConnectionDSN(driver, dsn))
	if err != nil {
		return e, err
	}
	defer x.Close()

	var got, want map[dvcwatch.TallyLevel][]dvcwatch.Tally
	runs := max(o.Runs, 1)
	for i := range runs {
		t0 := time.Now()
		got = map[dvcwatch.TallyLevel][]dvcwatch.Tally{}
		for _, level := range dvcwatch.TallyLevels {
			t, err := report.Build(ctx, db, nil, month, agency, level)
			if err != nil {
				return e, err
			}
			for _, r := range t.Rows {
				got[level] = append(got[level], r.Tally)
			}
		}
		if d := time.Since(t0); i == 0 || d < e.ReportTime {
			e.ReportTime = d
		}
		t0 = time.Now()
		if want, err = handTallies(ctx, x, month, agency); err != nil {
			return e, fmt.Errorf("baseline: %w", err)
		}
		if d := time.Since(t0); i == 0 || d < e.BaselineTime {
			e.BaselineTime = d
		}
	}
	if err := sameTallies(got, want); err != nil {
		return e, err
	}
	e.PeakRSSBytes = peakRSS()
	groups := 0
	for _, ts := range got {
		groups += len(ts)
	}
	fmt.Fprintf(w, "%s: results at 4 levels (%d groups; best of %d runs): report.Build %s, hand-written GROUP BYs of the same counts %s (same numbers); ratio %.2f; peak RSS %.0f MB (process, fill included)\n",
		name, groups, runs, e.ReportTime.Round(time.Microsecond), e.BaselineTime.Round(time.Microsecond),
		e.ReportTime.Seconds()/e.BaselineTime.Seconds(), float64(e.PeakRSSBytes)/(1<<20))
	return e, nil
}

// handTallies is the baseline: the counts of the month written as plain
// GROUP BY statements, one per table and level, the way one would by hand
// against the verdicts, steps, apologies and breaches tables.
func handTallies(ctx context.Context, x *sqlx.DB, month report.Period, agency string) (map[dvcwatch.TallyLevel][]dvcwatch.Tally, error) {
	from, to := month.From.UTC(), month.To.UTC()
	if x.DriverName() == "sqlite" { // the store's fixed-width UTC text
		const layout = "2006-01-02T15:04:05.000000Z" // store's sqliteTimeLayout
		return handTalliesWith(ctx, x, from.Format(layout), to.Format(layout), agency)
	}
	return handTalliesWith(ctx, x, from, to, agency)
}

func handTalliesWith(ctx context.Context, x *sqlx.DB, from, to any, agency string) (map[dvcwatch.TallyLevel][]dvcwatch.Tally, error) {
	columns := map[dvcwatch.TallyLevel]string{
		dvcwatch.LevelAgency: "agency", dvcwatch.LevelDepartment: "department",
		dvcwatch.LevelOfficial: "official", dvcwatch.LevelProcedure: "procedure_code",
	}
	out := map[dvcwatch.TallyLevel][]dvcwatch.Tally{}
	for level, col := range columns {
		byGroup := map[string]*dvcwatch.Tally{}
		get := func(g string) *dvcwatch.Tally {
			if byGroup[g] == nil {
				byGroup[g] = &dvcwatch.Tally{Group: g, Breaches: map[dvcwatch.BreachKind]int{}}
			}
			return byGroup[g]
		}
		rows, err := x.QueryxContext(ctx, x.Rebind(`SELECT `+col+`,
			SUM(CASE WHEN received_at >= ? THEN 1 ELSE 0 END), SUM(CASE WHEN received_at < ? THEN 1 ELSE 0 END),
			SUM(CASE WHEN ended_at < ? AND outcome = 'early' THEN 1 ELSE 0 END),
			SUM(CASE WHEN ended_at < ? AND outcome = 'on_due' THEN 1 ELSE 0 END),
			SUM(CASE WHEN ended_at < ? AND outcome = 'late' THEN 1 ELSE 0 END),
			SUM(CASE WHEN ended_at < ? AND status = 7 THEN 1 ELSE 0 END),
			SUM(CASE WHEN (ended_at IS NULL OR ended_at >= ?) AND NOT (late_from IS NOT NULL AND late_from < ? AND NOT (waiting_since IS NOT NULL AND waiting_since < ?)) THEN 1 ELSE 0 END),
			SUM(CASE WHEN (ended_at IS NULL OR ended_at >= ?) AND late_from IS NOT NULL AND late_from < ? AND NOT (waiting_since IS NOT NULL AND waiting_since < ?) THEN 1 ELSE 0 END),
			SUM(CASE WHEN received_at >= ? AND channel = 2 THEN 1 ELSE 0 END),
			SUM(CASE WHEN received_at >= ? AND digitized THEN 1 ELSE 0 END),
			SUM(CASE WHEN received_at >= ? AND fee_due THEN 1 ELSE 0 END),
			SUM(CASE WHEN received_at >= ? AND paid_online THEN 1 ELSE 0 END),
			SUM(CASE WHEN received_at >= ? AND EXISTS (SELECT 1 FROM reconciliation_findings f WHERE f.truth_source = verdicts.source AND f.code = verdicts.code AND f.resolved_at IS NULL) THEN 1 ELSE 0 END),
			SUM(CASE WHEN ended_at < ? AND status IN (9, 10) THEN 1 ELSE 0 END),
			SUM(CASE WHEN ended_at < ? AND status IN (9, 10) THEN handling_days ELSE 0 END)
			FROM verdicts WHERE agency = ? AND received_at < ? AND (ended_at IS NULL OR ended_at >= ?) GROUP BY `+col),
			from, from, to, to, to, to, to, to, to, to, to, to, from, from, from, from, from, to, to, agency, to, from)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var g string
			var t dvcwatch.Tally
			if err := rows.Scan(&g, &t.Received, &t.CarriedOver, &t.FinishedEarly, &t.FinishedOnDue, &t.FinishedLate, &t.Withdrawn,
				&t.OpenWithinDue, &t.OpenOverdue, &t.Online, &t.Digitized, &t.FeeDue, &t.PaidOnline, &t.Unsynced,
				&t.Handled, &t.HandlingDays); err != nil {
				_ = rows.Close()
				return nil, err
			}
			t.Group, t.Breaches = g, map[dvcwatch.BreachKind]int{}
			*get(g) = t
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		procJoin, stepCol := "", "s."+col
		if level == dvcwatch.LevelProcedure {
			procJoin, stepCol = " JOIN verdicts v ON v.source = s.source AND v.code = s.code", "v.procedure_code"
		}
		var steps []struct {
			G              string `db:"g"`
			Finished, Good int
		}
		if err := x.SelectContext(ctx, &steps, x.Rebind(`SELECT `+stepCol+` AS g, COUNT(*) AS finished,
			SUM(CASE WHEN s.ended_at < s.late_from THEN 1 ELSE 0 END) AS good FROM step_verdicts s`+procJoin+`
			WHERE s.agency = ? AND s.ended_at >= ? AND s.ended_at < ? GROUP BY `+stepCol), agency, from, to); err != nil {
			return nil, err
		}
		for _, s := range steps {
			get(s.G).StepsFinished, get(s.G).StepsOnTime = s.Finished, s.Good
		}
		var apologies []struct {
			G string `db:"g"`
			N int    `db:"n"`
		}
		if err := x.SelectContext(ctx, &apologies, x.Rebind(`SELECT v.`+col+` AS g, COUNT(*) AS n FROM dossier_apologies a
			JOIN verdicts v ON v.source = a.source AND v.code = a.code
			WHERE v.agency = ? AND a.issued_at >= ? AND a.issued_at < ? GROUP BY v.`+col), agency, from, to); err != nil {
			return nil, err
		}
		for _, a := range apologies {
			get(a.G).Apologies = a.N
		}
		var breaches []struct {
			G     string `db:"g"`
			Kind  string `db:"kind"`
			N     int    `db:"n"`
			Acked int    `db:"acked"`
		}
		if err := x.SelectContext(ctx, &breaches, x.Rebind(`SELECT `+col+` AS g, kind, COUNT(*) AS n,
			SUM(CASE WHEN id IN (SELECT breach_id FROM breach_acks) THEN 1 ELSE 0 END) AS acked FROM breaches
			WHERE agency = ? AND started_at >= ? AND started_at < ? AND resolved_reason <> 'rule_changed' AND kind <> 'due_soon' GROUP BY `+col+`, kind`),
			agency, from, to); err != nil {
			return nil, err
		}
		for _, b := range breaches {
			get(b.G).Breaches[dvcwatch.BreachKind(b.Kind)] = b.N
			get(b.G).Acknowledged += b.Acked
		}
		for _, t := range byGroup {
			out[level] = append(out[level], *t)
		}
	}
	return out, nil
}

// sameTallies reports the first difference between the store's counts and
// the baseline's.
func sameTallies(got, want map[dvcwatch.TallyLevel][]dvcwatch.Tally) error {
	for _, level := range dvcwatch.TallyLevels {
		index := map[string]dvcwatch.Tally{}
		for _, t := range want[level] {
			index[t.Group] = t
		}
		if len(got[level]) != len(index) {
			return fmt.Errorf("%s: the report has %d groups, the baseline %d", level, len(got[level]), len(index))
		}
		for _, g := range got[level] {
			w := index[g.Group]
			if math.Abs(g.HandlingDays-w.HandlingDays) > 1e-6 {
				return fmt.Errorf("%s %q: handling days %v, baseline %v", level, g.Group, g.HandlingDays, w.HandlingDays)
			}
			g.HandlingDays = w.HandlingDays
			if !maps.Equal(g.Breaches, w.Breaches) {
				return fmt.Errorf("%s %q: the report's breaches %v, the baseline's %v", level, g.Group, g.Breaches, w.Breaches)
			}
			g.Breaches, w.Breaches = nil, nil
			if !reflect.DeepEqual(g, w) {
				return fmt.Errorf("%s %q: the report counts %+v, the baseline %+v", level, g.Group, g, w)
			}
		}
	}
	return nil
}
