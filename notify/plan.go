package notify

import (
	"fmt"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/directory"
	"github.com/dvcwatch/dvcwatch/sla"
)

// Recipient is a person to tell about a breach, and in which capacity.
type Recipient struct {
	dvcwatch.Official
	Role dvcwatch.Role
}

// Router applies the escalation ladder of the configuration: every rule that
// matches a breach adds its roles, so later rules escalate rather than replace.
type Router struct {
	dir   *directory.Directory
	rules []rule
}

type rule struct {
	kinds       map[dvcwatch.BreachKind]bool
	minSeverity int
	overdue     *sla.Limit // nil: any
	open        bool       // only while the dossier is open
	roles       []dvcwatch.Role
}

// NewRouter compiles the escalation rules (validated by config).
func NewRouter(dir *directory.Directory, rules []config.Rule) (*Router, error) {
	r := &Router{dir: dir}
	for i, cr := range rules {
		ru := rule{kinds: map[dvcwatch.BreachKind]bool{}, roles: cr.Notify, open: cr.When.Open}
		for _, k := range cr.When.Kinds {
			ru.kinds[dvcwatch.BreachKind(k)] = true
		}
		ru.minSeverity = dvcwatch.Severity(cr.When.MinSeverity).Rank()
		if o := cr.When.OverdueMoreThan; o != "" {
			l, err := sla.ParseLimit(o)
			if err != nil {
				return nil, fmt.Errorf("notify.escalation[%d].when.overdue_more_than: %w", i, err)
			}
			ru.overdue = &l
		}
		r.rules = append(r.rules, ru)
	}
	return r, nil
}

// Recipients returns who must know of b at now, each person once with the
// first role that named them. A role nobody fills (an official missing from
// the configuration, a department without a head) falls to the agency's
// office, which must learn of every delay anyway.
func (r *Router) Recipients(b dvcwatch.StoredBreach, now time.Time) []Recipient {
	var out []Recipient
	seen := map[string]bool{}
	add := func(p dvcwatch.Official, role dvcwatch.Role) bool {
		if p.Email == "" {
			return false
		}
		if !seen[p.ID] {
			seen[p.ID] = true
			out = append(out, Recipient{Official: p, Role: role})
		}
		return true
	}
	office := func() {
		for _, p := range r.dir.Office(b.Agency) {
			add(p, dvcwatch.RoleOffice)
		}
	}
	for _, ru := range r.rules {
		if !r.matches(ru, b, now) {
			continue
		}
		for _, role := range ru.roles {
			switch role {
			case dvcwatch.RoleOfficial:
				if p, ok := r.dir.Person(b.Official); ok && add(p, role) {
					continue
				}
				if h, ok := r.dir.Head(b.Agency, b.Department); ok && add(h, dvcwatch.RoleDepartmentHead) {
					continue
				}
				office()
			case dvcwatch.RoleDepartmentHead:
				if h, ok := r.dir.Head(b.Agency, b.Department); ok && add(h, role) {
					continue
				}
				office()
			case dvcwatch.RoleOffice:
				office()
			}
		}
	}
	return out
}

func (r *Router) matches(ru rule, b dvcwatch.StoredBreach, now time.Time) bool {
	if len(ru.kinds) > 0 && !ru.kinds[b.Kind] {
		return false
	}
	if b.Severity.Rank() < ru.minSeverity || (ru.open && !b.Actionable) {
		return false
	}
	if ru.overdue != nil {
		if b.DueAt.IsZero() {
			return false
		}
		// Overdue by more than the limit. Working days and hours: more office
		// time since the due than the limit, as the detector measures lateness
		// (Deadline would apply the receipt cut-off to the due, and count a
		// limit ending at closing time as passed all evening). Calendar days
		// and months: past the deadline the limit gives counting from the due.
		s := r.dir.Schedule(b.Agency)
		switch l := *ru.overdue; l.Unit {
		case sla.WorkingDays, sla.WorkingHours:
			limit := time.Duration(l.Amount) * time.Hour
			if l.Unit == sla.WorkingDays {
				limit = time.Duration(l.Amount) * s.Hours().DayLength()
			}
			late, err := s.WorkingTimeBetween(b.DueAt, now)
			if err != nil || late <= limit {
				return false
			}
		default:
			limit, err := s.Deadline(b.DueAt, l, nil)
			if err != nil || !now.After(limit) {
				return false
			}
		}
	}
	return true
}

// Planner decides, for each unresolved breach, who must be told now: a
// recipient never told, one told at a lower severity (escalation), and one
// told more than RepeatAfter ago while the dossier is still open (a repeat),
// unless that recipient acknowledged the breach at its current severity.
type Planner struct {
	Router      *Router
	RepeatAfter time.Duration
}

// Plan decides the alerts of a detection page (detect.Page.Plan).
func (p *Planner) Plan(now time.Time, open []dvcwatch.BreachState) []dvcwatch.AlertIntent {
	var out []dvcwatch.AlertIntent
	for _, st := range open {
		for _, rc := range p.Router.Recipients(st.StoredBreach, now) {
			reason := p.reason(st, rc.ID, now)
			if reason == "" {
				continue
			}
			out = append(out, dvcwatch.AlertIntent{
				BreachID: st.ID, Recipient: rc.ID, Role: rc.Role, Severity: st.Severity, Reason: reason,
			})
		}
	}
	return out
}

func (p *Planner) reason(st dvcwatch.BreachState, who string, now time.Time) dvcwatch.AlertReason {
	told, ok := st.Told[who]
	switch {
	case !ok:
		return dvcwatch.AlertNew
	case st.Severity.Rank() > told.Severity.Rank():
		return dvcwatch.AlertEscalated
	case !st.Actionable || now.Sub(told.At) < p.RepeatAfter:
		return ""
	case st.Acks[who] == st.Severity:
		return "" // acknowledged at this severity: muted until it changes
	default:
		return dvcwatch.AlertRepeat
	}
}
