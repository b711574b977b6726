package portalsim

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/sla"
)

// Handler returns the simulator's HTTP API: both portals' protocols under
// /api/, and the simulator's own controls under /sim/. Every reply's Date
// header is the simulated time.
//
// DVCQG: POST /api/auth, POST /api/service (DanhSachHoSo, TraCuuHoSo).
// One-stop: POST /api/v1/auth/token, GET /api/v1/dossiers, GET /api/v1/dossiers/{code}.
// Controls: POST /sim/advance?minutes=N, GET /sim/state?portal=onestop|dvcqg,
// GET /sim/stats[?census=1], GET and POST /sim/faults, GET /sim/directory.
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/auth", s.api(reqDVCQGAuth, DVCQG, s.dvAuth))
	mux.HandleFunc("POST /api/service", s.api(reqDVCQGService, DVCQG, s.dvService))
	mux.HandleFunc("POST /api/v1/auth/token", s.api(reqOneStopToken, OneStop, s.osToken))
	mux.HandleFunc("GET /api/v1/dossiers", s.api(reqOneStopList, OneStop, s.osList))
	mux.HandleFunc("GET /api/v1/dossiers/{code}", s.api(reqOneStopGet, OneStop, s.osGet))
	mux.HandleFunc("POST /sim/advance", s.simAdvance)
	mux.HandleFunc("GET /sim/state", s.simState)
	mux.HandleFunc("GET /sim/stats", s.simStats)
	mux.HandleFunc("GET /sim/faults", s.simFaultsGet)
	mux.HandleFunc("POST /sim/faults", s.simFaultsSet)
	mux.HandleFunc("GET /sim/directory", s.simDirectory)
	return s.logged(mux)
}

// recorder sets the Date header to the simulated time before anything is
// written, and remembers the status for the log.
type recorder struct {
	http.ResponseWriter
	s      *Sim
	status int
	fault  string
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		if w.Header().Get("Date") == "" {
			w.Header().Set("Date", httpDate(w.s.view().now))
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func httpDate(t int64) string { return time.Unix(t, 0).UTC().Format(http.TimeFormat) }

// logged logs each request at debug level: never a body, a header or a token.
func (s *Sim) logged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w, s: s}
		start := time.Now()
		h.ServeHTTP(rec, r)
		if rec.status == 0 && r.Context().Err() == nil {
			rec.WriteHeader(http.StatusOK)
		}
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", rec.status),
			slog.Duration("took", time.Since(start)), slog.String("fault", rec.fault))
	})
}

// call is one API request as the fault layer saw it.
type call struct {
	n     uint64 // sequence number, keying every fault draw
	f     Faults
	fault string // transport fault drawn for it
	v     *view
	rec   *recorder
}

// reply is an API answer before the transport faults touch it.
type reply struct {
	status int
	body   []byte
	header map[string]string
}

func jsonReply(status int, v any) reply {
	b, err := json.Marshal(v)
	if err != nil {
		panic("portalsim: marshal reply: " + err.Error())
	}
	return reply{status: status, body: b}
}

// api wraps an endpoint with counting, latency and the transport faults.
func (s *Sim) api(kind string, p Portal, h func(*http.Request, *call) reply) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rec, _ := w.(*recorder)
		c := &call{n: s.seq.Add(1), f: s.Faults(), rec: rec}
		s.counts.request(kind)
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		if c.f.SlowMS > 0 && !s.wait(r.Context(), time.Duration(c.f.SlowMS)*time.Millisecond) {
			return
		}
		c.fault = s.transportFault(c.f, c.n)
		if rec != nil {
			rec.fault = c.fault
		}
		variant := hash64(s.g.seed, streamVariant, c.n)
		bom := unit(s.g.seed, streamBOM, c.n) < c.f.BOMRate
		send := func(rep reply) {
			if bom {
				// RFC 8259 §8.1 lets a parser ignore it; some gateways add it.
				s.counts.fault(faultBOM)
				rep.body = append([]byte("\uFEFF"), rep.body...)
			}
			writeReply(w, rep)
		}
		switch c.fault {
		case faultTimeout:
			s.counts.fault(faultTimeout)
			if s.wait(r.Context(), s.opts.Hang) {
				http.Error(w, "504 Gateway Time-out", http.StatusGatewayTimeout)
			}
			return
		case faultError:
			s.counts.fault(faultError)
			switch variant % 3 {
			case 0:
				send(errorReply(p, http.StatusInternalServerError))
			case 1:
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusBadGateway)
				fmt.Fprint(w, nginxPage("502 Bad Gateway"))
			default:
				http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
			}
			return
		case faultThrottle:
			s.counts.fault(faultThrottle)
			w.Header().Set("Retry-After", strconv.Itoa(c.f.RetryAfter))
			send(errorReply(p, http.StatusTooManyRequests))
			return
		case faultBusy:
			s.counts.fault(faultBusy)
			w.Header().Set("Retry-After", strconv.Itoa(c.f.RetryAfter))
			send(busyReply(p, variant))
			return
		}
		c.v = s.view()
		w.Header().Set("Date", httpDate(c.v.now))
		rep := h(r, c)
		switch c.fault {
		case faultMalformed:
			s.counts.fault(faultMalformed)
			if variant%2 == 0 {
				rep = reply{status: http.StatusOK, body: []byte(nginxPage("Hệ thống đang bảo trì")), header: map[string]string{"Content-Type": "text/html"}}
			} else {
				rep.body = bytes.Replace(rep.body, []byte(`":`), []byte(`"=`), 1)
			}
		case faultTruncated:
			s.counts.fault(faultTruncated)
			if n := len(rep.body); n > 1 {
				rep.body = rep.body[:1+int(variant%uint64(n-1))]
			}
		}
		send(rep)
	}
}

// busyReply is a portal saying, in a 200's body, that it is busy: DVCQG with
// error_code 503 or 429 (the HTTP statuses it writes its errors as), the
// one-stop system with OAuth 2.0's temporarily_unavailable.
func busyReply(p Portal, variant uint64) reply {
	if p == DVCQG {
		code := "503"
		if variant%2 == 1 {
			code = "429"
		}
		return dvError(code, "Hệ thống đang bận, vui lòng thử lại sau")
	}
	return jsonReply(http.StatusOK, osError{Error: "temporarily_unavailable", Message: "Hệ thống đang bận, vui lòng thử lại sau"})
}

func writeReply(w http.ResponseWriter, rep reply) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
}

func errorReply(p Portal, status int) reply {
	if p == DVCQG {
		msg := "Lỗi hệ thống, vui lòng thử lại sau"
		if status == http.StatusTooManyRequests {
			msg = "Vượt quá số lượng yêu cầu cho phép"
		}
		return jsonReply(status, dvReply{ErrorCode: strconv.Itoa(status), Message: msg})
	}
	if status == http.StatusTooManyRequests {
		return jsonReply(status, osError{Error: "rate_limited", Message: "too many requests"})
	}
	return jsonReply(status, osError{Error: "internal_error", Message: "internal server error"})
}

func nginxPage(title string) string {
	return "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title +
		"</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
}

// wait sleeps for d, or less if the client goes away or the simulator closes;
// it reports whether the full time passed.
func (s *Sim) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.closed:
	}
	return false
}

func (s *Sim) credentialsOK(user, pass string) bool {
	u := subtle.ConstantTimeCompare([]byte(user), []byte(s.opts.Username))
	p := subtle.ConstantTimeCompare([]byte(pass), []byte(s.opts.Password))
	return u&p == 1
}

// authorize checks a session or token, letting a session-expiry fault expire it.
func (s *Sim) authorize(p Portal, tok string, c *call) bool {
	expire := c.fault == faultSessionExpiry
	if tok == "" {
		return false
	}
	if err := s.sessions.check(p, tok, s.opts.Clock.Now(), false); err != nil {
		return false
	}
	if expire {
		_ = s.sessions.check(p, tok, s.opts.Clock.Now(), true)
		s.counts.fault(faultSessionExpiry)
		return false
	}
	return true
}

func decodeBody(r *http.Request, v any) error {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	return nil
}

// ---- Protocol A: the national portal (DVCQG) ----

type dvReply struct {
	ErrorCode any    `json:"error_code"`
	Message   string `json:"message"`
	Session   string `json:"session,omitempty"`
}

func dvError(code, msg string) reply {
	return jsonReply(http.StatusOK, dvReply{ErrorCode: code, Message: msg})
}

// successCode is how this reply writes success: both forms are seen in the wild.
func (s *Sim) successCode(n uint64) any {
	switch hash64(s.g.seed, streamVariant+100, n) % 3 {
	case 0:
		return 0
	case 1:
		return "00"
	}
	return "0"
}

// dvResult is a successful DVCQG reply carrying result, written by hand (see osList).
func (s *Sim) dvResult(c *call, result []byte) reply {
	code, _ := json.Marshal(s.successCode(c.n))
	b := append([]byte(`{"error_code":`), code...)
	b = append(b, `,"message":"","result":`...)
	b = append(append(b, result...), '}')
	return reply{status: http.StatusOK, body: b}
}

func (s *Sim) dvAuth(r *http.Request, c *call) reply {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := decodeBody(r, &in); err != nil {
		return dvError("400", "Dữ liệu yêu cầu không hợp lệ")
	}
	if r.Header.Get("dstcode") != s.opts.AgencyCode {
		return dvError("403", "Mã đơn vị không hợp lệ")
	}
	if !s.credentialsOK(in.Username, in.Password) {
		return dvError("401", "Sai tên đăng nhập hoặc mật khẩu")
	}
	tok := s.sessions.create(DVCQG, s.opts.Clock.Now(), s.opts.SessionTTL)
	return jsonReply(http.StatusOK, dvReply{ErrorCode: s.successCode(c.n), Message: "Thành công", Session: tok})
}

func (s *Sim) dvService(r *http.Request, c *call) reply {
	var in struct {
		Session   string `json:"session"`
		Madonvi   string `json:"madonvi"`
		Service   string `json:"service"`
		NgayNhan1 string `json:"ngayNhan1"`
		NgayNhan2 string `json:"ngayNhan2"`
		Mahoso    string `json:"mahoso"`
	}
	if err := decodeBody(r, &in); err != nil {
		return dvError("400", "Dữ liệu yêu cầu không hợp lệ")
	}
	if !s.authorize(DVCQG, in.Session, c) {
		return dvError("401", "Phiên làm việc hết hạn")
	}
	if in.Madonvi != s.opts.AgencyCode {
		return dvError("403", "Mã đơn vị không hợp lệ")
	}
	switch in.Service {
	case "DanhSachHoSo":
		return s.dvList(c, in.NgayNhan1, in.NgayNhan2)
	case "TraCuuHoSo":
		v := c.v
		if i, ok := s.g.index(in.Mahoso); ok && int(i) < v.n {
			var l life
			s.g.plan(i, v.dvr, &l)
			if asOf, updated, ok := l.dvAt(v.now); ok {
				return s.dvResult(c, s.g.appendDV(nil, &l, asOf, updated))
			}
		}
		return dvError("404", "Không tìm thấy hồ sơ")
	case "":
		return dvError("400", "Thiếu tham số service")
	}
	return dvError("400", "Dịch vụ không được hỗ trợ: "+in.Service)
}

func (s *Sim) dvList(c *call, from, to string) reply {
	loc := sla.Location()
	a, errA := time.ParseInLocation(dvLayout, from, loc)
	b, errB := time.ParseInLocation(dvLayout, to, loc)
	if errA != nil || errB != nil {
		return dvError("400", "Tham số ngayNhan1, ngayNhan2 không hợp lệ (định dạng yyyyMMddHHmmss)")
	}
	v, g := c.v, s.g
	since, until := a.Unix(), b.Unix()
	if c.f.DVCQGWholeDays {
		// Some portals compare dates, not instants: both ends' whole days.
		since, until = dayStart(localDay(since)), dayStart(localDay(until)+1)
	}
	lo, hi := g.lowerBound(v.dv, since), g.lowerBound(v.dv, until)
	if hi < lo {
		hi = lo
	}
	if hi-lo > s.opts.MaxWindowRecords {
		return dvError("413", "Quá nhiều hồ sơ, thu hẹp khoảng thời gian")
	}
	render := func(e uint64) []byte {
		var l life
		g.plan(uint64(uint32(e)), v.dvr, &l)
		asOf, updated, _ := l.dvAt(v.now)
		return g.appendDV(nil, &l, asOf, updated)
	}
	items := make([][]byte, 0, hi-lo+2)
	for _, e := range v.dv[lo:hi] {
		items = append(items, render(e))
	}
	var prev []byte
	if lo > 0 {
		prev = render(v.dv[lo-1])
	}
	items = s.pageFaults(c, items, prev, func(rec []byte, emptyCode bool) []byte {
		var r struct{ MaHoSo, NgayCapNhat string }
		_ = json.Unmarshal(rec, &r)
		if emptyCode {
			return bytes.Replace(rec, []byte(`"MaHoSo":"`+r.MaHoSo+`"`), []byte(`"MaHoSo":""`), 1)
		}
		return bytes.Replace(rec, []byte(`"NgayCapNhat":"`+r.NgayCapNhat+`"`), []byte(`"NgayCapNhat":"31/02/2026 25:61"`), 1)
	})
	return s.dvResult(c, joinJSON(items))
}

// lowerBound returns the position of the first entry updated at or after t.
func (g *gen) lowerBound(idx []uint64, t int64) int {
	switch {
	case t <= g.base:
		return 0
	case t-g.base > never:
		return len(idx)
	}
	p, _ := slices.BinarySearch(idx, uint64(t-g.base)<<32)
	return p
}

func joinJSON(items [][]byte) json.RawMessage {
	n := 2
	for _, it := range items {
		n += len(it) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, it...)
	}
	return append(b, ']')
}

// pageFaults applies the page faults drawn for this request to a list of
// records: a duplicate (of a record in the page, or of prev, the record before
// the page), a bad extra record (made by bad from a copy) and shuffling.
func (s *Sim) pageFaults(c *call, items [][]byte, prev []byte, bad func(rec []byte, emptyCode bool) []byte) [][]byte {
	seed := s.g.seed
	r := rand.New(rand.NewPCG(uint64(seed), c.n))
	if len(items) > 0 && unit(seed, streamDuplicate, c.n) < c.f.DuplicateRate {
		s.counts.fault(faultDuplicate)
		if prev != nil && r.IntN(2) == 0 {
			items = slices.Insert(items, 0, prev)
		} else {
			k := r.IntN(len(items))
			items = slices.Insert(items, k+r.IntN(len(items)-k)+1, items[k])
		}
	}
	if len(items) > 0 && unit(seed, streamBadRecord, c.n) < c.f.BadRecordRate {
		s.counts.fault(faultBadRecord)
		rec := bad(items[r.IntN(len(items))], r.IntN(2) == 0)
		items = slices.Insert(items, r.IntN(len(items)+1), rec)
	}
	if len(items) > 1 && unit(seed, streamShuffle, c.n) < float64(c.f.OutOfOrder) {
		s.counts.fault(faultOutOfOrder)
		r.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	}
	return items
}

// ---- Protocol B: the provincial one-stop system ----

type osError struct {
	Error   string `json:"error"`
	Message string `json:"message,omitempty"`
}

type osCursor struct {
	UpdatedAfter string `json:"updated_after"`
	AfterCode    string `json:"after_code"`
}

type osPage struct {
	Next *osCursor `json:"next"`
}

func (s *Sim) osToken(r *http.Request, _ *call) reply {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := decodeBody(r, &in); err != nil {
		return jsonReply(http.StatusBadRequest, osError{Error: "invalid_request", Message: "want a JSON body with username and password"})
	}
	if !s.credentialsOK(in.Username, in.Password) {
		return jsonReply(http.StatusUnauthorized, osError{Error: "invalid_credentials", Message: "Sai tên đăng nhập hoặc mật khẩu"})
	}
	tok := s.sessions.create(OneStop, s.opts.Clock.Now(), s.opts.SessionTTL)
	return jsonReply(http.StatusOK, struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}{tok, "Bearer", int(s.opts.SessionTTL / time.Second)})
}

func (s *Sim) osAuthorized(r *http.Request, c *call) (reply, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !s.authorize(OneStop, strings.TrimSpace(tok), c) {
		rep := jsonReply(http.StatusUnauthorized, osError{Error: "invalid_token"})
		rep.header = map[string]string{"WWW-Authenticate": `Bearer error="invalid_token"`}
		return rep, false
	}
	return reply{}, true
}

func badRequest(format string, args ...any) reply {
	return jsonReply(http.StatusBadRequest, osError{Error: "invalid_request", Message: fmt.Sprintf(format, args...)})
}

func (s *Sim) osList(r *http.Request, c *call) reply {
	if rep, ok := s.osAuthorized(r, c); !ok {
		return rep
	}
	q := r.URL.Query()
	limit := 100
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return badRequest("limit %q: want a whole number from 1 to 1000", l)
		}
		limit = n
	}
	v, g := c.v, s.g
	p := 0
	if ua := q.Get("updated_after"); ua != "" {
		t, err := time.Parse(time.RFC3339, ua)
		if err != nil {
			return badRequest("updated_after %q: want an RFC 3339 time, e.g. 2026-11-28T08:00:00+07:00", ua)
		}
		p = g.after(v.os, t, q.Get("after_code"))
	}
	end := min(p+limit, len(v.os))
	render := func(e uint64) []byte {
		var l life
		g.plan(uint64(uint32(e)), v.dvr, &l)
		return g.appendOS(nil, &l, v.now)
	}
	items := make([][]byte, 0, end-p+2)
	for _, e := range v.os[p:end] {
		items = append(items, render(e))
	}
	page := osPage{}
	if end < len(v.os) {
		last := v.os[end-1]
		page.Next = &osCursor{
			UpdatedAfter: time.Unix(g.abs(uint32(last>>32)), 0).In(sla.Location()).Format(time.RFC3339),
			AfterCode:    g.code(uint64(uint32(last))),
		}
	}
	var prev []byte
	if p > 0 {
		prev = render(v.os[p-1])
	}
	items = s.pageFaults(c, items, prev, func(rec []byte, emptyCode bool) []byte {
		var it struct {
			Code      string `json:"code"`
			UpdatedAt string `json:"updated_at"`
		}
		_ = json.Unmarshal(rec, &it)
		if emptyCode {
			return bytes.Replace(rec, []byte(`"code":"`+it.Code+`"`), []byte(`"code":""`), 1)
		}
		return bytes.Replace(rec, []byte(`"updated_at":"`+it.UpdatedAt+`"`), []byte(`"updated_at":"2026-02-30T25:61:00+07:00"`), 1)
	})
	// The envelope is written by hand: json.Marshal would re-validate the
	// megabyte of items, which costs more than rendering them.
	b := append([]byte(`{"items":`), joinJSON(items)...)
	b = append(b, `,"next":`...)
	next, _ := json.Marshal(page.Next)
	b = append(append(b, next...), '}')
	return reply{status: http.StatusOK, body: b}
}

// after returns the position of the first entry after the keyset position
// (t, code), comparing update times first, then codes.
func (g *gen) after(idx []uint64, t time.Time, code string) int {
	ua, frac := t.Unix(), t.Nanosecond() != 0
	return sort.Search(len(idx), func(j int) bool {
		u := g.abs(uint32(idx[j] >> 32))
		if u != ua {
			return u > ua
		}
		return !frac && g.code(uint64(uint32(idx[j]))) > code
	})
}

func (s *Sim) osGet(r *http.Request, c *call) reply {
	if rep, ok := s.osAuthorized(r, c); !ok {
		return rep
	}
	v := c.v
	if i, ok := s.g.index(r.PathValue("code")); ok && int(i) < v.n {
		var l life
		s.g.plan(i, v.dvr, &l)
		if l.first() <= v.now {
			return reply{status: http.StatusOK, body: s.g.appendOS(nil, &l, v.now)}
		}
	}
	return jsonReply(http.StatusNotFound, osError{Error: "not_found"})
}

// ---- The simulator's controls ----

func simError(w http.ResponseWriter, status int, err error) {
	writeReply(w, jsonReply(status, osError{Error: http.StatusText(status), Message: err.Error()}))
}

func (s *Sim) simAdvance(w http.ResponseWriter, r *http.Request) {
	minutes, err := strconv.Atoi(r.URL.Query().Get("minutes"))
	if err != nil || minutes < 1 {
		simError(w, http.StatusBadRequest, fmt.Errorf("minutes %q: want a whole number of minutes, 1 or more", r.URL.Query().Get("minutes")))
		return
	}
	res, err := s.Advance(minutes)
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, ErrHorizon) {
			status = http.StatusConflict
		}
		simError(w, status, err)
		return
	}
	w.Header().Set("Date", httpDate(res.SimTime.Unix()))
	writeReply(w, jsonReply(http.StatusOK, res))
}

func (s *Sim) simState(w http.ResponseWriter, r *http.Request) {
	p := Portal(r.URL.Query().Get("portal"))
	if p == "" {
		p = OneStop
	}
	if p != OneStop && p != DVCQG {
		simError(w, http.StatusBadRequest, fmt.Errorf("portal %q: want onestop or dvcqg", p))
		return
	}
	v := s.view()
	w.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
	w.Header().Set("Date", httpDate(v.now))
	if err := s.writeState(w, p, v); err != nil {
		s.log.Debug("state stream ended early", "err", err)
	}
}

func (s *Sim) simStats(w http.ResponseWriter, r *http.Request) {
	st := s.Stats()
	if r.URL.Query().Get("census") != "" {
		c := s.Census()
		st.Census = &c
	}
	writeReply(w, jsonReply(http.StatusOK, st))
}

func (s *Sim) simFaultsGet(w http.ResponseWriter, _ *http.Request) {
	writeReply(w, jsonReply(http.StatusOK, s.Faults()))
}

func (s *Sim) simFaultsSet(w http.ResponseWriter, r *http.Request) {
	var f Faults
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		simError(w, http.StatusBadRequest, fmt.Errorf("faults: %w", err))
		return
	}
	if err := s.SetFaults(f); err != nil {
		simError(w, http.StatusBadRequest, fmt.Errorf("faults: %w", err))
		return
	}
	writeReply(w, jsonReply(http.StatusOK, s.Faults()))
}

func (s *Sim) simDirectory(w http.ResponseWriter, _ *http.Request) {
	d := s.Directory()
	out := directoryJSON{Agency: map[string]string{"code": d.Agency.Code, "name": d.Agency.Name}, Departments: d.Departments, Procedures: d.Procedures}
	for _, o := range d.Officials {
		out.Officials = append(out.Officials, officialJSON{o.ID, o.Name, o.Title, o.Email, string(o.Role), o.DepartmentCode})
	}
	writeReply(w, jsonReply(http.StatusOK, out))
}

// directoryJSON is GET /sim/directory's reply.
type directoryJSON struct {
	Agency      map[string]string `json:"agency"`
	Departments []Department      `json:"departments"`
	Officials   []officialJSON    `json:"officials"`
	Procedures  []Procedure       `json:"procedures"`
}

type officialJSON struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Title      string `json:"title"`
	Email      string `json:"email"`
	Role       string `json:"role"`
	Department string `json:"department,omitempty"`
}

// DecodeDirectory reads GET /sim/directory's reply back into a Directory, so
// that a simulator in another process (whose memory is then not the
// caller's) can still give its commune's configuration (ConfigYAML).
// Procedures come without the population's shares, which only the
// simulator uses.
func DecodeDirectory(r io.Reader) (Directory, error) {
	var in directoryJSON
	if err := json.NewDecoder(r).Decode(&in); err != nil {
		return Directory{}, fmt.Errorf("decode directory: %w", err)
	}
	d := Directory{
		Agency:      dvcwatch.Agency{Code: in.Agency["code"], Name: in.Agency["name"]},
		Departments: in.Departments, Procedures: in.Procedures,
	}
	for _, o := range in.Officials {
		d.Officials = append(d.Officials, dvcwatch.Official{ID: o.ID, Name: o.Name, Title: o.Title, Email: o.Email,
			Role: dvcwatch.Role(o.Role), DepartmentCode: o.Department, AgencyCode: d.Agency.Code})
	}
	return d, nil
}
