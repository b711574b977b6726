package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/store"
)

// rawWriter writes dossiers with plain multi-row upserts: the fastest way the
// field notes found to put rows into either engine, and so the yardstick.
type rawWriter struct {
	x       *sqlx.DB
	sqlite  bool
	maxRows int
}

func newRawWriter(driver string, x *sqlx.DB) *rawWriter {
	if driver == store.DriverSQLite {
		return &rawWriter{x: x, sqlite: true, maxRows: 500}
	}
	return &rawWriter{x: x, maxRows: 1000}
}

type rawTable struct {
	name, conflict string
	columns        []string
}

var (
	rawDossiers = rawTable{"dossiers", "(source, code)", []string{
		"source", "code", "receipt_no", "procedure_code", "procedure_name", "field_code", "field_name",
		"agency", "channel", "applicant_kind", "applicant_name", "applicant_email", "applicant_phone", "applicant_id_number",
		"submitted_at", "received_at", "due_at", "processed_at", "returned_at", "refused_at",
		"status", "raw_status", "paid_online", "has_digitized_parts", "source_updated_at",
		"content_hash", "first_seen_at", "updated_at"}}
	rawSteps = rawTable{"dossier_steps", "(source, code, seq)", []string{
		"source", "code", "seq", "department", "official", "official_title", "content", "state",
		"started_at", "due_at", "finished_at"}}
	rawSupplements = rawTable{"dossier_supplements", "(source, code, seq)", []string{
		"source", "code", "seq", "requested_at", "returned_at", "due_before", "due_after"}}
	rawApologies = rawTable{"dossier_apologies", "(source, code, seq)", []string{
		"source", "code", "seq", "issued_at", "new_due_at", "issued_by", "reason"}}
)

// write upserts one page in one transaction and returns the rows written.
func (w *rawWriter) write(ctx context.Context, page []dvcwatch.Dossier) (int, error) {
	now := w.time(time.Now())
	var ds, steps, sups, apos [][]any
	for i := range page {
		d := &page[i]
		k := d.Key
		ds = append(ds, []any{k.Source, k.Code, d.ReceiptNo, d.ProcedureCode, d.ProcedureName, d.FieldCode, d.FieldName,
			d.Agency, int(d.Channel), int(d.ApplicantKind), d.Applicant.Name, d.Applicant.Email, d.Applicant.Phone, d.Applicant.IDNumber,
			w.time(d.SubmittedAt), w.time(d.ReceivedAt), w.time(d.DueAt), w.time(d.ProcessedAt), w.time(d.ReturnedAt), w.time(d.RefusedAt),
			int(d.Status), d.RawStatus, w.bool(d.PaidOnline), w.bool(d.HasDigitizedParts), w.time(d.SourceUpdatedAt),
			[]byte{0}, now, now})
		for _, s := range d.Steps {
			steps = append(steps, []any{k.Source, k.Code, s.Seq, s.Department, s.Official, s.OfficialTitle, s.Content, s.State,
				w.time(s.StartedAt), w.time(s.DueAt), w.time(s.FinishedAt)})
		}
		for _, s := range d.Supplements {
			sups = append(sups, []any{k.Source, k.Code, s.Seq, w.time(s.RequestedAt), w.time(s.ReturnedAt), w.time(s.DueBefore), w.time(s.DueAfter)})
		}
		for _, a := range d.Apologies {
			apos = append(apos, []any{k.Source, k.Code, a.Seq, w.time(a.IssuedAt), w.time(a.NewDueAt), a.IssuedBy, a.Reason})
		}
	}
	tx, err := w.x.BeginTxx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback() }()
	n := 0
	for _, t := range []struct {
		table rawTable
		rows  [][]any
	}{{rawDossiers, ds}, {rawSteps, steps}, {rawSupplements, sups}, {rawApologies, apos}} {
		for len(t.rows) > 0 {
			chunk := t.rows[:min(len(t.rows), w.maxRows)]
			t.rows = t.rows[len(chunk):]
			if _, err := tx.ExecContext(ctx, upsertSQL(t.table, len(chunk), w.sqlite), flatten(chunk)...); err != nil {
				return 0, fmt.Errorf("upsert %s: %w", t.table.name, err)
			}
			n += len(chunk)
		}
	}
	return n, tx.Commit()
}

func upsertSQL(t rawTable, rows int, sqlite bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", t.name, strings.Join(t.columns, ", "))
	p := 1
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range t.columns {
			if c > 0 {
				b.WriteString(", ")
			}
			if sqlite {
				b.WriteByte('?')
			} else {
				fmt.Fprintf(&b, "$%d", p)
				p++
			}
		}
		b.WriteByte(')')
	}
	set := make([]string, 0, len(t.columns))
	for _, c := range t.columns {
		set = append(set, c+" = excluded."+c)
	}
	fmt.Fprintf(&b, " ON CONFLICT %s DO UPDATE SET %s", t.conflict, strings.Join(set, ", "))
	return b.String()
}

func flatten(rows [][]any) []any {
	out := make([]any, 0, len(rows)*len(rows[0]))
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

// time encodes like the store does: NULL when absent; UTC text on SQLite.
func (w *rawWriter) time(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	if w.sqlite {
		return t.UTC().Format("2006-01-02T15:04:05.000000Z")
	}
	return t
}

func (w *rawWriter) bool(v bool) any {
	if w.sqlite {
		if v {
			return 1
		}
		return 0
	}
	return v
}
