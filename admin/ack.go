package admin

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/clock"
	"github.com/dvcwatch/dvcwatch/notify/acklink"
	"github.com/dvcwatch/dvcwatch/sla"
)

// AckStore is what the acknowledge page reads and writes; *store.DB is one.
type AckStore interface {
	RecipientBreaches(ctx context.Context, recipient string, ids []int64) ([]dvcwatch.RecipientBreach, error)
	RecordAcks(ctx context.Context, official string, breaches []dvcwatch.BreachRef, reason string, at time.Time) ([]int64, error)
}

// AckPage serves the page each acknowledge link of the mail opens, at
// GET and POST /ack/{token}, outside token authentication: the signed token
// is the official's only credential. The zero AckPage (nil Links) serves a
// page saying the links are off.
type AckPage struct {
	Links *acklink.Links
	Store AckStore
	// Person returns a configured official by id (directory.Directory.Person):
	// a link's recipient must still be one.
	Person func(id string) (dvcwatch.Official, bool)
	// Clock is the time links are signed and acknowledgements stamped by: the
	// composer's (the simulator's in the demo). nil: Options.Clock.
	Clock clock.Clock
}

// The page's stylesheet is inline, so that the page is one document with
// nothing else to load (a phone on a slow link, a proxy that publishes only
// /ack/). The policy admits that one stylesheet by its hash, and nothing
// else: no script, no image, no frame, forms posted only to this origin,
// never framed (clickjacking a confirm button). It is stricter than the UI's
// uiPolicy, which it replaces on these pages; the UI's other headers stay.
var (
	//go:embed ack.css
	ackCSS string
	//go:embed ack.html
	ackHTML   string
	ackTmpl   = template.Must(template.New("ack").Parse(ackHTML))
	ackPolicy = func() string {
		sum := sha256.Sum256([]byte(ackCSS))
		return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
			"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	}()
)

// maxReason bounds the note an official may type, in characters.
const maxReason = 500

// defaultReason is recorded when the official types no note: it says how
// the acknowledgement was made, which the admin API's asks for in words.
const defaultReason = "Đã nắm thông tin (xác nhận qua liên kết trong thư cảnh báo)."

// The pages, one per state of a link; each is answered with its status.
const (
	pageConfirm   = "confirm"   // 200: breaches to acknowledge, the form
	pageRecorded  = "recorded"  // 200: POST recorded them
	pageUsed      = "used"      // 409: all acknowledged at the severity mailed already
	pageMoot      = "moot"      // 409: nothing left to acknowledge (resolved, severity changed)
	pageExpired   = "expired"   // 410
	pageInvalid   = "invalid"   // 400: malformed, altered or another key's
	pageWrong     = "wrong"     // 403: recipient not configured, or never told of a breach
	pageCrossSite = "crosssite" // 403: the form posted from another site
	pageOff       = "off"       // 404: links are not configured
	pageError     = "error"     // 500
)

// ackView is what the template shows.
type ackView struct {
	Page, Title, Lead, Name string
	Dossiers                []ackDossier
	Form                    bool
	Reason, Error           string
	MaxReason               int
	DefaultReason           string
	CSS                     template.CSS
}

// ackDossier is a dossier of the link (a digest row is one) and its breaches.
type ackDossier struct {
	Code  string
	Items []ackItem
}

type ackItem struct {
	ID                                     int64
	Code, Kind, Severity, SeverityKey, Due string
	Note, Class                            string
	Status                                 string
}

// ackRoutes serves the acknowledge page. Its POST is refused when a browser
// says it comes from another site (Sec-Fetch-Site, else Origin against
// Host and admin.public_url: net/http's CrossOriginProtection). There is no
// cookie or login for another site to ride on, and whoever holds the token
// can post it from anywhere, so this is not what keeps a link safe; it keeps
// another page that learned a link from confirming it through the official's
// browser, for the cost of a header check. A hidden field in the form would
// add nothing: it could only be derived from the token, which the URL
// already carries.
func (s *Server) ackRoutes(m *http.ServeMux) {
	cop := http.NewCrossOriginProtection()
	if l := s.opts.Ack.Links; l != nil {
		if u, err := url.Parse(l.BaseURL()); err == nil {
			// A proxy may pass on a Host other than the one the browser
			// saw; the configured address is the page's origin too.
			if err := cop.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
				s.log.Warn("acknowledge page: admin.public_url is no origin", "err", err)
			}
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.Info("acknowledge link posted from another site refused", "remote", r.RemoteAddr)
		s.renderAck(w, http.StatusForbidden, ackView{Page: pageCrossSite, Title: "Không thể xác nhận từ trang khác",
			Lead: "Yêu cầu xác nhận phải được gửi từ chính trang mở ra từ liên kết trong thư. Hãy mở lại liên kết và bấm nút xác nhận. Chưa có gì được ghi nhận."})
	}))
	m.HandleFunc("GET /ack/{token}", s.ackShow)
	m.Handle("POST /ack/{token}", cop.Handler(http.HandlerFunc(s.ackConfirm)))
}

// ackNow is the time of the links' clock.
func (s *Server) ackNow() time.Time {
	if s.opts.Ack.Clock != nil {
		return s.opts.Ack.Clock.Now()
	}
	return s.now()
}

// ackLink is a verified link with its breaches as recorded now.
type ackLink struct {
	claim   acklink.Claim
	person  dvcwatch.Official
	outcome acklink.Outcome
}

// loadAck verifies the request's token and reads its breaches. When the
// link cannot be used it returns the page that says why, with its status.
// Nothing logged names the token.
func (s *Server) loadAck(r *http.Request) (ackLink, int, ackView) {
	a := s.opts.Ack
	if a.Links == nil || a.Store == nil || a.Person == nil {
		return ackLink{}, http.StatusNotFound, ackView{Page: pageOff, Title: "Chưa bật xác nhận qua thư",
			Lead: "Máy chủ này chưa được cấu hình để xác nhận cảnh báo qua liên kết trong thư. Hãy liên hệ văn phòng."}
	}
	claim, err := a.Links.Verify(r.PathValue("token"), s.ackNow())
	switch {
	case errors.Is(err, acklink.ErrExpired):
		s.log.Info("acknowledge link refused", "why", "expired", "remote", r.RemoteAddr)
		return ackLink{}, http.StatusGone, ackView{Page: pageExpired, Title: "Liên kết đã hết hạn",
			Lead: "Liên kết xác nhận chỉ dùng được trong một thời gian sau khi thư được gửi. Nếu cảnh báo vẫn còn, thư nhắc lại sẽ có liên kết mới; văn phòng cũng có thể ghi nhận xác nhận trên trang quản trị. Chưa có gì được ghi nhận."}
	case errors.Is(err, acklink.ErrInvalid):
		s.log.Info("acknowledge link refused", "why", "invalid", "err", err, "remote", r.RemoteAddr)
		return ackLink{}, http.StatusBadRequest, ackView{Page: pageInvalid, Title: "Liên kết không hợp lệ",
			Lead: "Liên kết bị cắt ngắn, bị sửa, hoặc không do hệ thống này tạo ra (hoặc khóa ký đã được thay). Hãy mở lại liên kết từ thư, sao chép đầy đủ nếu thư ngắt dòng. Chưa có gì được ghi nhận."}
	case err != nil:
		return ackLink{}, http.StatusInternalServerError, s.ackError("verify acknowledge link", err)
	}
	wrong := ackView{Page: pageWrong, Title: "Liên kết không dành cho người nhận này",
		Lead: "Liên kết này không khớp với người nhận cảnh báo trong hệ thống, nên không dùng được để xác nhận. Chưa có gì được ghi nhận."}
	person, ok := a.Person(claim.Recipient)
	if !ok {
		s.log.Warn("acknowledge link refused: its recipient is not a configured official", "recipient", claim.Recipient)
		return ackLink{}, http.StatusForbidden, wrong
	}
	l, err := s.decideAck(r.Context(), claim)
	if err != nil {
		return ackLink{}, http.StatusInternalServerError, s.ackError("read the breaches of an acknowledge link", err)
	}
	l.person = person
	if l.outcome.Verdict == acklink.WrongRecipient {
		s.log.Warn("acknowledge link refused: its recipient was never told of its breaches",
			"recipient", claim.Recipient, "breaches", refIDs(claim.Breaches))
		return ackLink{}, http.StatusForbidden, wrong
	}
	return l, 0, ackView{}
}

// decideAck reads the claim's breaches as recorded now and decides.
func (s *Server) decideAck(ctx context.Context, claim acklink.Claim) (ackLink, error) {
	state, err := s.opts.Ack.Store.RecipientBreaches(ctx, claim.Recipient, refIDs(claim.Breaches))
	if err != nil {
		return ackLink{}, err
	}
	return ackLink{claim: claim, outcome: acklink.Decide(claim, state)}, nil
}

// ackShow shows a link: what it acknowledges and the form, or why not.
// It changes nothing, whoever fetches it (mail scanners open links).
func (s *Server) ackShow(w http.ResponseWriter, r *http.Request) {
	l, status, v := s.loadAck(r)
	if status != 0 {
		s.renderAck(w, status, v)
		return
	}
	status, v = s.ackState(l, nil)
	s.renderAck(w, status, v)
}

// ackConfirm records the acknowledgements of a link, in one transaction,
// then shows what was recorded.
func (s *Server) ackConfirm(w http.ResponseWriter, r *http.Request) {
	l, status, v := s.loadAck(r)
	if status != 0 {
		s.renderAck(w, status, v)
		return
	}
	if l.outcome.Verdict != acklink.Confirm {
		status, v = s.ackState(l, nil)
		s.renderAck(w, status, v)
		return
	}
	reason, problem := ackReason(w, r)
	if problem != "" {
		_, v = s.ackState(l, nil)
		v.Reason, v.Error = reason, problem
		s.renderAck(w, http.StatusBadRequest, v)
		return
	}
	if reason == "" {
		reason = defaultReason
	}
	now := s.ackNow()
	recorded, err := s.opts.Ack.Store.RecordAcks(r.Context(), l.claim.Recipient, l.outcome.ToAcknowledge(), reason, now)
	if err != nil {
		s.renderAck(w, http.StatusInternalServerError, s.ackError("record acknowledgements from the mail", err))
		return
	}
	if len(recorded) > 0 {
		s.log.Info("breaches acknowledged from the mail", "official", l.claim.Recipient, "breaches", recorded)
	}
	// Read again: what another confirmation or a detection pass did
	// meanwhile shows as it is now.
	after, err := s.decideAck(r.Context(), l.claim)
	if err != nil {
		s.renderAck(w, http.StatusInternalServerError, s.ackError("read the breaches of an acknowledge link", err))
		return
	}
	after.person = l.person
	status, v = s.ackState(after, recorded)
	s.renderAck(w, status, v)
}

// ackReason reads the form's note: trimmed, at most maxReason characters.
func ackReason(w http.ResponseWriter, r *http.Request) (reason, problem string) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		return "", "Không đọc được nội dung gửi lên. Hãy mở lại liên kết và thử lại."
	}
	reason = strings.TrimSpace(r.PostForm.Get("reason"))
	switch {
	case !utf8.ValidString(reason):
		return "", "Ghi chú có ký tự không hợp lệ."
	case utf8.RuneCountInString(reason) > maxReason:
		return reason, fmt.Sprintf("Ghi chú dài %d ký tự; tối đa %d ký tự.", utf8.RuneCountInString(reason), maxReason)
	}
	return reason, ""
}

// ackState is the page of a verified link as its breaches stand; recorded
// are the breaches this request just acknowledged.
func (s *Server) ackState(l ackLink, recorded []int64) (int, ackView) {
	v := ackView{Name: l.person.Name}
	just := map[int64]bool{}
	for _, id := range recorded {
		just[id] = true
	}
	// The latest acknowledgement: of this request, else of the link's use.
	var lastAck, justAt time.Time
	allResolved := true
	for _, it := range l.outcome.Items {
		v.add(ackItemOf(it, just[it.Mailed.ID]))
		if at := it.Breach.Ack.At; it.Status == acklink.Acknowledged {
			lastAck = later(lastAck, at)
			if just[it.Mailed.ID] {
				justAt = later(justAt, at)
			}
		}
		allResolved = allResolved && it.Status == acklink.Resolved
	}
	switch {
	case !justAt.IsZero():
		v.Page, v.Title = pageRecorded, "Đã ghi nhận xác nhận"
		v.Lead = "Đã ghi nhận lúc " + vnTime(justAt) + ". Hệ thống sẽ không nhắc lại các cảnh báo dưới đây cho anh/chị, trừ khi mức độ thay đổi; hồ sơ vẫn cần được giải quyết."
		return http.StatusOK, v
	case l.outcome.Verdict == acklink.Confirm:
		v.Page, v.Title, v.Form = pageConfirm, "Xác nhận đã nắm thông tin cảnh báo", true
		v.Lead = "Xác nhận rằng anh/chị đã nắm các cảnh báo dưới đây: hệ thống sẽ không nhắc lại chúng cho anh/chị, trừ khi mức độ thay đổi. Xác nhận không thay cho việc giải quyết hồ sơ."
		v.MaxReason, v.DefaultReason = maxReason, defaultReason
		return http.StatusOK, v
	case l.outcome.Verdict == acklink.Used:
		v.Page, v.Title = pageUsed, "Liên kết đã được sử dụng"
		v.Lead = "Anh/chị đã xác nhận các cảnh báo này lúc " + vnTime(lastAck) + ". Không cần xác nhận lại."
		return http.StatusConflict, v
	case allResolved:
		v.Page, v.Title = pageMoot, "Không còn gì cần xác nhận"
		v.Lead = "Các vi phạm dưới đây đã được khắc phục sau khi thư được gửi, nên không cần xác nhận. Chưa có gì được ghi nhận."
		return http.StatusConflict, v
	default:
		v.Page, v.Title = pageMoot, "Không còn gì cần xác nhận"
		v.Lead = "Tình trạng các cảnh báo dưới đây đã thay đổi sau khi thư được gửi; xem từng mục. Chưa có gì được ghi nhận."
		return http.StatusConflict, v
	}
}

// add puts an item under its dossier, dossiers in the order first met.
func (v *ackView) add(it ackItem) {
	for i := range v.Dossiers {
		if v.Dossiers[i].Code == it.Code {
			v.Dossiers[i].Items = append(v.Dossiers[i].Items, it)
			return
		}
	}
	v.Dossiers = append(v.Dossiers, ackDossier{Code: it.Code, Items: []ackItem{it}})
}

func ackItemOf(it acklink.Item, justNow bool) ackItem {
	b := it.Breach
	kind := b.Kind.Vietnamese()
	if b.StepSeq > 0 {
		kind = fmt.Sprintf("%s (bước %d)", kind, b.StepSeq)
	}
	out := ackItem{ID: b.ID, Code: b.Key.Code, Kind: kind, Severity: it.Mailed.Severity.Vietnamese(),
		SeverityKey: string(it.Mailed.Severity), Class: "open"}
	if !b.DueAt.IsZero() {
		out.Due = vnTime(b.DueAt)
	}
	switch it.Status {
	case acklink.Acknowledged:
		out.Status, out.Class = "acknowledged", "done"
		out.Note = "Đã xác nhận lúc " + vnTime(b.Ack.At) + "."
		if justNow {
			out.Note = "Vừa xác nhận lúc " + vnTime(b.Ack.At) + "."
		}
	case acklink.Resolved:
		out.Status, out.Class = "resolved", "moot"
		out.Note = "Đã hết vi phạm lúc " + vnTime(b.ResolvedAt) + ": không cần xác nhận."
	case acklink.Changed:
		out.Status, out.Class = "changed", "moot"
		out.Note = fmt.Sprintf("Mức độ đã đổi từ %s sang %s sau khi thư được gửi: hãy xác nhận từ thư mới nhất.",
			it.Mailed.Severity.Vietnamese(), b.Severity.Vietnamese())
	case acklink.Acknowledge:
		out.Status = "open"
	}
	return out
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// vnTime writes an instant as officials read it, in Vietnam's time.
func vnTime(t time.Time) string { return t.In(sla.Location()).Format("15:04 02/01/2006") }

func refIDs(refs []dvcwatch.BreachRef) []int64 {
	ids := make([]int64, len(refs))
	for i, r := range refs {
		ids[i] = r.ID
	}
	return ids
}

// ackError logs an error of the page (never the token) and returns the page
// that says to try again.
func (s *Server) ackError(doing string, err error) ackView {
	s.log.Error("acknowledge page: "+doing, "err", err)
	return ackView{Page: pageError, Title: "Lỗi máy chủ",
		Lead: "Máy chủ chưa xử lý được yêu cầu. Vui lòng mở lại liên kết sau ít phút."}
}

// renderAck writes an acknowledge page with the UI's security headers, its
// own stricter policy, and no caching: the page shows state and its URL
// holds the token.
func (s *Server) renderAck(w http.ResponseWriter, status int, v ackView) {
	v.CSS = template.CSS(ackCSS)
	var b bytes.Buffer
	if err := ackTmpl.Execute(&b, v); err != nil {
		s.log.Error("acknowledge page: render", "err", err)
		status = http.StatusInternalServerError
		b.Reset()
		b.WriteString("Lỗi máy chủ.\n")
	}
	h := w.Header()
	uiHeaders(h)
	h.Set("Content-Security-Policy", ackPolicy)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Robots-Tag", "noindex")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}
