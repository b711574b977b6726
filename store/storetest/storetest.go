// Package storetest gives tests a freshly migrated store on each engine: a
// SQLite file in t.TempDir(), and a PostgreSQL schema of its own that is dropped
// at cleanup, so tests can run with t.Parallel().
//
// PostgreSQL is found through DVCWATCH_TEST_POSTGRES (default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable: the Debian cluster's
// local TCP connections use trust authentication, and the database test exists
// there). If it does not answer, the PostgreSQL tests fail and say how to start
// it; with DVCWATCH_TEST_POSTGRES=off they are skipped instead. The DSN's user
// needs the right to create schemas in that database.
//
//	func TestSomething(t *testing.T) {
//		t.Parallel()
//		storetest.Each(t, func(t *testing.T, db *store.DB) {
//			// the same test, once per engine
//		})
//	}
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch/store"
)

// EnvPostgres names the variable holding the test PostgreSQL DSN, or "off".
const EnvPostgres = "DVCWATCH_TEST_POSTGRES"

// DefaultPostgres is used when EnvPostgres is unset: a local server with trust
// authentication and a database named test.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

const startHint = "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start" +
	" (or set " + EnvPostgres + " to its DSN, or to off to skip the PostgreSQL tests)"

// Each runs fn twice, as the parallel subtests "sqlite" and "postgres", each
// with a database of its own.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	engines := []struct {
		name string
		open func(testing.TB) *store.DB
	}{
		{store.DriverSQLite, SQLite},
		{store.DriverPostgres, Postgres},
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			fn(t, e.open(t))
		})
	}
}

// SQLite returns a migrated store in a new SQLite file, closed at cleanup.
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	return open(t, store.DriverSQLite, filepath.Join(t.TempDir(), "dvcwatch.db"))
}

// Postgres returns a migrated store in a new schema of the test PostgreSQL
// database; the schema is dropped at cleanup. It skips the test if
// DVCWATCH_TEST_POSTGRES is "off" and fails it if the server does not answer.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	db, _ := PostgresDSN(t)
	return db
}

// PostgresDSN is Postgres, also returning the DSN of the new schema for a
// process of its own (a dvcwatch binary a test starts).
func PostgresDSN(t testing.TB) (*store.DB, string) {
	t.Helper()
	dsn := PostgresServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", dsn)
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		t.Fatalf("test PostgreSQL is unreachable: %v\n%s", err, startHint)
	}
	schema := "test_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		_ = admin.Close()
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})
	dsn = withSearchPath(dsn, schema)
	return open(t, store.DriverPostgres, dsn), dsn
}

// PostgresServer is the test server's DSN (EnvPostgres, else
// DefaultPostgres), for code that makes schemas of its own; it skips the
// test when EnvPostgres is off.
func PostgresServer(t testing.TB) string {
	t.Helper()
	switch dsn := os.Getenv(EnvPostgres); dsn {
	case "off":
		t.Skip(EnvPostgres + "=off: skipping the PostgreSQL variant")
		return ""
	case "":
		return DefaultPostgres
	default:
		return dsn
	}
}

// withSearchPath makes every connection of the pool use schema: pgx sends
// unknown DSN parameters to the server as run-time settings.
func withSearchPath(dsn, schema string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}

func open(t testing.TB, driver, dsn string) *store.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, err := store.Open(ctx, driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}
