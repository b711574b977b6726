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
	// syncRows adds what only the sync writes of a new dossier: its next
	// check (an entry in dossiers_next_check_idx), a content hash of
	// SHA-256's size, and its first status event.
	syncRows bool
}

func newRawWriter(driver string, x *sqlx.DB, syncRows bool) *rawWriter {
	if driver == store.DriverSQLite {
		return &rawWriter{x: x, sqlite: true, maxRows: 500, syncRows: syncRows}
	}
	return &rawWriter{x: x, maxRows: 1000, syncRows: syncRows}
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
	rawDossiersSynced = rawTable{rawDossiers.name, rawDossiers.conflict, append(append([]string(nil), rawDossiers.columns...), "next_check")}
	rawEvents         = rawTable{"status_events", "", []string{
		"source", "code", "from_status", "to_status", "raw_from", "raw_to", "changed_at", "observed_by", "observed_at"}}
)

// firstNextCheck is the next check the sync gives a dossier it writes: the
// epoch, so that the next detection pass evaluates it.
var firstNextCheck = time.Unix(0, 0)

// write upserts one page in one transaction and returns the dossier, step,
// supplement and apology rows written (status events not counted).
func (w *rawWriter) write(ctx context.Context, page []dvcwatch.Dossier) (int, error) {
	now := w.time(time.Now())
	dossiers, hash := rawDossiers, []byte{0}
	if w.syncRows {
		dossiers, hash = rawDossiersSynced, make([]byte, 32)
	}
	var ds, steps, sups, apos, events [][]any
	for i := range page {
		d := &page[i]
		k := d.Key
		ds = append(ds, []any{k.Source, k.Code, d.ReceiptNo, d.ProcedureCode, d.ProcedureName, d.FieldCode, d.FieldName,
			d.Agency, int(d.Channel), int(d.ApplicantKind), d.Applicant.Name, d.Applicant.Email, d.Applicant.Phone, d.Applicant.IDNumber,
			w.time(d.SubmittedAt), w.time(d.ReceivedAt), w.time(d.DueAt), w.time(d.ProcessedAt), w.time(d.ReturnedAt), w.time(d.RefusedAt),
			int(d.Status), d.RawStatus, w.bool(d.PaidOnline), w.bool(d.HasDigitizedParts), w.time(d.SourceUpdatedAt),
			hash, now, now})
		if w.syncRows {
			ds[len(ds)-1] = append(ds[len(ds)-1], w.time(firstNextCheck))
			events = append(events, []any{k.Source, k.Code, 0, int(d.Status), "", d.RawStatus, w.time(d.SourceUpdatedAt), k.Source, now})
		}
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
	}{{dossiers, ds}, {rawSteps, steps}, {rawSupplements, sups}, {rawApologies, apos}, {rawEvents, events}} {
		for len(t.rows) > 0 {
			chunk := t.rows[:min(len(t.rows), w.maxRows)]
			t.rows = t.rows[len(chunk):]
			if _, err := tx.ExecContext(ctx, upsertSQL(t.table, len(chunk), w.sqlite), flatten(chunk)...); err != nil {
				return 0, fmt.Errorf("upsert %s: %w", t.table.name, err)
			}
			if t.table.name != rawEvents.name {
				n += len(chunk)
			}
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
	if t.conflict == "" {
		return b.String()
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
