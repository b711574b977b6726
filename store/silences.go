package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dvcwatch/dvcwatch"
)

// silenceLabelColumns is the column of each label a silence may match by, in
// the order of dvcwatch.SilenceLabels.
var silenceLabelColumns = map[dvcwatch.SilenceLabel]string{
	dvcwatch.LabelKind: "kind", dvcwatch.LabelAgency: "agency", dvcwatch.LabelDepartment: "department",
	dvcwatch.LabelOfficial: "official", dvcwatch.LabelProcedure: "procedure_code", dvcwatch.LabelDossier: "dossier_code",
}

const silenceSelect = `id, kind, agency, department, official, procedure_code, dossier_code, starts_at, ends_at,
	reason, created_by, created_at, expired_by`

type silenceRow struct {
	ID         int64   `db:"id"`
	Kind       string  `db:"kind"`
	Agency     string  `db:"agency"`
	Department string  `db:"department"`
	Official   string  `db:"official"`
	Procedure  string  `db:"procedure_code"`
	Dossier    string  `db:"dossier_code"`
	StartsAt   instant `db:"starts_at"`
	EndsAt     instant `db:"ends_at"`
	Reason     string  `db:"reason"`
	CreatedBy  string  `db:"created_by"`
	CreatedAt  instant `db:"created_at"`
	ExpiredBy  string  `db:"expired_by"`
}

func (r *silenceRow) silence() dvcwatch.Silence {
	s := dvcwatch.Silence{ID: r.ID, StartsAt: r.StartsAt.Time, EndsAt: r.EndsAt.Time, Reason: r.Reason,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.Time, ExpiredBy: r.ExpiredBy}
	values := map[dvcwatch.SilenceLabel]string{
		dvcwatch.LabelKind: r.Kind, dvcwatch.LabelAgency: r.Agency, dvcwatch.LabelDepartment: r.Department,
		dvcwatch.LabelOfficial: r.Official, dvcwatch.LabelProcedure: r.Procedure, dvcwatch.LabelDossier: r.Dossier,
	}
	for _, l := range dvcwatch.SilenceLabels() {
		if v := values[l]; v != "" {
			s.Matchers = append(s.Matchers, dvcwatch.Matcher{Label: l, Value: v})
		}
	}
	return s
}

// AddSilence records a silence (validated by the caller; its ID ignored)
// and returns it with its id.
func (db *DB) AddSilence(ctx context.Context, s dvcwatch.Silence) (dvcwatch.Silence, error) {
	columns := []string{"starts_at", "ends_at", "reason", "created_by", "created_at"}
	args := []any{db.timeArg(normTime(s.StartsAt)), db.timeArg(normTime(s.EndsAt)), s.Reason, s.CreatedBy,
		db.timeArg(normTime(s.CreatedAt))}
	for _, m := range s.Matchers {
		col, ok := silenceLabelColumns[m.Label]
		if !ok {
			return dvcwatch.Silence{}, fmt.Errorf("add silence: unknown label %q", m.Label)
		}
		columns = append(columns, col)
		args = append(args, m.Value)
	}
	var r silenceRow
	err := db.writeTx(ctx, func(tx *sqlx.Tx) error {
		return tx.GetContext(ctx, &r, db.insertSQL("silences", columns, "RETURNING "+silenceSelect, 1), args...)
	})
	if err != nil {
		return dvcwatch.Silence{}, fmt.Errorf("add silence: %w", err)
	}
	return r.silence(), nil
}

// SilenceFilter selects the silences Silences lists.
type SilenceFilter struct {
	ActiveAt time.Time // non-zero: only the silences active then
	Limit    int       // 0: every one
}

// Silences lists silences, the most recently created first.
func (db *DB) Silences(ctx context.Context, f SilenceFilter) ([]dvcwatch.Silence, error) {
	q := `SELECT ` + silenceSelect + ` FROM silences`
	var args []any
	if !f.ActiveAt.IsZero() {
		at := db.timeArg(normTime(f.ActiveAt))
		q += ` WHERE ends_at > ? AND starts_at <= ?` // as dvcwatch.Silence.Active
		args = append(args, at, at)
	}
	q += ` ORDER BY id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	var rows []silenceRow
	if err := db.db.SelectContext(ctx, &rows, db.db.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("list silences: %w", err)
	}
	out := make([]dvcwatch.Silence, len(rows))
	for i := range rows {
		out[i] = rows[i].silence()
	}
	return out, nil
}

// ActiveSilences returns every silence active at at, the most recently
// created first: what a detection pass and a digest mute by.
func (db *DB) ActiveSilences(ctx context.Context, at time.Time) ([]dvcwatch.Silence, error) {
	return db.Silences(ctx, SilenceFilter{ActiveAt: at})
}

// GetSilence returns one silence; the error wraps dvcwatch.ErrNotFound if
// there is none.
func (db *DB) GetSilence(ctx context.Context, id int64) (dvcwatch.Silence, error) {
	var r silenceRow
	err := db.db.GetContext(ctx, &r, db.db.Rebind(`SELECT `+silenceSelect+` FROM silences WHERE id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return dvcwatch.Silence{}, fmt.Errorf("silence %d: %w", id, dvcwatch.ErrNotFound)
	}
	if err != nil {
		return dvcwatch.Silence{}, fmt.Errorf("silence %d: %w", id, err)
	}
	return r.silence(), nil
}

// ExpireSilence ends silence id at at, recording who ended it, and returns
// it; expired is false, and nothing is written, if it had ended by then.
// The error wraps dvcwatch.ErrNotFound if there is no such silence.
func (db *DB) ExpireSilence(ctx context.Context, id int64, at time.Time, by string) (s dvcwatch.Silence, expired bool, err error) {
	at = normTime(at)
	err = db.writeTx(ctx, func(tx *sqlx.Tx) error {
		var rows []silenceRow
		q := `UPDATE silences SET ends_at = ?, expired_by = ? WHERE id = ? AND ends_at > ? RETURNING ` + silenceSelect
		if err := tx.SelectContext(ctx, &rows, tx.Rebind(q), db.timeArg(at), by, id, db.timeArg(at)); err != nil {
			return err
		}
		if len(rows) == 1 {
			s, expired = rows[0].silence(), true
			return nil
		}
		var r silenceRow
		err := tx.GetContext(ctx, &r, tx.Rebind(`SELECT `+silenceSelect+` FROM silences WHERE id = ?`), id)
		if errors.Is(err, sql.ErrNoRows) {
			return dvcwatch.ErrNotFound
		}
		s = r.silence()
		return err
	})
	if err != nil {
		return dvcwatch.Silence{}, false, fmt.Errorf("expire silence %d: %w", id, err)
	}
	return s, expired, nil
}
