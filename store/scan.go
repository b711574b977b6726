package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/dvcwatch/dvcwatch"
)

// openStatuses lists the status codes of dossiers still owed a result.
var openStatuses = func() string {
	var codes []string
	for s := dvcwatch.Status(0); s <= 20; s++ {
		if s.Valid() && s.Open() {
			codes = append(codes, fmt.Sprint(int(s)))
		}
	}
	return strings.Join(codes, ", ")
}()

// ScanDossiers calls fn with the dossiers f selects, in pages of at most
// pageSize in key order. Each page is read in a snapshot of its own, so a long
// scan holds no transaction open while fn works; a dossier written during the
// scan is seen in its old or new state, and the next incremental pass sees it
// again.
func (db *DB) ScanDossiers(ctx context.Context, f dvcwatch.ScanFilter, pageSize int, fn func(dvcwatch.ScannedPage) error) error {
	if pageSize <= 0 {
		pageSize = 1000
	}
	where := "TRUE"
	var filterArgs []any
	if !f.All {
		where = `(d.status IN (` + openStatuses + `) OR d.updated_at > ?
			OR EXISTS (SELECT 1 FROM breaches b WHERE b.source = d.source AND b.code = d.code AND b.resolved_at IS NULL)
			OR EXISTS (SELECT 1 FROM reconciliation_findings f WHERE f.truth_source = d.source AND f.code = d.code
				AND f.mirror_source = ? AND f.resolved_at IS NULL))`
		filterArgs = []any{db.timeArg(normTime(f.ChangedAfter)), f.Mirror}
	}
	if f.Mirror != "" {
		where += " AND d.source <> ?"
		filterArgs = append(filterArgs, f.Mirror)
	}
	// Keyset pagination on the primary key: each page is an index range scan,
	// with or without planner statistics. The row-value comparison is what
	// makes it one: PostgreSQL cannot bound an index scan by the equivalent
	// "source > ? OR (source = ? AND code > ?)", and filtered every page's
	// rows from the first key on, which made a scan quadratic.
	q := `SELECT ` + prefixColumns("d.", dossierSelect) + ` FROM dossiers d
		WHERE (d.source, d.code) > (?, ?) AND ` + where + `
		ORDER BY d.source, d.code LIMIT ?`
	var after dvcwatch.DossierKey
	for {
		var page dvcwatch.ScannedPage
		err := db.readTx(ctx, func(tx *sqlx.Tx) error {
			args := append([]any{after.Source, after.Code}, filterArgs...)
			args = append(args, pageSize)
			var r dossierRow
			page.Dossiers = make([]dvcwatch.Dossier, 0, pageSize)
			err := scanRows(ctx, tx, tx.Rebind(q), args, r.dest(), func() { page.Dossiers = append(page.Dossiers, r.dossier()) })
			if err != nil {
				return err
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
	}
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
			q = `SELECT t.code, t.kind, t.truth_status, t.mirror_status, t.detected_at
				FROM ` + from("reconciliation_findings", "truth_source") + ` AND t.mirror_source = ? AND t.resolved_at IS NULL`
			if err := tx.SelectContext(ctx, &fs, tx.Rebind(q), append(args[:len(args):len(args)], mirror)...); err != nil {
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
