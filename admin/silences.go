package admin

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/sla"
	"github.com/dvcwatch/dvcwatch/store"
)

// Silence is an operator's silence: the breaches every one of its matchers
// matches are recorded and listed as silenced, and nobody is told of them
// from starts_at until ends_at.
type Silence struct {
	ID int64 `json:"id"`
	// Matchers are label → value: kind, agency, department, official,
	// procedure (MaTTHC), dossier (its code); values compare ignoring case.
	Matchers  map[string]string `json:"matchers"`
	StartsAt  time.Time         `json:"starts_at"`
	EndsAt    time.Time         `json:"ends_at"`
	Reason    string            `json:"reason"`
	CreatedBy string            `json:"created_by"`
	CreatedAt time.Time         `json:"created_at"`
	ExpiredBy string            `json:"expired_by,omitempty"` // who ended it early
	Active    bool              `json:"active"`               // it mutes now
}

func silenceView(s dvcwatch.Silence, now time.Time) Silence {
	m := make(map[string]string, len(s.Matchers))
	for _, x := range s.Matchers {
		m[string(x.Label)] = x.Value
	}
	return Silence{ID: s.ID, Matchers: m, StartsAt: s.StartsAt, EndsAt: s.EndsAt, Reason: s.Reason, CreatedBy: s.CreatedBy,
		CreatedAt: s.CreatedAt, ExpiredBy: s.ExpiredBy, Active: s.Active(now)}
}

// SilenceRequest creates a silence from now until EndsAt, or for Duration.
type SilenceRequest struct {
	Matchers map[string]string `json:"matchers"`
	EndsAt   string            `json:"ends_at,omitempty"`  // RFC 3339, e.g. 2026-03-05T17:00:00+07:00
	Duration string            `json:"duration,omitempty"` // e.g. 90m, 72h, 3d, 1w
	Reason   string            `json:"reason"`
}

func (s *Server) listSilences(w http.ResponseWriter, r *http.Request, _ Principal) error {
	n, err := limit(r, 200, 1000)
	if err != nil {
		return err
	}
	now := s.now()
	f := store.SilenceFilter{ActiveAt: now, Limit: n}
	if r.URL.Query().Get("all") != "" {
		f.ActiveAt = time.Time{}
	}
	ss, err := s.opts.Store.Silences(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, views(ss, func(x dvcwatch.Silence) Silence { return silenceView(x, now) }))
	return nil
}

func (s *Server) getSilence(w http.ResponseWriter, r *http.Request, _ Principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	sil, err := s.opts.Store.GetSilence(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, silenceView(sil, s.now()))
	return nil
}

func (s *Server) addSilence(w http.ResponseWriter, r *http.Request, p Principal) error {
	var req SilenceRequest
	if err := decodeJSON(r, &req); err != nil {
		return badRequest("%v", err)
	}
	now := s.now()
	sil := dvcwatch.Silence{StartsAt: now, Reason: strings.TrimSpace(req.Reason), CreatedBy: p.Name, CreatedAt: now}
	endsAt, duration := strings.TrimSpace(req.EndsAt), strings.TrimSpace(req.Duration)
	switch {
	case endsAt != "" && duration != "":
		return badRequest("ends_at and duration: give one, not both")
	case endsAt != "":
		t, err := time.Parse(time.RFC3339, endsAt)
		if err != nil {
			return badRequest("ends_at %q: want an RFC 3339 time, e.g. 2026-03-05T17:00:00+07:00", req.EndsAt)
		}
		sil.EndsAt = t
	case duration != "":
		d, err := model.ParseDuration(duration)
		if err != nil || d <= 0 {
			return badRequest("duration %q: want a positive duration, e.g. 90m, 72h, 3d or 1w", req.Duration)
		}
		sil.EndsAt = now.Add(time.Duration(d))
	default:
		return badRequest(`ends_at or duration: one is required (e.g. "duration": "72h")`)
	}
	sil.Matchers = matchersOf(req.Matchers)
	if err := sil.Validate(now); err != nil {
		return badRequest("%v", err)
	}
	sil, err := s.opts.Store.AddSilence(r.Context(), sil)
	if err != nil {
		return err
	}
	// The reason is free text an operator may have written a citizen's name
	// in: it stays out of the log.
	s.audit(p, "add silence", "silence", sil.ID, "matchers", matchersText(sil), "ends_at", sil.EndsAt.Format(time.RFC3339))
	writeJSON(w, http.StatusCreated, silenceView(sil, now))
	return nil
}

// matchersOf turns the request's label → value pairs into matchers, known
// labels in their fixed order and unknown ones after (for Validate to name),
// so that errors and storage do not depend on map order.
func matchersOf(m map[string]string) []dvcwatch.Matcher {
	labels := make([]string, 0, len(m))
	for l := range m {
		labels = append(labels, l)
	}
	order := dvcwatch.SilenceLabels()
	rank := func(l string) int {
		if i := slices.Index(order, dvcwatch.SilenceLabel(l)); i >= 0 {
			return i
		}
		return len(order)
	}
	sort.Slice(labels, func(i, j int) bool {
		if ri, rj := rank(labels[i]), rank(labels[j]); ri != rj {
			return ri < rj
		}
		return labels[i] < labels[j]
	})
	out := make([]dvcwatch.Matcher, len(labels))
	for i, l := range labels {
		out[i] = dvcwatch.NewMatcher(dvcwatch.SilenceLabel(l), m[l])
	}
	return out
}

// matchersText writes matchers as label=value pairs, for the log.
func matchersText(s dvcwatch.Silence) string {
	parts := make([]string, len(s.Matchers))
	for i, m := range s.Matchers {
		parts[i] = string(m.Label) + "=" + m.Value
	}
	return strings.Join(parts, " ")
}

func (s *Server) expireSilence(w http.ResponseWriter, r *http.Request, p Principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	now := s.now()
	sil, expired, err := s.opts.Store.ExpireSilence(r.Context(), id, now, p.Name)
	if err != nil {
		return err
	}
	if !expired {
		return conflict("silence %d: ended already, at %s", id, sil.EndsAt.In(sla.Location()).Format(time.RFC3339))
	}
	s.audit(p, "expire silence", "silence", id)
	writeJSON(w, http.StatusOK, silenceView(sil, now))
	return nil
}

// silencedViews are the API's views of bs, each marked with the silence
// active now that matches it, if any.
func (s *Server) silencedViews(ctx context.Context, bs []dvcwatch.StoredBreach) ([]Breach, error) {
	now := s.now()
	silences, err := s.opts.Store.ActiveSilences(ctx, now)
	if err != nil {
		return nil, err
	}
	return views(bs, func(b dvcwatch.StoredBreach) Breach {
		v := breachView(b)
		if sil, ok := dvcwatch.SilencedBy(silences, b, now); ok {
			v.Silenced, v.SilenceID = true, sil.ID
		}
		return v
	}), nil
}
