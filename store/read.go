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

// instant scans a nullable time as either engine returns it (PostgreSQL:
// time.Time; SQLite: our text layout) into UTC; NULL is the zero time.
type instant struct{ time.Time }

// Scan implements sql.Scanner.
func (t *instant) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		t.Time = time.Time{}
	case time.Time:
		t.Time = v.UTC()
	case string:
		return t.parse(v)
	case []byte:
		return t.parse(string(v))
	default:
		return fmt.Errorf("scan time: unexpected %T", src)
	}
	return nil
}

func (t *instant) parse(s string) error {
	if v, ok := parseSQLiteTime(s); ok {
		t.Time = v
		return nil
	}
	v, err := time.Parse(sqliteTimeLayout, s) // for its error message
	if err != nil {
		return fmt.Errorf("scan time: %w", err)
	}
	t.Time = v
	return nil
}

// parseSQLiteTime reads the fixed-width sqliteTimeLayout by hand: a detection
// pass reads several times per row, millions of rows, and time.Parse's
// general layout interpreter was a tenth of a full sweep's CPU (profiled).
// Anything not exactly in the layout is left to time.Parse.
func parseSQLiteTime(s string) (time.Time, bool) {
	// 2006-01-02T15:04:05.000000Z
	if len(s) != len(sqliteTimeLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
		s[16] != ':' || s[19] != '.' || s[26] != 'Z' {
		return time.Time{}, false
	}
	num := func(from, to int) (int, bool) {
		n := 0
		for i := from; i < to; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	var v [7]int
	for i, f := range [7][2]int{{0, 4}, {5, 7}, {8, 10}, {11, 13}, {14, 16}, {17, 19}, {20, 26}} {
		n, ok := num(f[0], f[1])
		if !ok {
			return time.Time{}, false
		}
		v[i] = n
	}
	if v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 59 {
		return time.Time{}, false
	}
	t := time.Date(v[0], time.Month(v[1]), v[2], v[3], v[4], v[5], v[6]*1000, time.UTC)
	if t.Day() != v[2] { // 31 April and the like: time.Date would normalize it
		return time.Time{}, false
	}
	return t, true
}

type dossierRow struct {
	Source            string  `db:"source"`
	Code              string  `db:"code"`
	ReceiptNo         string  `db:"receipt_no"`
	ProcedureCode     string  `db:"procedure_code"`
	ProcedureName     string  `db:"procedure_name"`
	FieldCode         string  `db:"field_code"`
	FieldName         string  `db:"field_name"`
	Agency            string  `db:"agency"`
	Channel           int     `db:"channel"`
	ApplicantKind     int     `db:"applicant_kind"`
	ApplicantName     string  `db:"applicant_name"`
	ApplicantEmail    string  `db:"applicant_email"`
	ApplicantPhone    string  `db:"applicant_phone"`
	ApplicantIDNumber string  `db:"applicant_id_number"`
	SubmittedAt       instant `db:"submitted_at"`
	ReceivedAt        instant `db:"received_at"`
	DueAt             instant `db:"due_at"`
	ProcessedAt       instant `db:"processed_at"`
	ReturnedAt        instant `db:"returned_at"`
	RefusedAt         instant `db:"refused_at"`
	Status            int     `db:"status"`
	RawStatus         string  `db:"raw_status"`
	PaidOnline        bool    `db:"paid_online"`
	HasDigitizedParts bool    `db:"has_digitized_parts"`
	SourceUpdatedAt   instant `db:"source_updated_at"`
}

type stepRow struct {
	Seq           int     `db:"seq"`
	Department    string  `db:"department"`
	Official      string  `db:"official"`
	OfficialTitle string  `db:"official_title"`
	Content       string  `db:"content"`
	State         string  `db:"state"`
	StartedAt     instant `db:"started_at"`
	DueAt         instant `db:"due_at"`
	FinishedAt    instant `db:"finished_at"`
}

type supplementRow struct {
	Seq         int     `db:"seq"`
	RequestedAt instant `db:"requested_at"`
	ReturnedAt  instant `db:"returned_at"`
	DueBefore   instant `db:"due_before"`
	DueAfter    instant `db:"due_after"`
}

type apologyRow struct {
	Seq      int     `db:"seq"`
	IssuedAt instant `db:"issued_at"`
	NewDueAt instant `db:"new_due_at"`
	IssuedBy string  `db:"issued_by"`
	Reason   string  `db:"reason"`
}

// dest are r's fields in the order of dossierSelect, for scanRows.
func (r *dossierRow) dest() []any {
	return []any{&r.Source, &r.Code, &r.ReceiptNo, &r.ProcedureCode, &r.ProcedureName, &r.FieldCode, &r.FieldName,
		&r.Agency, &r.Channel, &r.ApplicantKind, &r.ApplicantName, &r.ApplicantEmail, &r.ApplicantPhone, &r.ApplicantIDNumber,
		&r.SubmittedAt, &r.ReceivedAt, &r.DueAt, &r.ProcessedAt, &r.ReturnedAt, &r.RefusedAt,
		&r.Status, &r.RawStatus, &r.PaidOnline, &r.HasDigitizedParts, &r.SourceUpdatedAt}
}

// stepSelect, supplementSelect and apologySelect list the columns of a
// stepRow, a supplementRow and an apologyRow, in the order of their dest.
const (
	stepSelect       = "seq, department, official, official_title, content, state, started_at, due_at, finished_at"
	supplementSelect = "seq, requested_at, returned_at, due_before, due_after"
	apologySelect    = "seq, issued_at, new_due_at, issued_by, reason"
)

// dest are the dossier's code, then r's fields in the order of stepSelect.
func (r *stepRow) dest(code *string) []any {
	return []any{code, &r.Seq, &r.Department, &r.Official, &r.OfficialTitle, &r.Content, &r.State, &r.StartedAt, &r.DueAt, &r.FinishedAt}
}

// dest are the dossier's code, then r's fields in the order of supplementSelect.
func (r *supplementRow) dest(code *string) []any {
	return []any{code, &r.Seq, &r.RequestedAt, &r.ReturnedAt, &r.DueBefore, &r.DueAfter}
}

// dest are the dossier's code, then r's fields in the order of apologySelect.
func (r *apologyRow) dest(code *string) []any {
	return []any{code, &r.Seq, &r.IssuedAt, &r.NewDueAt, &r.IssuedBy, &r.Reason}
}

// dossierSelect lists the columns a dossierRow scans.
const dossierSelect = `source, code, receipt_no, procedure_code, procedure_name, field_code, field_name,
	agency, channel, applicant_kind, applicant_name, applicant_email, applicant_phone, applicant_id_number,
	submitted_at, received_at, due_at, processed_at, returned_at, refused_at,
	status, raw_status, paid_online, has_digitized_parts, source_updated_at`

func (r *dossierRow) dossier() dvcwatch.Dossier {
	return dvcwatch.Dossier{
		Key:           dvcwatch.DossierKey{Source: r.Source, Code: r.Code},
		ReceiptNo:     r.ReceiptNo,
		ProcedureCode: r.ProcedureCode,
		ProcedureName: r.ProcedureName,
		FieldCode:     r.FieldCode,
		FieldName:     r.FieldName,
		Agency:        r.Agency,
		Channel:       dvcwatch.Channel(r.Channel),
		ApplicantKind: dvcwatch.ApplicantKind(r.ApplicantKind),
		Applicant: dvcwatch.Applicant{
			Name: r.ApplicantName, Email: r.ApplicantEmail, Phone: r.ApplicantPhone, IDNumber: r.ApplicantIDNumber,
		},
		SubmittedAt:       r.SubmittedAt.Time,
		ReceivedAt:        r.ReceivedAt.Time,
		DueAt:             r.DueAt.Time,
		ProcessedAt:       r.ProcessedAt.Time,
		ReturnedAt:        r.ReturnedAt.Time,
		RefusedAt:         r.RefusedAt.Time,
		Status:            dvcwatch.Status(r.Status),
		RawStatus:         r.RawStatus,
		PaidOnline:        r.PaidOnline,
		HasDigitizedParts: r.HasDigitizedParts,
		SourceUpdatedAt:   r.SourceUpdatedAt.Time,
	}
}

func (s *stepRow) step() dvcwatch.Step {
	return dvcwatch.Step{
		Seq: s.Seq, Department: s.Department, Official: s.Official, OfficialTitle: s.OfficialTitle,
		Content: s.Content, State: s.State,
		StartedAt: s.StartedAt.Time, DueAt: s.DueAt.Time, FinishedAt: s.FinishedAt.Time,
	}
}

func (s *supplementRow) supplement() dvcwatch.Supplement {
	return dvcwatch.Supplement{
		Seq: s.Seq, RequestedAt: s.RequestedAt.Time, ReturnedAt: s.ReturnedAt.Time,
		DueBefore: s.DueBefore.Time, DueAfter: s.DueAfter.Time,
	}
}

func (a *apologyRow) apology() dvcwatch.Apology {
	return dvcwatch.Apology{
		Seq: a.Seq, IssuedAt: a.IssuedAt.Time, NewDueAt: a.NewDueAt.Time, IssuedBy: a.IssuedBy, Reason: a.Reason,
	}
}

// GetDossier returns the stored dossier with its steps, supplements and
// apologies in Seq order, times in UTC; the error wraps dvcwatch.ErrNotFound if there is
// none.
func (db *DB) GetDossier(ctx context.Context, key dvcwatch.DossierKey) (dvcwatch.Dossier, error) {
	var d dvcwatch.Dossier
	err := db.readTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		d, err = db.getDossier(ctx, tx, key, false)
		return err
	})
	if err != nil {
		return dvcwatch.Dossier{}, fmt.Errorf("get dossier %s: %w", key, err)
	}
	return d, nil
}

// getDossier reads the dossier key with its children inside tx, with waits
// its payment waits too; the error is dvcwatch.ErrNotFound if there is none.
func (db *DB) getDossier(ctx context.Context, tx *sqlx.Tx, key dvcwatch.DossierKey, waits bool) (dvcwatch.Dossier, error) {
	var r dossierRow
	q := `SELECT ` + dossierSelect + ` FROM dossiers WHERE source = ? AND code = ?`
	err := tx.GetContext(ctx, &r, tx.Rebind(q), key.Source, key.Code)
	if errors.Is(err, sql.ErrNoRows) {
		return dvcwatch.Dossier{}, dvcwatch.ErrNotFound
	}
	if err != nil {
		return dvcwatch.Dossier{}, err
	}
	ds := []dvcwatch.Dossier{r.dossier()}
	if _, err := db.loadChildren(ctx, tx, ds, "", false, waits); err != nil {
		return dvcwatch.Dossier{}, err
	}
	return ds[0], nil
}

// StatusEvents returns the status events recorded for a dossier, oldest first.
func (db *DB) StatusEvents(ctx context.Context, key dvcwatch.DossierKey) ([]dvcwatch.StatusEvent, error) {
	var events []dvcwatch.StatusEvent
	err := db.readTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		events, err = db.dossierEvents(ctx, tx, key)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("status events of %s: %w", key, err)
	}
	return events, nil
}

// dossierEvents reads the status history of the dossier key inside tx,
// oldest first, probing by the key.
func (db *DB) dossierEvents(ctx context.Context, tx *sqlx.Tx, key dvcwatch.DossierKey) ([]dvcwatch.StatusEvent, error) {
	var events []dvcwatch.StatusEvent
	err := db.fromDossiers(key.Source, []string{key.Code}, false, func(from func(string, string) string, args []any) error {
		var rows []struct {
			From       int     `db:"from_status"`
			To         int     `db:"to_status"`
			RawFrom    string  `db:"raw_from"`
			RawTo      string  `db:"raw_to"`
			ChangedAt  instant `db:"changed_at"`
			ObservedBy string  `db:"observed_by"`
		}
		q := `SELECT t.from_status, t.to_status, t.raw_from, t.raw_to, t.changed_at, t.observed_by FROM ` +
			from("status_events", "source") + ` ORDER BY t.id`
		if err := tx.SelectContext(ctx, &rows, tx.Rebind(q), args...); err != nil {
			return fmt.Errorf("status events: %w", err)
		}
		for _, r := range rows {
			events = append(events, dvcwatch.StatusEvent{
				Key: key, From: dvcwatch.Status(r.From), To: dvcwatch.Status(r.To),
				RawFrom: r.RawFrom, RawTo: r.RawTo, At: r.ChangedAt.Time, Source: r.ObservedBy,
			})
		}
		return nil
	})
	return events, err
}

// Cursor returns the cursor saved for a source; ok is false if none was saved.
func (db *DB) Cursor(ctx context.Context, source string) (c Cursor, ok bool, err error) {
	var r struct {
		Time instant `db:"cursor_time"`
		Key  string  `db:"cursor_key"`
	}
	q := `SELECT cursor_time, cursor_key FROM sync_cursors WHERE source = ?`
	err = db.db.GetContext(ctx, &r, db.db.Rebind(q), source)
	if errors.Is(err, sql.ErrNoRows) {
		return Cursor{}, false, nil
	}
	if err != nil {
		return Cursor{}, false, fmt.Errorf("cursor of %q: %w", source, err)
	}
	return Cursor{Source: source, UpdatedAt: r.Time.Time, Key: r.Key}, true, nil
}

// CountDossiers returns how many dossiers are stored, from every source.
func (db *DB) CountDossiers(ctx context.Context) (int, error) {
	var n int
	if err := db.db.GetContext(ctx, &n, `SELECT count(*) FROM dossiers`); err != nil {
		return 0, fmt.Errorf("count dossiers: %w", err)
	}
	return n, nil
}

// Totals counts what the store holds, for summaries and checks.
type Totals struct {
	Dossiers map[string]int // by source
	Events   int            // status events of every source
}

// Totals counts the stored dossiers per source and the status events.
func (db *DB) Totals(ctx context.Context) (Totals, error) {
	var rows []struct {
		Source string `db:"source"`
		N      int    `db:"n"`
	}
	if err := db.db.SelectContext(ctx, &rows, `SELECT source, count(*) AS n FROM dossiers GROUP BY source`); err != nil {
		return Totals{}, fmt.Errorf("count dossiers: %w", err)
	}
	t := Totals{Dossiers: map[string]int{}}
	for _, r := range rows {
		t.Dossiers[r.Source] = r.N
	}
	if err := db.db.GetContext(ctx, &t.Events, `SELECT count(*) FROM status_events`); err != nil {
		return Totals{}, fmt.Errorf("count status events: %w", err)
	}
	return t, nil
}
