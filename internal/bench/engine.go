package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dvcwatch/dvcwatch/store"
)

// engine is a database a benchmark runs on.
type engine struct{ name, driver string }

var errNoEngine = errors.New(`no database to run on: --postgres is "" and --sqlite=false`)

// engines lists the databases a run names: PostgreSQL when its URL is given,
// SQLite when a directory is.
func engines(postgres, dir string) ([]engine, error) {
	var out []engine
	if postgres != "" {
		out = append(out, engine{"postgres", store.DriverPostgres})
	}
	if dir != "" {
		out = append(out, engine{"sqlite", store.DriverSQLite})
	}
	if len(out) == 0 {
		return nil, errNoEngine
	}
	return out, nil
}

// fresh returns the DSN of an empty database of e (a new schema of postgres,
// a new file named prefix… in dir) and a function that drops it.
func (e engine) fresh(ctx context.Context, postgres, dir, prefix string) (string, func(), error) {
	if e.driver == store.DriverPostgres {
		return freshSchema(ctx, postgres)
	}
	path := filepath.Join(dir, prefix+randomName()+".db")
	return path, func() {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			_ = os.Remove(path + suffix)
		}
	}, nil
}

// eachFresh runs fn on a fresh database of each engine a run names (see
// fresh), in turn, and drops each after unless keep (then it prints where
// it is); it stops at the first error, named after its engine.
func eachFresh[E any](ctx context.Context, postgres, dir, prefix string, keep bool, out io.Writer,
	fn func(name, driver, dsn string) (E, error)) ([]E, error) {
	targets, err := engines(postgres, dir)
	if err != nil {
		return nil, err
	}
	var results []E
	for _, t := range targets {
		dsn, drop, err := t.fresh(ctx, postgres, dir, prefix)
		if err != nil {
			drop()
			return results, err
		}
		e, err := fn(t.name, t.driver, dsn)
		if keep {
			fmt.Fprintf(out, "%s: store kept at %s\n", t.name, dsn)
		} else {
			drop()
		}
		if err != nil {
			return results, fmt.Errorf("%s: %w", t.name, err)
		}
		results = append(results, e)
	}
	return results, nil
}

// openMigrated opens the store at dsn and applies the migrations.
func openMigrated(ctx context.Context, driver, dsn string) (*store.DB, error) {
	db, err := store.Open(ctx, driver, dsn)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}
