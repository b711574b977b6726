package admin_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/dvcwatch/dvcwatch/admin"
)

// The fuzz targets call the real handler, over the same SQLite store,
// miniredis and scheduler as the API's tests, without a connection: a
// panic reaches the fuzzer instead of net/http's recovery. Failed logins
// are not throttled, or the first wrong tokens would answer every later
// input 429 and nothing behind the login would be reached.
func fuzzSetup(f *testing.F) *apiBundle {
	b := apiSetup(f, func(o *admin.Options) { o.LoginFailures = 1 << 30 })
	if id := b.breach(f); id != 1 {
		f.Fatalf("the breach is %d, want 1 as fuzzBodies has it", id)
	}
	return b
}

// fuzzServe sends one request as the administrator (every route allowed)
// and fails on a 5xx, or an error answer that is not the API's JSON.
func fuzzServe(t *testing.T, h http.Handler, req *http.Request) {
	req.RemoteAddr = "192.0.2.1:40000"
	req.Header.Set("Authorization", "Bearer "+apiAdminToken)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code >= 500 {
		t.Fatalf("%s %s: %d %s", req.Method, req.URL, w.Code, w.Body)
	}
	if w.Code >= 400 {
		var e admin.ErrorBody
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" {
			t.Fatalf("%s %s: %d with %q, want the API's error body", req.Method, req.URL, w.Code, w.Body)
		}
	}
}

// fuzzBodies are the routes that read a JSON body, with a body each
// accepts; the acknowledgement's is of the breach fuzzSetup records.
var fuzzBodies = []struct{ method, path, body string }{
	{"POST", "/api/v1/session", `{"token":"` + apiViewerToken + `"}`},
	{"PUT", "/api/v1/schedules/sync", `{"cron":"30 3 * * 1"}`},
	{"POST", "/api/v1/silences", `{"matchers":{"kind":"portal_mismatch"},"duration":"72h","reason":"Cổng DVCQG bảo trì"}`},
	{"POST", "/api/v1/breaches/1/ack", `{"official":"binh","reason":"chờ thẩm định"}`},
	{"POST", "/api/v1/jobs/detect@1/retry", `{}`},
}

// FuzzAPIBody: whatever body reaches a route that reads one, under any
// Content-Type, the answer is 2xx or 4xx, never a 5xx or a panic.
func FuzzAPIBody(f *testing.F) {
	b := fuzzSetup(f)
	for i, r := range fuzzBodies {
		for _, body := range []string{r.body, r.body + r.body, `{"cron":"TZ="}`, `{"matchers":{"":""},"duration":"-1ns"}`,
			`{"official":"` + string(bytes.Repeat([]byte("x"), 70000)) + `"}`, `[]`, `null`, "{\"reason\":\"\xff\"}"} {
			f.Add(uint8(i), "application/json", []byte(body))
		}
		f.Add(uint8(i), "text/plain", []byte(r.body))
	}
	f.Fuzz(func(t *testing.T, route uint8, ctype string, body []byte) {
		r := fuzzBodies[int(route)%len(fuzzBodies)]
		req := httptest.NewRequest(r.method, r.path, bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		fuzzServe(t, b.h, req)
	})
}

// fuzzLists are the routes that read a query string.
var fuzzLists = []string{
	"/api/v1/notifications", "/api/v1/breaches", "/api/v1/silences", "/api/v1/jobs", "/api/v1/jobs/failed",
	"/api/v1/jobs/runs", "/api/v1/dossiers", "/api/v1/report", "/api/v1/report/trend", "/api/v1/report/dossiers",
	"/api/v1/report.xlsx", "/api/v1/dashboard",
}

// FuzzAPIQuery: whatever query string reaches a list (its filters, sorts
// and cursors) or the report, the answer is 2xx or 4xx, never a 5xx or a
// panic.
func FuzzAPIQuery(f *testing.F) {
	b := fuzzSetup(f)
	for i := range fuzzLists {
		for _, q := range []string{"", "limit=2", "limit=-1", "limit=99999999999999999999", "cursor=AAAA", "cursor=%ff%fe",
			"sort=-due&official=binh", "all=1&all=2", "state=archived", "job=sync&status=failed", "code=HS-001",
			"month=2026-11&agency=A", "year=2026&month=11&agency=A", "month=2026-11&agency=A&measure=received&level=department",
			"month=0000-00", "since=2026-13-45T99:99:99Z", "kind=overdue&severity=critical&open=1"} {
			f.Add(uint8(i), q)
		}
	}
	f.Fuzz(func(t *testing.T, route uint8, query string) {
		req := httptest.NewRequest("GET", fuzzLists[int(route)%len(fuzzLists)], nil)
		req.URL.RawQuery = query
		fuzzServe(t, b.h, req)
	})
}
