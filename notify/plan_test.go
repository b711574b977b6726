package notify

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/directory"
)

// route is "id:role" per recipient, in order.
func route(rs []Recipient) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.ID+":"+string(r.Role))
	}
	return out
}

func checkRoute(t *testing.T, got []Recipient, want ...string) {
	t.Helper()
	if g := route(got); !slices.Equal(g, want) {
		t.Errorf("recipients\n got %v\nwant %v", g, want)
	}
	for _, r := range got {
		if r.Email == "" {
			t.Errorf("recipient %s has no email", r.ID)
		}
	}
}

func defaultRouter(t *testing.T, mutate func(*config.Config)) *Router {
	t.Helper()
	cfg := testConfig(t, mutate)
	if !slices.EqualFunc(cfg.Notify.Escalation, config.DefaultEscalation(), func(a, b config.Rule) bool {
		return slices.Equal(a.When.Kinds, b.When.Kinds) && a.When.OverdueMoreThan == b.When.OverdueMoreThan &&
			a.When.MinSeverity == b.When.MinSeverity && slices.Equal(a.Notify, b.Notify)
	}) {
		t.Fatalf("test configuration does not use the default escalation: %+v", cfg.Notify.Escalation)
	}
	dir, err := directory.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRouter(dir, cfg.Notify.Escalation)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

const (
	officialA  = "nguyen.van.a:official"
	headB      = "tran.thi.b:department_head"
	office1    = "van.phong:office"
	office2    = "pho.van.phong:office"
	warning    = dvcwatch.SeverityWarning
	critical   = dvcwatch.SeverityCritical
	overdue    = dvcwatch.BreachOverdue
	dueSoon    = dvcwatch.BreachDueSoon
	noApology  = dvcwatch.BreachNoApology
	officialID = "nguyen.van.a"
)

func TestRouterDefaultEscalation(t *testing.T) {
	t.Parallel()
	r := defaultRouter(t, nil)
	// Friday 6 March 2026, closing time.
	friday := weekday(t, vn(2026, 3, 6, 17, 0), time.Friday)
	// Thursday 12 February 2026, closing time: Tết runs from Saturday 14 to
	// Sunday 22, so Friday 13 is the only working day before Monday 23.
	beforeTet := weekday(t, vn(2026, 2, 12, 17, 0), time.Thursday)

	tests := []struct {
		name string
		b    dvcwatch.StoredBreach
		now  time.Time
		want []string
	}{
		{"due soon: the official only",
			breach(1, dueSoon, warning, officialID, "VHXH", vn(2026, 3, 10, 17, 0)), vn(2026, 3, 10, 9, 0),
			[]string{officialA}},
		{"just overdue: official and head",
			breach(1, overdue, warning, officialID, "VHXH", vn(2026, 3, 9, 17, 0)), vn(2026, 3, 10, 9, 0),
			[]string{officialA, headB}},
		{"overdue by one working day: official and head",
			breach(1, overdue, warning, officialID, "VHXH", vn(2026, 3, 9, 17, 0)), vn(2026, 3, 10, 17, 0),
			[]string{officialA, headB}},
		{"overdue by more than two working days: and the office",
			breach(1, overdue, critical, officialID, "VHXH", vn(2026, 3, 9, 17, 0)), vn(2026, 3, 12, 8, 0),
			[]string{officialA, headB, office1, office2}},
		// Across a weekend: three calendar days but 7 working hours.
		{"weekend: 3 calendar days, under 1 working day",
			breach(1, overdue, warning, officialID, "VHXH", friday), weekday(t, vn(2026, 3, 9, 16, 0), time.Monday),
			[]string{officialA, headB}},
		{"weekend: exactly two working days is not more than two",
			breach(1, overdue, warning, officialID, "VHXH", friday), weekday(t, vn(2026, 3, 10, 17, 0), time.Tuesday),
			[]string{officialA, headB}},
		{"weekend: exactly two working days, in the evening",
			breach(1, overdue, warning, officialID, "VHXH", friday), weekday(t, vn(2026, 3, 10, 19, 0), time.Tuesday),
			[]string{officialA, headB}},
		{"weekend: two working days and a minute",
			breach(1, overdue, critical, officialID, "VHXH", friday), weekday(t, vn(2026, 3, 11, 7, 31), time.Wednesday),
			[]string{officialA, headB, office1, office2}},
		// Across Tết: eleven calendar days but 14.5 working hours.
		{"Tết: 11 calendar days, under two working days",
			breach(1, overdue, warning, officialID, "VHXH", beforeTet), weekday(t, vn(2026, 2, 23, 16, 0), time.Monday),
			[]string{officialA, headB}},
		{"Tết: over two working days the day after",
			breach(1, overdue, critical, officialID, "VHXH", beforeTet), weekday(t, vn(2026, 2, 24, 8, 0), time.Tuesday),
			[]string{officialA, headB, office1, office2}},
		{"overdue rule with no due date does not match",
			breach(1, overdue, critical, officialID, "VHXH", time.Time{}), vn(2026, 3, 12, 8, 0),
			[]string{officialA, headB}},
		{"a step overdue: its official and head",
			breach(1, dvcwatch.BreachStepOverdue, warning, officialID, "VHXH", vn(2026, 3, 9, 17, 0)), vn(2026, 3, 10, 9, 0),
			[]string{officialA, headB}},
		{"no apology letter: the head and the office",
			breach(1, noApology, warning, officialID, "VHXH", vn(2026, 3, 9, 17, 0)), vn(2026, 3, 12, 8, 0),
			[]string{headB, office1, office2}},
		{"a step overdue, the dossier finished: nobody (history, in the summary)",
			finished(breach(1, dvcwatch.BreachStepOverdue, warning, officialID, "VHXH", vn(2026, 3, 9, 17, 0))), vn(2026, 3, 10, 9, 0),
			nil},
		{"no apology letter, the dossier finished: nobody (history, in the summary)",
			finished(breach(1, noApology, warning, officialID, "VHXH", vn(2026, 3, 9, 17, 0))), vn(2026, 3, 12, 8, 0),
			nil},
		{"not on the national portal: the office",
			breach(1, dvcwatch.BreachNotSynced, warning, "", "", vn(2026, 3, 9, 17, 0)), vn(2026, 3, 12, 8, 0),
			[]string{office1, office2}},
		{"finished late, a kind no default rule names: nobody",
			breach(1, dvcwatch.BreachFinishedLate, warning, officialID, "VHXH", vn(2026, 3, 9, 17, 0)), vn(2026, 3, 12, 8, 0),
			nil},
		{"the official is the head: listed once, as the official",
			breach(1, overdue, critical, "tran.thi.b", "VHXH", vn(2026, 3, 9, 17, 0)), vn(2026, 3, 12, 8, 0),
			[]string{"tran.thi.b:official", office1, office2}},
		{"the official of another department: that department's head is not asked",
			breach(1, overdue, warning, "pham.van.c", "VHXH", vn(2026, 3, 9, 17, 0)), vn(2026, 3, 10, 9, 0),
			[]string{"pham.van.c:official", headB}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkRoute(t, r.Recipients(tt.b, tt.now), tt.want...)
		})
	}
}

// The office is told when the breach is overdue by more than two working days
// counted from the due, whatever the agency's cut-off for receiving dossiers:
// the same measure the detector uses to make it critical.
func TestRouterOverdueIgnoresReceiptCutoff(t *testing.T) {
	t.Parallel()
	r := defaultRouter(t, func(c *config.Config) {
		for i := range c.Agencies {
			if c.Agencies[i].Code == hoaBinh {
				c.Agencies[i].Cutoff = "16:00" // dossiers received later count from the next morning
			}
		}
	})
	due := weekday(t, vn(2026, 3, 9, 16, 30), time.Monday)
	now := weekday(t, vn(2026, 3, 11, 16, 45), time.Wednesday)
	late, err := r.dir.Schedule(hoaBinh).WorkingTimeBetween(due, now)
	if err != nil {
		t.Fatal(err)
	}
	if twoDays := 2 * r.dir.Schedule(hoaBinh).Hours().DayLength(); late <= twoDays {
		t.Fatalf("test dates: overdue by %v, not more than %v", late, twoDays)
	}
	b := breach(1, overdue, critical, officialID, "VHXH", due)
	checkRoute(t, r.Recipients(b, now), officialA, headB, office1, office2)
	// And not a moment before two working days have passed.
	checkRoute(t, r.Recipients(b, vn(2026, 3, 11, 16, 29)), officialA, headB)
}

func TestRouterFallbacks(t *testing.T) {
	t.Parallel()
	now := vn(2026, 3, 10, 9, 0)
	due := vn(2026, 3, 9, 17, 0)
	tests := []struct {
		name   string
		mutate func(t *testing.T, c *config.Config)
		b      dvcwatch.StoredBreach
		want   []string
	}{
		{"official missing from the configuration: the head", nil,
			breach(1, dueSoon, warning, "da.nghi.viec", "VHXH", due.Add(24*time.Hour)),
			[]string{headB}},
		{"official missing, overdue: the head once", nil,
			breach(1, overdue, warning, "da.nghi.viec", "VHXH", due),
			[]string{headB}},
		{"no official at all: the head", nil,
			breach(1, dueSoon, warning, "", "VHXH", due.Add(24*time.Hour)),
			[]string{headB}},
		{"department without head, overdue: the office stands in",
			func(t *testing.T, c *config.Config) { department(t, c, hoaBinh, "VHXH").Head = "" },
			breach(1, overdue, warning, officialID, "VHXH", due),
			[]string{officialA, office1, office2}},
		{"official missing and department without head: the office",
			func(t *testing.T, c *config.Config) { department(t, c, hoaBinh, "VHXH").Head = "" },
			breach(1, dueSoon, warning, "da.nghi.viec", "VHXH", due.Add(24*time.Hour)),
			[]string{office1, office2}},
		{"unknown department and official: the office", nil,
			breach(1, overdue, warning, "da.nghi.viec", "XX", due),
			[]string{office1, office2}},
		{"official without email is skipped: the head",
			func(t *testing.T, c *config.Config) { official(t, c, officialID).Email = "" },
			breach(1, dueSoon, warning, officialID, "VHXH", due.Add(24*time.Hour)),
			[]string{headB}},
		{"head without email is skipped: the office",
			func(t *testing.T, c *config.Config) { official(t, c, "tran.thi.b").Email = "" },
			breach(1, overdue, warning, officialID, "VHXH", due),
			[]string{officialA, office1, office2}},
		{"office person without email is skipped",
			func(t *testing.T, c *config.Config) { official(t, c, "pho.van.phong").Email = "" },
			breach(1, overdue, critical, officialID, "VHXH", vn(2026, 3, 5, 17, 0)),
			[]string{officialA, headB, office1}},
		{"nobody with an email: nobody",
			func(t *testing.T, c *config.Config) {
				for _, id := range []string{officialID, "tran.thi.b", "van.phong", "pho.van.phong"} {
					official(t, c, id).Email = ""
				}
			},
			breach(1, overdue, critical, officialID, "VHXH", vn(2026, 3, 5, 17, 0)),
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mutate func(*config.Config)
			if tt.mutate != nil {
				mutate = func(c *config.Config) { tt.mutate(t, c) }
			}
			checkRoute(t, defaultRouter(t, mutate).Recipients(tt.b, now), tt.want...)
		})
	}
}

func TestRouterCustomRules(t *testing.T) {
	t.Parallel()
	dir := testDirectory(t, nil)
	r, err := NewRouter(dir, []config.Rule{
		{When: config.Match{Kinds: []string{"overdue", "no_apology"}}, Notify: []dvcwatch.Role{dvcwatch.RoleOfficial}},
		{When: config.Match{Kinds: []string{"overdue"}, MinSeverity: "critical"}, Notify: []dvcwatch.Role{dvcwatch.RoleOffice, dvcwatch.RoleDepartmentHead}},
		{When: config.Match{Kinds: []string{"step_overdue"}, OverdueMoreThan: "4h"}, Notify: []dvcwatch.Role{dvcwatch.RoleDepartmentHead}},
		{When: config.Match{Kinds: []string{"finished_late"}, OverdueMoreThan: "2d"}, Notify: []dvcwatch.Role{dvcwatch.RoleOffice}},
	})
	if err != nil {
		t.Fatal(err)
	}
	due := vn(2026, 3, 9, 17, 0)
	now := vn(2026, 3, 10, 12, 0) // 4 working hours after the due
	tests := []struct {
		name string
		b    dvcwatch.StoredBreach
		now  time.Time
		want []string
	}{
		{"below min_severity", breach(1, overdue, warning, officialID, "VHXH", due), now, []string{officialA}},
		{"at min_severity, roles in the rule's order", breach(1, overdue, critical, officialID, "VHXH", due), now,
			[]string{officialA, office1, office2, headB}},
		{"second kind of a rule", breach(1, noApology, critical, officialID, "VHXH", due), now, []string{officialA}},
		{"kind no rule names", breach(1, dueSoon, critical, officialID, "VHXH", due), now, nil},
		{"working hours limit not exceeded", breach(1, dvcwatch.BreachStepOverdue, warning, officialID, "VHXH", due), now, nil},
		{"working hours limit exceeded", breach(1, dvcwatch.BreachStepOverdue, warning, officialID, "VHXH", due),
			vn(2026, 3, 10, 13, 31), []string{headB}},
		{"calendar days limit not exceeded", breach(1, dvcwatch.BreachFinishedLate, warning, officialID, "VHXH", due), now, nil},
		{"calendar days limit exceeded", breach(1, dvcwatch.BreachFinishedLate, warning, officialID, "VHXH", due),
			vn(2026, 3, 16, 9, 0), []string{office1, office2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkRoute(t, r.Recipients(tt.b, tt.now), tt.want...)
		})
	}
}

func TestNewRouterBadLimit(t *testing.T) {
	t.Parallel()
	_, err := NewRouter(testDirectory(t, nil), []config.Rule{
		{When: config.Match{Kinds: []string{"overdue"}}, Notify: []dvcwatch.Role{dvcwatch.RoleOfficial}},
		{When: config.Match{Kinds: []string{"overdue"}, OverdueMoreThan: "2 weeks"}, Notify: []dvcwatch.Role{dvcwatch.RoleOffice}},
	})
	if err == nil || !strings.Contains(err.Error(), "notify.escalation[1].when.overdue_more_than") {
		t.Fatalf("got %v, want an error naming notify.escalation[1].when.overdue_more_than", err)
	}
}

func TestPlanner(t *testing.T) {
	t.Parallel()
	p := &Planner{Router: defaultRouter(t, nil), RepeatAfter: 24 * time.Hour}
	now := vn(2026, 3, 11, 9, 0)
	dueSoonB := breach(7, dueSoon, warning, officialID, "VHXH", vn(2026, 3, 11, 17, 0))
	state := func(b dvcwatch.StoredBreach, told map[string]dvcwatch.Told, acks map[string]dvcwatch.Severity) dvcwatch.BreachState {
		return dvcwatch.BreachState{StoredBreach: b, Told: told, Acks: acks}
	}
	told := func(sev dvcwatch.Severity, ago time.Duration) map[string]dvcwatch.Told {
		return map[string]dvcwatch.Told{officialID: {Severity: sev, At: now.Add(-ago)}}
	}
	ack := func(sev dvcwatch.Severity) map[string]dvcwatch.Severity {
		return map[string]dvcwatch.Severity{officialID: sev}
	}
	withSeverity := func(b dvcwatch.StoredBreach, sev dvcwatch.Severity) dvcwatch.StoredBreach {
		b.Severity = sev
		return b
	}
	closed := dueSoonB
	closed.Actionable = false

	tests := []struct {
		name string
		st   dvcwatch.BreachState
		want dvcwatch.AlertReason // reason for the official; "" for no alert
	}{
		{"never told: new", state(dueSoonB, nil, nil), dvcwatch.AlertNew},
		{"never told, with empty maps: new", state(dueSoonB, map[string]dvcwatch.Told{}, map[string]dvcwatch.Severity{}), dvcwatch.AlertNew},
		{"told at a lower severity: escalated", state(dueSoonB, told(dvcwatch.SeverityInfo, time.Hour), nil), dvcwatch.AlertEscalated},
		{"told at the same severity recently: nothing", state(dueSoonB, told(warning, 23*time.Hour), nil), ""},
		{"told at a higher severity recently: nothing", state(dueSoonB, told(critical, time.Hour), nil), ""},
		{"told exactly RepeatAfter ago: repeat", state(dueSoonB, told(warning, 24*time.Hour), nil), dvcwatch.AlertRepeat},
		{"told more than RepeatAfter ago: repeat", state(dueSoonB, told(warning, 25*time.Hour), nil), dvcwatch.AlertRepeat},
		{"not actionable, told long ago: never repeated", state(closed, told(warning, 30*24*time.Hour), nil), ""},
		{"not actionable, never told: new", state(closed, nil, nil), dvcwatch.AlertNew},
		{"acknowledged at this severity: no repeat", state(dueSoonB, told(warning, 25*time.Hour), ack(warning)), ""},
		{"acknowledged, then the severity rose: escalated",
			state(withSeverity(dueSoonB, critical), told(warning, time.Hour), ack(warning)), dvcwatch.AlertEscalated},
		{"acknowledged at a lower severity than now: repeats again",
			state(withSeverity(dueSoonB, critical), told(critical, 25*time.Hour), ack(warning)), dvcwatch.AlertRepeat},
		{"someone else's acknowledgement does not mute",
			state(dueSoonB, told(warning, 25*time.Hour), map[string]dvcwatch.Severity{"tran.thi.b": warning}), dvcwatch.AlertRepeat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := p.Plan(now, []dvcwatch.BreachState{tt.st})
			if tt.want == "" {
				if len(got) != 0 {
					t.Fatalf("planned %+v, want nothing", got)
				}
				return
			}
			want := dvcwatch.AlertIntent{BreachID: 7, Recipient: officialID, Role: dvcwatch.RoleOfficial,
				Severity: tt.st.Severity, Reason: tt.want}
			if len(got) != 1 || got[0] != want {
				t.Fatalf("planned %+v, want [%+v]", got, want)
			}
		})
	}
}

func TestPlannerSeveralRecipientsAndBreaches(t *testing.T) {
	t.Parallel()
	p := &Planner{Router: defaultRouter(t, nil), RepeatAfter: 24 * time.Hour}
	now := vn(2026, 3, 12, 9, 0)
	overdueB := breach(1, overdue, critical, officialID, "VHXH", vn(2026, 3, 9, 17, 0))
	kt := breach(2, dueSoon, warning, "pham.van.c", "KT", vn(2026, 3, 12, 17, 0))
	got := p.Plan(now, []dvcwatch.BreachState{
		{StoredBreach: overdueB, Told: map[string]dvcwatch.Told{
			officialID:   {Severity: critical, At: now.Add(-time.Hour)}, // told recently
			"tran.thi.b": {Severity: warning, At: now.Add(-time.Hour)},  // told before it turned critical
			"van.phong":  {Severity: critical, At: now.Add(-48 * time.Hour)},
		}, Acks: map[string]dvcwatch.Severity{"van.phong": critical}},
		{StoredBreach: kt},
	})
	want := []dvcwatch.AlertIntent{
		{BreachID: 1, Recipient: "tran.thi.b", Role: dvcwatch.RoleDepartmentHead, Severity: critical, Reason: dvcwatch.AlertEscalated},
		{BreachID: 1, Recipient: "pho.van.phong", Role: dvcwatch.RoleOffice, Severity: critical, Reason: dvcwatch.AlertNew},
		{BreachID: 2, Recipient: "pham.van.c", Role: dvcwatch.RoleOfficial, Severity: warning, Reason: dvcwatch.AlertNew},
	}
	if !slices.Equal(got, want) {
		t.Errorf("planned\n%+v\nwant\n%+v", got, want)
	}
}

// finished marks b as the breach of a dossier no longer open.
func finished(b dvcwatch.StoredBreach) dvcwatch.StoredBreach {
	b.Actionable = false
	return b
}
