package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dvcwatch/dvcwatch"
)

// Listing is one page of a list the admin API pages through by key: the
// rows, how many match the filter in all, and the cursor of the next page
// ("" after the last one). A row inserted meanwhile ahead of the cursor is
// never read on a later page, and no row is read twice.
type Listing[T any] struct {
	Items []T
	Total int
	Next  string
}

// ErrBadCursor says a cursor was not one a list gave, or was given by a list
// in another order.
var ErrBadCursor = errors.New("not a cursor this list gave (it is opaque: pass next_cursor back as it came, with the same sort)")

// BreachSort is an order breaches are listed in.
type BreachSort string

// The orders of BreachSorts; every one ends with the breach's id, so that it
// is total and a cursor names one place in it.
const (
	// SortLate puts the most late first: the earliest due first, breaches
	// without a due last.
	SortLate BreachSort = "late"
	// SortDue is by due date, the latest first, breaches without a due last.
	SortDue BreachSort = "due"
	// SortDetected puts the most recently detected first.
	SortDetected BreachSort = "detected"
)

// BreachSorts lists the orders, the default first.
func BreachSorts() []BreachSort { return []BreachSort{SortLate, SortDue, SortDetected} }

// Valid reports whether s is one of BreachSorts.
func (s BreachSort) Valid() bool {
	switch s {
	case SortLate, SortDue, SortDetected:
		return true
	}
	return false
}

// The due a breach without one sorts by: after every other, in both orders.
var (
	noDueLate = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	noDueDue  = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
)

// sortSQL is how a sort reads in SQL: its key expression (the one its index
// of migration 00011 is on), whether it descends, and the key of a breach.
func (db *DB) sortSQL(s BreachSort) (expr string, desc bool, key func(dvcwatch.StoredBreach) time.Time) {
	lit := func(t time.Time) string {
		if db.dialect.name == DriverPostgres {
			return "'" + t.Format("2006-01-02 15:04:05") + "+00'::timestamptz"
		}
		return "'" + t.Format(sqliteTimeLayout) + "'"
	}
	switch s {
	case SortDue:
		return "COALESCE(due_at, " + lit(noDueDue) + ")", true, func(b dvcwatch.StoredBreach) time.Time {
			if b.DueAt.IsZero() {
				return noDueDue
			}
			return b.DueAt
		}
	case SortDetected:
		return "detected_at", true, func(b dvcwatch.StoredBreach) time.Time { return b.DetectedAt }
	default:
		return "COALESCE(due_at, " + lit(noDueLate) + ")", false, func(b dvcwatch.StoredBreach) time.Time {
			if b.DueAt.IsZero() {
				return noDueLate
			}
			return b.DueAt
		}
	}
}

// cursor is the place after which a page starts: the sort key and id of the
// last row of the page before.
type cursor struct {
	Sort string `json:"s"`
	Key  int64  `json:"k,omitempty"` // Unix microseconds
	ID   int64  `json:"i"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s, sort string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Sort != sort || c.ID <= 0 {
		return cursor{}, fmt.Errorf("cursor %q: %w", truncate(s, 40), ErrBadCursor)
	}
	return c, nil
}

// BreachFilter selects breaches to list; the zero value lists every breach.
type BreachFilter struct {
	OpenOnly     bool
	ResolvedOnly bool
	Agency       string
	Department   string
	Kind         dvcwatch.BreachKind
	Official     string // the breach's official
	Procedure    string // the dossier's procedure code
	Severity     dvcwatch.Severity
	// Recipient selects the breaches someone was told of (an alert to them),
	// the list a digest links to.
	Recipient string
	// Search selects the breaches of the dossiers whose code (in any case) or
	// receipt number it is.
	Search string
	// Silenced, when set, selects the breaches one of Silences matches (true)
	// or none does (false). Silences are those active now, as the caller
	// reads them (ActiveSilences); matchers compare ignoring ASCII case.
	Silenced *bool
	Silences []dvcwatch.Silence
	Sort     BreachSort // "": SortLate
	Cursor   string     // "": the first page
	Limit    int        // 0: 1,000
}

// Breaches lists the first page of breaches f selects, in f's order (the
// most recently detected first when f names none).
func (db *DB) Breaches(ctx context.Context, f BreachFilter) ([]dvcwatch.StoredBreach, error) {
	if f.Sort == "" {
		f.Sort = SortDetected
	}
	l, err := db.BreachPage(ctx, f)
	return l.Items, err
}

// BreachPage lists a page of the breaches f selects, in f's order, from
// f.Cursor, with how many f selects in all. Each order is served by an index
// read from the cursor on, so a deep page costs what a first one does.
func (db *DB) BreachPage(ctx context.Context, f BreachFilter) (Listing[dvcwatch.StoredBreach], error) {
	out, _, err := db.breachPage(ctx, f, false)
	return out, err
}

// breachPage is BreachPage; with explain, it returns the plan of the page's
// query instead of reading it (for the tests that check the plans).
func (db *DB) breachPage(ctx context.Context, f BreachFilter, explain bool) (Listing[dvcwatch.StoredBreach], string, error) {
	var out Listing[dvcwatch.StoredBreach]
	var plan []string
	if f.Sort == "" {
		f.Sort = SortLate
	}
	if !f.Sort.Valid() {
		return out, "", fmt.Errorf("list breaches: unknown sort %q", f.Sort)
	}
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	var after *cursor
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor, string(f.Sort))
		if err != nil {
			return out, "", err
		}
		after = &c
	}
	err := db.readTx(ctx, func(tx *sqlx.Tx) error {
		conds, args, err := db.breachConds(ctx, tx, f)
		if err != nil {
			return err
		}
		where := ""
		if len(conds) > 0 {
			where = " WHERE " + strings.ReplaceAll(strings.Join(conds, " AND "), "{+}", "")
		}
		if err := tx.GetContext(ctx, &out.Total, tx.Rebind(`SELECT count(*) FROM breaches`+where), args...); err != nil {
			return fmt.Errorf("count: %w", err)
		}
		expr, desc, key := db.sortSQL(f.Sort)
		op, dir := ">", "ASC"
		if desc {
			op, dir = "<", "DESC"
		}
		if after != nil {
			// (key, id) past the cursor's, written so that both engines
			// seek the order's index to the key: a range on its first
			// column, the id breaking ties.
			conds = append(conds, expr+" "+op+"= ? AND ("+expr+" "+op+" ? OR id "+op+" ?)")
			at := db.dialect.encodeTime(time.UnixMicro(after.Key).UTC())
			args = append(args, at, at, after.ID)
		}
		q := `SELECT ` + breachSelect + ` FROM breaches`
		if len(conds) > 0 {
			where := strings.Join(conds, " AND ")
			if db.dialect.name == DriverSQLite {
				// SQLite would rather read an equality filter's index and
				// sort every row it selects; a unary + keeps it on the
				// order's index, reading about Limit/selectivity rows.
				where = strings.ReplaceAll(where, "{+}", "+")
			} else {
				where = strings.ReplaceAll(where, "{+}", "")
			}
			q += " WHERE " + where
		}
		q += ` ORDER BY ` + expr + ` ` + dir + `, id ` + dir + ` LIMIT ?`
		if db.dialect.name == DriverPostgres && f.Search == "" && f.Recipient == "" {
			// Without statistics PostgreSQL guesses that few rows pass the
			// cursor and picks a bitmap scan and a sort of every row after
			// it; the order's index read in order, stopping at Limit, is
			// what serves a page. A search or a recipient selects few rows:
			// those keep the planner's choice.
			if err := db.sortless(ctx, tx, true); err != nil {
				return err
			}
		}
		if explain && db.dialect.name == DriverPostgres {
			return tx.SelectContext(ctx, &plan, "EXPLAIN ANALYZE "+tx.Rebind(q), append(args, f.Limit+1)...)
		}
		if explain {
			var steps []struct {
				ID     int    `db:"id"`
				Parent int    `db:"parent"`
				Unused int    `db:"notused"`
				Detail string `db:"detail"`
			}
			err := tx.SelectContext(ctx, &steps, "EXPLAIN QUERY PLAN "+tx.Rebind(q), append(args, f.Limit+1)...)
			for _, st := range steps {
				plan = append(plan, st.Detail)
			}
			return err
		}
		var rows []breachRow
		if err := tx.SelectContext(ctx, &rows, tx.Rebind(q), append(args, f.Limit+1)...); err != nil {
			return err
		}
		more := len(rows) > f.Limit
		if more {
			rows = rows[:f.Limit]
		}
		out.Items = make([]dvcwatch.StoredBreach, len(rows))
		for i := range rows {
			out.Items[i] = rows[i].stored()
		}
		if more {
			last := out.Items[len(out.Items)-1]
			out.Next = cursor{Sort: string(f.Sort), Key: key(last).UnixMicro(), ID: last.ID}.encode()
		}
		return nil
	})
	if err != nil {
		return Listing[dvcwatch.StoredBreach]{}, "", fmt.Errorf("list breaches: %w", err)
	}
	return out, strings.Join(plan, "\n"), nil
}

// breachConds are the conditions of f's filters, and their args. "{+}"
// marks a column an index of its own may serve: BreachPage replaces it.
func (db *DB) breachConds(ctx context.Context, tx *sqlx.Tx, f BreachFilter) ([]string, []any, error) {
	var conds []string
	var args []any
	if f.OpenOnly {
		conds = append(conds, "resolved_at IS NULL")
	}
	if f.ResolvedOnly {
		conds = append(conds, "resolved_at IS NOT NULL")
	}
	for _, c := range []struct{ col, val string }{
		{"agency", f.Agency}, {"department", f.Department}, {"kind", string(f.Kind)}, {"official", f.Official},
		{"procedure_code", f.Procedure}, {"severity", string(f.Severity)},
	} {
		if c.val != "" {
			conds = append(conds, "{+}"+c.col+" = ?")
			args = append(args, c.val)
		}
	}
	if f.Recipient != "" {
		conds = append(conds, "EXISTS (SELECT 1 FROM alerts a WHERE a.breach_id = breaches.id AND a.recipient = ?)")
		args = append(args, f.Recipient)
	}
	if s := strings.TrimSpace(f.Search); s != "" {
		keys, err := db.searchDossiers(ctx, tx, s)
		if err != nil {
			return nil, nil, err
		}
		if len(keys) == 0 {
			conds = append(conds, "1 = 0")
		} else {
			var or []string
			for _, k := range keys {
				or = append(or, "(source = ? AND code = ?)")
				args = append(args, k.Source, k.Code)
			}
			conds = append(conds, "("+strings.Join(or, " OR ")+")")
		}
	}
	if f.Silenced != nil {
		var or []string
		for _, s := range f.Silences {
			if len(s.Matchers) == 0 {
				continue
			}
			var and []string
			for _, m := range s.Matchers {
				col, ok := silenceLabelColumns[m.Label]
				if !ok {
					and = append(and, "1 = 0")
					continue
				}
				if m.Label == dvcwatch.LabelDossier {
					col = "code"
				}
				and = append(and, "lower("+col+") = lower(?)")
				args = append(args, m.Value)
			}
			or = append(or, "("+strings.Join(and, " AND ")+")")
		}
		switch {
		case len(or) == 0 && *f.Silenced:
			conds = append(conds, "1 = 0")
		case len(or) == 0:
		case *f.Silenced:
			conds = append(conds, "("+strings.Join(or, " OR ")+")")
		default:
			conds = append(conds, "NOT ("+strings.Join(or, " OR ")+")")
		}
	}
	return conds, args, nil
}

// maxSearchHits bounds the dossiers a search selects breaches of.
const maxSearchHits = 100

// searchDossiers returns the keys of the dossiers whose code is s (as given
// or in upper case, the portals' form) or whose receipt number is s, in any
// source. Codes are probed per source on the primary key, receipt numbers on
// their index.
func (db *DB) searchDossiers(ctx context.Context, tx *sqlx.Tx, s string) ([]dvcwatch.DossierKey, error) {
	var keys []struct {
		Source string `db:"source"`
		Code   string `db:"code"`
	}
	q := `WITH RECURSIVE s(source) AS (
			SELECT min(source) FROM dossiers
			UNION ALL
			SELECT (SELECT min(d.source) FROM dossiers d WHERE d.source > s.source) FROM s WHERE s.source IS NOT NULL
		)
		SELECT d.source, d.code FROM s JOIN dossiers d ON d.source = s.source AND d.code IN (?, ?)
		UNION
		SELECT source, code FROM dossiers WHERE receipt_no IN (?, ?) AND receipt_no <> ''
		LIMIT ?`
	up := strings.ToUpper(s)
	if err := tx.SelectContext(ctx, &keys, tx.Rebind(q), s, up, s, up, maxSearchHits); err != nil {
		return nil, fmt.Errorf("search dossiers: %w", err)
	}
	out := make([]dvcwatch.DossierKey, len(keys))
	for i, k := range keys {
		out[i] = dvcwatch.DossierKey{Source: k.Source, Code: k.Code}
	}
	return out, nil
}

// NotificationFilter selects the emails of the outbox to list, newest first.
type NotificationFilter struct {
	State     string // pending, sending, sent or failed (NotificationStates); "": every one
	Kind      dvcwatch.NotificationKind
	Recipient string
	Cursor    string
	Limit     int // 0: 1,000
}

// NotificationStates are the states an email can be in, as listed.
func NotificationStates() []string { return []string{"pending", "sending", "sent", "failed"} }

var notificationStateConds = map[string]string{
	"pending": "sent_at IS NULL AND failed_at IS NULL AND sending_at IS NULL",
	"sending": "sent_at IS NULL AND failed_at IS NULL AND sending_at IS NOT NULL",
	"sent":    "sent_at IS NOT NULL",
	"failed":  "sent_at IS NULL AND failed_at IS NOT NULL",
}

// NotificationPage lists a page of the emails f selects, newest first, from
// f.Cursor, with how many f selects in all; bodies and attachments are left
// out.
func (db *DB) NotificationPage(ctx context.Context, f NotificationFilter) (Listing[dvcwatch.Notification], error) {
	var conds []string
	var args []any
	if f.State != "" {
		c, ok := notificationStateConds[f.State]
		if !ok {
			return Listing[dvcwatch.Notification]{}, fmt.Errorf("list notifications: unknown state %q", f.State)
		}
		conds = append(conds, c)
	}
	if f.Kind != "" {
		conds, args = append(conds, "kind = ?"), append(args, string(f.Kind))
	}
	if f.Recipient != "" {
		conds, args = append(conds, "recipient = ?"), append(args, f.Recipient)
	}
	// The bodies are long: a listing reads them empty.
	cols := strings.NewReplacer("body_text", "'' AS body_text", "body_html", "'' AS body_html").Replace(notificationSelect)
	var rows []notificationRow
	l, err := pageByID(ctx, db, "notifications", cols, conds, args, f.Cursor, f.Limit, &rows,
		func(r notificationRow) int64 { return r.ID })
	if err != nil {
		return Listing[dvcwatch.Notification]{}, fmt.Errorf("list notifications: %w", err)
	}
	out := Listing[dvcwatch.Notification]{Total: l.Total, Next: l.Next, Items: make([]dvcwatch.Notification, len(rows))}
	for i := range rows {
		if err := rows[i].unreadable(); err != nil {
			return Listing[dvcwatch.Notification]{}, fmt.Errorf("list notifications: notification %d: %w", rows[i].ID, err)
		}
		out.Items[i] = rows[i].notification()
	}
	return out, nil
}

// JobRunFilter selects the job runs to list, newest first.
type JobRunFilter struct {
	Job    string // "": every job
	Status dvcwatch.RunStatus
	Cursor string
	Limit  int // 0: 1,000
}

type jobRunRow struct {
	ID         int64   `db:"id"`
	Job        string  `db:"job"`
	Schedule   string  `db:"schedule"`
	TaskID     string  `db:"task_id"`
	StartedAt  instant `db:"started_at"`
	FinishedAt instant `db:"finished_at"`
	Status     string  `db:"status"`
	Error      string  `db:"error"`
	Counts     string  `db:"counts"`
}

func (r *jobRunRow) run() (dvcwatch.JobRun, error) {
	out := dvcwatch.JobRun{ID: r.ID, Job: r.Job, Schedule: r.Schedule, TaskID: r.TaskID, StartedAt: r.StartedAt.Time,
		FinishedAt: r.FinishedAt.Time, Status: dvcwatch.RunStatus(r.Status), Error: r.Error}
	if err := json.Unmarshal([]byte(r.Counts), &out.Counts); err != nil {
		return out, fmt.Errorf("counts of run %d: %w", r.ID, err)
	}
	return out, nil
}

// JobRunPage lists a page of the runs f selects, newest first, from
// f.Cursor, with how many f selects in all.
func (db *DB) JobRunPage(ctx context.Context, f JobRunFilter) (Listing[dvcwatch.JobRun], error) {
	var conds []string
	var args []any
	if f.Job != "" {
		conds, args = append(conds, "job = ?"), append(args, f.Job)
	}
	if f.Status != "" {
		conds, args = append(conds, "status = ?"), append(args, string(f.Status))
	}
	cols := "id, job, schedule, task_id, started_at, finished_at, status, error, counts"
	if db.dialect.name == DriverPostgres {
		cols = "id, job, schedule, task_id, started_at, finished_at, status, error, counts::text AS counts"
	}
	var rows []jobRunRow
	l, err := pageByID(ctx, db, "job_runs", cols, conds, args, f.Cursor, f.Limit, &rows,
		func(r jobRunRow) int64 { return r.ID })
	if err != nil {
		return Listing[dvcwatch.JobRun]{}, fmt.Errorf("list job runs: %w", err)
	}
	out := Listing[dvcwatch.JobRun]{Total: l.Total, Next: l.Next, Items: make([]dvcwatch.JobRun, len(rows))}
	for i := range rows {
		if out.Items[i], err = rows[i].run(); err != nil {
			return Listing[dvcwatch.JobRun]{}, fmt.Errorf("list job runs: %w", err)
		}
	}
	return out, nil
}

// pageByID reads into dest (a pointer to a slice) a page of table's rows
// where conds hold, newest (highest id) first, after cursor, and counts them
// all; id is a row's id. The primary key serves the order. It trims dest to
// limit rows and returns the total and next cursor.
func pageByID[R any](ctx context.Context, db *DB, table, cols string, conds []string, args []any, cur string, limit int,
	dest *[]R, id func(R) int64) (Listing[struct{}], error) {
	var out Listing[struct{}]
	if limit <= 0 {
		limit = 1000
	}
	var after int64
	if cur != "" {
		c, err := decodeCursor(cur, "id")
		if err != nil {
			return out, err
		}
		after = c.ID
	}
	err := db.readTx(ctx, func(tx *sqlx.Tx) error {
		where := ""
		if len(conds) > 0 {
			where = " WHERE " + strings.Join(conds, " AND ")
		}
		if err := tx.GetContext(ctx, &out.Total, tx.Rebind(`SELECT count(*) FROM `+table+where), args...); err != nil {
			return fmt.Errorf("count: %w", err)
		}
		pageArgs := args
		if after > 0 {
			conds = append(conds, "id < ?")
			pageArgs = append(append([]any(nil), args...), after)
		}
		q := `SELECT ` + cols + ` FROM ` + table
		if len(conds) > 0 {
			q += " WHERE " + strings.Join(conds, " AND ")
		}
		q += ` ORDER BY id DESC LIMIT ` + strconv.Itoa(limit+1)
		return tx.SelectContext(ctx, dest, tx.Rebind(q), pageArgs...)
	})
	if err != nil {
		return out, err
	}
	if len(*dest) > limit {
		*dest = (*dest)[:limit]
		out.Next = cursor{Sort: "id", ID: id((*dest)[limit-1])}.encode()
	}
	return out, nil
}
