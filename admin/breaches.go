package admin

import (
	"net/http"
	"strings"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/store"
)

// Breach is a recorded breach.
type Breach struct {
	ID         int64      `json:"id"`
	Kind       string     `json:"kind"`
	Label      string     `json:"label"` // the kind in Vietnamese
	Source     string     `json:"source"`
	Code       string     `json:"code"`
	Step       int        `json:"step,omitempty"`
	Agency     string     `json:"agency"`
	Department string     `json:"department"`
	Official   string     `json:"official"`
	Severity   string     `json:"severity"`
	StartedAt  time.Time  `json:"started_at"`
	DueAt      *time.Time `json:"due_at,omitempty"`
	Detail     string     `json:"detail"`
	DetectedAt time.Time  `json:"detected_at"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	// Silenced says an active silence matches it (the newest, SilenceID):
	// it is recorded, and nobody is told of it.
	Silenced  bool  `json:"silenced"`
	SilenceID int64 `json:"silence_id,omitempty"`
}

func breachView(b dvcwatch.StoredBreach) Breach {
	return Breach{ID: b.ID, Kind: string(b.Kind), Label: b.Kind.Vietnamese(), Source: b.Key.Source, Code: b.Key.Code,
		Step: b.StepSeq, Agency: b.Agency, Department: b.Department, Official: b.Official, Severity: string(b.Severity),
		StartedAt: b.StartedAt, DueAt: timePtr(b.DueAt), Detail: b.Detail, DetectedAt: b.DetectedAt,
		ResolvedAt: timePtr(b.ResolvedAt)}
}

func (s *Server) listBreaches(w http.ResponseWriter, r *http.Request, _ Principal) error {
	n, err := limit(r, 200, 1000)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.BreachFilter{OpenOnly: q.Get("all") == "", Agency: q.Get("agency"), Official: q.Get("official"),
		Recipient: q.Get("recipient"), Kind: dvcwatch.BreachKind(q.Get("kind")), Limit: n}
	if f.Kind != "" && !f.Kind.Valid() {
		return badRequest("kind=%q: unknown breach kind", f.Kind)
	}
	bs, err := s.opts.Store.Breaches(r.Context(), f)
	if err != nil {
		return err
	}
	vs, err := s.silencedViews(r.Context(), bs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, vs)
	return nil
}

// AckRequest acknowledges a breach on behalf of an official.
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
