package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"time"

	"github.com/dvcwatch/dvcwatch"
)

var (
	verdictColumns = []string{"source", "code", "agency", "procedure_code", "department", "official", "status", "channel",
		"received_at", "due_at", "late_from", "ended_at", "waiting_since", "outcome", "supplements", "handling_days",
		"digitized", "paid_online", "fee_due", "hash"}
	stepVerdictColumns = []string{"source", "code", "seq", "agency", "department", "official", "due_at", "late_from", "ended_at"}
)

// verdictUpsert replaces a stored verdict whose content changed.
var verdictUpsert = func() string {
	set := make([]string, 0, len(verdictColumns))
	for _, c := range verdictColumns[2:] {
		set = append(set, c+" = excluded."+c)
	}
	return "ON CONFLICT (source, code) DO UPDATE SET " + strings.Join(set, ", ")
}()

// SaveVerdicts records the verdicts of dossiers (dvcwatch.Verdict) of one
// source; whole says they are every stored dossier between the first and
// the last (a page of a full sweep). The stored ones are compared by hash
// first: an unchanged verdict, nearly every one in a sweep, costs a read of
// its key and hash and no write.
func (tx *Tx) SaveVerdicts(ctx context.Context, vs []dvcwatch.Verdict, whole bool) error {
	db := tx.db
	bySource := map[string][]string{}
	for _, v := range vs {
		bySource[v.Key.Source] = append(bySource[v.Key.Source], v.Key.Code)
	}
	stored := make(map[dvcwatch.DossierKey]int64, len(vs))
	for source, codes := range bySource {
		err := db.fromDossiers(source, codes, whole, func(from func(string, string) string, args []any) error {
			var rows []struct {
				Code string `db:"code"`
				Hash int64  `db:"hash"`
			}
			q := `SELECT t.code, t.hash FROM ` + from("verdicts", "source")
			if err := tx.tx.SelectContext(ctx, &rows, tx.tx.Rebind(q), args...); err != nil {
				return err
			}
			for _, r := range rows {
				stored[dvcwatch.DossierKey{Source: source, Code: r.Code}] = r.Hash
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read verdicts: %w", err)
		}
	}
	var verdicts, steps []any
	replaced := map[string][]string{} // source → codes whose stored steps go
	for i := range vs {
		v := &vs[i]
		h := verdictHash(v)
		old, ok := stored[v.Key]
		if ok && old == h {
			continue
		}
		if ok {
			replaced[v.Key.Source] = append(replaced[v.Key.Source], v.Key.Code)
		}
		verdicts = append(verdicts, v.Key.Source, v.Key.Code, v.Agency, v.ProcedureCode, v.Department, v.Official,
			int64(v.Status), int64(v.Channel), db.timeArg(normTime(v.ReceivedAt)), db.timeArg(normTime(v.Due)),
			db.timeArg(normTime(v.LateFrom)), db.timeArg(normTime(v.EndedAt)), db.timeArg(normTime(v.WaitingSince)),
			string(v.Outcome), int64(v.Supplements), v.HandlingDays, v.Digitized, v.PaidOnline, v.FeeDue, h)
		for _, s := range v.Steps {
			steps = append(steps, v.Key.Source, v.Key.Code, int64(s.Seq), v.Agency, s.Department, s.Official,
				db.timeArg(normTime(s.Due)), db.timeArg(normTime(s.LateFrom)), db.timeArg(normTime(s.EndedAt)))
		}
	}
	if err := db.insertRows(ctx, tx.tx, "verdicts", verdictColumns, verdictUpsert, verdicts); err != nil {
		return fmt.Errorf("save verdicts: %w", err)
	}
	for source, codes := range replaced {
		err := db.forCodes(source, codes, func(where string, args []any) error {
			_, err := tx.tx.ExecContext(ctx, tx.tx.Rebind("DELETE FROM step_verdicts WHERE "+where), args...)
			return err
		})
		if err != nil {
			return fmt.Errorf("save verdicts: delete old steps: %w", err)
		}
	}
	if err := db.insertRows(ctx, tx.tx, "step_verdicts", stepVerdictColumns, "", steps); err != nil {
		return fmt.Errorf("save verdicts: %w", err)
	}
	return nil
}

// verdictHash is a stable digest of everything SaveVerdicts writes of v,
// written field by field (a sweep hashes every dossier's verdict: JSON took
// a tenth of the pass).
func verdictHash(v *dvcwatch.Verdict) int64 {
	h := fnv.New64a()
	var b []byte
	str := func(s string) { b = append(binary.AppendUvarint(b, uint64(len(s))), s...) }
	num := func(n int64) { b = binary.AppendVarint(b, n) }
	at := func(t time.Time) {
		if t.IsZero() {
			num(0)
			return
		}
		num(t.UnixMicro())
	}
	flag := func(f bool) {
		if f {
			num(1)
		} else {
			num(0)
		}
	}
	str(v.Agency)
	str(v.ProcedureCode)
	str(v.Department)
	str(v.Official)
	num(int64(v.Status))
	num(int64(v.Channel))
	for _, t := range []time.Time{v.ReceivedAt, v.Due, v.LateFrom, v.EndedAt, v.WaitingSince} {
		at(t)
	}
	str(string(v.Outcome))
	num(int64(v.Supplements))
	num(int64(math.Float64bits(v.HandlingDays)))
	flag(v.Digitized)
	flag(v.PaidOnline)
	flag(v.FeeDue)
	for _, st := range v.Steps {
		num(int64(st.Seq))
		str(st.Department)
		str(st.Official)
		at(st.Due)
		at(st.LateFrom)
		at(st.EndedAt)
	}
	_, _ = h.Write(b)
	return int64(h.Sum64()) // wraps into the signed column: a digest, compared for equality only
}
