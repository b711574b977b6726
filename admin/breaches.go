package admin

import (
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/store"
)

// Breach is a recorded breach.
type Breach struct {
	ID         int64  `json:"id"`
	Kind       string `json:"kind"`
	Label      string `json:"label"` // the kind in Vietnamese
	Source     string `json:"source"`
	Code       string `json:"code"`
	Step       int    `json:"step,omitempty"`
	Agency     string `json:"agency"`
	Department string `json:"department"`
	Official   string `json:"official"`
	// The configured names of Agency, Department and Official (the code
	// itself when none is configured), in lists.
	AgencyName     string     `json:"agency_name,omitempty"`
	DepartmentName string     `json:"department_name,omitempty"`
	OfficialName   string     `json:"official_name,omitempty"`
	Procedure      string     `json:"procedure,omitempty"`
	Severity       string     `json:"severity"`
	StartedAt      time.Time  `json:"started_at"`
	DueAt          *time.Time `json:"due_at,omitempty"`
	Detail         string     `json:"detail"`
	DetectedAt     time.Time  `json:"detected_at"`
	ResolvedAt     *time.Time `json:"resolved_at,omitempty"`
	// Silenced says an active silence matches it (the newest, SilenceID):
	// it is recorded, and nobody is told of it.
	Silenced  bool  `json:"silenced"`
	SilenceID int64 `json:"silence_id,omitempty"`
}

func breachView(b dvcwatch.StoredBreach) Breach {
	return Breach{ID: b.ID, Kind: string(b.Kind), Label: b.Kind.Vietnamese(), Source: b.Key.Source, Code: b.Key.Code,
		Step: b.StepSeq, Agency: b.Agency, Procedure: b.Procedure, Department: b.Department, Official: b.Official, Severity: string(b.Severity),
		StartedAt: b.StartedAt, DueAt: timePtr(b.DueAt), Detail: b.Detail, DetectedAt: b.DetectedAt,
		ResolvedAt: timePtr(b.ResolvedAt)}
}

// BreachParams are the parameters GET /api/v1/breaches takes.
var BreachParams = []string{"limit", "cursor", "sort", "state", "all", "kind", "agency", "department", "official",
	"procedure", "severity", "silenced", "recipient", "q"}

func (s *Server) listBreaches(w http.ResponseWriter, r *http.Request, _ Principal) error {
	p, err := listParams(r, BreachParams...)
	if err != nil {
		return err
	}
	f := store.BreachFilter{Agency: p.get("agency"), Department: p.get("department"), Official: p.get("official"),
		Procedure: p.get("procedure"), Recipient: p.get("recipient"), Search: p.get("q"), Cursor: p.get("cursor")}
	if f.Limit, err = p.limit(200, 1000); err != nil {
		return err
	}
	sorts := make([]string, 0, 3)
	for _, x := range store.BreachSorts() {
		sorts = append(sorts, string(x))
	}
	sort, err := p.oneOf("sort", sorts[0], sorts...)
	if err != nil {
		return err
	}
	f.Sort = store.BreachSort(sort)
	stateDef := "open"
	if p.get("all") != "" { // the older form of state=all
		stateDef = "all"
	}
	st, err := p.oneOf("state", stateDef, "open", "resolved", "all")
	if err != nil {
		return err
	}
	f.OpenOnly, f.ResolvedOnly = st == "open", st == "resolved"
	kinds := make([]string, 0, 16)
	for _, k := range dvcwatch.BreachKinds() {
		kinds = append(kinds, string(k))
	}
	kind, err := p.oneOf("kind", "", kinds...)
	if err != nil {
		return err
	}
	f.Kind = dvcwatch.BreachKind(kind)
	sev, err := p.oneOf("severity", "", string(dvcwatch.SeverityInfo), string(dvcwatch.SeverityWarning), string(dvcwatch.SeverityCritical))
	if err != nil {
		return err
	}
	f.Severity = dvcwatch.Severity(sev)
	silenced, err := p.oneOf("silenced", "", "yes", "no")
	if err != nil {
		return err
	}
	now := s.now()
	silences, err := s.opts.Store.ActiveSilences(r.Context(), now)
	if err != nil {
		return err
	}
	if silenced != "" {
		yes := silenced == "yes"
		f.Silenced, f.Silences = &yes, silences
	}
	l, err := s.opts.Store.BreachPage(r.Context(), f)
	if err != nil {
		return listError(err)
	}
	writeJSON(w, http.StatusOK, page(l, func(b dvcwatch.StoredBreach) Breach { return s.listedBreach(b, silences, now) }))
	return nil
}

// listedBreach is ListedBreach with the server's names.
func (s *Server) listedBreach(b dvcwatch.StoredBreach, silences []dvcwatch.Silence, now time.Time) Breach {
	return ListedBreach(b, s.names(), silences, now)
}

// ListedBreach is b as GET /api/v1/breaches lists it: with the names of its
// agency, department and official (nil names: the codes), marked with the
// first of silences active at now that matches it. The CLI, which reads the
// store itself, prints the same.
func ListedBreach(b dvcwatch.StoredBreach, names Names, silences []dvcwatch.Silence, now time.Time) Breach {
	if names == nil {
		names = codesOnly{}
	}
	v := breachView(b)
	v.AgencyName = names.AgencyName(b.Agency)
	if b.Department != "" {
		v.DepartmentName = names.DepartmentName(b.Agency, b.Department)
	}
	if b.Official != "" {
		v.OfficialName = names.OfficialName(b.Official)
	}
	if sil, ok := dvcwatch.SilencedBy(silences, b, now); ok {
		v.Silenced, v.SilenceID = true, sil.ID
	}
	return v
}

// AckRequest acknowledges a breach on behalf of an official.
// Bounds of an acknowledgement's fields: an official's id is a configured
// one's, and a reason is a note, as long as the acknowledge page's.
const (
	MaxOfficialLength  = 100
	MaxAckReasonLength = 500
)

// AckRequest acknowledges a breach for an official, who must be configured.
type AckRequest struct {
	Official string `json:"official"`
	Reason   string `json:"reason"`
}

func (s *Server) ackBreach(w http.ResponseWriter, r *http.Request, p Principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var req AckRequest
	if err := decodeJSON(r, &req); err != nil {
		return badRequest("%v", err)
	}
	if strings.TrimSpace(req.Official) == "" || strings.TrimSpace(req.Reason) == "" {
		return badRequest("official and reason are required")
	}
	if n := utf8.RuneCountInString(req.Official); n > MaxOfficialLength {
		return badRequest("official: %d characters, at most %d: not a configured official's id", n, MaxOfficialLength)
	}
	if n := utf8.RuneCountInString(req.Reason); n > MaxAckReasonLength {
		return badRequest("reason: %d characters, at most %d", n, MaxAckReasonLength)
	}
	if s.opts.Officials == nil || !s.opts.Officials(req.Official) {
		return badRequest("official %q: not a configured official", req.Official)
	}
	b, err := s.opts.Store.Acknowledge(r.Context(), id, req.Official, req.Reason, s.now())
	if err != nil {
		return err
	}
	s.audit(p, "acknowledge breach", "breach", id, "official", req.Official)
	vs, err := s.silencedViews(r.Context(), []dvcwatch.StoredBreach{b})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, vs[0])
	return nil
}
