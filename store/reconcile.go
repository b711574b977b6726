package store

import (
	"context"
	"fmt"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/jmoiron/sqlx"
)

// ReconcileParams names the two copies to compare and when a difference counts:
// the mirror gets MaxLag to catch up with a change before it is a finding.
type ReconcileParams struct {
	Truth, Mirror string // connector names: the one-stop system and the national portal
	Now           time.Time
	MaxLag        time.Duration
}

// Reconcile compares the stored copies of the source of truth and its mirror
// and records, in one transaction, every dossier missing from the mirror or
// showing another status there for longer than MaxLag; a finding whose
// condition has ended is marked resolved, and one that comes back is reopened.
// It reads only the store: sync both connectors first.
func (db *DB) Reconcile(ctx context.Context, p ReconcileParams) (dvcwatch.ReconcileResult, error) {
	now := db.timeArg(normTime(p.Now))
	cutoff := db.timeArg(normTime(p.Now.Add(-p.MaxLag)))
	// changed_at is the wall clock's, as the dossiers' updated_at: a
	// detection pass brings forward the dossiers whose findings changed
	// since its last run (MarkChanged).
	changed := db.timeArg(normTime(db.now()))
	var res dvcwatch.ReconcileResult
	err := db.writeTx(ctx, func(tx *sqlx.Tx) error {
		// Status 1 (submitted online, not yet received) is not expected on the
		// national portal yet; a change younger than the lag is still in flight.
		upsert := `INSERT INTO reconciliation_findings (truth_source, mirror_source, code, kind,
				truth_status, mirror_status, truth_updated_at, detected_at, last_seen_at, resolved_at, changed_at)
			SELECT t.source, ?, t.code,
				CASE WHEN m.code IS NULL THEN 'missing' ELSE 'status_mismatch' END,
				t.status, COALESCE(m.status, 0), t.source_updated_at, ?, ?, NULL, ?
			FROM dossiers t
			LEFT JOIN dossiers m ON m.source = ? AND m.code = t.code
			WHERE t.source = ? AND t.status <> 1
				AND (m.code IS NULL OR m.status <> t.status)
				AND t.source_updated_at < ?
			ON CONFLICT (truth_source, mirror_source, code) DO UPDATE SET
				kind = excluded.kind, truth_status = excluded.truth_status,
				mirror_status = excluded.mirror_status, truth_updated_at = excluded.truth_updated_at,
				last_seen_at = excluded.last_seen_at, resolved_at = NULL,
				changed_at = CASE WHEN reconciliation_findings.resolved_at IS NOT NULL
					OR reconciliation_findings.kind <> excluded.kind
					OR reconciliation_findings.truth_status <> excluded.truth_status
					OR reconciliation_findings.mirror_status <> excluded.mirror_status
					THEN excluded.changed_at ELSE reconciliation_findings.changed_at END`
		if _, err := tx.ExecContext(ctx, tx.Rebind(upsert), p.Mirror, now, now, changed, p.Mirror, p.Truth, cutoff); err != nil {
			return fmt.Errorf("record findings: %w", err)
		}
		resolve := `UPDATE reconciliation_findings SET resolved_at = ?, changed_at = ?
			WHERE truth_source = ? AND mirror_source = ? AND resolved_at IS NULL AND last_seen_at < ?`
		r, err := tx.ExecContext(ctx, tx.Rebind(resolve), now, changed, p.Truth, p.Mirror, now)
		if err != nil {
			return fmt.Errorf("resolve findings: %w", err)
		}
		n, err := r.RowsAffected()
		if err != nil {
			return err
		}
		res.Resolved = int(n)
		count := `SELECT
				(SELECT COUNT(*) FROM dossiers WHERE source = ? AND status <> 1),
				(SELECT COUNT(*) FROM reconciliation_findings WHERE truth_source = ? AND mirror_source = ? AND resolved_at IS NULL AND kind = 'missing'),
				(SELECT COUNT(*) FROM reconciliation_findings WHERE truth_source = ? AND mirror_source = ? AND resolved_at IS NULL AND kind = 'status_mismatch')`
		row := tx.QueryRowxContext(ctx, tx.Rebind(count), p.Truth, p.Truth, p.Mirror, p.Truth, p.Mirror)
		if err := row.Scan(&res.Received, &res.Missing, &res.Mismatched); err != nil {
			return fmt.Errorf("count findings: %w", err)
		}
		return nil
	})
	if err != nil {
		return dvcwatch.ReconcileResult{}, fmt.Errorf("reconcile %s with %s: %w", p.Mirror, p.Truth, err)
	}
	return res, nil
}

// Findings lists the open findings between truth and mirror, by code.
func (db *DB) Findings(ctx context.Context, truth, mirror string) ([]dvcwatch.Finding, error) {
	var rows []findingRow
	q := `SELECT code, kind, truth_status, mirror_status, detected_at FROM reconciliation_findings
		WHERE truth_source = ? AND mirror_source = ? AND resolved_at IS NULL ORDER BY code`
	if err := db.db.SelectContext(ctx, &rows, db.db.Rebind(q), truth, mirror); err != nil {
		return nil, fmt.Errorf("list findings of %s against %s: %w", mirror, truth, err)
	}
	out := make([]dvcwatch.Finding, len(rows))
	for i, r := range rows {
		out[i] = r.finding()
	}
	return out, nil
}

type findingRow struct {
	Code         string  `db:"code"`
	Kind         string  `db:"kind"`
	TruthStatus  int     `db:"truth_status"`
	MirrorStatus int     `db:"mirror_status"`
	DetectedAt   instant `db:"detected_at"`
}

func (r findingRow) finding() dvcwatch.Finding {
	return dvcwatch.Finding{Code: r.Code, Kind: dvcwatch.FindingKind(r.Kind), TruthStatus: r.TruthStatus, MirrorStatus: r.MirrorStatus, DetectedAt: r.DetectedAt.Time}
}
