package worker_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/detect"
	"github.com/dvcwatch/dvcwatch/notify/acklink"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
	"github.com/dvcwatch/dvcwatch/worker"
)

// TestAckLinkServed runs a worker configured with acknowledge links and
// opens one the way the composer makes them: the admin server answers it
// with the official named from the configuration, and its form records the
// acknowledgement in the worker's store.
func TestAckLinkServed(t *testing.T) {
	t.Setenv("DVCWATCH_TEST_ACK_KEY", "worker-ack-key-0123456789abcdef0123")
	cfg, err := config.Parse([]byte(`
database: {driver: sqlite, dsn: unused}
redis: {embedded: true}
agencies:
  - code: UBND-XA-01
    name: UBND xã Hòa Bình
    departments:
      - {code: TP, name: Tư pháp, head: lan}
    officials:
      - {id: binh, name: Nguyễn Thị Bình, email: binh@hoabinh.example, department: TP}
      - {id: lan, name: Trần Văn Lân, email: lan@hoabinh.example, role: department_head, department: TP}
      - {id: vp, name: Văn phòng, email: vp@hoabinh.example, role: office}
notify:
  ack_key: ${DVCWATCH_TEST_ACK_KEY}
smtp: {host: 127.0.0.1, port: 2525, from: canhbao@hoabinh.example, tls: none, timeout: 2s}
admin:
  public_url: https://canhbao.hoabinh.example
  tokens:
    - {name: ops, role: admin, token: 0123456789abcdef}
shutdown_timeout: 3s
`), "ack.yaml")
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.SQLite(t)
	ctx := context.Background()
	at := time.Now().Add(-time.Hour)
	key := dvcwatch.DossierKey{Source: "onestop", Code: "000.00.12.H41-260302-0001"}
	if _, err := db.ApplyPage(ctx, store.Page{Source: "onestop", Dossiers: []dvcwatch.Dossier{{Key: key, Agency: "UBND-XA-01",
		Status: dvcwatch.StatusInProgress, RawStatus: "4", ReceivedAt: at.AddDate(0, 0, -10), DueAt: at.AddDate(0, 0, -1),
		SourceUpdatedAt: at}}}); err != nil {
		t.Fatal(err)
	}
	br := dvcwatch.Breach{Kind: dvcwatch.BreachOverdue, Key: key, Official: "binh", Department: "TP",
		Severity: dvcwatch.SeverityWarning, StartedAt: at, DueAt: at}
	tell := func(_ time.Time, open []dvcwatch.BreachState) []dvcwatch.AlertIntent {
		return []dvcwatch.AlertIntent{{BreachID: open[0].ID, Recipient: "binh", Role: dvcwatch.RoleOfficial,
			Severity: open[0].Severity, Reason: dvcwatch.AlertNew}}
	}
	if _, err := detect.RecordPage(ctx, detect.TxOf(db.InTx), detect.Page{Now: at, Plan: tell,
		Dossiers: []dvcwatch.Evaluation{{Key: key, Agency: "UBND-XA-01", Open: true, Breaches: []dvcwatch.Breach{br}}}}); err != nil {
		t.Fatal(err)
	}
	bs, err := db.Breaches(ctx, store.BreachFilter{})
	if err != nil || len(bs) != 1 {
		t.Fatalf("breaches %v, %v", bs, err)
	}

	rdb, err := worker.OpenRedis(cfg.Redis)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	svc, err := worker.New(cfg, db, slog.New(slog.DiscardHandler), worker.WithRedis(rdb))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- worker.RunWith(runCtx, svc, worker.RunOptions{AdminListener: ln}) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	}()

	links, err := acklink.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	link := links.Link("binh", []dvcwatch.BreachRef{{ID: bs[0].ID, Severity: bs[0].Severity}}, time.Now())
	path, ok := strings.CutPrefix(link, "https://canhbao.hoabinh.example")
	if !ok {
		t.Fatalf("link %q", link)
	}
	page := func(res *http.Response, err error) (int, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	base := "http://" + ln.Addr().String()
	var status int
	var body string
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, body = page(http.Get(base + path))
		if status == http.StatusOK || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if status != http.StatusOK || !strings.Contains(body, "Nguyễn Thị Bình") || !strings.Contains(body, key.Code) {
		t.Fatalf("GET the link: %d\n%s", status, body)
	}
	status, body = page(http.PostForm(base+path, url.Values{"reason": {"Đã biết"}}))
	if status != http.StatusOK || !strings.Contains(body, `data-page="recorded"`) {
		t.Fatalf("POST the link: %d\n%s", status, body)
	}
	rbs, err := db.RecipientBreaches(ctx, "binh", []int64{bs[0].ID})
	if err != nil || len(rbs) != 1 || rbs[0].Ack.Reason != "Đã biết" || rbs[0].Ack.Severity != dvcwatch.SeverityWarning {
		t.Errorf("after the POST: %+v, %v", rbs, err)
	}
}
