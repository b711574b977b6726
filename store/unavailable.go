package store

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// IsUnavailable reports whether err says the database could not be reached
// or written at all, whatever the statement: no connection, a server
// shutting down or refusing connections, a SQLite file locked too long,
// unopenable, read-only or on a full disk. Such a failure is the database's,
// not the caller's; an operator fixes it where the database runs.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var connect *pgconn.ConnectError
	if errors.As(err, &connect) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		return true
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		// Class 08: connection exception; 57P01-57P03: the server is shutting
		// down or not accepting connections yet; 53300: too many connections.
		return strings.HasPrefix(pg.Code, "08") || pg.Code == "57P01" || pg.Code == "57P02" || pg.Code == "57P03" || pg.Code == "53300"
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		switch lite.Code() & 0xff { // the primary result code
		case sqliteBusy, sqliteLocked, sqliteIOErr, sqliteFull, sqliteCantOpen, sqliteReadOnly:
			return true
		}
	}
	return false
}

// SQLite's primary result codes (https://sqlite.org/rescode.html) that mean
// the database cannot be used right now.
const (
	sqliteBusy     = 5
	sqliteLocked   = 6
	sqliteReadOnly = 8
	sqliteIOErr    = 10
	sqliteFull     = 13
	sqliteCantOpen = 14
)
