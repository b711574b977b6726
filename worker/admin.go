package worker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dvcwatch/dvcwatch/admin"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/jobs"
	"github.com/dvcwatch/dvcwatch/notify/acklink"
	"github.com/dvcwatch/dvcwatch/scheduler"
)

// adminServer is this replica's admin HTTP server; a zero one serves nothing.
type adminServer struct {
	srv *http.Server
	ln  net.Listener
}

// startAdmin serves the admin API and UI on ln, else on admin.listen; with
// neither, or without tokens, it serves nothing.
func startAdmin(svc *Services, rdb *Redis, client *asynq.Client, sched *scheduler.Scheduler, ln net.Listener) (*adminServer, error) {
	cfg := svc.Config
	if ln == nil && (cfg.Admin.Listen == "" || len(cfg.Admin.Tokens) == 0) {
		return &adminServer{}, nil
	}
	inspector := jobs.NewInspector(rdb.Client)
	links, err := acklink.New(cfg)
	if err != nil {
		return nil, err
	}
	h, err := admin.New(admin.Options{
		Tokens: cfg.Admin.Tokens, Store: svc.DB, Queue: inspector, Queues: jobs.Queues(), Schedules: sched,
		Requeue: jobs.Requeuer(client), Ready: func(ctx context.Context) error { return ready(ctx, svc, rdb) },
		Health: svc.Health, Names: svc.Directory, Rules: svc.Detector.Rules,
		Officials: func(id string) bool { _, ok := svc.Directory.Person(id); return ok }, Agencies: agencyCodes(cfg),
		Metrics: svc.MetricsHandler(inspector), Logger: svc.Logger,
		SecureCookies: cfg.Admin.SecureCookies, MinInterval: cfg.Scheduler.MinInterval,
		// The links are signed in the composer's time, so they are checked
		// in it too: the simulator's in the demo.
		Ack: admin.AckPage{Links: links, Store: svc.DB, Person: svc.Directory.Person, Clock: svc.Clock},
	})
	if err != nil {
		return nil, err
	}
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Admin.Listen); err != nil {
			return nil, fmt.Errorf("admin.listen: %w", err)
		}
	}
	a := &adminServer{ln: ln, srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		if err := a.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			svc.Logger.Error("admin server stopped", "err", err)
		}
	}()
	return a, nil
}

// agencyCodes are the configured agencies' codes, in configuration order.
func agencyCodes(cfg *config.Config) []string {
	out := make([]string, 0, len(cfg.Agencies))
	for _, a := range cfg.Agencies {
		out = append(out, a.Code)
	}
	return out
}

func (a *adminServer) addr() string {
	if a.ln == nil {
		return ""
	}
	return "http://" + a.ln.Addr().String()
}

// shutdown lets requests in flight finish, for at most d.
func (a *adminServer) shutdown(d time.Duration) {
	if a.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_ = a.srv.Shutdown(ctx)
}

// ready reports whether the database and Redis answer, naming each that does
// not; both are asked at once, so that one hanging does not hide the other.
func ready(ctx context.Context, svc *Services, rdb *Redis) error {
	var dbErr, redisErr error
	var wg sync.WaitGroup
	wg.Go(func() { dbErr = svc.DB.Ping(ctx) })
	wg.Go(func() { redisErr = rdb.Client.Ping(ctx).Err() })
	wg.Wait()
	var errs []error
	if dbErr != nil {
		errs = append(errs, &admin.Unreachable{Dependency: "database", Err: dbErr})
	}
	if redisErr != nil {
		errs = append(errs, &admin.Unreachable{Dependency: "redis", Err: redisErr})
	}
	return joinErrs(errs)
}

// joinErrs joins errors on one line ("a; b"), nil for none; each stays
// reachable through Unwrap, for /readyz to name the dependencies down.
func joinErrs(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return joined(errs)
}

type joined []error

func (j joined) Error() string {
	msg := j[0].Error()
	for _, e := range j[1:] {
		msg += "; " + e.Error()
	}
	return msg
}

func (j joined) Unwrap() []error { return j }
