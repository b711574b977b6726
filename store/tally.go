package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/dvcwatch/dvcwatch"
)

// tallyGroups is the column each level groups by: of verdicts (v), of
// step_verdicts (s) and of breaches (b).
var tallyGroups = map[dvcwatch.TallyLevel]struct{ verdict, step, breach string }{
	dvcwatch.LevelAgency:     {"v.agency", "s.agency", "b.agency"},
	dvcwatch.LevelDepartment: {"v.department", "s.department", "b.department"},
	dvcwatch.LevelOfficial:   {"v.official", "s.official", "b.official"},
	dvcwatch.LevelProcedure:  {"v.procedure_code", "v.procedure_code", "b.procedure_code"},
}

// dossierMeasures are the conditions that put a dossier of a period's
// population (dossierPopulation) into each count, by the count's name
// (dvcwatch.Measure); :from and :to bound the period. The sums of Tallies
// and the lists of TallyDossiers are made of the same conditions, so that a
// number and the dossiers behind it agree. A dossier open at the end is
// overdue when its late_from passed before the end, unless its clock stood
// still since before then.
var dossierMeasures = []struct {
	name dvcwatch.Measure
	cond string
}{
	{dvcwatch.MeasureReceived, `v.received_at >= :from`},
	{dvcwatch.MeasureCarriedOver, `v.received_at < :from`},
	{dvcwatch.MeasureFinishedEarly, `v.ended_at < :to AND v.outcome = 'early'`},
	{dvcwatch.MeasureFinishedOnDue, `v.ended_at < :to AND v.outcome = 'on_due'`},
	{dvcwatch.MeasureFinishedLate, `v.ended_at < :to AND v.outcome = 'late'`},
	{dvcwatch.MeasureWithdrawn, `v.ended_at < :to AND v.status = 7`},
	{dvcwatch.MeasureOpenWithinDue, `(v.ended_at IS NULL OR v.ended_at >= :to) AND NOT (` + lateAtEnd + `)`},
	{dvcwatch.MeasureOpenOverdue, `(v.ended_at IS NULL OR v.ended_at >= :to) AND (` + lateAtEnd + `)`},
	{dvcwatch.MeasureOnline, `v.received_at >= :from AND v.channel = 2`},
	{dvcwatch.MeasureDigitized, `v.received_at >= :from AND v.digitized`},
	{dvcwatch.MeasureFeeDue, `v.received_at >= :from AND v.fee_due`},
	{dvcwatch.MeasurePaidOnline, `v.received_at >= :from AND v.paid_online`},
	{dvcwatch.MeasureUnsynced, `v.received_at >= :from AND EXISTS (SELECT 1 FROM reconciliation_findings f
		WHERE f.truth_source = v.source AND f.code = v.code AND f.resolved_at IS NULL)`},
	{dvcwatch.MeasureHandled, `v.ended_at < :to AND v.status IN (9, 10)`},
}

// dossierPopulation is a period's dossiers: received before its end and not
// ended before its start.
const dossierPopulation = `v.received_at < :to AND (v.ended_at IS NULL OR v.ended_at >= :from)`

const lateAtEnd = `v.late_from IS NOT NULL AND v.late_from < :to AND NOT (v.waiting_since IS NOT NULL AND v.waiting_since < :to)`

// dossierTally counts the dossiers of a period from their verdicts.
var dossierTally = func() string {
	var b strings.Builder
	b.WriteString("SELECT %[1]s AS grp")
	for _, m := range dossierMeasures {
		fmt.Fprintf(&b, ",\n\tSUM(CASE WHEN %s THEN 1 ELSE 0 END) AS %s", m.cond, m.name)
	}
	fmt.Fprintf(&b, ",\n\tSUM(CASE WHEN %s THEN v.handling_days ELSE 0 END) AS handling_days", measureCond(dvcwatch.MeasureHandled))
	b.WriteString("\nFROM verdicts v\nWHERE " + dossierPopulation + "%[2]s\nGROUP BY %[1]s")
	return b.String() // a format: the conditions hold no %
}()

// measureCond is the condition of a dossier measure; "" for another name.
func measureCond(m dvcwatch.Measure) string {
	for _, d := range dossierMeasures {
		if d.name == m {
			return d.cond
		}
	}
	return ""
}

const apologyTally = `SELECT %[1]s AS grp, COUNT(*) AS n
FROM dossier_apologies a JOIN verdicts v ON v.source = a.source AND v.code = a.code
WHERE a.issued_at >= :from AND a.issued_at < :to%[2]s
GROUP BY %[1]s`

const stepTally = `SELECT %[1]s AS grp, COUNT(*) AS finished, SUM(CASE WHEN s.ended_at < s.late_from THEN 1 ELSE 0 END) AS on_time
FROM step_verdicts s%[3]s
WHERE s.ended_at >= :from AND s.ended_at < :to%[2]s
GROUP BY %[1]s`

// breachCounted leaves out of the results the breaches that only rules since
// corrected found, and due_soon, a warning before any delay: counting it as
// a breach would charge an official with a delay that has not happened.
const breachCounted = `b.resolved_reason <> 'rule_changed' AND b.kind <> 'due_soon'`

// breachTally counts the breaches that began in the period.
const breachTally = `SELECT %[1]s AS grp, b.kind AS kind, COUNT(*) AS n,
	SUM(CASE WHEN EXISTS (SELECT 1 FROM breach_acks k WHERE k.breach_id = b.id) THEN 1 ELSE 0 END) AS acked
FROM breaches b
WHERE b.started_at >= :from AND b.started_at < :to AND ` + breachCounted + `%[2]s
GROUP BY %[1]s, b.kind`

type tallyRow struct {
	Group         string  `db:"grp"`
	Received      int     `db:"received"`
	CarriedOver   int     `db:"carried_over"`
	FinishedEarly int     `db:"finished_early"`
	FinishedOnDue int     `db:"finished_on_due"`
	FinishedLate  int     `db:"finished_late"`
	Withdrawn     int     `db:"withdrawn"`
	OpenWithinDue int     `db:"open_within_due"`
	OpenOverdue   int     `db:"open_overdue"`
	Online        int     `db:"online"`
	Digitized     int     `db:"digitized"`
	FeeDue        int     `db:"fee_due"`
	PaidOnline    int     `db:"paid_online"`
	Unsynced      int     `db:"unsynced"`
	Handled       int     `db:"handled"`
	HandlingDays  float64 `db:"handling_days"`
}

// Tallies counts the dossiers, steps, apologies and breaches of the period
// q asks for, one Tally per group, ordered by group.
func (db *DB) Tallies(ctx context.Context, q dvcwatch.TallyQuery) ([]dvcwatch.Tally, error) {
	g, ok := tallyGroups[q.Level]
	if !ok {
		return nil, fmt.Errorf("tallies: unknown level %q", q.Level)
	}
	params := map[string]any{"from": db.timeArg(normTime(q.From)), "to": db.timeArg(normTime(q.To)), "agency": q.Agency}
	agency := func(col string) string {
		if q.Agency == "" {
			return ""
		}
		return " AND " + col + " = :agency"
	}
	byGroup := map[string]*dvcwatch.Tally{}
	tally := func(group string) *dvcwatch.Tally {
		t, ok := byGroup[group]
		if !ok {
			t = &dvcwatch.Tally{Group: group, Breaches: map[dvcwatch.BreachKind]int{}}
			byGroup[group] = t
		}
		return t
	}
	// One snapshot: the four counts agree with each other.
	err := db.readTx(ctx, func(tx *sqlx.Tx) error {
		query := func(dest any, format string, args ...any) error {
			named, bound, err := sqlx.Named(fmt.Sprintf(format, args...), params)
			if err != nil {
				return err
			}
			return tx.SelectContext(ctx, dest, tx.Rebind(named), bound...)
		}

		var dossiers []tallyRow
		if err := query(&dossiers, dossierTally, g.verdict, agency("v.agency")); err != nil {
			return fmt.Errorf("tallies: dossiers: %w", err)
		}
		for _, r := range dossiers {
			t := tally(r.Group)
			t.Received, t.CarriedOver, t.Withdrawn = r.Received, r.CarriedOver, r.Withdrawn
			t.FinishedEarly, t.FinishedOnDue, t.FinishedLate = r.FinishedEarly, r.FinishedOnDue, r.FinishedLate
			t.OpenWithinDue, t.OpenOverdue = r.OpenWithinDue, r.OpenOverdue
			t.Online, t.Digitized, t.FeeDue, t.PaidOnline, t.Unsynced = r.Online, r.Digitized, r.FeeDue, r.PaidOnline, r.Unsynced
			t.Handled, t.HandlingDays = r.Handled, r.HandlingDays
		}

		var counts []struct {
			Group string `db:"grp"`
			Kind  string `db:"kind"`
			N     int    `db:"n"`
			Acked int    `db:"acked"`
		}
		if err := query(&counts, apologyTally, g.verdict, agency("v.agency")); err != nil {
			return fmt.Errorf("tallies: apologies: %w", err)
		}
		for _, c := range counts {
			tally(c.Group).Apologies = c.N
		}
		counts = counts[:0]
		if err := query(&counts, breachTally, g.breach, agency("b.agency")); err != nil {
			return fmt.Errorf("tallies: breaches: %w", err)
		}
		for _, c := range counts {
			t := tally(c.Group)
			t.Breaches[dvcwatch.BreachKind(c.Kind)] = c.N
			t.Acknowledged += c.Acked
		}

		join := ""
		if q.Level == dvcwatch.LevelProcedure {
			join = " JOIN verdicts v ON v.source = s.source AND v.code = s.code"
		}
		var steps []struct {
			Group    string `db:"grp"`
			Finished int    `db:"finished"`
			OnTime   int    `db:"on_time"`
		}
		if err := query(&steps, stepTally, g.step, agency("s.agency"), join); err != nil {
			return fmt.Errorf("tallies: steps: %w", err)
		}
		for _, s := range steps {
			t := tally(s.Group)
			t.StepsFinished, t.StepsOnTime = s.Finished, s.OnTime
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]dvcwatch.Tally, 0, len(byGroup))
	for _, t := range byGroup {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b dvcwatch.Tally) int { return strings.Compare(a.Group, b.Group) })
	return out, nil
}

// TallyDossiers lists the dossiers behind one number of Tallies (see
// dvcwatch.DrillQuery), at most q.Limit of them in order of reception (the
// measures of steps, apologies and breaches: in key order), and how many
// there are in all. For a dossier measure the total is the number Tallies
// gives; steps, apologies and breaches are counted there one by one, and
// a dossier with two of them is listed once.
func (db *DB) TallyDossiers(ctx context.Context, q dvcwatch.DrillQuery) ([]dvcwatch.DossierKey, int, error) {
	g, ok := tallyGroups[q.Level]
	if !ok {
		return nil, 0, fmt.Errorf("tally dossiers: unknown level %q", q.Level)
	}
	params := map[string]any{"from": db.timeArg(normTime(q.From)), "to": db.timeArg(normTime(q.To)),
		"agency": q.Agency, "group": q.Group, "kind": string(q.Kind)}
	agency := func(col string) string {
		if q.Agency == "" {
			return ""
		}
		return " AND " + col + " = :agency"
	}
	var from, order string
	switch q.Measure {
	case dvcwatch.MeasureStepsFinished, dvcwatch.MeasureStepsLate:
		join := ""
		if q.Level == dvcwatch.LevelProcedure {
			join = " JOIN verdicts v ON v.source = s.source AND v.code = s.code"
		}
		from = `SELECT DISTINCT s.source, s.code FROM step_verdicts s` + join + `
			WHERE s.ended_at >= :from AND s.ended_at < :to AND ` + g.step + ` = :group` + agency("s.agency")
		if q.Measure == dvcwatch.MeasureStepsLate {
			from += ` AND s.ended_at >= s.late_from`
		}
		order = "source, code"
	case dvcwatch.MeasureApologies:
		from = `SELECT DISTINCT v.source, v.code FROM dossier_apologies a JOIN verdicts v ON v.source = a.source AND v.code = a.code
			WHERE a.issued_at >= :from AND a.issued_at < :to AND ` + g.verdict + ` = :group` + agency("v.agency")
		order = "source, code"
	case dvcwatch.MeasureBreaches:
		from = `SELECT DISTINCT b.source, b.code FROM breaches b
			WHERE b.started_at >= :from AND b.started_at < :to AND ` + breachCounted + ` AND ` + g.breach + ` = :group` + agency("b.agency")
		if q.Kind != "" {
			from += ` AND b.kind = :kind`
		}
		order = "source, code"
	default:
		cond := measureCond(q.Measure)
		if cond == "" {
			return nil, 0, fmt.Errorf("tally dossiers: unknown measure %q", q.Measure)
		}
		from = `SELECT v.source, v.code, v.received_at FROM verdicts v WHERE ` + dossierPopulation + ` AND ` + cond +
			` AND ` + g.verdict + ` = :group` + agency("v.agency")
		order = "received_at, source, code"
	}
	var keys []dvcwatch.DossierKey
	var total int
	err := db.readTx(ctx, func(tx *sqlx.Tx) error {
		named, args, err := sqlx.Named(`SELECT COUNT(*) FROM (`+from+`) t`, params)
		if err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &total, tx.Rebind(named), args...); err != nil {
			return err
		}
		if q.Limit <= 0 {
			return nil
		}
		named, args, err = sqlx.Named(`SELECT source, code FROM (`+from+`) t ORDER BY `+order+` LIMIT `+strconv.Itoa(q.Limit), params)
		if err != nil {
			return err
		}
		var rows []struct {
			Source string `db:"source"`
			Code   string `db:"code"`
		}
		if err := tx.SelectContext(ctx, &rows, tx.Rebind(named), args...); err != nil {
			return err
		}
		for _, r := range rows {
			keys = append(keys, dvcwatch.DossierKey{Source: r.Source, Code: r.Code})
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("tally dossiers: %w", err)
	}
	return keys, total, nil
}

// Verdicts reads the stored verdicts of keys (without their steps), in the
// order of keys; a key without a verdict (a dossier never judged) is left
// out. The drill-down lists them: at most a page of keys at a time.
func (db *DB) Verdicts(ctx context.Context, keys []dvcwatch.DossierKey) ([]dvcwatch.Verdict, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	bySource := map[string][]string{}
	for _, k := range keys {
		bySource[k.Source] = append(bySource[k.Source], k.Code)
	}
	type row struct {
		Source       string  `db:"source"`
		Code         string  `db:"code"`
		Agency       string  `db:"agency"`
		Procedure    string  `db:"procedure_code"`
		Department   string  `db:"department"`
		Official     string  `db:"official"`
		Status       int     `db:"status"`
		Channel      int     `db:"channel"`
		ReceivedAt   instant `db:"received_at"`
		DueAt        instant `db:"due_at"`
		LateFrom     instant `db:"late_from"`
		EndedAt      instant `db:"ended_at"`
		WaitingSince instant `db:"waiting_since"`
		Outcome      string  `db:"outcome"`
		Supplements  int     `db:"supplements"`
		HandlingDays float64 `db:"handling_days"`
		Digitized    bool    `db:"digitized"`
		PaidOnline   bool    `db:"paid_online"`
		FeeDue       bool    `db:"fee_due"`
	}
	found := map[dvcwatch.DossierKey]dvcwatch.Verdict{}
	err := db.readTx(ctx, func(tx *sqlx.Tx) error {
		for source, codes := range bySource {
			q, args, err := sqlx.In(`SELECT source, code, agency, procedure_code, department, official, status, channel,
				received_at, due_at, late_from, ended_at, waiting_since, outcome, supplements, handling_days,
				digitized, paid_online, fee_due
				FROM verdicts WHERE source = ? AND code IN (?)`, source, codes)
			if err != nil {
				return err
			}
			var rows []row
			if err := tx.SelectContext(ctx, &rows, tx.Rebind(q), args...); err != nil {
				return err
			}
			for _, r := range rows {
				k := dvcwatch.DossierKey{Source: r.Source, Code: r.Code}
				found[k] = dvcwatch.Verdict{Key: k, Agency: r.Agency, ProcedureCode: r.Procedure, Department: r.Department,
					Official: r.Official, Status: dvcwatch.Status(r.Status), Channel: dvcwatch.Channel(r.Channel),
					ReceivedAt: r.ReceivedAt.Time, Due: r.DueAt.Time, LateFrom: r.LateFrom.Time, EndedAt: r.EndedAt.Time,
					WaitingSince: r.WaitingSince.Time, Outcome: dvcwatch.Outcome(r.Outcome), Supplements: r.Supplements,
					HandlingDays: r.HandlingDays, Digitized: r.Digitized, PaidOnline: r.PaidOnline, FeeDue: r.FeeDue}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("verdicts: %w", err)
	}
	out := make([]dvcwatch.Verdict, 0, len(keys))
	for _, k := range keys {
		if v, ok := found[k]; ok {
			out = append(out, v)
		}
	}
	return out, nil
}
