package worker

import (
	"context"
	"net"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/dvcwatch/dvcwatch/config"
)

// Redis is the connection the job queue runs on: a server, a master found
// through Redis Sentinel (redis.sentinel), or (redis.embedded) an in-process
// miniredis for the demo. The in-process one keeps nothing across restarts,
// and a replica promoted by the sentinels may lack the last writes of its
// master (replication is asynchronous); the outbox and job runs in SQL are
// what make both safe.
//
// This is the one place a connection to Redis is made: the asynq client,
// server and inspector, the scheduler, the readiness check and the outage
// monitor all share Client, so they all follow a failover alike.
type Redis struct {
	Client redis.UniversalClient
	addr   string // see Addr
	mr     *miniredis.Miniredis
	stop   context.CancelFunc
	done   chan struct{}
}

// OpenRedis connects as cfg says.
func OpenRedis(cfg config.Redis) (*Redis, error) {
	switch {
	case cfg.Sentinel.Enabled():
		// What asynq.RedisFailoverClientOpt would build, built here once so
		// that asynq and the other users share one pool.
		c := redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName:       cfg.Sentinel.MasterName,
			SentinelAddrs:    cfg.Sentinel.Addrs,
			SentinelPassword: cfg.Sentinel.Password.Reveal(),
			Password:         cfg.Password.Reveal(),
			DB:               cfg.DB,
		})
		return &Redis{Client: c}, nil
	case !cfg.Embedded:
		c := redis.NewClient(&redis.Options{Addr: cfg.Addr, Password: cfg.Password.Reveal(), DB: cfg.DB})
		return &Redis{Client: c, addr: cfg.Addr}, nil
	}
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		return nil, err
	}
	// In process, without a socket: the field notes measured this the faster way.
	c := redis.NewClient(&redis.Options{
		Dialer: func(context.Context, string, string) (net.Conn, error) { return mr.Dial() },
	})
	ctx, stop := context.WithCancel(context.Background())
	r := &Redis{Client: c, mr: mr, stop: stop, done: make(chan struct{})}
	go r.tick(ctx)
	return r, nil
}

// Addr is the host:port the client's errors name, "" when there is no fixed
// one: in process, or a master the sentinels choose.
func (r *Redis) Addr() string { return r.addr }

// tick moves miniredis's clock with the wall clock, so that keys asynq sets
// with a TTL (leases, unique locks, retention) expire. ClockTTL would do it per
// command and collapses throughput (field notes); a ticker is enough.
func (r *Redis) tick(ctx context.Context) {
	defer close(r.done)
	const every = 500 * time.Millisecond
	t := time.NewTicker(every)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			r.mr.FastForward(now.Sub(last))
			last = now
		}
	}
}

// Close closes the connection and stops an embedded server.
func (r *Redis) Close() error {
	err := r.Client.Close()
	if r.mr != nil {
		r.stop()
		<-r.done
		r.mr.Close()
	}
	return err
}
