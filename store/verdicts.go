package store

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/dvcwatch/dvcwatch"
)

var (
	verdictColumns = []string{"source", "code", "agency", "procedure_code", "department", "official", "status", "channel",
		"received_at", "due_at", "late_from", "ended_at", "waiting_since", "outcome", "supplements", "handling_days",
		"digitized", "paid_online", "fee_due", "hash"}
	stepVerdictColumns = []string{"source", "code", "seq", "agency", "department", "official", "due_at", "late_from", "ended_at"}
)

// verdictUpsert replaces a stored verdict only when its content changed, and
// returns the keys of the verdicts written: only their steps are rewritten.
var verdictUpsert = func() string {
	set := make([]string, 0, len(verdictColumns))
	for _, c := range verdictColumns[2:] {
		set = append(set, c+" = excluded."+c)
	}
	return "ON CONFLICT (source, code) DO UPDATE SET " + strings.Join(set, ", ") +
		" WHERE verdicts.hash <> excluded.hash RETURNING source, code"
}()

// SaveVerdicts records the verdicts of dossiers (dvcwatch.Verdict); those
// unchanged since the last pass are left as they are.
func (tx *Tx) SaveVerdicts(ctx context.Context, vs []dvcwatch.Verdict) error {
	db := tx.db
	width := len(verdictColumns)
	args := make([]any, 0, len(vs)*width)
	byKey := make(map[dvcwatch.DossierKey]*dvcwatch.Verdict, len(vs))
	for i := range vs {
		v := &vs[i]
		h, err := verdictHash(v)
		if err != nil {
			return err
		}
		byKey[v.Key] = v
		args = append(args, v.Key.Source, v.Key.Code, v.Agency, v.ProcedureCode, v.Department, v.Official,
			int64(v.Status), int64(v.Channel), db.timeArg(normTime(v.ReceivedAt)), db.timeArg(normTime(v.Due)),
			db.timeArg(normTime(v.LateFrom)), db.timeArg(normTime(v.EndedAt)), db.timeArg(normTime(v.WaitingSince)),
			string(v.Outcome), int64(v.Supplements), v.HandlingDays, v.Digitized, v.PaidOnline, v.FeeDue, h)
	}
	perStmt := min(db.dialect.maxRows, db.dialect.maxParams/width)
	var changed []dvcwatch.DossierKey
	for len(args) > 0 {
		n := min(perStmt, len(args)/width)
		chunk := args[:n*width]
		args = args[n*width:]
		var keys []struct {
			Source string `db:"source"`
			Code   string `db:"code"`
		}
		if err := tx.tx.SelectContext(ctx, &keys, db.insertSQL("verdicts", verdictColumns, verdictUpsert, n), chunk...); err != nil {
			return fmt.Errorf("save verdicts: %w", err)
		}
		for _, k := range keys {
			changed = append(changed, dvcwatch.DossierKey{Source: k.Source, Code: k.Code})
		}
	}
	if len(changed) == 0 {
		return nil
	}
	if err := tx.deleteByKeys(ctx, "step_verdicts", changed); err != nil {
		return fmt.Errorf("save verdicts: %w", err)
	}
	var steps []any
	for _, k := range changed {
		v := byKey[k]
		for _, s := range v.Steps {
			steps = append(steps, k.Source, k.Code, int64(s.Seq), v.Agency, s.Department, s.Official,
				db.timeArg(normTime(s.Due)), db.timeArg(normTime(s.LateFrom)), db.timeArg(normTime(s.EndedAt)))
		}
	}
	return db.insertRows(ctx, tx.tx, "step_verdicts", stepVerdictColumns, "", steps)
}

// verdictHash is a stable digest of everything SaveVerdicts writes of v.
func verdictHash(v *dvcwatch.Verdict) (int64, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("verdict of %s: %w", v.Key, err)
	}
	h := fnv.New64a()
	_, _ = h.Write(b)
	return int64(h.Sum64()), nil // wraps into the signed column: a digest, compared for equality only
}

// deleteByKeys deletes the rows of table (keyed by source and code) of keys.
func (tx *Tx) deleteByKeys(ctx context.Context, table string, keys []dvcwatch.DossierKey) error {
	bySource := map[string][]string{}
	for _, k := range keys {
		bySource[k.Source] = append(bySource[k.Source], k.Code)
	}
	for source, codes := range bySource {
		err := inChunks(codes, func(chunk []string) error {
			in, args := inList(chunk)
			_, err := tx.tx.ExecContext(ctx, tx.tx.Rebind(`DELETE FROM `+table+` WHERE source = ? AND code `+in),
				append([]any{source}, args...)...)
			return err
		})
		if err != nil {
			return fmt.Errorf("delete from %s: %w", table, err)
		}
	}
	return nil
}
