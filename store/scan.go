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
			var code string
			var step stepRow
			q := `SELECT ` + prefixColumns("t.", "code, "+stepSelect) + ` FROM ` + from("dossier_steps", "source") + ` ORDER BY t.code, t.seq`
			err := scanRows(ctx, tx, tx.Rebind(q), args, step.dest(&code), func() {
				d := index[dvcwatch.DossierKey{Source: source, Code: code}]
				d.Steps = append(d.Steps, step.step())
			})
			if err != nil {
				return fmt.Errorf("steps: %w", err)
			}
			var sup supplementRow
			q = `SELECT ` + prefixColumns("t.", "code, "+supplementSelect) + ` FROM ` + from("dossier_supplements", "source") + ` ORDER BY t.code, t.seq`
			err = scanRows(ctx, tx, tx.Rebind(q), args, sup.dest(&code), func() {
				d := index[dvcwatch.DossierKey{Source: source, Code: code}]
				d.Supplements = append(d.Supplements, sup.supplement())
			})
			if err != nil {
				return fmt.Errorf("supplements: %w", err)
			}
			var apo apologyRow
			q = `SELECT ` + prefixColumns("t.", "code, "+apologySelect) + ` FROM ` + from("dossier_apologies", "source") + ` ORDER BY t.code, t.seq`
			err = scanRows(ctx, tx, tx.Rebind(q), args, apo.dest(&code), func() {
				d := index[dvcwatch.DossierKey{Source: source, Code: code}]
				d.Apologies = append(d.Apologies, apo.apology())
			})
			if err != nil {
				return fmt.Errorf("apologies: %w", err)
			}
			if waits {
				if err := db.loadPaymentWaits(ctx, tx, index, source, from, args); err != nil {
					return err
				}
			}
			if mirror == "" {
				return nil
			}
			var fs []findingRow
			if err := tx.SelectContext(ctx, &fs, tx.Rebind(openFindingsQuery(from)), append(args[:len(args):len(args)], mirror)...); err != nil {
				return fmt.Errorf("findings: %w", err)
			}
			for _, r := range fs {
				k := dvcwatch.DossierKey{Source: source, Code: r.Code}
				findings[k] = append(findings[k], r.finding())
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return findings, nil
}

// openFindingsQuery reads the open findings against a mirror (its last
// bind argument) of the dossiers from selects, through the open findings'
// index down to the code (migration 00017): a page reads its own findings.
func openFindingsQuery(from func(table, sourceColumn string) string) string {
	return `SELECT t.code, t.kind, t.truth_status, t.mirror_status, t.detected_at
		FROM ` + from("reconciliation_findings", "truth_source") + ` AND t.mirror_source = ? AND t.resolved_at IS NULL`
}

// loadPaymentWaits fills in the payment waits of one chunk of dossiers (from
// and args of fromDossiers) from their status history: waiting for payment
// pauses the clock, and only the history knows when it began and ended.
func (db *DB) loadPaymentWaits(ctx context.Context, tx *sqlx.Tx, index map[dvcwatch.DossierKey]*dvcwatch.Dossier, source string,
	from func(string, string) string, args []any) error {
	var waits []struct {
		Code      string  `db:"code"`
		From      int     `db:"from_status"`
		To        int     `db:"to_status"`
		ChangedAt instant `db:"changed_at"`
	}
	q := `SELECT t.code, t.from_status, t.to_status, t.changed_at FROM ` + from("status_events", "source") +
		` AND (t.to_status = 6 OR t.from_status = 6) ORDER BY t.code, t.id`
	if err := tx.SelectContext(ctx, &waits, tx.Rebind(q), args...); err != nil {
		return fmt.Errorf("payment waits: %w", err)
	}
	for _, w := range waits {
		d := index[dvcwatch.DossierKey{Source: source, Code: w.Code}]
		n := len(d.PaymentWaits)
		switch {
		case w.To == int(dvcwatch.StatusAwaitingPayment) && w.From != w.To:
			d.PaymentWaits = append(d.PaymentWaits, dvcwatch.Wait{Start: w.ChangedAt.Time})
		case w.From == int(dvcwatch.StatusAwaitingPayment) && n > 0 && d.PaymentWaits[n-1].End.IsZero():
			d.PaymentWaits[n-1].End = w.ChangedAt.Time
		}
	}
	return nil
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
