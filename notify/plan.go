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
			late, err := s.WorkingTimeBetween(b.DueAt, now)
			if err != nil || late <= officeLimit(l, s) {
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

// officeLimit is a limit in working days or hours as office time.
func officeLimit(l sla.Limit, s *sla.Schedule) time.Duration {
	if l.Unit == sla.WorkingDays {
		return time.Duration(l.Amount) * s.Hours().DayLength()
	}
	return time.Duration(l.Amount) * time.Hour
}

// overdueFrom returns an instant before which b cannot match ru by its
// overdue_more_than (matches), for Replan; zero when no time can make it
// match (another kind, a lower severity, a finished dossier for an open
// rule, no due).
func (r *Router) overdueFrom(ru rule, b dvcwatch.StoredBreach) (time.Time, error) {
	if (len(ru.kinds) > 0 && !ru.kinds[b.Kind]) || b.Severity.Rank() < ru.minSeverity || (ru.open && !b.Actionable) ||
		b.DueAt.IsZero() {
		return time.Time{}, nil
	}
	s := r.dir.Schedule(b.Agency)
	switch l := *ru.overdue; l.Unit {
	case sla.WorkingDays, sla.WorkingHours:
		// More office time than the limit: a nanosecond more, so that a
		// limit reached at a session's end gives the next session's start.
		return s.After(b.DueAt, officeLimit(l, s)+time.Nanosecond)
	default:
		return s.Deadline(b.DueAt, l, nil)
	}
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

// Replan returns the earliest time after now at which Plan could decide to
// tell someone of st, the breach unchanged, once the alerts Plan decides at
// now are recorded (detect.Notifier.Replan): a repeat to a recipient not
// acknowledging it, or the threshold of an escalation rule's
// overdue_more_than that adds recipients. Zero means never: a finished
// dossier's breach is planned again only when it changes. Acknowledgements
// only mute, so counting them never makes the time late.
func (p *Planner) Replan(now time.Time, st dvcwatch.BreachState) time.Time {
	if !st.Actionable {
		return time.Time{}
	}
	var next time.Time
	add := func(t time.Time) {
		if !t.IsZero() && !t.Before(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, rc := range p.Router.Recipients(st.StoredBreach, now) {
		told, ok := st.Told[rc.ID]
		switch {
		case p.reason(st, rc.ID, now) != "":
			add(now.Add(p.RepeatAfter)) // told now
		case ok && st.Acks[rc.ID] != st.Severity:
			add(told.At.Add(p.RepeatAfter))
		}
	}
	for _, ru := range p.Router.rules {
		if ru.overdue != nil && !p.Router.matches(ru, st.StoredBreach, now) {
			t, err := p.Router.overdueFrom(ru, st.StoredBreach)
			if err != nil {
				return now // cannot tell: look again at the next pass
			}
			add(t)
		}
	}
	return next
}
