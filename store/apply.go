package store

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jmoiron/sqlx"

	"github.com/dvcwatch/dvcwatch"
)

// Columns written by ApplyPage, in the order of the append functions below.
var (
	dossierColumns = []string{
		"source", "code", "receipt_no", "procedure_code", "procedure_name", "field_code", "field_name",
		"agency", "channel", "applicant_kind",
		"applicant_name", "applicant_email", "applicant_phone", "applicant_id_number",
		"submitted_at", "received_at", "due_at", "processed_at", "returned_at", "refused_at",
		"status", "raw_status", "paid_online", "has_digitized_parts", "source_updated_at",
		"content_hash", "first_seen_at", "updated_at", "next_check",
	}
	stepColumns = []string{
		"source", "code", "seq", "department", "official", "official_title", "content", "state",
		"started_at", "due_at", "finished_at",
	}
	supplementColumns = []string{"source", "code", "seq", "requested_at", "returned_at", "due_before", "due_after"}
	apologyColumns    = []string{"source", "code", "seq", "issued_at", "new_due_at", "issued_by", "reason"}
	eventColumns      = []string{
		"source", "code", "from_status", "to_status", "raw_from", "raw_to", "changed_at", "observed_by", "observed_at",
	}
	childTables = []string{"dossier_steps", "dossier_supplements", "dossier_apologies"}
)

// dossierUpsert replaces every column but first_seen_at on conflict.
var dossierUpsert = func() string {
	var set []string
	for _, c := range dossierColumns {
		if c != "source" && c != "code" && c != "first_seen_at" {
			set = append(set, c+" = excluded."+c)
		}
	}
	return "ON CONFLICT (source, code) DO UPDATE SET " + strings.Join(set, ", ")
}()

// storedState is what ApplyPage needs to know about a dossier already stored.
type storedState struct {
	Code            string  `db:"code"`
	Hash            []byte  `db:"content_hash"`
	Status          int     `db:"status"`
	RawStatus       string  `db:"raw_status"`
	SourceUpdatedAt instant `db:"source_updated_at"`
}

// ApplyPage stores a page of dossiers from one source in one transaction,
// idempotently: a dossier whose content hash is unchanged writes nothing; a new
// one is inserted with a status event from 0; a changed one is rewritten with
// its children, plus one status event if its status changed; a snapshot older
// than the stored one is skipped. Text is stored in Unicode NFC
// (dvcwatch.Dossier.NFC), so the same dossier sent decomposed and precomposed
// has one content. Page.Cursor, if set, is saved in the same
// transaction. Invalid input (no source, an empty code, an invalid status, a
// child Seq used twice) fails the whole page before anything is written.
//
// Every step is batched: one read of the stored state per chunk of keys,
// multi-row upserts of the dossiers within the engine's bind-variable limit,
// and their children and status events loaded as rows that cannot conflict
// (insertPlain: COPY on PostgreSQL). With Page.ExpectNew the dossiers are
// inserted first where absent, and only those already stored are read.
// On PostgreSQL, concurrent pages of the same source are serialized by an
// advisory lock (two replicas may run the same sync); on SQLite, BEGIN IMMEDIATE
// serializes all writers.
func (db *DB) ApplyPage(ctx context.Context, page Page) (PageResult, error) {
	in, superseded, err := preparePage(page)
	if err != nil {
		return PageResult{}, fmt.Errorf("apply page from %q: %w", page.Source, err)
	}
	// Rows are written in key order, the order detection writes dossiers'
	// next checks in (SaveNextChecks): two transactions that lock the same
	// rows in one order wait for each other instead of deadlocking
	// (measured: nine deadlocks in ten minutes of bench soak at 1M on
	// PostgreSQL while pages came in the portal's update order).
	slices.SortFunc(in, func(a, b incoming) int { return strings.Compare(a.d.Key.Code, b.d.Key.Code) })
	var res PageResult
	err = db.bulkWriteTx(ctx, func(tx bulkTx) error {
		res = PageResult{Stale: superseded}
		return db.applyPage(ctx, tx, page, in, &res)
	})
	if err != nil {
		return PageResult{}, fmt.Errorf("apply page from %q: %w", page.Source, err)
	}
	return res, nil
}

func (db *DB) applyPage(ctx context.Context, tx bulkTx, page Page, in []incoming, res *PageResult) error {
	if db.dialect.name == DriverPostgres {
		const q = `SELECT pg_advisory_xact_lock(hashtextextended('dvcwatch.page/' || coalesce(current_schema(), '') || '/' || $1, 0))`
		if _, err := tx.ExecContext(ctx, q, page.Source); err != nil {
			return fmt.Errorf("lock source: %w", err)
		}
	}
	now := db.timeArg(normTime(db.now()))

	// Inside one transaction the order of the writes does not matter; the cursor
	// goes first so that a test failing the last write shows it undone too.
	if c := page.Cursor; c != nil {
		const q = `INSERT INTO sync_cursors (source, cursor_time, cursor_key, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (source) DO UPDATE SET cursor_time = excluded.cursor_time,
			cursor_key = excluded.cursor_key, updated_at = excluded.updated_at`
		if _, err := tx.ExecContext(ctx, tx.Rebind(q), page.Source, db.timeArg(normTime(c.UpdatedAt)), c.Key, now); err != nil {
			return fmt.Errorf("save cursor: %w", err)
		}
	}
	if len(in) == 0 {
		return nil
	}

	// On the fast path (Page.ExpectNew) every dossier is first inserted where
	// absent; those the insert skipped are stored already and go through the
	// comparison below like any other. Either way a dossier ends up inserted,
	// updated, unchanged or stale exactly as the stored state decides.
	var fresh []string // codes the fast path inserted
	isFresh := map[string]bool{}
	if page.ExpectNew {
		var rows []any
		for i := range in {
			rows = db.appendDossier(rows, &in[i].d, in[i].hash, now)
		}
		var err error
		fresh, err = db.insertReturning(ctx, tx.Tx, "dossiers", dossierColumns, "ON CONFLICT (source, code) DO NOTHING RETURNING code", rows)
		if err != nil {
			return err
		}
		for _, c := range fresh {
			isFresh[c] = true
		}
	}

	codes := make([]string, 0, len(in)-len(fresh))
	for i := range in {
		if !isFresh[in[i].d.Key.Code] {
			codes = append(codes, in[i].d.Key.Code)
		}
	}
	stored := make(map[string]storedState, len(codes))
	err := db.forCodes(page.Source, codes, func(where string, args []any) error {
		var rows []storedState
		q := "SELECT code, content_hash, status, raw_status, source_updated_at FROM dossiers WHERE " + where
		if err := tx.SelectContext(ctx, &rows, tx.Rebind(q), args...); err != nil {
			return err
		}
		for _, r := range rows {
			stored[r.Code] = r
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read stored dossiers: %w", err)
	}

	var dossiers, steps, supplements, apologies, events []any
	var changed []string
	for i := range in {
		d, hash := &in[i].d, in[i].hash
		old, seen := stored[d.Key.Code]
		switch {
		case isFresh[d.Key.Code]:
			// Written already. Its first event is copied along with the others,
			// or, without COPY, from its stored row (insertFirstEvents).
			res.Inserted++
			if tx.copies() {
				events = db.appendEvent(events, d, 0, "", page.ObservedBy, now)
			}
			steps = db.appendSteps(steps, d)
			supplements = db.appendSupplements(supplements, d)
			apologies = db.appendApologies(apologies, d)
			continue
		case !seen:
			res.Inserted++
			events = db.appendEvent(events, d, 0, "", page.ObservedBy, now)
		case d.SourceUpdatedAt.Before(old.SourceUpdatedAt.Time):
			res.Stale++
			continue
		case bytes.Equal(hash, old.Hash):
			res.Unchanged++
			continue
		default:
			res.Updated++
			changed = append(changed, d.Key.Code)
			if dvcwatch.Status(old.Status) != d.Status {
				events = db.appendEvent(events, d, dvcwatch.Status(old.Status), old.RawStatus, page.ObservedBy, now)
			}
		}
		dossiers = db.appendDossier(dossiers, d, hash, now)
		steps = db.appendSteps(steps, d)
		supplements = db.appendSupplements(supplements, d)
		apologies = db.appendApologies(apologies, d)
	}
	res.Events = len(events) / len(eventColumns)

	if err := db.insertRows(ctx, tx.Tx, "dossiers", dossierColumns, dossierUpsert, dossiers); err != nil {
		return err
	}
	// A changed dossier's children are replaced as a whole: a step the source no
	// longer reports must disappear. A dossier inserted on the fast path has
	// none: children cannot outlive their dossier (foreign keys).
	for _, table := range childTables {
		err := db.forCodes(page.Source, changed, func(where string, args []any) error {
			_, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM "+table+" WHERE "+where), args...)
			return err
		})
		if err != nil {
			return fmt.Errorf("delete old %s: %w", table, err)
		}
	}
	if err := db.insertPlain(ctx, tx, "dossier_steps", stepColumns, steps); err != nil {
		return err
	}
	if err := db.insertPlain(ctx, tx, "dossier_supplements", supplementColumns, supplements); err != nil {
		return err
	}
	if err := db.insertPlain(ctx, tx, "dossier_apologies", apologyColumns, apologies); err != nil {
		return err
	}
	if err := db.insertPlain(ctx, tx, "status_events", eventColumns, events); err != nil {
		return err
	}
	if tx.copies() {
		return nil // the fresh dossiers' first events were among those copied
	}
	res.Events += len(fresh)
	return db.insertFirstEvents(ctx, tx.Tx, page.Source, fresh, page.ObservedBy)
}

// firstEventSQL adds the event from status 0 of dossiers just inserted, read
// from their stored rows rather than bound value by value (nine values an
// event, in statements of at most 500 rows on SQLite): first_seen_at is the
// transaction's now, as observed_at is for every event of the page.
var firstEventSQL = "INSERT INTO status_events (" + strings.Join(eventColumns, ", ") + ") " +
	"SELECT source, code, 0, status, '', raw_status, source_updated_at, ?, first_seen_at FROM dossiers WHERE "

// insertFirstEvents adds the first status event of each dossier of source
// named in codes, all inserted by this transaction. Only SQLite needs it: on
// PostgreSQL the events are copied with the others (bulkTx).
func (db *DB) insertFirstEvents(ctx context.Context, tx *sqlx.Tx, source string, codes []string, observedBy string) error {
	err := db.forCodes(source, codes, func(where string, args []any) error {
		_, err := tx.ExecContext(ctx, tx.Rebind(firstEventSQL+where), append([]any{observedBy}, args...)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("insert into status_events: %w", err)
	}
	return nil
}

// timeArg is the bind value of a normalized time: NULL when zero.
func (db *DB) timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return db.dialect.encodeTime(t)
}

func (db *DB) appendDossier(args []any, d *dvcwatch.Dossier, hash []byte, now any) []any {
	return append(args,
		d.Key.Source, d.Key.Code, d.ReceiptNo, d.ProcedureCode, d.ProcedureName, d.FieldCode, d.FieldName,
		d.Agency, int64(d.Channel), int64(d.ApplicantKind),
		d.Applicant.Name, d.Applicant.Email, d.Applicant.Phone, d.Applicant.IDNumber,
		db.timeArg(d.SubmittedAt), db.timeArg(d.ReceivedAt), db.timeArg(d.DueAt),
		db.timeArg(d.ProcessedAt), db.timeArg(d.ReturnedAt), db.timeArg(d.RefusedAt),
		int64(d.Status), d.RawStatus, d.PaidOnline, d.HasDigitizedParts, db.timeArg(d.SourceUpdatedAt),
		hash, now, now,
		// Written: the next detection pass evaluates it (ScanDossiers).
		db.timeArg(changedMark),
	)
}

func (db *DB) appendSteps(args []any, d *dvcwatch.Dossier) []any {
	for _, s := range d.Steps {
		args = append(args, d.Key.Source, d.Key.Code, int64(s.Seq),
			s.Department, s.Official, s.OfficialTitle, s.Content, s.State,
			db.timeArg(s.StartedAt), db.timeArg(s.DueAt), db.timeArg(s.FinishedAt))
	}
	return args
}

func (db *DB) appendSupplements(args []any, d *dvcwatch.Dossier) []any {
	for _, s := range d.Supplements {
		args = append(args, d.Key.Source, d.Key.Code, int64(s.Seq),
			db.timeArg(s.RequestedAt), db.timeArg(s.ReturnedAt), db.timeArg(s.DueBefore), db.timeArg(s.DueAfter))
	}
	return args
}

func (db *DB) appendApologies(args []any, d *dvcwatch.Dossier) []any {
	for _, a := range d.Apologies {
		args = append(args, d.Key.Source, d.Key.Code, int64(a.Seq),
			db.timeArg(a.IssuedAt), db.timeArg(a.NewDueAt), a.IssuedBy, a.Reason)
	}
	return args
}

func (db *DB) appendEvent(args []any, d *dvcwatch.Dossier, from dvcwatch.Status, rawFrom, observedBy string, now any) []any {
	return append(args, d.Key.Source, d.Key.Code, int64(from), int64(d.Status), rawFrom, d.RawStatus,
		db.timeArg(d.SourceUpdatedAt), observedBy, now)
}

// insertRows inserts rows given as flat args, len(columns) values per row, with
// multi-row INSERT statements of at most dialect.maxRows rows and
// dialect.maxParams bind variables. suffix follows the VALUES list (ON CONFLICT).
func (db *DB) insertRows(ctx context.Context, tx *sqlx.Tx, table string, columns []string, suffix string, args []any) error {
	return db.insertChunks(ctx, tx, table, columns, suffix, args, nil)
}

// insertReturning is insertRows with a suffix that ends in a RETURNING clause
// of one text column, and returns its values.
func (db *DB) insertReturning(ctx context.Context, tx *sqlx.Tx, table string, columns []string, suffix string, args []any) ([]string, error) {
	returned := []string{}
	err := db.insertChunks(ctx, tx, table, columns, suffix, args, &returned)
	return returned, err
}

func (db *DB) insertChunks(ctx context.Context, tx *sqlx.Tx, table string, columns []string, suffix string, args []any, returned *[]string) error {
	width := len(columns)
	perStmt := min(db.dialect.maxRows, db.dialect.maxParams/width)
	var full *sqlx.Stmt // the full-chunk statement, when prepared once for several chunks
	defer func() {
		if full != nil {
			_ = full.Close()
		}
	}()
	for len(args) > 0 {
		n := min(perStmt, len(args)/width)
		if db.dialect.fewStatementSizes && n < perStmt {
			n = 1 << (bits.Len(uint(n)) - 1)
		}
		chunk := args[:n*width]
		args = args[n*width:]
		var err error
		switch {
		case full != nil && n == perStmt:
			err = execInsert(ctx, full, chunk, returned)
		case db.dialect.prepareRepeated && n == perStmt && len(args) >= n*width:
			if full, err = tx.PreparexContext(ctx, db.insertSQL(table, columns, suffix, n)); err == nil {
				err = execInsert(ctx, full, chunk, returned)
			}
		default:
			err = execInsert(ctx, boundQuery{tx, db.insertSQL(table, columns, suffix, n)}, chunk, returned)
		}
		if err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
	}
	return nil
}

// inserter is a prepared statement, or a query to run in a transaction.
type inserter interface {
	ExecContext(ctx context.Context, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, args ...any) (*sql.Rows, error)
}

type boundQuery struct {
	tx *sqlx.Tx
	q  string
}

func (b boundQuery) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	return b.tx.ExecContext(ctx, b.q, args...)
}

func (b boundQuery) QueryContext(ctx context.Context, args ...any) (*sql.Rows, error) {
	return b.tx.QueryContext(ctx, b.q, args...)
}

// execInsert runs one INSERT, collecting what its RETURNING clause returns
// into *returned when returned is not nil.
func execInsert(ctx context.Context, s inserter, args []any, returned *[]string) error {
	if returned == nil {
		_, err := s.ExecContext(ctx, args...)
		return err
	}
	rows, err := s.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return err
		}
		*returned = append(*returned, v)
	}
	return rows.Err()
}

// insertSQL is "INSERT INTO table (columns) VALUES (?, ...), ... suffix" for
// rows rows, in the engine's placeholder style.
func (db *DB) insertSQL(table string, columns []string, suffix string, rows int) string {
	row := "(" + strings.Repeat("?, ", len(columns)-1) + "?)"
	var q strings.Builder
	q.Grow(len(table) + 20*len(columns) + rows*(len(row)+2) + len(suffix))
	q.WriteString("INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES ")
	for i := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(row)
	}
	q.WriteString(" " + suffix)
	return db.db.Rebind(q.String())
}

// codesPerQuery bounds the codes matched by one statement, well under both
// engines' bind-variable limits.
const codesPerQuery = 1000

// inChunks calls fn with xs in chunks of at most codesPerQuery.
func inChunks[T any](xs []T, fn func(chunk []T) error) error {
	for len(xs) > 0 {
		chunk := xs[:min(codesPerQuery, len(xs))]
		xs = xs[len(chunk):]
		if err := fn(chunk); err != nil {
			return err
		}
	}
	return nil
}

// inList is an IN list of placeholders for n values, and the values as args.
func inList[T any](chunk []T) (string, []any) {
	args := make([]any, len(chunk))
	for i, v := range chunk {
		args[i] = v
	}
	return "IN (" + strings.Repeat("?, ", len(chunk)-1) + "?)", args
}

// lateralProbe is a PostgreSQL FROM clause that yields, as t, the rows of
// table whose column equals an element of the array bound first (of element
// type elem), one index probe per element, after the condition cond (which
// may bind more; "" for none). It ends in a WHERE clause the caller may
// extend with AND.
//
// The tables it serves have keys that are not unique per element (a
// dossier's steps, breaches; a breach's alerts), and without statistics
// (autovacuum off, or not yet run) the planner, knowing the array's thousand
// values, estimates each to match a share of the table and joins
// "column IN (SELECT unnest(…))" by hashing every row: a sweep read the whole
// breaches table for every page (measured: 42 ms a page at 150,000 breaches,
// growing with them, against 5 ms probing). OFFSET 0 keeps the planner from
// flattening the LATERAL subquery back into that same join.
func lateralProbe(table, column, elem, cond string) string {
	if cond != "" {
		cond += " AND "
	}
	return "unnest(?::" + elem + "[]) AS k(v) CROSS JOIN LATERAL (SELECT * FROM " + table +
		" WHERE " + cond + column + " = k.v OFFSET 0) t WHERE TRUE"
}

// fromDossiers calls fn for chunks of the codes of one source (in key order)
// with from(table, sourceColumn): a FROM clause that yields, as t, the rows of
// table for those dossiers and ends in a WHERE clause the caller may extend
// with AND; every table's clause takes the same bind args.
//
// When contiguous (every stored dossier between the first code and the last,
// a page of a full scan) it is one range of the table's key, which both
// engines read faster than lists of codes. Otherwise SQLite gets an IN list,
// and PostgreSQL one index probe per code (lateralProbe).
func (db *DB) fromDossiers(source string, codes []string, contiguous bool, fn func(from func(table, sourceColumn string) string, args []any) error) error {
	if len(codes) == 0 {
		return nil
	}
	if contiguous {
		return fn(func(table, sc string) string {
			return table + " t WHERE t." + sc + " = ? AND t.code BETWEEN ? AND ?"
		}, []any{source, codes[0], codes[len(codes)-1]})
	}
	return inChunks(codes, func(chunk []string) error {
		if db.dialect.name == DriverPostgres {
			return fn(func(table, sc string) string { return lateralProbe(table, "code", "text", sc+" = ?") },
				[]any{pgx.QueryExecModeExec, chunk, source})
		}
		in, args := inList(chunk)
		return fn(func(table, sc string) string { return table + " t WHERE t." + sc + " = ? AND t.code " + in },
			append([]any{source}, args...))
	})
}

// forCodes calls fn for chunks of codes with a WHERE condition matching the
// chunk's dossiers of source, and its bind args.
//
// SQLite gets an IN list. PostgreSQL gets one array, unnested in a subquery,
// in a statement planned for the values at hand (pgx's QueryExecModeExec: an
// unnamed statement) rather than a cached generic plan. Both guard against
// plans that scan the whole table for every page, which made a 1,000,000
// dossier sync quadratic: a generic plan cached while the table was small
// (measured: 0.6 s per 1,000 keys at only 20,000 rows), and "code = ANY($2)"
// on a table without statistics (autovacuum off, or not yet run), which the
// planner estimates to match every row. A semi-join on unnest() is estimated
// from the array and probes the primary key, with or without statistics;
// for a key not unique per dossier, use fromDossiers.
func (db *DB) forCodes(source string, codes []string, fn func(where string, args []any) error) error {
	return inChunks(codes, func(chunk []string) error {
		if db.dialect.name == DriverPostgres {
			return fn("source = ? AND code IN (SELECT unnest(?::text[]))", []any{pgx.QueryExecModeExec, source, chunk})
		}
		in, args := inList(chunk)
		return fn("source = ? AND code "+in, append([]any{source}, args...))
	})
}
