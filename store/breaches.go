package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jmoiron/sqlx"

	"github.com/dvcwatch/dvcwatch"
)

// breachColumns are written for a new breach, in this order.
var breachColumns = []string{"fingerprint", "kind", "source", "code", "step_seq", "agency", "procedure_code", "official",
	"department", "severity", "started_at", "due_at", "detail", "actionable", "detected_at", "updated_at"}

type breachRow struct {
	ID          int64   `db:"id"`
	Fingerprint string  `db:"fingerprint"`
	Kind        string  `db:"kind"`
	Source      string  `db:"source"`
	Code        string  `db:"code"`
	StepSeq     int     `db:"step_seq"`
	Agency      string  `db:"agency"`
	Procedure   string  `db:"procedure_code"`
	Official    string  `db:"official"`
	Department  string  `db:"department"`
	Severity    string  `db:"severity"`
	StartedAt   instant `db:"started_at"`
	DueAt       instant `db:"due_at"`
	Detail      string  `db:"detail"`
	Actionable  bool    `db:"actionable"`
	DetectedAt  instant `db:"detected_at"`
	UpdatedAt   instant `db:"updated_at"`
	ResolvedAt  instant `db:"resolved_at"`
	Reason      string  `db:"resolved_reason"`
}

const breachSelect = `id, fingerprint, kind, source, code, step_seq, agency, procedure_code, official, department, severity,
	started_at, due_at, detail, actionable, detected_at, updated_at, resolved_at, resolved_reason`

func (r *breachRow) stored() dvcwatch.StoredBreach {
	return dvcwatch.StoredBreach{
		ID: r.ID,
		Breach: dvcwatch.Breach{
			Kind: dvcwatch.BreachKind(r.Kind), Key: dvcwatch.DossierKey{Source: r.Source, Code: r.Code},
			StepSeq: r.StepSeq, Official: r.Official, Department: r.Department,
			Severity: dvcwatch.Severity(r.Severity), StartedAt: r.StartedAt.Time, DueAt: r.DueAt.Time,
			Fingerprint: r.Fingerprint, Detail: r.Detail,
		},
		Agency: r.Agency, Procedure: r.Procedure, Actionable: r.Actionable,
		DetectedAt: r.DetectedAt.Time, UpdatedAt: r.UpdatedAt.Time, ResolvedAt: r.ResolvedAt.Time,
		ResolvedReason: dvcwatch.ResolvedReason(r.Reason),
	}
}

// BreachesOf returns every breach, open or resolved, of the dossiers keys,
// by fingerprint. whole says keys are every stored dossier between the first
// and the last (a page of a full sweep): their breaches are then read as one
// key range, but for dossiers left out of keys, whose breaches stay out too.
func (tx *Tx) BreachesOf(ctx context.Context, keys []dvcwatch.DossierKey, whole bool) (map[string]dvcwatch.StoredBreach, error) {
	bySource := map[string][]string{}
	var sources []string
	wanted := make(map[dvcwatch.DossierKey]bool, len(keys))
	for _, k := range keys {
		if _, ok := bySource[k.Source]; !ok {
			sources = append(sources, k.Source)
		}
		bySource[k.Source] = append(bySource[k.Source], k.Code)
		wanted[k] = true
	}
	out := map[string]dvcwatch.StoredBreach{}
	for _, source := range sources {
		err := tx.db.fromDossiers(source, bySource[source], whole, func(from func(string, string) string, args []any) error {
			var rows []breachRow
			q := `SELECT ` + prefixColumns("t.", breachSelect) + ` FROM ` + from("breaches", "source")
			if err := tx.tx.SelectContext(ctx, &rows, tx.tx.Rebind(q), args...); err != nil {
				return err
			}
			for i := range rows {
				if wanted[dvcwatch.DossierKey{Source: rows[i].Source, Code: rows[i].Code}] {
					out[rows[i].Fingerprint] = rows[i].stored()
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read breaches: %w", err)
		}
	}
	return out, nil
}

// UpdateBreach rewrites a recorded breach (by ID) with b's attribution,
// procedure, severity, times, detail and actionability, and reopens it if it
// was resolved.
func (tx *Tx) UpdateBreach(ctx context.Context, b dvcwatch.StoredBreach) error {
	q := `UPDATE breaches SET agency = ?, procedure_code = ?, official = ?, department = ?, severity = ?, started_at = ?,
		due_at = ?, detail = ?, actionable = ?, updated_at = ?, resolved_at = NULL, resolved_reason = '' WHERE id = ?`
	db := tx.db
	_, err := tx.tx.ExecContext(ctx, tx.tx.Rebind(q), b.Agency, b.Procedure, b.Official, b.Department, string(b.Severity),
		db.timeArg(normTime(b.StartedAt)), db.timeArg(normTime(b.DueAt)), b.Detail, b.Actionable,
		db.timeArg(normTime(b.UpdatedAt)), b.ID)
	if err != nil {
		return fmt.Errorf("update breach %d: %w", b.ID, err)
	}
	return nil
}

// ResolveBreaches marks the breaches ids resolved at at, for reason.
func (tx *Tx) ResolveBreaches(ctx context.Context, ids []int64, at time.Time, reason dvcwatch.ResolvedReason) error {
	at = normTime(at)
	err := tx.db.forIDs(ids, func(where string, args []any) error {
		q := `UPDATE breaches SET resolved_at = ?, updated_at = ?, resolved_reason = ? WHERE id ` + where
		_, err := tx.tx.ExecContext(ctx, tx.tx.Rebind(q),
			leading(args, tx.db.timeArg(at), tx.db.timeArg(at), string(reason))...)
		return err
	})
	if err != nil {
		return fmt.Errorf("resolve breaches: %w", err)
	}
	return nil
}

// InsertBreaches records new breaches (their ID ignored; a missing
// fingerprint is computed) and returns them with their ids, in order.
func (tx *Tx) InsertBreaches(ctx context.Context, bs []dvcwatch.StoredBreach) ([]dvcwatch.StoredBreach, error) {
	db := tx.db
	args := make([]any, 0, len(bs)*len(breachColumns))
	for _, b := range bs {
		if b.Fingerprint == "" {
			b.Fingerprint = dvcwatch.BreachFingerprint(b.Kind, b.Key, b.StepSeq)
		}
		args = append(args, b.Fingerprint, string(b.Kind), b.Key.Source, b.Key.Code, b.StepSeq,
			b.Agency, b.Procedure, b.Official, b.Department, string(b.Severity), db.timeArg(normTime(b.StartedAt)),
			db.timeArg(normTime(b.DueAt)), b.Detail, b.Actionable, db.timeArg(normTime(b.DetectedAt)),
			db.timeArg(normTime(b.UpdatedAt)))
	}
	width := len(breachColumns)
	perStmt := min(db.dialect.maxRows, db.dialect.maxParams/width)
	out := make([]dvcwatch.StoredBreach, 0, len(bs))
	for len(args) > 0 {
		n := min(perStmt, len(args)/width)
		chunk := args[:n*width]
		args = args[n*width:]
		var rows []breachRow
		q := db.insertSQL("breaches", breachColumns, "RETURNING "+breachSelect, n)
		if err := tx.tx.SelectContext(ctx, &rows, q, chunk...); err != nil {
			return nil, fmt.Errorf("insert breaches: %w", err)
		}
		for i := range rows {
			out = append(out, rows[i].stored())
		}
	}
	return out, nil
}

// AlertHistory returns each breach with the latest alert per recipient and
// the acknowledgements: what deciding who to tell next needs.
func (tx *Tx) AlertHistory(ctx context.Context, bs []dvcwatch.StoredBreach) ([]dvcwatch.BreachState, error) {
	states := make([]dvcwatch.BreachState, len(bs))
	ids := make([]int64, len(bs))
	byID := make(map[int64]*dvcwatch.BreachState, len(bs))
	for i, b := range bs {
		states[i] = dvcwatch.BreachState{StoredBreach: b, Told: map[string]dvcwatch.Told{}, Acks: map[string]dvcwatch.Severity{}}
		ids[i] = b.ID
		byID[b.ID] = &states[i]
	}
	err := tx.db.fromBreaches(ids, func(from func(string) string, args []any) error {
		return tx.readTold(ctx, byID, from, args)
	})
	if err != nil {
		return nil, err
	}
	return states, nil
}

// readTold reads the alerts and acknowledgements of one chunk of breaches
// (from and args of fromBreaches) into byID.
func (tx *Tx) readTold(ctx context.Context, byID map[int64]*dvcwatch.BreachState, from func(string) string, args []any) error {
	var alerts []struct {
		BreachID  int64   `db:"breach_id"`
		Recipient string  `db:"recipient"`
		Severity  string  `db:"severity"`
		CreatedAt instant `db:"created_at"`
	}
	// In id order, so the last row per recipient is the latest.
	q := `SELECT t.breach_id, t.recipient, t.severity, t.created_at FROM ` + from("alerts") + ` ORDER BY t.id`
	if err := tx.tx.SelectContext(ctx, &alerts, tx.tx.Rebind(q), args...); err != nil {
		return fmt.Errorf("read alerts: %w", err)
	}
	for _, a := range alerts {
		byID[a.BreachID].Told[a.Recipient] = dvcwatch.Told{Severity: dvcwatch.Severity(a.Severity), At: a.CreatedAt.Time}
	}
	var acks []struct {
		BreachID int64  `db:"breach_id"`
		Official string `db:"official"`
		Severity string `db:"severity"`
	}
	q = `SELECT t.breach_id, t.official, t.severity FROM ` + from("breach_acks")
	if err := tx.tx.SelectContext(ctx, &acks, tx.tx.Rebind(q), args...); err != nil {
		return fmt.Errorf("read acknowledgements: %w", err)
	}
	for _, a := range acks {
		byID[a.BreachID].Acks[a.Official] = dvcwatch.Severity(a.Severity)
	}
	return nil
}

// fromBreaches calls fn for chunks of breach ids with from(table): a FROM
// clause that yields, as t, the table's rows of those breaches (alerts,
// breach_acks) and ends in a WHERE clause; every table's clause takes the
// same bind args. SQLite gets an IN list, PostgreSQL one index probe per id
// (lateralProbe).
func (db *DB) fromBreaches(ids []int64, fn func(from func(table string) string, args []any) error) error {
	return inChunks(ids, func(chunk []int64) error {
		if db.dialect.name == DriverPostgres {
			return fn(func(table string) string { return lateralProbe(table, "breach_id", "bigint", "") },
				[]any{pgx.QueryExecModeExec, chunk})
		}
		in, args := inList(chunk)
		return fn(func(table string) string { return table + " t WHERE t.breach_id " + in }, args)
	})
}

var alertColumns = []string{"breach_id", "recipient", "role", "severity", "reason", "created_at"}

// InsertAlerts records the alerts decided at now.
func (tx *Tx) InsertAlerts(ctx context.Context, intents []dvcwatch.AlertIntent, now time.Time) error {
	db := tx.db
	args := make([]any, 0, len(intents)*len(alertColumns))
	for _, a := range intents {
		args = append(args, a.BreachID, a.Recipient, string(a.Role), string(a.Severity), string(a.Reason),
			db.timeArg(normTime(now)))
	}
	return db.insertRows(ctx, tx.tx, "alerts", alertColumns, "", args)
}

// forIDs calls fn for chunks of ids with a condition "IN (...)" to follow a
// column name, and its bind args; like forCodes, PostgreSQL gets a semi-join
// on unnest() that probes a unique index without statistics (for a key that
// is not unique, see fromBreaches).
func (db *DB) forIDs(ids []int64, fn func(in string, args []any) error) error {
	return inChunks(ids, func(chunk []int64) error {
		if db.dialect.name == DriverPostgres {
			return fn("IN (SELECT unnest(?::bigint[]))", []any{pgx.QueryExecModeExec, chunk})
		}
		return fn(inList(chunk))
	})
}

// leading returns the args of a statement whose own placeholders come before
// the condition from forIDs or forCodes: first, on PostgreSQL, the execution
// mode those pass (pgx reads it only as the first argument), then before, then
// the condition's.
func leading(cond []any, before ...any) []any {
	out := make([]any, 0, len(cond)+len(before))
	if len(cond) > 0 {
		if _, ok := cond[0].(pgx.QueryExecMode); ok {
			out = append(out, cond[0])
			cond = cond[1:]
		}
	}
	out = append(out, before...)
	return append(out, cond...)
}

// GetBreach returns one breach by id; the error wraps dvcwatch.ErrNotFound if there is none.
func (db *DB) GetBreach(ctx context.Context, id int64) (dvcwatch.StoredBreach, error) {
	var r breachRow
	err := db.db.GetContext(ctx, &r, db.db.Rebind(`SELECT `+breachSelect+` FROM breaches WHERE id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return dvcwatch.StoredBreach{}, fmt.Errorf("breach %d: %w", id, dvcwatch.ErrNotFound)
	}
	if err != nil {
		return dvcwatch.StoredBreach{}, fmt.Errorf("breach %d: %w", id, err)
	}
	return r.stored(), nil
}

// OpenBreachCounts counts unresolved breaches by kind.
func (db *DB) OpenBreachCounts(ctx context.Context) (map[dvcwatch.BreachKind]int, error) {
	var rows []struct {
		Kind string `db:"kind"`
		N    int    `db:"n"`
	}
	if err := db.db.SelectContext(ctx, &rows, `SELECT kind, count(*) AS n FROM breaches WHERE resolved_at IS NULL GROUP BY kind`); err != nil {
		return nil, fmt.Errorf("count open breaches: %w", err)
	}
	out := map[dvcwatch.BreachKind]int{}
	for _, r := range rows {
		out[dvcwatch.BreachKind(r.Kind)] = r.N
	}
	return out, nil
}

// Acknowledge records that official has seen breach id, with a reason: it
// mutes repeats of the breach to that official until its severity changes.
// Acknowledging again replaces the reason and the severity acknowledged.
func (db *DB) Acknowledge(ctx context.Context, id int64, official, reason string, at time.Time) (dvcwatch.StoredBreach, error) {
	if strings.TrimSpace(official) == "" || strings.TrimSpace(reason) == "" {
		return dvcwatch.StoredBreach{}, fmt.Errorf("acknowledge breach %d: an official and a reason are required", id)
	}
	var b dvcwatch.StoredBreach
	err := db.writeTx(ctx, func(tx *sqlx.Tx) error {
		var r breachRow
		err := tx.GetContext(ctx, &r, tx.Rebind(`SELECT `+breachSelect+` FROM breaches WHERE id = ?`), id)
		if errors.Is(err, sql.ErrNoRows) {
			return dvcwatch.ErrNotFound
		}
		if err != nil {
			return err
		}
		b = r.stored()
		q := `INSERT INTO breach_acks (breach_id, official, severity, reason, acked_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (breach_id, official) DO UPDATE SET severity = excluded.severity, reason = excluded.reason,
			acked_at = excluded.acked_at`
		_, err = tx.ExecContext(ctx, tx.Rebind(q), id, official, string(b.Severity), reason, db.timeArg(normTime(at)))
		return err
	})
	if err != nil {
		return dvcwatch.StoredBreach{}, fmt.Errorf("acknowledge breach %d: %w", id, err)
	}
	return b, nil
}

// dvcwatch.DetectorState returns the state saved under name; ok is false before the
// first completed pass.
func (db *DB) DetectorState(ctx context.Context, name string) (s dvcwatch.DetectorState, ok bool, err error) {
	var r struct {
		LastRunAt    instant `db:"last_run_at"`
		LastFullAt   instant `db:"last_full_at"`
		RulesVersion int     `db:"rules_version"`
		LastNow      instant `db:"last_now"`
		Config       string  `db:"config"`
	}
	q := `SELECT last_run_at, last_full_at, rules_version, last_now, config FROM detector_state WHERE name = ?`
	err = db.db.GetContext(ctx, &r, db.db.Rebind(q), name)
	if errors.Is(err, sql.ErrNoRows) {
		return dvcwatch.DetectorState{}, false, nil
	}
	if err != nil {
		return dvcwatch.DetectorState{}, false, fmt.Errorf("detector state %s: %w", name, err)
	}
	return dvcwatch.DetectorState{LastRunAt: r.LastRunAt.Time, LastFullAt: r.LastFullAt.Time, RulesVersion: r.RulesVersion,
		LastNow: r.LastNow.Time, Config: r.Config}, true, nil
}

// SaveDetectorState saves the state of a completed pass.
func (db *DB) SaveDetectorState(ctx context.Context, name string, s dvcwatch.DetectorState) error {
	q := `INSERT INTO detector_state (name, last_run_at, last_full_at, rules_version, last_now, config) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET last_run_at = excluded.last_run_at, last_full_at = excluded.last_full_at,
		rules_version = excluded.rules_version, last_now = excluded.last_now, config = excluded.config`
	if err := db.writeExec(ctx, q, name, db.timeArg(normTime(s.LastRunAt)), db.timeArg(normTime(s.LastFullAt)), s.RulesVersion,
		db.timeArg(normTime(s.LastNow)), s.Config); err != nil {
		return fmt.Errorf("save detector state %s: %w", name, err)
	}
	return nil
}
