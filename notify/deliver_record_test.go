package notify

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch/internal/mailcatch"
	"github.com/dvcwatch/dvcwatch/notify/email"
)

// flakyMarks is an outbox whose database refuses MarkSent until heal is
// closed.
type flakyMarks struct {
	*memOutbox
	heal  chan struct{}
	mu    sync.Mutex
	tries int
}

func (f *flakyMarks) MarkSent(ctx context.Context, id int64, at time.Time) error {
	f.mu.Lock()
	f.tries++
	f.mu.Unlock()
	select {
	case <-f.heal:
		return f.memOutbox.MarkSent(ctx, id, at)
	default:
		return errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")
	}
}

func (f *flakyMarks) attempts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tries
}

// lines records the messages logged, to count them.
type lines struct {
	mu  sync.Mutex
	msg []string
}

func (l *lines) Enabled(context.Context, slog.Level) bool { return true }
func (l *lines) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msg = append(l.msg, r.Message)
	return nil
}
func (l *lines) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *lines) WithGroup(string) slog.Handler      { return l }

func (l *lines) count(prefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msg {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

func catcher(t *testing.T) (*mailcatch.Catcher, *email.Sender) {
	t.Helper()
	c, err := mailcatch.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, newSender(t, c.Port())
}

// TestDeliverMarksSentUntilDatabaseAnswers: the server accepted the
// message, then the database refuses the mark-sent several times and the
// server drops the connection at QUIT: the mark is retried until the
// database answers (not given up after a few tries), logged once when it
// starts failing and once when it succeeds, and the row ends sent, with the
// one message the server has.
func TestDeliverMarksSentUntilDatabaseAnswers(t *testing.T) {
	t.Parallel()
	sink, sender := catcher(t)
	sink.DropAtQuit()
	st := &flakyMarks{memOutbox: newOutbox(outboxRow(7, "nguyen.van.a@hoabinh.example")), heal: make(chan struct{})}
	d := deliverer(st, sender)
	log := &lines{}
	d.Logger = slog.New(log)
	go func() {
		// Heal after more failures than the old three tries.
		for st.attempts() < 5 {
			time.Sleep(50 * time.Millisecond)
		}
		close(st.heal)
	}()
	if err := d.Deliver(t.Context(), 7, false); err != nil {
		t.Fatal(err)
	}
	if r := st.row(7); r.SentAt.IsZero() || !r.FailedAt.IsZero() || r.LastError != "" {
		t.Errorf("row %+v: want sent", r)
	}
	if n := sink.Count(); n != 1 {
		t.Errorf("the server has %d messages, want 1", n)
	}
	if n := st.attempts(); n < 6 {
		t.Errorf("%d attempts to mark it sent, want the refused five and one more", n)
	}
	if w, i := log.count("email accepted by the mail server but not yet recorded"), log.count("email recorded as sent after"); w != 1 || i != 1 {
		t.Errorf("logged %d warnings and %d recoveries, want one of each (not one per attempt)", w, i)
	}
}

// TestDeliverRecordsEndWithTheProcess: a mark-sent still refused when the
// process stops (Records ends) gives up; the delivery is no failure (the
// server has the message), and the row keeps its claim, which keeps other
// attempts away until it is stale.
func TestDeliverRecordsEndWithTheProcess(t *testing.T) {
	t.Parallel()
	sink, sender := catcher(t)
	st := &flakyMarks{memOutbox: newOutbox(outboxRow(7, "nguyen.van.a@hoabinh.example")), heal: make(chan struct{})}
	d := deliverer(st, sender)
	records, stop := context.WithCancel(context.Background())
	d.Records = records
	go func() {
		for st.attempts() < 2 {
			time.Sleep(50 * time.Millisecond)
		}
		stop()
	}()
	if err := d.Deliver(t.Context(), 7, false); err != nil {
		t.Fatalf("an accepted email whose record the process gave up on: %v, want nil (no retry)", err)
	}
	if !d.Drain(time.Second) {
		t.Error("Drain: an attempt still recording")
	}
	r := st.row(7)
	if !r.SentAt.IsZero() || !r.FailedAt.IsZero() || r.SendingAt.IsZero() {
		t.Errorf("row %+v: want neither sent nor failed, still claimed", r)
	}
	if n := sink.Count(); n != 1 {
		t.Errorf("the server has %d messages, want 1", n)
	}
	if err := d.Deliver(t.Context(), 7, false); err == nil {
		t.Error("a new attempt took the live claim")
	}
	if n := sink.Count(); n != 1 {
		t.Errorf("the server has %d messages after a new attempt, want 1", n)
	}
}

// TestDeliverPossiblySent: the server took the whole message and never
// answered its end within smtp.data_timeout: the row is failed as final
// (cause mail_uncertain) for an administrator, and not retried.
func TestDeliverPossiblySent(t *testing.T) {
	t.Parallel()
	sink, _ := catcher(t)
	sink.DelayReply(3 * time.Second)
	sender, err := email.New(smtpConfig(sink.Port(), time.Second, 500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	st := newOutbox(outboxRow(7, "nguyen.van.a@hoabinh.example"))
	err = deliverer(st, sender).Deliver(t.Context(), 7, false)
	if !errors.Is(err, ErrUndeliverable) || !errors.Is(err, email.ErrPossiblySent) {
		t.Fatalf("got %v, want ErrUndeliverable wrapping email.ErrPossiblySent", err)
	}
	if r := st.row(7); r.FailedAt.IsZero() || !r.SentAt.IsZero() || !strings.Contains(r.LastError, "possibly delivered") {
		t.Errorf("row %+v: want failed, possibly delivered", r)
	}
}
