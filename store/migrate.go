package store

import (
	"context"
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrations holds one directory per engine with the same tables, columns and
// indexes: the engines share no type for instants with a zone (TIMESTAMPTZ),
// booleans, bytes, JSON or generated ids, and a single file would have had to
// give PostgreSQL text times and application-made ids.
//
//go:embed migrations
var migrations embed.FS

// Migrate brings the schema up to date; it is idempotent, and safe to run at
// every start. On PostgreSQL, replicas starting together take turns through an
// advisory lock, one per schema.
func (db *DB) Migrate(ctx context.Context) error {
	return db.migrate(ctx, func(p *goose.Provider) error {
		_, err := p.Up(ctx)
		return err
	})
}

// migrate runs fn with the engine's migrations.
func (db *DB) migrate(ctx context.Context, fn func(p *goose.Provider) error) error {
	fsys, err := fs.Sub(migrations, "migrations/"+db.dialect.name)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	dialect := goose.DialectSQLite3
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if db.dialect.name == DriverPostgres {
		dialect = goose.DialectPostgres
		var schema string
		if err := db.db.GetContext(ctx, &schema, `SELECT coalesce(current_schema(), '')`); err != nil {
			return fmt.Errorf("migrate: current schema: %w", err)
		}
		h := fnv.New64a()
		h.Write([]byte("dvcwatch.migrate/" + schema))
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64())), lock.WithLockTimeout(1, 300))
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, db.db.DB, fsys, opts...)
	if err != nil {
		return fmt.Errorf("migrate %s database: %w", db.dialect.name, err)
	}
	if err := fn(p); err != nil {
		return fmt.Errorf("migrate %s database: %w", db.dialect.name, err)
	}
	return nil
}
