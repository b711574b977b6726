package worker

import (
	"context"
	"log/slog"
	"net"
	"strconv"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/outage"
	"github.com/dvcwatch/dvcwatch/store"
)

// watchOutages routes log through a monitor of the database and, with a
// queue, Redis; it returns the logger every service is to use. The monitor
// holds nothing back until Run starts it.
func (s *Services) watchOutages(log *slog.Logger) *slog.Logger {
	if log == nil {
		log = slog.Default()
	}
	s.Outages = outage.New(log.Handler())
	s.Outages.Watch(outage.Dependency{Name: "database", Addr: databaseAddr(s.Config.Database), Ping: s.DB.Ping})
	if s.Redis != nil {
		r := s.Redis
		s.Outages.Watch(outage.Dependency{Name: "redis", Addr: r.Addr(), Components: []string{"asynq", "go-redis"},
			Ping: func(ctx context.Context) error { return r.Client.Ping(ctx).Err() }})
	}
	s.Logger = s.Outages.Logger()
	return s.Logger
}

// databaseAddr is the host:port a PostgreSQL client's errors name; SQLite has
// none.
func databaseAddr(cfg config.Database) string {
	if cfg.Driver != store.DriverPostgres {
		return ""
	}
	pc, err := pgconn.ParseConfig(cfg.DSN.Reveal())
	if err != nil || pc.Host == "" || pc.Host[0] == '/' {
		return ""
	}
	return net.JoinHostPort(pc.Host, strconv.Itoa(int(pc.Port)))
}
