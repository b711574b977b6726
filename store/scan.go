package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dvcwatch/dvcwatch"
)

// ScanDossiers calls fn with the dossiers f selects, in pages of at most
// pageSize: every dossier in key order, or those whose next check has come in
// next-check order (the pass that evaluates them moves their next checks
// past f.Due, out of the range still to read). Each page is read in a
// snapshot of its own, so a long scan holds no transaction open while fn
// works; a dossier written during the scan is seen in its old or new state,
// and the next incremental pass sees it again (ApplyPage marks it).
func (db *DB) ScanDossiers(ctx context.Context, f dvcwatch.ScanFilter, pageSize int, fn func(dvcwatch.ScannedPage) error) error {
	if pageSize <= 0 {
		pageSize = 1000
	}
	where, order := "TRUE", "d.source, d.code"
	var filterArgs []any
	if !f.All {
		// Through dossiers_next_check_idx, whose order is the scan's: each
		// page is an index range scan, with or without planner statistics.
		where, order = "d.next_check <= ?", "d.next_check, d.source, d.code"
		filterArgs = []any{db.timeArg(normTime(f.Due))}
	}
	if f.Mirror != "" {
		where += " AND d.source <> ?"
		filterArgs = append(filterArgs, f.Mirror)
	}
	q := scanQuery(where, order)
	var after dvcwatch.DossierKey
	var afterCheck time.Time // the next check of the last dossier read, when scanning by next check
	for {
		var page dvcwatch.ScannedPage
		err := db.readTx(ctx, func(tx *sqlx.Tx) error {
			args := []any{after.Source, after.Code}
			if !f.All {
				// Before the marks of MarkChanged (the epoch) on the first page.
				args = append([]any{db.dialect.encodeTime(normTime(afterCheck))}, args...)
			}
			args = append(append(args, filterArgs...), pageSize)
			if !f.All {
				if err := db.sortless(ctx, tx, true); err != nil {
					return err
				}
			}
			var r dossierRow
			var nextCheck, updatedAt instant
			page.Dossiers = make([]dvcwatch.Dossier, 0, pageSize)
			page.Checks = make([]dvcwatch.NextCheck, 0, pageSize)
			err := scanRows(ctx, tx, tx.Rebind(q), args, append(r.dest(), &nextCheck, &updatedAt), func() {
				d := r.dossier()
				page.Dossiers = append(page.Dossiers, d)
				page.Checks = append(page.Checks, dvcwatch.NextCheck{Key: d.Key, Stored: nextCheck.Time, Written: updatedAt.Time})
			})
			if err != nil {
				return err
			}
			if !f.All {
				if err := db.sortless(ctx, tx, false); err != nil {
					return err
				}
			}
			page.Whole = f.All
			page.Findings, err = db.loadChildren(ctx, tx, page.Dossiers, f.Mirror, f.All, true)
			return err
		})
		if err != nil {
			return fmt.Errorf("scan dossiers after %s: %w", after, err)
		}
		if len(page.Dossiers) == 0 {
			return nil
		}
		if err := fn(page); err != nil {
			return err
		}
		if len(page.Dossiers) < pageSize {
			return nil
		}
		after = page.Dossiers[len(page.Dossiers)-1].Key
		afterCheck = page.Checks[len(page.Checks)-1].Stored
	}
}

// scanQuery reads a page of ScanDossiers: the dossiers where selects, after
// a cursor, in order (the cursor's columns). Keyset pagination: the
// row-value comparison is what bounds the index scan. PostgreSQL cannot
// bound one by the equivalent "source > ? OR (source = ? AND code > ?)", and
// filtered every page's rows from the first key on, which made a scan
// quadratic.
func scanQuery(where, order string) string {
	cursor := strings.TrimSuffix(strings.Repeat("?, ", strings.Count(order, ",")+1), ", ")
	return `SELECT ` + prefixColumns("d.", dossierSelect) + `, d.next_check, d.updated_at FROM dossiers d
		WHERE (` + order + `) > (` + cursor + `) AND ` + where + `
		ORDER BY ` + order + ` LIMIT ?`
}

// sortless turns PostgreSQL's sorts and bitmap scans off for what tx
// runs next (on), or back on. Without statistics the planner guesses that few
// dossiers are due after the cursor, and reads every one of them through a
// bitmap and sorts them for each page; the next-check index read in order,
// stopping at the page's size, is what serves a page (the breach lists'
// pages the same). The children are read with the planner's own choices.
func (db *DB) sortless(ctx context.Context, tx *sqlx.Tx, on bool) error {
	if db.dialect.name != DriverPostgres {
		return nil
	}
	value := "on"
	if on {
		value = "off"
	}
	// set_config(…, true) is SET LOCAL: both settings in one round trip.
	_, err := tx.ExecContext(ctx, "SELECT set_config('enable_sort', $1, true), set_config('enable_bitmapscan', $1, true)", value)
	return err
}

// changedMark is the next check MarkChanged gives a dossier: before any
// evaluation time, so that the next pass takes it first.
var changedMark = time.Unix(0, 0).UTC()

// markFindings marks the dossiers whose findings changed (MarkChanged).
const markFindings = `UPDATE dossiers SET next_check = ? WHERE (source, code) IN (
		SELECT f.truth_source, f.code FROM reconciliation_findings f WHERE f.changed_at > ? AND f.mirror_source = ?)
	AND (next_check IS NULL OR next_check <> ?)`

// MarkChanged brings forward to the next incremental pass (see
// ScanDossiers) the dossiers whose reconciliation findings against mirror
// changed after after (opened, reopened, of another kind or status,
// resolved), and returns how many; after is the wall clock's, as the
// findings' changed_at is. The mirror's own dossiers, which ApplyPage marks
// as it marks every dossier it writes, are unmarked: they are judged
// through the findings, never scanned.
func (db *DB) MarkChanged(ctx context.Context, after time.Time, mirror string) (int, error) {
	if mirror == "" {
		return 0, nil
	}
	marked := 0
	err := db.writeTx(ctx, func(tx *sqlx.Tx) error {
		mark := db.timeArg(changedMark)
		q := `UPDATE dossiers SET next_check = NULL WHERE next_check = ? AND source = ?`
		if _, err := tx.ExecContext(ctx, tx.Rebind(q), mark, mirror); err != nil {
			return fmt.Errorf("mirror: %w", err)
		}
		if db.dialect.name == DriverPostgres {
			// Without statistics, "changed_at > ?" is guessed to keep a
			// third of the findings, and the planner would read every
			// dossier to join them.
			if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
				return err
			}
		}
		r, err := tx.ExecContext(ctx, tx.Rebind(markFindings), mark, db.timeArg(normTime(after)), mirror, mark)
		if err != nil {
			return fmt.Errorf("findings: %w", err)
		}
		n, err := r.RowsAffected()
		marked = int(n)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("mark changed dossiers: %w", err)
	}
	return marked, nil
}

// SaveNextChecks records the dossiers' next checks (dvcwatch.NextCheck),
// those unchanged left be (a sweep writes only the dossiers whose next check
// moved), and those written since they were read too.
func (tx *Tx) SaveNextChecks(ctx context.Context, checks []dvcwatch.NextCheck) error {
	db := tx.db
	// In key order, as ApplyPage writes dossiers: see there.
	checks = slices.SortedFunc(slices.Values(checks), func(a, b dvcwatch.NextCheck) int {
		return cmp.Or(strings.Compare(a.Key.Source, b.Key.Source), strings.Compare(a.Key.Code, b.Key.Code))
	})
	var args []any
	for _, c := range checks {
		at := normTime(c.At)
		if at.Equal(normTime(c.Stored)) {
			continue
		}
		args = append(args, c.Key.Source, c.Key.Code, db.timeArg(at), db.timeArg(normTime(c.Written)))
	}
	per := min(db.dialect.maxRows, db.dialect.maxParams/4) * 4
	for len(args) > 0 {
		chunk := args[:min(per, len(args))]
		args = args[len(chunk):]
		if _, err := tx.tx.ExecContext(ctx, tx.tx.Rebind(db.nextCheckUpdate(len(chunk)/4)), chunk...); err != nil {
			return fmt.Errorf("save next checks: %w", err)
		}
	}
	return nil
}

// scanRows runs q and calls each after scanning every row into dest
// (pointers to reused fields, in the order of q's columns). A sweep reads
// millions of rows through it: sqlx's StructScan spent a fifth of the read
// path in reflection (field lookup per query, reflect.Append per row).
func scanRows(ctx context.Context, tx *sqlx.Tx, q string, args []any, dest []any, each func()) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		each()
	}
	return rows.Err()
}

// prefixColumns qualifies a comma-separated column list with a table alias.
func prefixColumns(prefix, columns string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = prefix + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// loadChildren fills in the steps, supplements and apologies of ds (in key
// order), with waits their payment waits from the status history, and
// returns their open findings against mirror. whole says ds holds every
// dossier between its first and last key (a page of a full scan).
func (db *DB) loadChildren(ctx context.Context, tx *sqlx.Tx, ds []dvcwatch.Dossier, mirror string, whole, waits bool) (map[dvcwatch.DossierKey][]dvcwatch.Finding, error) {
	index := make(map[dvcwatch.DossierKey]*dvcwatch.Dossier, len(ds))
	bySource := map[string][]string{}
	var sources []string
	for i := range ds {
		k := ds[i].Key
		index[k] = &ds[i]
		if _, ok := bySource[k.Source]; !ok {
			sources = append(sources, k.Source)
		}
		bySource[k.Source] = append(bySource[k.Source], k.Code)
	}
	findings := map[dvcwatch.DossierKey][]dvcwatch.Finding{}
	for _, source := range sources {
		err := db.fromDossiers(source, bySource[source], whole, func(from func(string, string) string, args []any) error {
			q, args := childrenQuery(from, args, mirror, waits)
			var r childRow
			var step stepRow
			var sup supplementRow
			var apo apologyRow
			payments := map[*dvcwatch.Dossier][]paymentEvent{}
			err := scanRows(ctx, tx, tx.Rebind(q), args, r.dest(), func() {
				k := dvcwatch.DossierKey{Source: source, Code: r.Code}
				d := index[k]
				switch r.Kind {
				case childStep:
					step = stepRow{Seq: int(r.N), Department: r.S1, Official: r.S2, OfficialTitle: r.S3, Content: r.S4, State: r.S5,
						StartedAt: r.T1, DueAt: r.T2, FinishedAt: r.T3}
					d.Steps = append(d.Steps, step.step())
				case childSupplement:
					sup = supplementRow{Seq: int(r.N), RequestedAt: r.T1, ReturnedAt: r.T2, DueBefore: r.T3, DueAfter: r.T4}
					d.Supplements = append(d.Supplements, sup.supplement())
				case childApology:
					apo = apologyRow{Seq: int(r.N), IssuedAt: r.T1, NewDueAt: r.T2, IssuedBy: r.S1, Reason: r.S2}
					d.Apologies = append(d.Apologies, apo.apology())
				case childPaymentEvent:
					payments[d] = append(payments[d], paymentEvent{id: r.N, from: int(r.I1), to: int(r.I2), at: r.T1.Time})
				case childFinding:
					f := findingRow{Code: r.Code, Kind: r.S1, TruthStatus: int(r.I1), MirrorStatus: int(r.I2), DetectedAt: r.T1}
					findings[k] = append(findings[k], f.finding())
				}
			})
			if err != nil {
				return err
			}
			for d, events := range payments {
				addPaymentWaits(d, events)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("children: %w", err)
		}
	}
	for i := range ds {
		sortChildren(&ds[i])
	}
	return findings, nil
}

// The kinds of a childrenQuery's rows, in the order it returns them.
const (
	childStep = iota
	childSupplement
	childApology
	childPaymentEvent
	childFinding
)

// childRow is a row of childrenQuery: its kind, the dossier's code, the
// child's sequence (a status event's id), then generic text, time and
// number columns that each kind maps onto its own fields.
type childRow struct {
	Kind               int
	Code               string
	N                  int64
	S1, S2, S3, S4, S5 string
	T1, T2, T3, T4     instant
	I1, I2             int64
}

func (r *childRow) dest() []any {
	return []any{&r.Kind, &r.Code, &r.N, &r.S1, &r.S2, &r.S3, &r.S4, &r.S5, &r.T1, &r.T2, &r.T3, &r.T4, &r.I1, &r.I2}
}

// childrenQuery reads every child of one chunk of dossiers (from and args of
// fromDossiers) in one statement: their steps, supplements and apologies,
// with waits the status events that start or end a payment wait, and with
// a mirror the open findings against it. One statement instead of one per
// table: on PostgreSQL each statement is a round trip, and on a busy
// machine a sweep page's round trips, not its rows, were most of its read.
// It has no ORDER BY: PostgreSQL sorted the union's rows by code (a
// collation's comparisons) at twenty times the cost of reading them in
// index order; sortChildren and addPaymentWaits order them instead.
func childrenQuery(from func(table, sourceColumn string) string, args []any, mirror string, waits bool) (string, []any) {
	mode, args := execMode(args)
	var parts []string
	var all []any
	add := func(sel, table, sourceColumn, cond string, extra ...any) {
		parts = append(parts, "SELECT "+sel+" FROM "+from(table, sourceColumn)+cond)
		all = append(append(all, args...), extra...)
	}
	add(fmt.Sprintf("%d, t.code, t.seq, t.department, t.official, t.official_title, t.content, t.state, t.started_at, t.due_at, t.finished_at, NULL, 0, 0", childStep),
		"dossier_steps", "source", "")
	add(fmt.Sprintf("%d, t.code, t.seq, '', '', '', '', '', t.requested_at, t.returned_at, t.due_before, t.due_after, 0, 0", childSupplement),
		"dossier_supplements", "source", "")
	add(fmt.Sprintf("%d, t.code, t.seq, t.issued_by, t.reason, '', '', '', t.issued_at, t.new_due_at, NULL, NULL, 0, 0", childApology),
		"dossier_apologies", "source", "")
	if waits {
		add(fmt.Sprintf("%d, t.code, t.id, '', '', '', '', '', t.changed_at, NULL, NULL, NULL, t.from_status, t.to_status", childPaymentEvent),
			"status_events", "source", " AND (t.to_status = 6 OR t.from_status = 6)")
	}
	if mirror != "" {
		add(fmt.Sprintf("%d, t.code, 0, t.kind, '', '', '', '', t.detected_at, NULL, NULL, NULL, t.truth_status, t.mirror_status", childFinding),
			"reconciliation_findings", "truth_source", " AND t.mirror_source = ? AND t.resolved_at IS NULL", mirror)
	}
	return strings.Join(parts, " UNION ALL "), append(mode, all...)
}

// sortChildren puts d's steps, supplements and apologies in sequence order
// (they mostly come so: the check is what it costs then).
func sortChildren(d *dvcwatch.Dossier) {
	sortBySeq(d.Steps, func(s dvcwatch.Step) int { return s.Seq })
	sortBySeq(d.Supplements, func(s dvcwatch.Supplement) int { return s.Seq })
	sortBySeq(d.Apologies, func(a dvcwatch.Apology) int { return a.Seq })
}

func sortBySeq[T any](xs []T, seq func(T) int) {
	bySeq := func(a, b T) int { return cmp.Compare(seq(a), seq(b)) }
	if !slices.IsSortedFunc(xs, bySeq) {
		slices.SortStableFunc(xs, bySeq)
	}
}

// paymentEvent is a status event that starts or ends a payment wait.
type paymentEvent struct {
	id       int64
	from, to int
	at       time.Time
}

// addPaymentWaits adds to d's payment waits those its status events
// (childPaymentEvent rows) say, taken in the order they were recorded:
// waiting for payment pauses the clock, and only the status history knows
// when it began and ended.
func addPaymentWaits(d *dvcwatch.Dossier, events []paymentEvent) {
	slices.SortFunc(events, func(a, b paymentEvent) int { return cmp.Compare(a.id, b.id) })
	for _, e := range events {
		n := len(d.PaymentWaits)
		switch {
		case e.to == int(dvcwatch.StatusAwaitingPayment) && e.from != e.to:
			d.PaymentWaits = append(d.PaymentWaits, dvcwatch.Wait{Start: e.at})
		case e.from == int(dvcwatch.StatusAwaitingPayment) && n > 0 && d.PaymentWaits[n-1].End.IsZero():
			d.PaymentWaits[n-1].End = e.at
		}
	}
}

// nextCheckUpdate writes n next checks (SaveNextChecks): one statement, each
// row found by its primary key. The cast types PostgreSQL's VALUES column,
// which binds text otherwise. A dossier written since the pass read it
// keeps the mark ApplyPage gave it: the next pass evaluates what was
// written.
func (db *DB) nextCheckUpdate(n int) string {
	values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?), ", n), ", ")
	if db.dialect.name == DriverPostgres {
		values = strings.Replace(values, "(?, ?, ?, ?)", "(?, ?, ?::timestamptz, ?::timestamptz)", 1)
	}
	return `UPDATE dossiers SET next_check = v.column3 FROM (VALUES ` + values + `) AS v
		WHERE dossiers.source = v.column1 AND dossiers.code = v.column2 AND dossiers.updated_at = v.column4`
}
