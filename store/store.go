// Package store keeps dossiers, their status history, the connectors' sync
// cursors, breaches, the notification outbox and job runs in SQL, on SQLite (the
// embedded default) or PostgreSQL, through one logical schema applied by
// migrations embedded in the binary. It holds no business rule: callers that
// decide what to write open a transaction (InTx) and write through it.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	// The two database/sql drivers: "pgx" for PostgreSQL, "sqlite" (pure Go).
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

// Driver names accepted by Open.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// DB is a dvcwatch database on one of the two engines. It is safe for concurrent
// use.
type DB struct {
	db      *sqlx.DB
	dialect dialect
	// now stamps bookkeeping columns (first seen, updated, resolved by an
	// administrator): always the wall clock, which only tests replace.
	now func() time.Time
	// writers admits one write transaction of this process at a time on
	// SQLite (see writerGate); nil on PostgreSQL, whose writers lock rows,
	// not the database.
	writers *writerGate
	groups  groups // writeStatements's commits on SQLite
}

// dialect is what differs between the engines once the schema is the same.
type dialect struct {
	name string // DriverSQLite or DriverPostgres
	// maxParams is the engine's limit of bind variables in one statement.
	maxParams int
	// maxRows caps the rows of one multi-row statement at the sizes the field
	// notes measured well (500 on SQLite, 1,000 on PostgreSQL).
	maxRows int
	// encodeTime turns a normalized instant (UTC, microseconds) into a bind value.
	encodeTime func(time.Time) any
	// prepareRepeated prepares a statement run for several chunks once. SQLite
	// otherwise parses every statement anew (a quarter of ApplyPage's time);
	// pgx already caches prepared statements by their text.
	prepareRepeated bool
	// fewStatementSizes cuts the rows of multi-row statements into chunks of
	// a few sizes only (the full chunk, then powers of two), so that their
	// texts recur from page to page. pgx caches a prepared statement per
	// text, and PostgreSQL plans a prepared statement once it has run a few
	// times; a statement of a new size is parsed and planned anew every time
	// (measured: 7–9 ms for an INSERT of 1,000 rows of 11 columns, a third of
	// its execution), and a page's children came in a new size almost always.
	fewStatementSizes bool
}

// sqliteTimeLayout is how SQLite stores times: UTC, fixed width, so that text
// order is time order; SQLite's own date functions read it too.
const sqliteTimeLayout = "2006-01-02T15:04:05.000000Z"

var dialects = map[string]dialect{
	DriverSQLite: {
		name:            DriverSQLite,
		maxParams:       32766,
		maxRows:         500,
		encodeTime:      func(t time.Time) any { return t.Format(sqliteTimeLayout) },
		prepareRepeated: true,
	},
	DriverPostgres: {
		name:              DriverPostgres,
		maxParams:         65535,
		maxRows:           1000,
		encodeTime:        func(t time.Time) any { return t },
		fewStatementSizes: true,
	},
}

// Open connects to the database named by dsn and checks that it answers; it does
// not migrate (see Migrate). driver is DriverSQLite, with a file path or a
// "file:" DSN, or DriverPostgres, with a postgres:// URL or key=value DSN.
//
// SQLite connections get WAL, busy_timeout, foreign_keys and BEGIN IMMEDIATE for
// write transactions through the DSN, so that every pooled connection has them;
// parameters already in dsn win. Without BEGIN IMMEDIATE, transactions that read
// then write fail with SQLITE_BUSY under concurrency, whatever the busy_timeout.
func Open(ctx context.Context, driver, dsn string) (*DB, error) {
	d, ok := dialects[driver]
	if !ok {
		return nil, fmt.Errorf("open database: unknown driver %q (want %q or %q)", driver, DriverSQLite, DriverPostgres)
	}
	var (
		x    *sqlx.DB
		what string
		err  error
	)
	switch driver {
	case DriverSQLite:
		path, _, _ := strings.Cut(dsn, "?")
		if path == "" {
			return nil, errors.New("open SQLite database: empty path")
		}
		what = "SQLite database " + path
		x, err = sqlx.Open("sqlite", ConnectionDSN(driver, dsn))
	case DriverPostgres:
		what = "PostgreSQL database " + redactDSN(dsn)
		x, err = sqlx.Open("pgx", ConnectionDSN(driver, dsn))
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", what, err)
	}
	if err := x.PingContext(ctx); err != nil {
		_ = x.Close()
		return nil, fmt.Errorf("open %s: %w", what, err)
	}
	db := &DB{db: x, dialect: d, now: time.Now}
	if driver == DriverSQLite {
		db.writers = newWriterGate()
	}
	return db, nil
}

// Close closes the connection pool.
func (db *DB) Close() error { return db.db.Close() }

// sqlitePragmas are set on every SQLite connection unless the DSN sets them.
// busy_timeout is generous: writers queue behind BEGIN IMMEDIATE instead of failing.
var sqlitePragmas = []struct{ name, value string }{
	{"busy_timeout", "10000"},
	{"journal_mode", "WAL"},
	{"foreign_keys", "1"},
	// 64 MiB of page cache per connection instead of SQLite's 2 MiB: at a million
	// dossiers the indexes no longer fit in 2 MiB and every page of a sync went
	// to the file system (measured: 3,960 dossiers/s at 1M against 6,865 at 200k).
	{"cache_size", "-65536"},
	// Checkpoint the WAL into the database every 64 MiB of it instead of
	// SQLite's 4 MiB (1,000 pages). A sync writes dossiers in the order the
	// portal updated them, scattered over the key space, so every commit
	// rewrites hundreds of pages; checkpointing often copied each page to the
	// database file and synced it many times over (measured: a tenth of the
	// sync's CPU). Durability is the WAL's, synced at every commit either way.
	{"wal_autocheckpoint", "16384"},
}

// ConnectionDSN is dsn with the connection settings Open adds (benchmarks
// open their baselines with the same): SQLite's pragmas, and PostgreSQL's
// jit=off. Settings the DSN already makes are kept.
//
// JIT is off because dvcwatch's queries are short index probes, and on tables
// without statistics (autovacuum off, or not yet run) the planner's inflated
// estimates crossed jit_above_cost: every page of a detection sweep over
// 1,000,000 dossiers spent 130 ms compiling the alerts lookup it then ran in
// 2 ms (EXPLAIN ANALYZE, "JIT: … Total 129.5 ms").
func ConnectionDSN(driver, dsn string) string {
	if driver == DriverSQLite {
		return sqliteDSN(dsn)
	}
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		q := u.Query()
		if !q.Has("jit") {
			q.Set("jit", "off")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	if strings.Contains(dsn, "jit=") {
		return dsn
	}
	return strings.TrimSpace(dsn + " jit=off")
}

// sqliteDSN adds our connection settings to a SQLite path or DSN, keeping any
// the caller already chose.
func sqliteDSN(dsn string) string {
	base, query, _ := strings.Cut(dsn, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return dsn // let the driver report the malformed DSN
	}
	for _, p := range sqlitePragmas {
		if !hasPragma(q["_pragma"], p.name) {
			q.Add("_pragma", p.name+"("+p.value+")")
		}
	}
	if q.Get("_txlock") == "" {
		q.Set("_txlock", "immediate")
	}
	return base + "?" + q.Encode()
}

func hasPragma(pragmas []string, name string) bool {
	for _, p := range pragmas {
		p = strings.ToLower(strings.TrimSpace(p))
		if strings.HasPrefix(p, name+"(") || strings.HasPrefix(p, name+"=") || strings.HasPrefix(p, name+" ") {
			return true
		}
	}
	return false
}

// passwordParam is a password (or sslpassword, the client key's) in a URL's query.
var passwordParam = regexp.MustCompile(`(?i)((?:^|&)(?:ssl)?password=)[^&]*`)

var passwordKV = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// userInfo is the "user:password@" of a URL that url.Parse refused (an
// unescaped % in the password, say) or of "user:password@host/db" written
// without a scheme; the password runs to the last @ before the host.
var userInfo = regexp.MustCompile(`^((?:[a-zA-Z][a-zA-Z0-9+.-]*://)?[^:/@\s]*:)[^\s]*@`)

// redactDSN hides the password of a PostgreSQL URL or key=value DSN, so that
// errors can say which database failed.
func redactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" && u.Opaque == "" {
		// The raw query, not u.Query(): that drops a pair it cannot
		// unescape ("password=50%off"), which would then print unchanged.
		u.RawQuery = passwordParam.ReplaceAllString(u.RawQuery, "${1}xxxxx")
		return u.Redacted()
	}
	// password= first: userInfo runs to the last @, which may be inside
	// a query's password and would leave the rest of it.
	return userInfo.ReplaceAllString(passwordKV.ReplaceAllString(dsn, "${1}xxxxx"), "${1}xxxxx@")
}

// Tx is one write transaction of the store, opened by InTx: the callers that
// decide what to write (a detection page, a digest email) run the store's
// plain operations inside it, so that their decision is recorded whole or not
// at all.
type Tx struct {
	db *DB
	tx *sqlx.Tx
}

// InTx runs fn in one write transaction and commits it if fn succeeds. On
// SQLite it waits its turn behind the process's other writers and takes the
// write lock up front (BEGIN IMMEDIATE), so fn should only write what it has
// already decided: a long computation inside holds every other writer back.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	return db.writeTx(ctx, func(tx *sqlx.Tx) error { return fn(&Tx{db: db, tx: tx}) })
}

// writeTx runs fn in a read-write transaction and commits it if fn succeeds. On
// SQLite the DSN makes it BEGIN IMMEDIATE: the write lock is taken up front.
func (db *DB) writeTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	return db.bulkWriteTx(ctx, func(tx bulkTx) error { return fn(tx.Tx) })
}

// writeExec runs one write statement (written with ? placeholders) as its
// own transaction; see writeStatements.
func (db *DB) writeExec(ctx context.Context, q string, args ...any) error {
	return db.writeStatements(ctx, func(e sqlx.ExtContext) error {
		_, err := e.ExecContext(ctx, e.Rebind(q), args...)
		return err
	})
}

// writeStatements runs fn, whose statements each stand alone: each one
// must leave the database consistent by itself. On PostgreSQL each is its
// own transaction (autocommit): one round trip where BEGIN, the statement
// and COMMIT took three, which the outbox pays twice per email. On SQLite
// fn runs behind the writers' gate with BEGIN IMMEDIATE, in one commit with
// the statements of other callers arriving meanwhile (group.go).
func (db *DB) writeStatements(ctx context.Context, fn func(e sqlx.ExtContext) error) error {
	if db.dialect.name == DriverPostgres {
		return fn(db.db)
	}
	return db.groupStatements(ctx, fn)
}

// KeepIdle keeps up to n PostgreSQL connections open between uses, for a
// process that runs n database users at once. database/sql keeps 2: with
// more users than that, nearly every release closes a connection and the
// next use opens another, a new backend process that parses every
// statement anew (measured: the delivery pipeline of 4 workers ran at
// 150 emails/s against 247 with the connections kept). SQLite is left at
// 2: its connections are cheap to open, and each kept one holds its page
// cache (cache_size) in the process.
func (db *DB) KeepIdle(n int) {
	if db.dialect.name == DriverPostgres {
		db.db.SetMaxIdleConns(n)
	}
}

// readTx runs fn in a read-only snapshot, so that a dossier and its children are
// read as of one moment. Read-only transactions on SQLite are deferred (plain
// BEGIN), so readers do not queue for the write lock.
func (db *DB) readTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := db.db.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	return fn(tx)
}
