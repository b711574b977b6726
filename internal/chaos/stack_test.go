//go:build chaos

package chaos

import (
	"bufio"
	"bytes"
	"cmp"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/dvcwatch/dvcwatch/connectors/onestop"
	"github.com/dvcwatch/dvcwatch/internal/e2e"
	"github.com/dvcwatch/dvcwatch/internal/mailcatch"
	"github.com/dvcwatch/dvcwatch/internal/portalsim"
	"github.com/dvcwatch/dvcwatch/internal/redistest"
	"github.com/dvcwatch/dvcwatch/jobs"
	_ "github.com/dvcwatch/dvcwatch/store" // the pgx driver
)

// The stack's settings. smtp.timeout is the 10 s, which the slow
// server's 12 s outlasts; smtp.data_timeout, the wait for the reply to the
// end of a message, is 20 s rather than production's 10 minutes: past the
// slow server's 12 s, and it keeps the claim of a delivery whose replica was
// killed (2 × (data_timeout + 12 × timeout), see notify.ClaimStale) under 5
// minutes instead of 28, so that the suite fits CI. The schedules are short
// so that a case is seconds of work, not minutes.
const (
	token           = "0123456789abcdef"
	smtpTimeout     = "10s"
	smtpDataTimeout = "20s"
	dossiers        = 4000
)

// stack is everything the suite starts, on loopback.
type stack struct {
	pg    *cluster
	redis *redistest.Server
	sim   *portalsim.Sim
	mail  *mailcatch.Catcher
	bin   string
	// replicas are the two serve processes; a killed one is replaced in
	// place, on the same admin port and configuration.
	replicas  [2]*e2e.Serve
	ports     [2]int
	configs   [2]string
	started   [2]int       // processes started per replica, for their names
	startedAt [2]time.Time // when the running process of each was started
	sql       *sql.DB      // the test's reads of the store
}

func startStack(t *testing.T) *stack {
	t.Helper()
	s := &stack{bin: e2e.Build(t)}
	s.pg = startCluster(t, e2e.FreePort(t))
	s.redis = redistest.Start(t, "appendonly yes") // fsync every second, Redis's default
	// The simulated time starts days in the past and each case advances it
	// towards now: serve judges dossiers by the wall clock, so what the
	// simulator reports must never be in the future. The cases use 8–10
	// days of it.
	s.sim = portalsim.New(portalsim.Options{Seed: 14, Dossiers: dossiers, HistoryDays: 30,
		Start: time.Now().Add(-21 * 24 * time.Hour).Truncate(time.Minute)})
	srv := httptest.NewServer(s.sim.Handler())
	t.Cleanup(func() { srv.Close(); s.sim.Close() })
	s.mail = e2e.StartMail(t, "127.0.0.1:0")
	for i := range s.replicas {
		s.ports[i] = e2e.FreePort(t)
		s.configs[i] = e2e.WriteConfig(t, s.sim, e2e.Setup{
			DSN: s.pg.dsn(), SimURL: srv.URL, RedisAddr: s.redis.Addr, SMTPPort: s.mail.Port(), PageSize: 100,
			ConnectorTimeout: "5s", // a hung portal request (a fault) is given up after 5 s
			Schedules: `  - {name: sync, cron: "@every 2s", job: sync, connector: onestop}
  - {name: detect, cron: "@every 3s", job: detect}
  - {name: dispatch, cron: "@every 5s", job: notify}
`,
			SMTPTimeout: smtpTimeout, SMTPDataTimeout: smtpDataTimeout, Admin: fmt.Sprintf("  listen: 127.0.0.1:%d\n", s.ports[i]), Token: token,
			Shutdown: "25s", LogLevel: "info", LogFmt: "json",
		})
	}
	s.replicas[0] = s.start(t, 0)
	s.replicas[0].WaitReady(t) // the first one migrates the database alone
	s.replicas[1] = s.start(t, 1)
	s.replicas[1].WaitReady(t)
	var err error
	if s.sql, err = sql.Open("pgx", s.pg.dsn()); err != nil {
		t.Fatal(err)
	}
	// A connection per query: a pooled one outlives the server restarts the
	// cases cause, and its next query fails (the driver pings a pooled
	// connection before reuse only after a second idle), which would fail
	// the measurement instead of the stack.
	s.sql.SetMaxIdleConns(0)
	t.Cleanup(func() { s.sql.Close() })
	return s
}

// start starts replica i (named a or b, with a generation number once restarted).
func (s *stack) start(t *testing.T, i int) *e2e.Serve {
	t.Helper()
	s.started[i]++
	s.startedAt[i] = time.Now()
	name := fmt.Sprintf("%c%d", 'a'+i, s.started[i])
	return e2e.StartServe(t, s.bin, name, s.configs[i], s.ports[i])
}

// kill SIGKILLs replica i and starts its replacement at once.
func (s *stack) kill(t *testing.T, i int) {
	t.Helper()
	s.replicas[i].Kill(t)
	s.replicas[i] = s.start(t, i)
}

// ensureUp starts any replica that is not running (a case that failed
// half-way leaves the stack whole for the next).
func (s *stack) ensureUp(t *testing.T) {
	t.Helper()
	for i, p := range s.replicas {
		if p.Exited() {
			s.replicas[i] = s.start(t, i)
		}
	}
	for _, p := range s.replicas {
		p.WaitReady(t)
	}
}

// redisClient is a client of the suite's Redis.
func (s *stack) redisClient() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: s.redis.Addr})
}

// activeIDs returns the ids of the tasks of type typ running now. asynq
// moves a task to the active list as a worker takes it, so this is current,
// unlike the servers' heartbeats.
func (s *stack) activeIDs(t *testing.T, typ string) []string {
	t.Helper()
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: s.redis.Addr})
	defer insp.Close()
	var ids []string
	for _, q := range jobs.Queues() {
		tasks, err := insp.ListActiveTasks(q, asynq.PageSize(100))
		if err != nil {
			continue // the queue does not exist yet, or Redis is restarting
		}
		for _, task := range tasks {
			if task.Type == typ {
				ids = append(ids, task.ID)
			}
		}
	}
	return ids
}

// queued counts the tasks of type typ waiting, running or due for a retry.
func (s *stack) queued(t *testing.T, typ string) int {
	return e2e.Queued(t, asynq.RedisClientOpt{Addr: s.redis.Addr}, typ)
}

// api calls the admin API of replica a as the administrator.
func (s *stack) api(t *testing.T, method, path string) {
	t.Helper()
	req, err := http.NewRequest(method, s.replicas[0].Admin+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s", method, path, resp.Status)
	}
}

// truth compares the stored one-stop dossiers with the simulator's ground
// truth, field by field: dossiers missing from the store, stored but not in
// the simulator, and stored with a field that differs.
type truth struct{ missing, extra, mismatched int }

func (s *stack) truth(t *testing.T) (truth, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := s.sim.WriteState(&buf, portalsim.OneStop); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		d, _, err := onestop.Decode("onestop", sc.Bytes())
		if err != nil {
			t.Fatalf("the simulator's state does not decode: %v", err)
		}
		want[d.Key.Code] = fields(int(d.Status), d.RawStatus, d.ReceiptNo, d.ProcedureCode, d.Agency,
			d.ReceivedAt, d.DueAt, d.ProcessedAt, d.ReturnedAt, d.RefusedAt, d.SourceUpdatedAt)
	}
	rows, err := s.sql.Query(`SELECT code, status, raw_status, receipt_no, procedure_code, agency,
		received_at, due_at, processed_at, returned_at, refused_at, source_updated_at
		FROM dossiers WHERE source = 'onestop'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var r truth
	var first string
	seen := map[string]bool{}
	for rows.Next() {
		var code, raw, receipt, proc, agency string
		var status int
		var ts [6]sql.NullTime
		if err := rows.Scan(&code, &status, &raw, &receipt, &proc, &agency, &ts[0], &ts[1], &ts[2], &ts[3], &ts[4], &ts[5]); err != nil {
			t.Fatal(err)
		}
		seen[code] = true
		var tv [6]time.Time
		for i, v := range ts {
			tv[i] = v.Time
		}
		got := fields(status, raw, receipt, proc, agency, tv[0], tv[1], tv[2], tv[3], tv[4], tv[5])
		w, ok := want[code]
		switch {
		case !ok:
			r.extra++
			first = cmp.Or(first, "stored but not in the simulator: "+code)
		case w != got:
			r.mismatched++
			first = cmp.Or(first, fmt.Sprintf("%s: stored %s, the simulator has %s", code, got, w))
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for code := range want {
		if !seen[code] {
			r.missing++
			first = cmp.Or(first, "missing from the store: "+code)
		}
	}
	return r, first
}

// fields writes a dossier's compared fields in one string, times as UTC
// instants to the microsecond (what PostgreSQL keeps).
func fields(status any, text ...any) string {
	var b strings.Builder
	fmt.Fprint(&b, status)
	for _, v := range text {
		if tv, ok := v.(time.Time); ok {
			v = "-"
			if !tv.IsZero() {
				v = tv.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)
			}
		}
		fmt.Fprintf(&b, "|%v", v)
	}
	return b.String()
}

// duplicateEvents counts status events recorded twice: the same change of
// the same dossier at the same time.
func (s *stack) duplicateEvents(t *testing.T) int {
	t.Helper()
	var n int
	err := s.sql.QueryRow(`SELECT count(*) FROM (SELECT 1 FROM status_events
		GROUP BY source, code, from_status, to_status, changed_at HAVING count(*) > 1) d`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// maxNotification is the newest outbox row's id.
func (s *stack) maxNotification(t *testing.T) int64 {
	t.Helper()
	var id sql.NullInt64
	if err := s.sql.QueryRow(`SELECT max(id) FROM notifications`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id.Int64
}

// row is an outbox row as the suite sees it.
type row struct {
	id           int64
	messageID    string
	sent, failed bool
	attempts     int
	lastError    string
}

// rowsAfter returns the outbox rows newer than id; nil while the database is
// unreachable.
func (s *stack) rowsAfter(id int64) ([]row, error) {
	rs, err := s.sql.Query(`SELECT id, message_id, sent_at IS NOT NULL, failed_at IS NOT NULL, attempts, last_error
		FROM notifications WHERE id > $1 ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.id, &r.messageID, &r.sent, &r.failed, &r.attempts, &r.lastError); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

// copies counts the messages the mail server accepted by Message-ID (the
// outbox row's, without the domain part the sender adds).
func (s *stack) copies() map[string][]mailcatch.Message {
	out := map[string][]mailcatch.Message{}
	for _, m := range s.mail.Messages() {
		id := strings.Trim(m.Header.Get("Message-Id"), "<>")
		id, _, _ = strings.Cut(id, "@")
		out[id] = append(out[id], m)
	}
	return out
}
