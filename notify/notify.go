// Package notify decides who is told about which breach and when, turns those
// decisions into digest emails in the outbox, and delivers them: routing and
// escalation from the configuration (Router), repeats, acknowledgements and
// quiet hours (Planner, Composer), the office's daily summary, the dispatcher
// that hands the outbox to the queue and re-enqueues what the queue lost
// (Dispatcher), and the delivery of one email (Deliverer). Service puts the
// first four together for detection and the scheduled jobs.
package notify

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/clock"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/directory"
	"github.com/dvcwatch/dvcwatch/notify/acklink"
	"github.com/dvcwatch/dvcwatch/notify/email"
	"github.com/dvcwatch/dvcwatch/report"
)

// Store is what the service reads and writes: the pending alerts, the
// outbox, the breaches the office's summary lists and the silences that
// hold some of them back.
type Store interface {
	ComposeStore
	SummaryStore
	report.Source
	DispatchStore
	SilenceStore
}

// Service owns what dvcwatch tells people: who must be told of each breach
// (Plan, decided inside detection's transaction), the digest emails made of
// the alerts decided (Notify), the office's daily summary (Summarize), and
// handing new emails to the queue at once.
type Service struct {
	planner    *Planner
	composer   *Composer
	dispatcher *Dispatcher
	store      Store
	log        *slog.Logger
}

// NewService builds the service from a validated configuration. enqueue
// hands one outbox row to the delivery queue and must treat a row already
// queued as done; nil leaves new emails in the outbox for the dispatcher job
// of a running worker (a command run by hand has no queue).
func NewService(cfg *config.Config, dir *directory.Directory, st Store, enqueue func(ctx context.Context, id int64) error,
	clk clock.Clock, log *slog.Logger) (*Service, error) {
	router, err := NewRouter(dir, cfg.Notify.Escalation)
	if err != nil {
		return nil, err
	}
	renderer, err := email.NewRenderer(cfg.Notify.Templates)
	if err != nil {
		return nil, err
	}
	links, err := acklink.New(cfg)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	composer := &Composer{Dir: dir, Renderer: renderer, OfficeHoursOnly: cfg.Notify.OfficeHoursOnly,
		MaxRows: cfg.Notify.MaxRows, SubjectPrefix: cfg.Notify.SubjectPrefix, ConsoleURL: cfg.Admin.PublicURL}
	composer.Workbook = monthlyWorkbook(st, report.Names(dir.Name))
	if links != nil { // a nil *Links in the interface would not be a nil AckLinker
		composer.Acks = links
	}
	return &Service{
		planner:    &Planner{Router: router, RepeatAfter: cfg.Notify.RepeatAfter},
		composer:   composer,
		dispatcher: &Dispatcher{Store: st, Enqueue: enqueue, Clock: clk, Logger: log},
		store:      st,
		log:        log,
	}, nil
}

// UnreadableOutbox returns how many outbox rows the dispatcher's last run
// found unreadable and skipped (see Dispatcher.Dispatch).
func (s *Service) UnreadableOutbox() int { return s.dispatcher.Unreadable() }

// Plan decides who must be told now about each unresolved breach; see
// Planner.
func (s *Service) Plan(now time.Time, open []dvcwatch.BreachState) []dvcwatch.AlertIntent {
	return s.planner.Plan(now, open)
}

// Replan says when Plan could next decide something about st, the breach
// unchanged; see Planner.Replan.
func (s *Service) Replan(now time.Time, st dvcwatch.BreachState) time.Time {
	return s.planner.Replan(now, st)
}

// Notify puts the pending alerts into one digest email per recipient as of
// now, hands the new emails to the queue, and returns how many it created.
// Alerts of breaches an active silence matches stay pending (unsilenced).
func (s *Service) Notify(ctx context.Context, now time.Time) (int, error) {
	ids, err := ComposeWith(ctx, unsilenced(ctx, s.store, now), now, s.composer.Compose(now))
	if err != nil {
		return 0, err
	}
	s.send(ctx, ids, "digests")
	return len(ids), nil
}

// Summarize writes the office's daily summary as of now, hands it to the
// queue, and returns how many emails it created. It leaves out the breaches
// an active silence matches (unsilenced).
func (s *Service) Summarize(ctx context.Context, now time.Time) (int, error) {
	ids, err := s.composer.Summarize(ctx, unsilenced(ctx, s.store, now), now)
	if err != nil {
		return len(ids), fmt.Errorf("daily summary: %w", err)
	}
	s.send(ctx, ids, "daily summaries")
	return len(ids), nil
}

// Report writes every agency's results of month to its monitors and office,
// hands the new emails to the queue, and returns how many it created; see
// Composer.Report.
func (s *Service) Report(ctx context.Context, month report.Period, now time.Time) (int, error) {
	ids, err := s.composer.Report(ctx, s.store, month, now)
	if err != nil {
		return len(ids), fmt.Errorf("monthly results %s: %w", month.Name, err)
	}
	s.send(ctx, ids, "monthly results")
	return len(ids), nil
}

// Dispatch hands every undelivered email to the queue; see Dispatcher.
func (s *Service) Dispatch(ctx context.Context) (int, error) {
	if s.dispatcher.Enqueue == nil {
		return 0, fmt.Errorf("dispatch: no queue")
	}
	return s.dispatcher.Dispatch(ctx)
}

// send enqueues new emails at once. A failure loses nothing: the rows wait
// in the outbox for the dispatcher.
func (s *Service) send(ctx context.Context, ids []int64, what string) {
	if s.dispatcher.Enqueue == nil || len(ids) == 0 {
		return
	}
	if err := s.dispatcher.Send(ctx, ids); err != nil {
		s.log.Warn("enqueue new "+what+"; the dispatcher will retry", "err", err)
	}
}
