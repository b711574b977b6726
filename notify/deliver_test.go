package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/clock"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/notify/email"
)

// smtpBackend is a real SMTP server on loopback (go-smtp): it refuses
// unknown@… with 550, accepts everyone else, and records every connection
// and accepted message.
type smtpBackend struct {
	mu       sync.Mutex
	sessions int
	msgs     [][]byte
}

func (b *smtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) {
	b.mu.Lock()
	b.sessions++
	b.mu.Unlock()
	return &smtpSession{b: b}, nil
}

func (b *smtpBackend) counts() (sessions int, msgs [][]byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sessions, slices.Clone(b.msgs)
}

type smtpSession struct{ b *smtpBackend }

func (s *smtpSession) Mail(string, *smtp.MailOptions) error { return nil }

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasPrefix(to, "unknown@") {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, data)
	s.b.mu.Unlock()
	return nil
}

func (s *smtpSession) Reset()        {}
func (s *smtpSession) Logout() error { return nil }

// startSMTP runs the server and returns it with a Sender configured for it.
func startSMTP(t *testing.T) (*smtpBackend, *email.Sender) {
	t.Helper()
	be := &smtpBackend{}
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return be, newSender(t, ln.Addr().(*net.TCPAddr).Port)
}

func newSender(t *testing.T, port int) *email.Sender {
	t.Helper()
	s, err := email.New(smtpConfig(port, 5*time.Second, 0))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func smtpConfig(port int, timeout, dataTimeout time.Duration) config.SMTP {
	return config.SMTP{
		Host: "127.0.0.1", Port: port, From: "Cảnh báo hồ sơ <canhbao@hoabinh.example>",
		TLS: config.TLSNone, Timeout: timeout, DataTimeout: dataTimeout,
	}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

// memOutbox is the outbox as the deliverer sees it, following the documented
// semantics of store.ClaimNotification, MarkSent and MarkAttemptFailed.
type memOutbox struct {
	mu    sync.Mutex
	rows  map[int64]*dvcwatch.Notification
	calls []string
}

func newOutbox(ns ...dvcwatch.Notification) *memOutbox {
	m := &memOutbox{rows: map[int64]*dvcwatch.Notification{}}
	for _, n := range ns {
		m.rows[n.ID] = &n
	}
	return m
}

func (m *memOutbox) ClaimNotification(_ context.Context, id int64, now time.Time, stale time.Duration) (dvcwatch.Notification, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, fmt.Sprintf("claim %d", id))
	r, ok := m.rows[id]
	switch {
	case !ok:
		return dvcwatch.Notification{}, fmt.Errorf("claim notification %d: %w", id, dvcwatch.ErrNotFound)
	case !r.SentAt.IsZero():
		return *r, fmt.Errorf("claim notification %d: %w", id, dvcwatch.ErrAlreadySent)
	case !r.SendingAt.IsZero() && !r.SendingAt.Before(now.Add(-stale)):
		return *r, fmt.Errorf("claim notification %d: %w", id, dvcwatch.ErrClaimed)
	}
	r.SendingAt = now
	r.Attempts++
	return *r, nil
}

func (m *memOutbox) MarkSent(_ context.Context, id int64, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, fmt.Sprintf("sent %d", id))
	if r, ok := m.rows[id]; ok {
		r.SentAt, r.SendingAt, r.FailedAt, r.LastError = at, time.Time{}, time.Time{}, ""
	}
	return nil
}

func (m *memOutbox) MarkAttemptFailed(_ context.Context, id int64, at time.Time, reason string, final bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, fmt.Sprintf("failed %d final=%v", id, final))
	if r, ok := m.rows[id]; ok && r.SentAt.IsZero() {
		r.SendingAt, r.LastError = time.Time{}, reason
		if final {
			r.FailedAt = at
		}
	}
	return nil
}

func (m *memOutbox) row(id int64) dvcwatch.Notification {
	m.mu.Lock()
	defer m.mu.Unlock()
	return *m.rows[id]
}

func (m *memOutbox) log() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.calls)
}

var deliverNow = vn(2026, 3, 10, 9, 0)

func outboxRow(id int64, to string) dvcwatch.Notification {
	return dvcwatch.Notification{
		ID: id, DedupeKey: fmt.Sprintf("alerts:x:%d", id), Kind: dvcwatch.NotificationAlerts, Recipient: "nguyen.van.a",
		Email: to, Subject: "[dvcwatch] 1 hồ sơ quá hạn", Text: "Kính gửi Nguyễn Văn A,\n", HTML: "<p>Kính gửi Nguyễn Văn A,</p>",
		Items: 1, CreatedAt: deliverNow.Add(-time.Minute),
	}
}

func deliverer(st DeliveryStore, s Sender) *Deliverer {
	return &Deliverer{Store: st, Sender: s, Logger: slog.New(slog.DiscardHandler), Clock: clock.Func(func() time.Time { return deliverNow })}
}

func TestDeliverSends(t *testing.T) {
	t.Parallel()
	const stored = "dvcwatch.notification.5f0c7b52-3b8e-4c1e-9a57-2d6f1e0a9c33"
	for _, tt := range []struct {
		domain, msgID, wantID string
	}{
		{"", stored, "<" + stored + "@hoabinh.example>"}, // the From domain
		{"dvcwatch.example", stored, "<" + stored + "@dvcwatch.example>"},
		// A row written before Message-IDs were stored: the old form, as its earlier attempts sent.
		{"dvcwatch.example", "", "<dvcwatch.notification.7@dvcwatch.example>"},
	} {
		t.Run("domain "+tt.domain+" id "+tt.msgID, func(t *testing.T) {
			t.Parallel()
			be, sender := startSMTP(t)
			row := outboxRow(7, "nguyen.van.a@hoabinh.example")
			row.MessageID = tt.msgID
			st := newOutbox(row)
			d := deliverer(st, sender)
			d.MessageDomain = tt.domain
			if err := d.Deliver(t.Context(), 7, false); err != nil {
				t.Fatal(err)
			}
			_, msgs := be.counts()
			if len(msgs) != 1 {
				t.Fatalf("server received %d messages, want 1", len(msgs))
			}
			msg, err := mail.ReadMessage(bytes.NewReader(msgs[0]))
			if err != nil {
				t.Fatal(err)
			}
			if got := msg.Header.Get("Message-ID"); got != tt.wantID {
				t.Errorf("Message-ID %q, want %q", got, tt.wantID)
			}
			if got := msg.Header.Get("X-Dvcwatch-Notification"); got != "7" {
				t.Errorf("X-Dvcwatch-Notification %q", got)
			}
			if subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil || subject != "[dvcwatch] 1 hồ sơ quá hạn" {
				t.Errorf("Subject %q (%v)", subject, err)
			}
			if to := msg.Header.Get("To"); !strings.Contains(to, "nguyen.van.a@hoabinh.example") {
				t.Errorf("To %q", to)
			}
			r := st.row(7)
			if !r.SentAt.Equal(deliverNow) || !r.SendingAt.IsZero() || !r.FailedAt.IsZero() || r.Attempts != 1 {
				t.Errorf("row after sending: %+v", r)
			}
			if want := []string{"claim 7", "sent 7"}; !slices.Equal(st.log(), want) {
				t.Errorf("store calls %v, want %v", st.log(), want)
			}
		})
	}
}

func TestDeliverAlreadySent(t *testing.T) {
	t.Parallel()
	be, sender := startSMTP(t)
	n := outboxRow(7, "nguyen.van.a@hoabinh.example")
	n.SentAt = deliverNow.Add(-time.Hour)
	st := newOutbox(n)
	if err := deliverer(st, sender).Deliver(t.Context(), 7, false); err != nil {
		t.Fatalf("a sent notification's task run again: %v, want nil", err)
	}
	if sessions, msgs := be.counts(); sessions != 0 || len(msgs) != 0 {
		t.Errorf("%d SMTP connections, %d messages, want none", sessions, len(msgs))
	}
	if want := []string{"claim 7"}; !slices.Equal(st.log(), want) {
		t.Errorf("store calls %v, want %v", st.log(), want)
	}
}

func TestDeliverClaimed(t *testing.T) {
	t.Parallel()
	be, sender := startSMTP(t)
	live := outboxRow(7, "nguyen.van.a@hoabinh.example")
	live.SendingAt, live.Attempts = deliverNow.Add(-time.Minute), 1 // another attempt, still within DefaultClaimStale
	stale := outboxRow(8, "nguyen.van.a@hoabinh.example")
	stale.SendingAt, stale.Attempts = deliverNow.Add(-DefaultClaimStale-time.Second), 1 // that attempt died
	st := newOutbox(live, stale)
	d := deliverer(st, sender)

	err := d.Deliver(t.Context(), 7, false)
	if !errors.Is(err, dvcwatch.ErrClaimed) || errors.Is(err, ErrUndeliverable) {
		t.Fatalf("claimed by a live attempt: %v, want a retryable error wrapping dvcwatch.ErrClaimed", err)
	}
	if sessions, _ := be.counts(); sessions != 0 {
		t.Errorf("%d SMTP connections while another attempt holds the claim", sessions)
	}
	if r := st.row(7); !r.SendingAt.Equal(live.SendingAt) || r.Attempts != 1 || !r.SentAt.IsZero() || !r.FailedAt.IsZero() {
		t.Errorf("the other attempt's row changed: %+v", r)
	}

	// A stale claim is taken over and the email sent.
	if err := d.Deliver(t.Context(), 8, false); err != nil {
		t.Fatalf("stale claim: %v", err)
	}
	if _, msgs := be.counts(); len(msgs) != 1 {
		t.Errorf("stale claim: %d messages, want 1", len(msgs))
	}
	if r := st.row(8); r.SentAt.IsZero() || r.Attempts != 2 {
		t.Errorf("stale claim: row %+v", r)
	}

	// A shorter ClaimStale lets the first one go too.
	d.ClaimStale = 30 * time.Second
	if err := d.Deliver(t.Context(), 7, false); err != nil {
		t.Fatalf("claim older than ClaimStale: %v", err)
	}
}

func TestDeliverNotFound(t *testing.T) {
	t.Parallel()
	be, sender := startSMTP(t)
	err := deliverer(newOutbox(), sender).Deliver(t.Context(), 99, false)
	if !errors.Is(err, ErrUndeliverable) || !errors.Is(err, dvcwatch.ErrNotFound) {
		t.Fatalf("got %v, want ErrUndeliverable wrapping dvcwatch.ErrNotFound", err)
	}
	if sessions, _ := be.counts(); sessions != 0 {
		t.Errorf("%d SMTP connections", sessions)
	}
}

func TestDeliverRejected(t *testing.T) {
	t.Parallel()
	be, sender := startSMTP(t)
	st := newOutbox(outboxRow(7, "unknown@hoabinh.example"))
	err := deliverer(st, sender).Deliver(t.Context(), 7, false) // not the last attempt, yet final
	if !errors.Is(err, ErrUndeliverable) || !errors.Is(err, email.ErrRejected) {
		t.Fatalf("got %v, want ErrUndeliverable and email.ErrRejected", err)
	}
	if sessions, msgs := be.counts(); sessions != 1 || len(msgs) != 0 {
		t.Errorf("%d connections, %d messages, want 1 and 0", sessions, len(msgs))
	}
	r := st.row(7)
	if !r.FailedAt.Equal(deliverNow) || !r.SentAt.IsZero() || !r.SendingAt.IsZero() || !strings.Contains(r.LastError, "550") {
		t.Errorf("row after 550: %+v", r)
	}
	if want := []string{"claim 7", "failed 7 final=true"}; !slices.Equal(st.log(), want) {
		t.Errorf("store calls %v, want %v", st.log(), want)
	}
}

func TestDeliverServerDown(t *testing.T) {
	t.Parallel()
	sender := newSender(t, closedPort(t))
	for _, final := range []bool{false, true} {
		t.Run(fmt.Sprintf("final=%v", final), func(t *testing.T) {
			t.Parallel()
			st := newOutbox(outboxRow(7, "nguyen.van.a@hoabinh.example"))
			err := deliverer(st, sender).Deliver(t.Context(), 7, final)
			if err == nil || errors.Is(err, ErrUndeliverable) || errors.Is(err, email.ErrRejected) {
				t.Fatalf("got %v, want a transient error", err)
			}
			r := st.row(7)
			if r.LastError == "" || !r.SendingAt.IsZero() || !r.SentAt.IsZero() {
				t.Errorf("row %+v: want the attempt recorded and the claim released", r)
			}
			if final != !r.FailedAt.IsZero() {
				t.Errorf("final=%v but failed_at=%v", final, r.FailedAt)
			}
			if want := []string{"claim 7", fmt.Sprintf("failed 7 final=%v", final)}; !slices.Equal(st.log(), want) {
				t.Errorf("store calls %v, want %v", st.log(), want)
			}
		})
	}
}

// memDispatch is the outbox as the dispatcher sees it, following
// store.Undelivered and store.MarkEnqueued.
type memDispatch struct {
	mu     sync.Mutex
	rows   []dvcwatch.Notification // in created order
	bad    map[int64]bool          // rows with a time that does not parse
	pages  int
	marked []int64
}

func (m *memDispatch) Undelivered(_ context.Context, before time.Time, limit int) ([]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pages++
	var out []int64
	var bad []dvcwatch.UnreadableNotification
	for _, n := range m.rows {
		if n.SentAt.IsZero() && n.FailedAt.IsZero() && (n.EnqueuedAt.IsZero() || n.EnqueuedAt.Before(before)) {
			if m.bad[n.ID] {
				bad = append(bad, dvcwatch.UnreadableNotification{ID: n.ID, Err: errors.New(`created_at: parsing time "yesterday"`)})
			} else {
				out = append(out, n.ID)
			}
		}
		if len(out)+len(bad) == limit {
			break
		}
	}
	if bad != nil {
		return out, &dvcwatch.UnreadableNotifications{Rows: bad}
	}
	return out, nil
}

func (m *memDispatch) MarkEnqueued(_ context.Context, ids []int64, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range ids {
		m.marked = append(m.marked, id)
		for i := range m.rows {
			if m.rows[i].ID == id {
				m.rows[i].EnqueuedAt = at
			}
		}
	}
	return nil
}

func (m *memDispatch) enqueuedAt(id int64) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range m.rows {
		if n.ID == id {
			return n.EnqueuedAt
		}
	}
	return time.Time{}
}

// queue records Enqueue calls and fails the ids in fail.
type queue struct {
	mu   sync.Mutex
	ids  []int64
	fail map[int64]bool
}

var errQueue = errors.New("redis: connection refused")

func (q *queue) enqueue(_ context.Context, id int64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail[id] {
		return errQueue
	}
	q.ids = append(q.ids, id)
	return nil
}

func TestDispatcherSend(t *testing.T) {
	t.Parallel()
	st := &memDispatch{rows: []dvcwatch.Notification{{ID: 1}, {ID: 2}, {ID: 3}}}
	q := &queue{fail: map[int64]bool{2: true}}
	d := &Dispatcher{Store: st, Enqueue: q.enqueue, Clock: clock.Func(func() time.Time { return deliverNow }), RequeueAfter: 10 * time.Minute}
	err := d.Send(t.Context(), []int64{1, 2, 3})
	if !errors.Is(err, errQueue) || !strings.Contains(err.Error(), "notification 2") {
		t.Fatalf("got %v, want the enqueue error naming notification 2", err)
	}
	if !slices.Equal(q.ids, []int64{1, 3}) || !slices.Equal(st.marked, []int64{1, 3}) {
		t.Errorf("enqueued %v, marked %v; want [1 3] both", q.ids, st.marked)
	}
	if !st.enqueuedAt(2).IsZero() || !st.enqueuedAt(1).Equal(deliverNow) {
		t.Errorf("enqueued_at: 1 %v, 2 %v", st.enqueuedAt(1), st.enqueuedAt(2))
	}

	if err := d.Send(t.Context(), nil); err != nil {
		t.Errorf("Send(nil): %v", err)
	}
}

func TestDispatcherDispatch(t *testing.T) {
	t.Parallel()
	const pending = 2345 // three pages of 1000
	st := &memDispatch{}
	var want []int64
	for id := int64(1); id <= pending+3; id++ {
		n := dvcwatch.Notification{ID: id}
		switch id {
		case 10:
			n.SentAt = deliverNow.Add(-time.Hour)
		case 20:
			n.FailedAt = deliverNow.Add(-time.Hour)
		case 30:
			n.EnqueuedAt = deliverNow.Add(-time.Minute) // queued recently: left to the queue
		case 40:
			n.EnqueuedAt = deliverNow.Add(-time.Hour) // queued long ago and not sent: again
			want = append(want, id)
		default:
			want = append(want, id)
		}
		st.rows = append(st.rows, n)
	}
	if len(want) != pending {
		t.Fatalf("test set-up: %d pending, want %d", len(want), pending)
	}
	q := &queue{}
	d := &Dispatcher{Store: st, Enqueue: q.enqueue, Clock: clock.Func(func() time.Time { return deliverNow }), RequeueAfter: 10 * time.Minute}
	n, err := d.Dispatch(t.Context())
	if err != nil || n != pending {
		t.Fatalf("Dispatch = %d, %v; want %d", n, err, pending)
	}
	if !slices.Equal(q.ids, want) || !slices.Equal(st.marked, want) {
		t.Errorf("enqueued %d and marked %d ids, want the %d pending once each", len(q.ids), len(st.marked), pending)
	}
	if st.pages != 3 {
		t.Errorf("read %d pages, want 3", st.pages)
	}

	// Nothing left: the next pass reads one empty page.
	q.ids = nil
	if n, err := d.Dispatch(t.Context()); err != nil || n != 0 || len(q.ids) != 0 {
		t.Errorf("second Dispatch = %d, %v, enqueued %d", n, err, len(q.ids))
	}
}

func TestDispatcherDispatchExactPage(t *testing.T) {
	t.Parallel()
	st := &memDispatch{}
	for id := int64(1); id <= 1000; id++ {
		st.rows = append(st.rows, dvcwatch.Notification{ID: id})
	}
	q := &queue{}
	d := &Dispatcher{Store: st, Enqueue: q.enqueue, Clock: clock.Func(func() time.Time { return deliverNow }), RequeueAfter: 10 * time.Minute}
	if n, err := d.Dispatch(t.Context()); err != nil || n != 1000 || len(q.ids) != 1000 {
		t.Fatalf("Dispatch = %d, %v, enqueued %d; want 1000", n, err, len(q.ids))
	}
	if st.pages != 2 {
		t.Errorf("read %d pages, want 2 (the second empty)", st.pages)
	}
}

func TestDispatcherDispatchEnqueueError(t *testing.T) {
	t.Parallel()
	st := &memDispatch{}
	for id := int64(1); id <= 1500; id++ {
		st.rows = append(st.rows, dvcwatch.Notification{ID: id})
	}
	q := &queue{fail: map[int64]bool{1200: true}}
	d := &Dispatcher{Store: st, Enqueue: q.enqueue, Clock: clock.Func(func() time.Time { return deliverNow }), RequeueAfter: 10 * time.Minute}
	n, err := d.Dispatch(t.Context())
	if !errors.Is(err, errQueue) || !strings.Contains(err.Error(), "notification 1200") {
		t.Fatalf("got %v, want the enqueue error naming notification 1200", err)
	}
	if n != 1000 {
		t.Errorf("Dispatch counted %d, want the 1000 of the complete first page", n)
	}
	if !st.enqueuedAt(1200).IsZero() {
		t.Error("the id that failed to enqueue was marked enqueued")
	}
	if slices.Contains(st.marked, 1200) || len(st.marked) != 1499 {
		t.Errorf("marked %d ids (1200 among them: %v), want the other 1499", len(st.marked), slices.Contains(st.marked, 1200))
	}
	// The next pass picks up only the one left behind.
	q.fail = nil
	q.ids = nil
	if n, err := d.Dispatch(t.Context()); err != nil || n != 1 || !slices.Equal(q.ids, []int64{1200}) {
		t.Errorf("next Dispatch = %d, %v, enqueued %v; want [1200]", n, err, q.ids)
	}
}

// TestDispatcherSkipsUnreadable: rows the outbox cannot read are skipped and
// logged once each, by id, however many runs read them again; the others
// are enqueued, even behind a full page of unreadable rows.
func TestDispatcherSkipsUnreadable(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		rows int
		bad  func(id int64) bool
	}{
		{"two among 1500", 1500, func(id int64) bool { return id == 5 || id == 1200 }},
		{"a page of them first", 2100, func(id int64) bool { return id <= 1000 }},
		{"every other one", 2500, func(id int64) bool { return id%2 == 0 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := &memDispatch{bad: map[int64]bool{}}
			var want, bad []int64
			for id := int64(1); id <= int64(c.rows); id++ {
				st.rows = append(st.rows, dvcwatch.Notification{ID: id})
				if c.bad(id) {
					st.bad[id] = true
					bad = append(bad, id)
				} else {
					want = append(want, id)
				}
			}
			var logs bytes.Buffer
			q := &queue{}
			d := &Dispatcher{Store: st, Enqueue: q.enqueue, Clock: clock.Func(func() time.Time { return deliverNow }),
				Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			for run := range 3 {
				q.ids = nil
				n, err := d.Dispatch(t.Context())
				wantN := map[bool]int{true: len(want), false: 0}[run == 0]
				if err != nil || n != wantN || len(q.ids) != wantN {
					t.Fatalf("run %d: Dispatch = %d, %v, enqueued %d; want %d", run, n, err, len(q.ids), wantN)
				}
				if run == 0 && !slices.Equal(q.ids, want) {
					t.Errorf("enqueued %d ids, want the %d readable ones once each", len(q.ids), len(want))
				}
			}
			if got := strings.Count(logs.String(), "cannot be read"); got != len(bad) {
				t.Errorf("%d log lines of unreadable rows over 3 runs, want one per row (%d)", got, len(bad))
			}
			if !strings.Contains(logs.String(), fmt.Sprintf("notification=%d ", bad[0])) {
				t.Errorf("the log does not name row %d:\n%.500s", bad[0], logs.String())
			}
			// /metrics counts them until they are repaired.
			if got := d.Unreadable(); got != len(bad) {
				t.Errorf("Unreadable() = %d, want %d", got, len(bad))
			}
			st.mu.Lock()
			st.bad = map[int64]bool{}
			st.mu.Unlock()
			q.ids = nil
			if n, err := d.Dispatch(t.Context()); err != nil || n != len(bad) {
				t.Errorf("Dispatch after the repair = %d, %v; want the %d repaired rows", n, err, len(bad))
			}
			if got := d.Unreadable(); got != 0 {
				t.Errorf("Unreadable() after the repair = %d, want 0", got)
			}
		})
	}
}
