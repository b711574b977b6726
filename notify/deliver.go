package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/clock"
	"github.com/dvcwatch/dvcwatch/notify/email"
)

// ErrUndeliverable marks a notification that no retry can deliver: the mail
// server rejected it (e.g. 550 unknown user), it cannot be built, or it no
// longer exists. The reason is recorded on the row.
var ErrUndeliverable = errors.New("undeliverable")

// Sender sends one email; *email.Sender is the real one. record runs once
// the server has accepted the message and before the conversation ends;
// SendAndRecord then returns record's error, whatever the end of the
// conversation does.
type Sender interface {
	SendAndRecord(ctx context.Context, m email.Message, record func() error) error
}

// DeliveryStore is the outbox as the deliverer sees it.
type DeliveryStore interface {
	ClaimNotification(ctx context.Context, id int64, now time.Time, stale time.Duration) (dvcwatch.Notification, error)
	MarkSent(ctx context.Context, id int64, at time.Time) error
	MarkAttemptFailed(ctx context.Context, id int64, at time.Time, reason string, final bool) error
}

// DefaultClaimStale is how long a claimed notification is left to the attempt
// that claimed it when ClaimStale is zero; see ClaimStale for the bound the
// worker uses.
const DefaultClaimStale = 30 * time.Minute

// ClaimStale is how long a claim must be left to the attempt that made it:
// the longest SMTP conversation, then as long again for that attempt to
// record the email sent through a database outage (see Deliverer). An
// attempt that died is taken over after that long.
func ClaimStale(conversation time.Duration) time.Duration { return 2 * conversation }

// Deliverer sends outbox notifications, each at most once as far as SMTP
// allows.
//
// How "no email twice" is achieved: the outbox row is the single record of a
// notification, and its delivery task's id is the row's id, so the queue holds
// at most one task for it. Before talking to the mail server an attempt claims
// the row (sending_at, in a transaction that only succeeds if the row is not
// sent and not claimed by a live attempt); a sent row is never sent again, and
// a row claimed by another attempt is left to it.
//
// Once the server accepts the message (250 to the end of DATA) the row is
// marked sent before the conversation's QUIT, and the mark is retried, with
// a backoff of at most markSentBackoff, until the database answers: an
// accepted email is never sent again because that write failed. Its claim
// keeps other attempts away meanwhile, for as long again as a whole
// conversation (ClaimStale), which covers database outages of minutes. The
// retries stop only when the process stops (Records ends): waiting longer
// would serve nothing, and a process that stops for good must not hang on a
// database that never returns. Such an email may go out again once its claim
// is stale.
//
// A message written whole whose end the server never answered (a timeout of
// smtp.data_timeout, a lost connection) may have been delivered: it is not
// retried but marked failed with the cause mail_uncertain ("possibly
// delivered"), for an administrator to retry only if it did not arrive.
//
// Where it cannot be absolute: SMTP has no idempotency key. If the process
// dies after the server answered 250 to the end of DATA and before the row is
// marked sent, the claim goes stale and a later attempt sends the message
// again. The resend carries the same Message-ID: a random one
// (dvcwatch.NewMessageID) stored on the row when it was written, so no other
// installation and no rebuilt database (whose row ids start at 1 again)
// reuses it, and mail systems and readers can recognise the repeat.
type Deliverer struct {
	Store      DeliveryStore
	Sender     Sender
	Logger     *slog.Logger
	Clock      clock.Clock   // nil: the wall clock
	ClaimStale time.Duration // zero: DefaultClaimStale
	// MessageDomain is the right-hand side of Message-IDs; empty uses the
	// sender's From domain.
	MessageDomain string
	// Records bounds the recording of an attempt's outcome, which outlives
	// the task's context (a task cut off by its timeout or by shutdown must
	// still record an email the server accepted): the worker ends it once
	// its queues have shut down and Drain has waited. Nil: never ended.
	Records context.Context

	recording sync.WaitGroup
}

// markSentBackoff caps the wait between two attempts to mark an accepted
// email sent: the row is recorded within that long of the database's return.
const markSentBackoff = 5 * time.Second

// Deliver sends notification id. final says this is the last automatic
// attempt: a transient failure then marks the row failed, for an
// administrator to retry. An error wrapping ErrUndeliverable must not be
// retried; any other error should be.
func (d *Deliverer) Deliver(ctx context.Context, id int64, final bool) error {
	stale := d.ClaimStale
	if stale <= 0 {
		stale = DefaultClaimStale
	}
	n, err := d.Store.ClaimNotification(ctx, id, d.now(), stale)
	switch {
	case errors.Is(err, dvcwatch.ErrAlreadySent):
		return nil // an earlier attempt delivered it; the task was run again
	case errors.Is(err, dvcwatch.ErrNotFound):
		return fmt.Errorf("%w: %w", ErrUndeliverable, err)
	case err != nil:
		return err // claimed by a live attempt, or the database is down: retry later
	}
	msgID := n.MessageID // chosen when the row was written: the same on every attempt
	if msgID == "" {
		msgID = dvcwatch.LegacyMessageID(n.ID)
	}
	if d.MessageDomain != "" {
		msgID += "@" + d.MessageDomain
	}
	m := email.Message{
		To: []string{n.Email}, Subject: n.Subject, Text: n.Text, HTML: n.HTML, MessageID: msgID,
		Headers: map[string]string{"X-Dvcwatch-Notification": fmt.Sprint(n.ID)},
	}
	if a := n.Attachment; a != nil {
		m.Attachments = []email.Attachment{{Name: a.Name, Type: a.Type, Data: a.Data}}
	}
	// Record with a context of its own: the task's may be ending, and the
	// outcome must not be lost.
	d.recording.Add(1)
	defer d.recording.Done()
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	if d.Records != nil {
		defer context.AfterFunc(d.Records, cancel)()
	}
	accepted := false
	sendErr := d.Sender.SendAndRecord(ctx, m, func() error {
		accepted = true
		return d.markSent(rctx, n)
	})
	if accepted {
		if sendErr != nil {
			// The process is stopping; the claim keeps other attempts away
			// until it goes stale (see the type's comment).
			d.logger().Error("email sent but not recorded: the process stopped before the database answered; it may be sent again once its claim is stale",
				"notification", n.ID, "claim_stale", stale, "err", sendErr)
			return nil
		}
		d.logger().Info("email sent", "notification", n.ID, "kind", n.Kind, "recipient", n.Recipient, "items", n.Items)
		return nil
	}
	// A message the server may have taken is not sent again by itself: it
	// waits, failed, for an administrator's retry (possibly a duplicate).
	permanent := errors.Is(sendErr, email.ErrRejected) || errors.Is(sendErr, email.ErrInvalidMessage) ||
		errors.Is(sendErr, email.ErrPossiblySent)
	fctx, fcancel := context.WithTimeout(rctx, 30*time.Second)
	defer fcancel()
	if err := d.Store.MarkAttemptFailed(fctx, n.ID, d.now(), sendErr.Error(), permanent || final); err != nil {
		d.logger().Error("record failed email", "notification", n.ID, "err", err)
	}
	d.logger().Warn("email not sent", "notification", n.ID, "recipient", n.Recipient, "attempt", n.Attempts,
		"permanent", permanent, "final", final, "err", sendErr)
	if permanent {
		return fmt.Errorf("notification %d: %w: %w", n.ID, ErrUndeliverable, sendErr)
	}
	return fmt.Errorf("notification %d: %w", n.ID, sendErr)
}

// markSent records n sent, retrying until the database answers or ctx ends;
// it logs once when a first attempt fails and once when one succeeds after
// that, not each attempt.
func (d *Deliverer) markSent(ctx context.Context, n dvcwatch.Notification) error {
	var failedSince time.Time
	wait := 250 * time.Millisecond
	for attempts := 1; ; attempts++ {
		actx, cancel := context.WithTimeout(ctx, 10*time.Second) // a hung connection is one attempt
		err := d.Store.MarkSent(actx, n.ID, d.now())
		cancel()
		if err == nil {
			if !failedSince.IsZero() {
				d.logger().Info("email recorded as sent after the database returned", "notification", n.ID,
					"attempts", attempts, "after", time.Since(failedSince).Round(time.Millisecond))
			}
			return nil
		}
		if failedSince.IsZero() {
			failedSince = time.Now()
			d.logger().Warn("email accepted by the mail server but not yet recorded as sent; retrying until the database answers",
				"notification", n.ID, "err", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("mark notification %d sent: %w (after %d attempts)", n.ID, err, attempts)
		case <-time.After(wait):
		}
		wait = min(2*wait, markSentBackoff)
	}
}

// Drain waits, at most timeout, for attempts still recording their outcome,
// and reports whether none is left. The worker calls it after its queues
// shut down, before it ends Records.
func (d *Deliverer) Drain(timeout time.Duration) bool {
	done := make(chan struct{})
	go func() {
		d.recording.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(timeout):
		return false
	}
}

func (d *Deliverer) now() time.Time { return clock.OrWall(d.Clock).Now() }

func (d *Deliverer) logger() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.Default()
}

// DispatchStore is the outbox as the dispatcher sees it.
type DispatchStore interface {
	Undelivered(ctx context.Context, enqueuedBefore time.Time, limit int) ([]int64, error)
	MarkEnqueued(ctx context.Context, ids []int64, at time.Time) error
}

// Dispatcher relays outbox rows to the queue. Enqueue must be idempotent per
// id (the task id is the row id, and a conflict means it is already queued):
// so a Redis that lost its data, or a process that died between commit and
// enqueue, loses no notification.
type Dispatcher struct {
	Store   DispatchStore
	Enqueue func(ctx context.Context, id int64) error
	Clock   clock.Clock // nil: the wall clock
	// RequeueAfter spares rows enqueued more recently than this; zero hands
	// every undelivered row to Enqueue, which is a no-op for those queued.
	RequeueAfter time.Duration
	// Logger tells of rows the outbox cannot read; nil: slog.Default().
	Logger *slog.Logger

	mu sync.Mutex
	// unreadable are the rows already logged as unreadable: each is
	// skipped at every run, and logged once. A run that ends forgets those
	// it no longer found (repaired), which Unreadable then stops counting.
	unreadable map[int64]bool
}

// Unreadable returns how many outbox rows the last run found unreadable
// and skipped, for /metrics.
func (d *Dispatcher) Unreadable() int { return d.skipped() }

// Send enqueues the given notifications now, e.g. right after they were
// created.
func (d *Dispatcher) Send(ctx context.Context, ids []int64) error {
	var done []int64
	var firstErr error
	for _, id := range ids {
		if err := d.Enqueue(ctx, id); err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("enqueue notification %d: %w", id, err)
			}
			continue
		}
		done = append(done, id)
	}
	if err := d.Store.MarkEnqueued(ctx, done, d.now()); err != nil && firstErr == nil {
		firstErr = err
	}
	return firstErr
}

// Dispatch enqueues every notification neither sent nor failed that was never
// enqueued or was enqueued more than RequeueAfter ago, and returns how many.
// Rows are marked enqueued as they go, so the loop ends. A row the outbox
// cannot read (dvcwatch.UnreadableNotifications) is skipped, and logged
// the first time with its id; the others go on.
func (d *Dispatcher) Dispatch(ctx context.Context) (int, error) {
	total := 0
	before := d.now().Add(-d.RequeueAfter) // fixed, so rows enqueued below are not read again
	seen := map[int64]bool{}               // the rows found unreadable in this run
	for {
		// Unreadable rows are never marked enqueued, so every page reads
		// them again: a page is that much longer.
		limit := dispatchPage + d.skipped()
		ids, err := d.Store.Undelivered(ctx, before, limit)
		var bad *dvcwatch.UnreadableNotifications
		found := 0
		if errors.As(err, &bad) {
			found = d.skip(bad.Rows)
			for _, r := range bad.Rows {
				seen[r.ID] = true
			}
		} else if err != nil {
			return total, err
		}
		if err := d.Send(ctx, ids); err != nil {
			return total, err
		}
		total += len(ids)
		read := len(ids)
		if bad != nil {
			read += len(bad.Rows)
		}
		// The last page; or one that neither enqueued a row nor found a
		// new unreadable one, which the next would read again.
		if read < limit || len(ids) == 0 && found == 0 {
			d.keepUnreadable(seen)
			return total, nil
		}
	}
}

// dispatchPage is how many rows Dispatch enqueues at most per page.
const dispatchPage = 1000

// skipped returns how many rows were found unreadable.
func (d *Dispatcher) skipped() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.unreadable)
}

// keepUnreadable forgets the rows once unreadable that a whole run no
// longer found so: repaired, or delivered by hand.
func (d *Dispatcher) keepUnreadable(seen map[int64]bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id := range d.unreadable {
		if !seen[id] {
			delete(d.unreadable, id)
		}
	}
}

// skip logs the unreadable rows not logged before, and returns how many.
func (d *Dispatcher) skip(rows []dvcwatch.UnreadableNotification) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.unreadable == nil {
		d.unreadable = map[int64]bool{}
	}
	log := d.Logger
	if log == nil {
		log = slog.Default()
	}
	found := 0
	for _, r := range rows {
		if !d.unreadable[r.ID] {
			d.unreadable[r.ID] = true
			found++
			log.Error("outbox: a notification cannot be read; it is skipped until it is repaired", "notification", r.ID, "err", r.Err)
		}
	}
	return found
}

func (d *Dispatcher) now() time.Time { return clock.OrWall(d.Clock).Now() }

// Outbox is the notification outbox as the job handlers use it: relayed to
// the queue by Dispatcher, sent by Deliverer (jobs.Notifier).
type Outbox struct {
	Dispatcher interface {
		Dispatch(ctx context.Context) (int, error)
	}
	Deliverer *Deliverer
}

// Dispatch enqueues undelivered notifications and returns how many.
func (o Outbox) Dispatch(ctx context.Context) (int, error) { return o.Dispatcher.Dispatch(ctx) }

// Deliver sends notification id; see Deliverer.Deliver.
func (o Outbox) Deliver(ctx context.Context, id int64, final bool) error {
	return o.Deliverer.Deliver(ctx, id, final)
}
