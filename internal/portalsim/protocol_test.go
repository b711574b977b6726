package portalsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Keyset paging visits every dossier exactly once, in (updated_at, code)
// order, and the pages' union is the ground truth; after the time advances,
// resuming from the last position brings exactly the changes.
func TestOneStopPaging(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Seed: 21, Dossiers: 800})
	c := b.client(t, 5*time.Second)
	seen := map[string]bool{}
	var cur osCursor
	var prev osCursor
	pages := 0
	for {
		page, err := c.osPage(cur, 97)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page.Items) > 97 || (page.Next != nil && len(page.Items) != 97) {
			t.Fatalf("page %d: %d items, next %v", pages, len(page.Items), page.Next)
		}
		for _, raw := range page.Items {
			var k osKey
			if err := json.Unmarshal(raw, &k); err != nil {
				t.Fatal(err)
			}
			key := osCursor{k.UpdatedAt, k.Code}
			if seen[k.Code] {
				t.Fatalf("%s served twice", k.Code)
			}
			seen[k.Code] = true
			if prev.UpdatedAfter != "" && !keyLess(prev, key) {
				t.Fatalf("%v served after %v", key, prev)
			}
			prev = key
		}
		if page.Next == nil {
			break
		}
		if *page.Next != prev {
			t.Fatalf("next %v, want the last item's key %v", *page.Next, prev)
		}
		cur = *page.Next
	}
	state := b.state(t, OneStop)
	if len(seen) != len(state) || pages != (len(state)+96)/97 {
		t.Fatalf("paged %d dossiers in %d pages; state has %d", len(seen), pages, len(state))
	}

	store := map[string]string{}
	var pos osCursor
	c.syncOneStop(&pos, store, 500)
	sameState(t, "full sync", store, state)
	for _, minutes := range []int{45, 8 * 60, 3 * 24 * 60} {
		res := b.advance(t, minutes)
		before := len(store)
		pages := c.syncOneStop(&pos, store, 500)
		sameState(t, "after advancing", store, b.state(t, OneStop))
		if len(store)-before != res.Arrived {
			t.Errorf("advance said %d arrived, the client got %d new", res.Arrived, len(store)-before)
		}
		t.Logf("+%d min: %d changed, %d arrived, %d pages", minutes, res.Changed, res.Arrived, pages)
	}

	// Bad parameters.
	for _, q := range []string{"limit=0", "limit=1001", "limit=x", "updated_after=yesterday"} {
		resp, data := b.do(t, "GET", "/api/v1/dossiers?"+q, nil, "Authorization", "Bearer "+c.token)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(data), "invalid_request") {
			t.Errorf("%s: %s %s, want 400 invalid_request", q, resp.Status, data)
		}
	}
}

func TestOneStopLookup(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Seed: 22})
	c := b.client(t, 5*time.Second)
	if err := c.osLogin(); err != nil {
		t.Fatal(err)
	}
	auth := []string{"Authorization", "Bearer " + c.token}
	n := 0
	for code, line := range b.state(t, OneStop) {
		resp, data := b.do(t, "GET", "/api/v1/dossiers/"+code, nil, auth...)
		if resp.StatusCode != http.StatusOK || string(data) != line {
			t.Fatalf("GET %s: %s\n%s\nwant %s", code, resp.Status, data, line)
		}
		if n++; n == 20 {
			break
		}
	}
	// Not yet received, never issued, or not a code at all.
	v := b.sim.view()
	future := b.sim.g.code(uint64(v.n + 5))
	for _, code := range []string{future, "H99.31-261124-9999", "nonsense"} {
		resp, data := b.do(t, "GET", "/api/v1/dossiers/"+code, nil, auth...)
		if resp.StatusCode != http.StatusNotFound || string(data) != `{"error":"not_found"}` {
			t.Errorf("GET %s: %s %s, want 404 not_found", code, resp.Status, data)
		}
	}
}

// Windows over the DVCQG update time, narrowed on 413, union to the ground truth.
func TestDVCQGWindows(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Seed: 31, Dossiers: 800, MaxWindowRecords: 60})
	c := b.client(t, 5*time.Second)
	store := map[string]string{}
	from := testStart.AddDate(0, 0, -100)
	tooMany := c.syncDVCQG(&from, store, 30*24*time.Hour)
	if tooMany == 0 {
		t.Error("no window was answered 413")
	}
	state := b.state(t, DVCQG)
	sameState(t, "DVCQG windows", store, state)
	if os := b.state(t, OneStop); len(state) >= len(os) {
		t.Errorf("DVCQG has %d dossiers, the one-stop system %d: some should be missing", len(state), len(os))
	}
	for _, minutes := range []int{30, 26 * 60} {
		b.advance(t, minutes)
		c.syncDVCQG(&from, store, 24*time.Hour)
		sameState(t, "DVCQG windows after advancing", store, b.state(t, DVCQG))
	}
	if c.met["error_code_number"] == 0 || c.met["error_code_string"] == 0 {
		t.Errorf("error_code forms met: %v; want both numbers and strings", c.met)
	}

	// Lookups agree with the state; a dossier missing on DVCQG is not found.
	osState := b.state(t, OneStop)
	missing := ""
	for code := range osState {
		if _, ok := store[code]; !ok {
			missing = code
			break
		}
	}
	n := 0
	for code, line := range store {
		codeStr, result, _, err := c.dvCall("TraCuuHoSo", map[string]string{"mahoso": code})
		if err != nil || !ok(codeStr) || string(result) != line {
			t.Fatalf("TraCuuHoSo %s: %v %s %s\nwant %s", code, err, codeStr, result, line)
		}
		if n++; n == 10 {
			break
		}
	}
	if code, _, _, err := c.dvCall("TraCuuHoSo", map[string]string{"mahoso": missing}); err != nil || code != "404" {
		t.Errorf("TraCuuHoSo of %s, missing on DVCQG: %q %v, want 404", missing, code, err)
	}
	if !strings.Contains(osState[missing], `"synced_to_dvcqg":false`) && !strings.Contains(osState[missing], `"status":1`) {
		t.Errorf("%s is missing on DVCQG, yet the one-stop record says it was synced: %s", missing, osState[missing])
	}

	// Bad requests.
	for _, args := range []map[string]string{
		{"ngayNhan1": "2026-11-01", "ngayNhan2": "20261124000000"},
		{"ngayNhan1": "20261101000000"},
	} {
		if code, _, _, err := c.dvCall("DanhSachHoSo", args); err != nil || code != "400" {
			t.Errorf("DanhSachHoSo %v: %q %v, want 400", args, code, err)
		}
	}
	if code, _, _, _ := c.dvCall("LayDanhMucCoQuan", nil); code != "400" {
		t.Errorf("unknown service: %q, want 400", code)
	}
}

func TestSessions(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Seed: 41, SessionTTL: 10 * time.Minute})
	good := map[string]string{"username": DefaultUsername, "password": DefaultPassword}
	bad := map[string]string{"username": DefaultUsername, "password": "wrong"}

	// DVCQG: errors are HTTP 200 with an error_code.
	dvLogin := func(body any, dstcode string) dvReplyIn {
		t.Helper()
		resp, data := b.do(t, "POST", "/api/auth", body, "dstcode", dstcode)
		var r dvReplyIn
		if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &r) != nil {
			t.Fatalf("login: %s %s", resp.Status, data)
		}
		return r
	}
	met := map[string]int{}
	if r := dvLogin(bad, DefaultAgencyCode); r.code(met) != "401" || r.Message != "Sai tên đăng nhập hoặc mật khẩu" || r.Session != "" {
		t.Errorf("bad password: %+v", r)
	}
	if r := dvLogin(good, "000.00.00.H01"); r.code(met) != "403" {
		t.Errorf("another agency's dstcode: %+v", r)
	}
	r := dvLogin(good, DefaultAgencyCode)
	if !ok(r.code(met)) || r.Message != "Thành công" || len(r.Session) < 32 {
		t.Fatalf("login: %+v", r)
	}
	dvList := func(session, madonvi string) (string, string) {
		t.Helper()
		_, data := b.do(t, "POST", "/api/service", map[string]string{"session": session, "madonvi": madonvi,
			"service": "DanhSachHoSo", "ngayNhan1": "20261124000000", "ngayNhan2": "20261124090000"})
		var r dvReplyIn
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatalf("service: %s", data)
		}
		return r.code(met), r.Message
	}
	if code, _ := dvList(r.Session, DefaultAgencyCode); !ok(code) {
		t.Fatalf("list with a fresh session: %s", code)
	}
	if code, _ := dvList(r.Session, "000.00.00.H01"); code != "403" {
		t.Errorf("list for another agency: %s, want 403", code)
	}
	if code, msg := dvList("forged", DefaultAgencyCode); code != "401" || msg != "Phiên làm việc hết hạn" {
		t.Errorf("unknown session: %s %q", code, msg)
	}

	// One-stop: errors are HTTP statuses.
	resp, data := b.do(t, "POST", "/api/v1/auth/token", bad)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(data), `"error":"invalid_credentials"`) {
		t.Errorf("bad password: %s %s", resp.Status, data)
	}
	c := b.client(t, 5*time.Second)
	if err := c.osLogin(); err != nil {
		t.Fatal(err)
	}
	osGet := func(tok string) int {
		resp, data := b.do(t, "GET", "/api/v1/dossiers?limit=1", nil, "Authorization", "Bearer "+tok)
		if resp.StatusCode == http.StatusUnauthorized && string(data) != `{"error":"invalid_token"}` {
			t.Errorf("401 body %s", data)
		}
		return resp.StatusCode
	}
	if st := osGet(c.token); st != http.StatusOK {
		t.Fatalf("list with a fresh token: %d", st)
	}
	if st := osGet("forged"); st != http.StatusUnauthorized {
		t.Errorf("forged token: %d", st)
	}
	if st := osGet(r.Session); st != http.StatusUnauthorized {
		t.Errorf("a DVCQG session used as a bearer token: %d", st)
	}

	// Wall time expires both; simulated time does not.
	b.advance(t, 24*60)
	b.wall.Advance(9 * time.Minute)
	if code, _ := dvList(r.Session, DefaultAgencyCode); !ok(code) {
		t.Errorf("session expired before its TTL: %s", code)
	}
	b.wall.Advance(time.Minute)
	if code, _ := dvList(r.Session, DefaultAgencyCode); code != "401" {
		t.Errorf("session outlived its TTL: %s", code)
	}
	if st := osGet(c.token); st != http.StatusUnauthorized {
		t.Errorf("token outlived its TTL: %d", st)
	}

	// expire_sessions invalidates everything now, and is not kept.
	r = dvLogin(good, DefaultAgencyCode)
	if err := c.osLogin(); err != nil {
		t.Fatal(err)
	}
	b.setFaults(t, Faults{ExpireSessions: true})
	if code, _ := dvList(r.Session, DefaultAgencyCode); code != "401" {
		t.Errorf("session survived expire_sessions: %s", code)
	}
	if st := osGet(c.token); st != http.StatusUnauthorized {
		t.Errorf("token survived expire_sessions: %d", st)
	}
	var f Faults
	getJSON(t, b, "/sim/faults", &f)
	if f.ExpireSessions {
		t.Error("GET /sim/faults still shows expire_sessions")
	}
	var st Stats
	getJSON(t, b, "/sim/stats", &st)
	if st.Faults["expire_sessions"] != 1 {
		t.Errorf("stats faults %v: want expire_sessions 1", st.Faults)
	}
}

func TestSimControls(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Seed: 51})
	for _, c := range []struct {
		method, path string
		body         any
		status       int
	}{
		{"POST", "/sim/advance?minutes=0", nil, http.StatusBadRequest},
		{"POST", "/sim/advance", nil, http.StatusBadRequest},
		{"POST", "/sim/advance?minutes=99999999", nil, http.StatusConflict},
		{"GET", "/sim/state?portal=x", nil, http.StatusBadRequest},
		{"POST", "/sim/faults", map[string]any{"eror_rate": 0.1}, http.StatusBadRequest},
		{"POST", "/sim/faults", map[string]any{"error_rate": 2}, http.StatusBadRequest},
		{"POST", "/sim/faults", map[string]any{"out_of_order": true}, http.StatusOK},
	} {
		if resp, data := b.do(t, c.method, c.path, c.body); resp.StatusCode != c.status {
			t.Errorf("%s %s %v: %s %s, want %d", c.method, c.path, c.body, resp.Status, data, c.status)
		}
	}
	var f Faults
	getJSON(t, b, "/sim/faults", &f)
	if f.OutOfOrder != 1 || f.DVCQGMissingRate != 0 || f.RetryAfter != 0 {
		t.Errorf("faults after POST {out_of_order: true}: %+v", f)
	}
	var d struct {
		Agency    map[string]string `json:"agency"`
		Officials []struct {
			ID, Role, Department string
		} `json:"officials"`
		Procedures []struct {
			Code, Limit string
		} `json:"procedures"`
	}
	getJSON(t, b, "/sim/directory", &d)
	if d.Agency["code"] != DefaultAgencyCode || len(d.Officials) < 10 || len(d.Procedures) < 10 || d.Procedures[0].Limit == "" {
		t.Errorf("directory: %+v", d)
	}
	// Setting the DVCQG rates to zero makes the national copy complete and current.
	b.setFaults(t, Faults{})
	os, dv := b.state(t, OneStop), b.state(t, DVCQG)
	if len(os) != len(dv) {
		t.Errorf("with no DVCQG faults: %d one-stop dossiers, %d on DVCQG", len(os), len(dv))
	}
	for code, line := range os {
		var a osItem
		var r struct{ TrangThaiHoSo int }
		_ = json.Unmarshal([]byte(line), &a)
		_ = json.Unmarshal([]byte(dv[code]), &r)
		if a.Status != r.TrangThaiHoSo {
			t.Fatalf("%s: status %d on the one-stop system, %d on DVCQG", code, a.Status, r.TrangThaiHoSo)
		}
	}
}

// A simulator in another process gives the same configuration as one in
// this process: the soak benchmark configures dvcwatch from /sim/directory.
func TestDecodeDirectory(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Seed: 52})
	resp, data := b.do(t, "GET", "/sim/directory", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /sim/directory: %s %s", resp.Status, data)
	}
	got, err := DecodeDirectory(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	gotYAML, err := got.ConfigYAML()
	if err != nil {
		t.Fatal(err)
	}
	wantYAML, err := b.sim.Directory().ConfigYAML()
	if err != nil {
		t.Fatal(err)
	}
	if gotYAML != wantYAML {
		t.Errorf("configuration from the decoded directory:\n%s\nwant:\n%s", gotYAML, wantYAML)
	}
}
