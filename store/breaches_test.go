package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/detect"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

const agency = "UBND-XA-01"

// hour is t0 plus h hours: the detection passes of a test, in Hanoi time.
func hour(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }

// brc is a breach of dossier code (step 0 for the whole dossier), handled by
// the official "binh", without a fingerprint (RecordPage computes it).
func brc(kind dvcwatch.BreachKind, code string, step int, sev dvcwatch.Severity) dvcwatch.Breach {
	return dvcwatch.Breach{
		Kind: kind, Key: key(code), StepSeq: step, Official: "binh", Department: "Phòng Tư pháp", Severity: sev,
		StartedAt: t0.Add(-2 * time.Hour), DueAt: t0.Add(-2 * time.Hour), Detail: "quá hạn / overdue",
	}
}

// eval is an evaluation of an open dossier of agency.
func eval(code string, bs ...dvcwatch.Breach) dvcwatch.Evaluation {
	return dvcwatch.Evaluation{Key: key(code), Agency: agency, Open: true, Breaches: bs}
}

// seedDossiers stores open dossiers with the given codes.
func seedDossiers(t *testing.T, db *store.DB, codes ...string) {
	t.Helper()
	var ds []dvcwatch.Dossier
	for _, c := range codes {
		d := dossier(c, dvcwatch.StatusInProgress, 0)
		d.Applicant = dvcwatch.Applicant{Name: "Nguyễn Văn " + c, Phone: "0912 000 " + c}
		ds = append(ds, d)
	}
	apply(t, db, store.Page{Dossiers: ds})
}

// planner is a detect.Page.Plan that tells each breach's official of it when
// they were not told of its current severity, and remembers what it was given.
type planner struct {
	calls int
	seen  []dvcwatch.BreachState // of the last call, by id
	extra []dvcwatch.AlertIntent // appended to every plan
}

func (p *planner) plan(_ time.Time, open []dvcwatch.BreachState) []dvcwatch.AlertIntent {
	p.calls++
	p.seen = slices.Clone(open)
	slices.SortFunc(p.seen, func(a, b dvcwatch.BreachState) int { return int(a.ID - b.ID) })
	var out []dvcwatch.AlertIntent
	for _, s := range open {
		told, ok := s.Told[s.Official]
		if ok && told.Severity == s.Severity {
			continue
		}
		reason := dvcwatch.AlertNew
		if ok {
			reason = dvcwatch.AlertEscalated
		}
		out = append(out, dvcwatch.AlertIntent{BreachID: s.ID, Recipient: s.Official, Role: dvcwatch.RoleOfficial,
			Severity: s.Severity, Reason: reason})
	}
	return append(out, p.extra...)
}

// seenBy returns the state the planner was last given of breach id.
func (p *planner) seenBy(t *testing.T, id int64) dvcwatch.BreachState {
	t.Helper()
	for _, s := range p.seen {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("Plan was not given breach %d; it got %d states", id, len(p.seen))
	return dvcwatch.BreachState{}
}

// applyBreaches records b as detection does, in one transaction of db.
func applyBreaches(t *testing.T, db *store.DB, b detect.Page) detect.PageResult {
	t.Helper()
	res, err := detect.RecordPage(context.Background(), detect.TxOf(db.InTx), b)
	if err != nil {
		t.Fatalf("RecordPage: %v", err)
	}
	return res
}

func wantBreachResult(t *testing.T, got, want detect.PageResult) {
	t.Helper()
	if want.New == nil {
		want.New = map[dvcwatch.BreachKind]int{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("BreachResult = %+v, want %+v", got, want)
	}
}

func getBreach(t *testing.T, db *store.DB, id int64) dvcwatch.StoredBreach {
	t.Helper()
	b, err := db.GetBreach(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func allBreaches(t *testing.T, db *store.DB) []dvcwatch.StoredBreach {
	t.Helper()
	bs, err := db.Breaches(context.Background(), store.BreachFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return bs
}

// breachByFP finds the stored breach of kind, dossier and step.
func breachByFP(t *testing.T, db *store.DB, kind dvcwatch.BreachKind, code string, step int) dvcwatch.StoredBreach {
	t.Helper()
	fp := dvcwatch.BreachFingerprint(kind, key(code), step)
	for _, b := range allBreaches(t, db) {
		if b.Fingerprint == fp {
			return b
		}
	}
	t.Fatalf("no stored %s breach of %s step %d", kind, code, step)
	return dvcwatch.StoredBreach{}
}

type alertRow struct {
	ID             int64                `db:"id"`
	BreachID       int64                `db:"breach_id"`
	Recipient      string               `db:"recipient"`
	Role           string               `db:"role"`
	Severity       string               `db:"severity"`
	Reason         dvcwatch.AlertReason `db:"reason"`
	NotificationID sql.NullInt64        `db:"notification_id"`
}

// alertRows returns the alerts table, by id.
func alertRows(t *testing.T, db *store.DB) []alertRow {
	t.Helper()
	var rows []alertRow
	q := `SELECT id, breach_id, recipient, role, severity, reason, notification_id FROM alerts ORDER BY id`
	if err := store.SQLX(db).SelectContext(context.Background(), &rows, q); err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestRecordBreachesLifecycle(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		seedDossiers(t, db, "A", "B", "C")
		p := &planner{}
		overdueA := func(sev dvcwatch.Severity) dvcwatch.Breach { return brc(dvcwatch.BreachOverdue, "A", 0, sev) }
		stepA := brc(dvcwatch.BreachStepOverdue, "A", 1, dvcwatch.SeverityInfo)
		apologyB := brc(dvcwatch.BreachNoApology, "B", 0, dvcwatch.SeverityWarning)
		// The first pass's states, by fingerprint.
		first := map[string]dvcwatch.BreachState{}
		id := func(t *testing.T, b dvcwatch.Breach) int64 {
			t.Helper()
			s, ok := first[dvcwatch.BreachFingerprint(b.Kind, b.Key, b.StepSeq)]
			if !ok {
				t.Fatalf("%s of %s was not recorded by the first pass", b.Kind, b.Key)
			}
			return s.ID
		}

		steps := []struct {
			name  string
			evs   []dvcwatch.Evaluation
			want  detect.PageResult
			check func(t *testing.T, now time.Time)
		}{{
			name: "new breaches",
			evs:  []dvcwatch.Evaluation{eval("A", overdueA(dvcwatch.SeverityWarning), stepA), eval("B", apologyB), eval("C")},
			want: detect.PageResult{New: map[dvcwatch.BreachKind]int{
				dvcwatch.BreachOverdue: 1, dvcwatch.BreachStepOverdue: 1, dvcwatch.BreachNoApology: 1}, Alerts: 3},
			check: func(t *testing.T, now time.Time) {
				if len(p.seen) != 3 {
					t.Fatalf("Plan got %d states, want 3", len(p.seen))
				}
				for _, s := range p.seen {
					if s.ID <= 0 || s.Fingerprint != dvcwatch.BreachFingerprint(s.Kind, s.Key, s.StepSeq) {
						t.Errorf("new breach id %d, fingerprint %q", s.ID, s.Fingerprint)
					}
					if !s.DetectedAt.Equal(now) || !s.UpdatedAt.Equal(now) || !s.ResolvedAt.IsZero() || !s.Actionable ||
						s.Agency != agency {
						t.Errorf("new breach bookkeeping = %+v", s.StoredBreach)
					}
					if s.Told == nil || s.Acks == nil || len(s.Told)+len(s.Acks) != 0 {
						t.Errorf("new breach dvcwatch.Told %v, Acks %v; want empty maps", s.Told, s.Acks)
					}
					if got := getBreach(t, db, s.ID); !reflect.DeepEqual(got, s.StoredBreach) {
						t.Errorf("GetBreach = %+v\nPlan saw %+v", got, s.StoredBreach)
					}
					first[s.Fingerprint] = s
				}
				if len(first) != 3 {
					t.Errorf("ids are not distinct: %v", p.seen)
				}
				// Times come back in UTC to the microsecond, whatever zone they were given in.
				want := brc(dvcwatch.BreachNoApology, "B", 0, dvcwatch.SeverityWarning)
				want.Fingerprint = dvcwatch.BreachFingerprint(want.Kind, want.Key, 0)
				want.StartedAt, want.DueAt = want.StartedAt.UTC(), want.DueAt.UTC()
				if got := getBreach(t, db, id(t, apologyB)).Breach; !reflect.DeepEqual(got, want) {
					t.Errorf("stored breach = %+v, want %+v", got, want)
				}
				if n := len(alertRows(t, db)); n != 3 {
					t.Errorf("%d alerts stored, want 3", n)
				}
			},
		}, {
			name: "the same batch again",
			evs:  []dvcwatch.Evaluation{eval("A", overdueA(dvcwatch.SeverityWarning), stepA), eval("B", apologyB), eval("C")},
			want: detect.PageResult{Unchanged: 3},
			check: func(t *testing.T, now time.Time) {
				if len(p.seen) != 3 {
					t.Fatalf("Plan got %d states, want 3", len(p.seen))
				}
				for _, s := range p.seen {
					before := first[s.Fingerprint]
					if !reflect.DeepEqual(s.StoredBreach, before.StoredBreach) {
						t.Errorf("Plan saw %+v\nthe first pass %+v", s.StoredBreach, before.StoredBreach)
					}
					if want := map[string]dvcwatch.Told{"binh": {Severity: s.Severity, At: hour(1).UTC()}}; !reflect.DeepEqual(s.Told, want) {
						t.Errorf("Told = %v, want %v", s.Told, want)
					}
					if got := getBreach(t, db, s.ID); !got.UpdatedAt.Equal(hour(1)) {
						t.Errorf("updated_at = %v, want %v (no write)", got.UpdatedAt, hour(1))
					}
				}
				if n := len(alertRows(t, db)); n != 3 {
					t.Errorf("%d alerts stored, want still 3", n)
				}
			},
		}, {
			// The detail changes at every evaluation: alone it is no change.
			name: "only the detail changed",
			evs: []dvcwatch.Evaluation{eval("A", func() dvcwatch.Breach {
				b := overdueA(dvcwatch.SeverityWarning)
				b.Detail = "quá hạn 5,5 giờ làm việc"
				return b
			}(), stepA), eval("B", apologyB)},
			want: detect.PageResult{Unchanged: 3},
			check: func(t *testing.T, now time.Time) {
				if got := getBreach(t, db, id(t, overdueA(""))); got.Detail != "quá hạn / overdue" || !got.UpdatedAt.Equal(hour(1)) {
					t.Errorf("detail %q, updated_at %v; want untouched", got.Detail, got.UpdatedAt)
				}
			},
		}, {
			name: "severity escalated",
			evs: []dvcwatch.Evaluation{eval("A", func() dvcwatch.Breach {
				b := overdueA(dvcwatch.SeverityCritical)
				b.Detail = "quá hạn 2 ngày"
				return b
			}(), stepA), eval("B", apologyB)},
			want: detect.PageResult{Updated: 1, Unchanged: 2, Alerts: 1},
			check: func(t *testing.T, now time.Time) {
				got := getBreach(t, db, id(t, overdueA("")))
				if got.Severity != dvcwatch.SeverityCritical || got.Detail != "quá hạn 2 ngày" || !got.UpdatedAt.Equal(now) ||
					!got.DetectedAt.Equal(hour(1)) || !got.ResolvedAt.IsZero() {
					t.Errorf("updated breach = %+v", got)
				}
				if s := p.seenBy(t, got.ID); !reflect.DeepEqual(s.StoredBreach, got) {
					t.Errorf("Plan saw %+v\nstored %+v", s.StoredBreach, got)
				}
				rows := alertRows(t, db)
				if last := rows[len(rows)-1]; len(rows) != 4 || last.BreachID != got.ID || last.Reason != dvcwatch.AlertEscalated ||
					last.Severity != string(dvcwatch.SeverityCritical) {
					t.Errorf("alerts = %+v, want a 4th, escalated to critical", rows)
				}
			},
		}, {
			// B is not evaluated in this page: its breach stays as it is.
			name: "no longer reported",
			evs:  []dvcwatch.Evaluation{eval("A", stepA)},
			want: detect.PageResult{Resolved: 1, Unchanged: 1},
			check: func(t *testing.T, now time.Time) {
				got := getBreach(t, db, id(t, overdueA("")))
				if !got.ResolvedAt.Equal(now) || !got.UpdatedAt.Equal(now) {
					t.Errorf("resolved breach: resolved_at %v, updated_at %v; want %v", got.ResolvedAt, got.UpdatedAt, now)
				}
				if b := getBreach(t, db, id(t, apologyB)); !b.ResolvedAt.IsZero() || !b.UpdatedAt.Equal(hour(1)) {
					t.Errorf("breach of a dossier not evaluated: resolved_at %v, updated_at %v; want untouched", b.ResolvedAt, b.UpdatedAt)
				}
				if len(p.seen) != 1 || p.seen[0].ID != id(t, stepA) {
					t.Errorf("Plan got %+v, want only the step breach", p.seen)
				}
			},
		}, {
			name: "still not reported",
			evs:  []dvcwatch.Evaluation{eval("A", stepA)},
			want: detect.PageResult{Unchanged: 1},
			check: func(t *testing.T, now time.Time) {
				if got := getBreach(t, db, id(t, overdueA(""))); !got.ResolvedAt.Equal(hour(5)) || !got.UpdatedAt.Equal(hour(5)) {
					t.Errorf("resolved breach: resolved_at %v, updated_at %v; want both still %v", got.ResolvedAt, got.UpdatedAt, hour(5))
				}
			},
		}, {
			name: "reported again",
			evs:  []dvcwatch.Evaluation{eval("A", overdueA(dvcwatch.SeverityCritical), stepA)},
			want: detect.PageResult{Reopened: 1, Unchanged: 1},
			check: func(t *testing.T, now time.Time) {
				got := getBreach(t, db, id(t, overdueA("")))
				if !got.ResolvedAt.IsZero() || !got.UpdatedAt.Equal(now) || !got.DetectedAt.Equal(hour(1)) {
					t.Errorf("reopened breach = %+v", got)
				}
				// dvcwatch.Told of it at critical before it was resolved: the planner repeats nothing.
				s := p.seenBy(t, got.ID)
				if want := map[string]dvcwatch.Told{"binh": {Severity: dvcwatch.SeverityCritical, At: hour(4).UTC()}}; !reflect.DeepEqual(s.Told, want) {
					t.Errorf("Told = %v, want %v", s.Told, want)
				}
			},
		}, {
			name: "duplicate fingerprints in one batch",
			evs: []dvcwatch.Evaluation{
				eval("A", overdueA(dvcwatch.SeverityCritical), overdueA(dvcwatch.SeverityCritical), stepA),
				eval("C", brc(dvcwatch.BreachOverdue, "C", 0, dvcwatch.SeverityWarning), func() dvcwatch.Breach {
					b := brc(dvcwatch.BreachOverdue, "C", 0, dvcwatch.SeverityWarning)
					b.Fingerprint = dvcwatch.BreachFingerprint(b.Kind, b.Key, 0)
					return b
				}()),
			},
			want: detect.PageResult{New: map[dvcwatch.BreachKind]int{dvcwatch.BreachOverdue: 1}, Unchanged: 2, Alerts: 1},
			check: func(t *testing.T, now time.Time) {
				if len(p.seen) != 3 {
					t.Errorf("Plan got %d states, want 3", len(p.seen))
				}
				if n := len(allBreaches(t, db)); n != 4 {
					t.Errorf("%d breaches stored, want 4", n)
				}
			},
		}, {
			name: "dossier finished",
			evs: []dvcwatch.Evaluation{func() dvcwatch.Evaluation {
				ev := eval("A", overdueA(dvcwatch.SeverityCritical), stepA)
				ev.Open = false
				return ev
			}()},
			want: detect.PageResult{Updated: 2},
			check: func(t *testing.T, now time.Time) {
				for _, b := range []dvcwatch.Breach{overdueA(""), stepA} {
					if got := getBreach(t, db, id(t, b)); got.Actionable || !got.UpdatedAt.Equal(now) {
						t.Errorf("%s: actionable %v, updated_at %v; want false, %v", b.Kind, got.Actionable, got.UpdatedAt, now)
					}
				}
			},
		}}
		for i, s := range steps {
			now := hour(i + 1)
			p.seen = nil
			res := applyBreaches(t, db, detect.Page{Now: now, Dossiers: s.evs, Plan: p.plan})
			t.Run(s.name, func(t *testing.T) {
				wantBreachResult(t, res, s.want)
				s.check(t, now.UTC())
			})
		}
		counts, err := db.OpenBreachCounts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := map[dvcwatch.BreachKind]int{dvcwatch.BreachOverdue: 2, dvcwatch.BreachStepOverdue: 1, dvcwatch.BreachNoApology: 1}
		if !reflect.DeepEqual(counts, want) {
			t.Errorf("OpenBreachCounts = %v, want %v", counts, want)
		}
	})
}

func TestRecordBreachesNilPlanAndEmptyBatch(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		seedDossiers(t, db, "A")
		wantBreachResult(t, applyBreaches(t, db, detect.Page{Now: hour(1)}), detect.PageResult{})
		res := applyBreaches(t, db, detect.Page{Now: hour(1),
			Dossiers: []dvcwatch.Evaluation{eval("A", brc(dvcwatch.BreachDueSoon, "A", 0, dvcwatch.SeverityInfo))}})
		wantBreachResult(t, res, detect.PageResult{New: map[dvcwatch.BreachKind]int{dvcwatch.BreachDueSoon: 1}})
		if n := len(alertRows(t, db)); n != 0 {
			t.Errorf("%d alerts without a plan", n)
		}
	})
}

// A page of a full sweep (Whole) reads its breaches as one key range; a
// dossier of that range left out of the batch (not evaluable) keeps its
// breaches, and those of the others are resolved as in a list.
func TestRecordBreachesWholePageKeepsBreachesOfDossiersLeftOut(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		seedDossiers(t, db, "A", "B", "C")
		var all []dvcwatch.Evaluation
		for _, c := range []string{"A", "B", "C"} {
			all = append(all, eval(c, brc(dvcwatch.BreachOverdue, c, 0, dvcwatch.SeverityWarning)))
		}
		applyBreaches(t, db, detect.Page{Now: hour(1), Whole: true, Dossiers: all})
		// B is not evaluable this time; A no longer breaks the rule; C still does.
		res := applyBreaches(t, db, detect.Page{Now: hour(2), Whole: true, Dossiers: []dvcwatch.Evaluation{eval("A"), all[2]}})
		wantBreachResult(t, res, detect.PageResult{Resolved: 1, Unchanged: 1})
		for code, open := range map[string]bool{"A": false, "B": true, "C": true} {
			if b := breachByFP(t, db, dvcwatch.BreachOverdue, code, 0); b.ResolvedAt.IsZero() != open {
				t.Errorf("breach of %s: resolved at %v, want open=%t", code, b.ResolvedAt, open)
			}
		}
	})
}

func TestRecordBreachesPlanSeesToldAndAcks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedDossiers(t, db, "A", "B")
		var seen []dvcwatch.BreachState
		var intents func(s dvcwatch.BreachState) []dvcwatch.AlertIntent
		plan := func(_ time.Time, open []dvcwatch.BreachState) []dvcwatch.AlertIntent {
			seen = open
			var out []dvcwatch.AlertIntent
			for _, s := range open {
				out = append(out, intents(s)...)
			}
			return out
		}
		tell := func(recipient string, role dvcwatch.Role, sev dvcwatch.Severity, reason dvcwatch.AlertReason) func(dvcwatch.BreachState) dvcwatch.AlertIntent {
			return func(s dvcwatch.BreachState) dvcwatch.AlertIntent {
				return dvcwatch.AlertIntent{BreachID: s.ID, Recipient: recipient, Role: role, Severity: sev, Reason: reason}
			}
		}
		pass := func(now time.Time, sev dvcwatch.Severity, plan1 ...func(dvcwatch.BreachState) dvcwatch.AlertIntent) dvcwatch.BreachState {
			t.Helper()
			intents = func(s dvcwatch.BreachState) []dvcwatch.AlertIntent {
				if s.Key.Code != "A" {
					return nil
				}
				var out []dvcwatch.AlertIntent
				for _, f := range plan1 {
					out = append(out, f(s))
				}
				return out
			}
			applyBreaches(t, db, detect.Page{Now: now, Plan: plan, Dossiers: []dvcwatch.Evaluation{
				eval("A", brc(dvcwatch.BreachOverdue, "A", 0, sev)),
				eval("B", brc(dvcwatch.BreachOverdue, "B", 0, dvcwatch.SeverityInfo)),
			}})
			for _, s := range seen {
				if s.Key.Code == "A" {
					return s
				}
			}
			t.Fatal("Plan was not given A's breach")
			return dvcwatch.BreachState{}
		}

		s := pass(hour(1), dvcwatch.SeverityWarning,
			tell("binh", dvcwatch.RoleOfficial, dvcwatch.SeverityWarning, dvcwatch.AlertNew),
			tell("office", dvcwatch.RoleOffice, dvcwatch.SeverityWarning, dvcwatch.AlertNew))
		if len(s.Told) != 0 || len(s.Acks) != 0 {
			t.Errorf("first pass: dvcwatch.Told %v, Acks %v; want none", s.Told, s.Acks)
		}
		// Two alerts to the office in one pass: the later one (by id) is what it was told.
		s = pass(hour(2), dvcwatch.SeverityCritical,
			tell("binh", dvcwatch.RoleOfficial, dvcwatch.SeverityCritical, dvcwatch.AlertEscalated),
			tell("office", dvcwatch.RoleOffice, dvcwatch.SeverityWarning, dvcwatch.AlertRepeat),
			tell("office", dvcwatch.RoleOffice, dvcwatch.SeverityCritical, dvcwatch.AlertEscalated))
		want := map[string]dvcwatch.Told{
			"binh":   {Severity: dvcwatch.SeverityWarning, At: hour(1).UTC()},
			"office": {Severity: dvcwatch.SeverityWarning, At: hour(1).UTC()},
		}
		if !reflect.DeepEqual(s.Told, want) {
			t.Errorf("second pass: dvcwatch.Told = %v, want %v", s.Told, want)
		}
		if _, err := db.Acknowledge(ctx, s.ID, "binh", "đang xử lý", hour(2)); err != nil {
			t.Fatal(err)
		}
		s = pass(hour(3), dvcwatch.SeverityCritical)
		want = map[string]dvcwatch.Told{
			"binh":   {Severity: dvcwatch.SeverityCritical, At: hour(2).UTC()},
			"office": {Severity: dvcwatch.SeverityCritical, At: hour(2).UTC()},
		}
		if !reflect.DeepEqual(s.Told, want) {
			t.Errorf("third pass: dvcwatch.Told = %v, want %v", s.Told, want)
		}
		if wantAcks := map[string]dvcwatch.Severity{"binh": dvcwatch.SeverityCritical}; !reflect.DeepEqual(s.Acks, wantAcks) {
			t.Errorf("third pass: Acks = %v, want %v", s.Acks, wantAcks)
		}
		// B's state has nothing of A's.
		for _, o := range seen {
			if o.Key.Code == "B" && (len(o.Told) != 0 || len(o.Acks) != 0) {
				t.Errorf("B: dvcwatch.Told %v, Acks %v; want none", o.Told, o.Acks)
			}
		}
		rows := alertRows(t, db)
		if len(rows) != 5 {
			t.Fatalf("%d alerts stored, want 5", len(rows))
		}
		wantRow := alertRow{ID: rows[4].ID, BreachID: s.ID, Recipient: "office", Role: string(dvcwatch.RoleOffice),
			Severity: string(dvcwatch.SeverityCritical), Reason: dvcwatch.AlertEscalated}
		if rows[4] != wantRow {
			t.Errorf("last alert = %+v, want %+v", rows[4], wantRow)
		}

		// Acknowledged again at another severity: the acknowledgement is replaced.
		s = pass(hour(4), dvcwatch.SeverityWarning)
		if _, err := db.Acknowledge(ctx, s.ID, "binh", "đã gửi thư xin lỗi", hour(4)); err != nil {
			t.Fatal(err)
		}
		s = pass(hour(5), dvcwatch.SeverityWarning)
		if wantAcks := map[string]dvcwatch.Severity{"binh": dvcwatch.SeverityWarning}; !reflect.DeepEqual(s.Acks, wantAcks) {
			t.Errorf("after a second acknowledgement: Acks = %v, want %v", s.Acks, wantAcks)
		}
	})
}

func TestRecordBreachesFailureStoresNothing(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		evs   []dvcwatch.Evaluation
		extra []dvcwatch.AlertIntent
	}{
		{
			// GHOST is not a stored dossier: its breach violates the foreign key,
			// after A's overdue breach was resolved and its no_apology one queued.
			name: "unknown dossier",
			evs: []dvcwatch.Evaluation{
				eval("A", brc(dvcwatch.BreachNoApology, "A", 0, dvcwatch.SeverityWarning)),
				eval("GHOST", brc(dvcwatch.BreachOverdue, "GHOST", 0, dvcwatch.SeverityWarning)),
			},
		},
		{
			// The breaches are written; the plan's last alert names no breach.
			name: "alert of an unknown breach",
			evs: []dvcwatch.Evaluation{
				eval("A", brc(dvcwatch.BreachNoApology, "A", 0, dvcwatch.SeverityWarning)),
				eval("B", brc(dvcwatch.BreachOverdue, "B", 0, dvcwatch.SeverityWarning)),
			},
			extra: []dvcwatch.AlertIntent{{BreachID: 1 << 40, Recipient: "binh", Role: dvcwatch.RoleOfficial,
				Severity: dvcwatch.SeverityWarning, Reason: dvcwatch.AlertNew}},
		},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		seedDossiers(t, db, "A", "B")
		applyBreaches(t, db, detect.Page{Now: hour(1), Plan: (&planner{}).plan,
			Dossiers: []dvcwatch.Evaluation{eval("A", brc(dvcwatch.BreachOverdue, "A", 0, dvcwatch.SeverityWarning))}})
		breaches, alerts := allBreaches(t, db), alertRows(t, db)
		for _, c := range cases {
			p := &planner{extra: c.extra}
			_, err := detect.RecordPage(context.Background(), detect.TxOf(db.InTx), detect.Page{Now: hour(2), Dossiers: c.evs, Plan: p.plan})
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), "foreign key") {
				t.Errorf("%s: error %v, want a foreign key violation", c.name, err)
			}
			if got := allBreaches(t, db); !reflect.DeepEqual(got, breaches) {
				t.Errorf("%s: breaches after the failure:\n%+v\nwant\n%+v", c.name, got, breaches)
			}
			if got := alertRows(t, db); !reflect.DeepEqual(got, alerts) {
				t.Errorf("%s: alerts after the failure = %+v, want %+v", c.name, got, alerts)
			}
		}
	})
}

// TestRecordBreachesManyDossiers crosses the statement sizes: several INSERT
// statements of breaches and alerts and several id chunks on both engines.
func TestRecordBreachesManyDossiers(t *testing.T) {
	t.Parallel()
	const n = 2300
	codes := make([]string, n)
	for i := range codes {
		codes[i] = fmt.Sprintf("M%05d", i)
	}
	evs := func(report bool) []dvcwatch.Evaluation {
		out := make([]dvcwatch.Evaluation, n)
		for i, c := range codes {
			out[i] = eval(c)
			if report {
				out[i].Breaches = []dvcwatch.Breach{brc(dvcwatch.BreachOverdue, c, 0, dvcwatch.SeverityWarning)}
			}
		}
		return out
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		seedDossiers(t, db, codes...)
		p := &planner{}
		res := applyBreaches(t, db, detect.Page{Now: hour(1), Dossiers: evs(true), Plan: p.plan})
		wantBreachResult(t, res, detect.PageResult{New: map[dvcwatch.BreachKind]int{dvcwatch.BreachOverdue: n}, Alerts: n})
		ids := map[int64]bool{}
		for _, s := range p.seen {
			ids[s.ID] = true
		}
		if len(p.seen) != n || len(ids) != n {
			t.Errorf("Plan got %d states with %d ids, want %d", len(p.seen), len(ids), n)
		}
		if got := len(alertRows(t, db)); got != n {
			t.Errorf("%d alerts stored, want %d", got, n)
		}

		res = applyBreaches(t, db, detect.Page{Now: hour(2), Dossiers: evs(true), Plan: p.plan})
		wantBreachResult(t, res, detect.PageResult{Unchanged: n})
		for _, s := range p.seen {
			if s.Told["binh"].Severity != dvcwatch.SeverityWarning {
				t.Fatalf("breach %d: dvcwatch.Told = %v, want binh told", s.ID, s.Told)
			}
		}

		p.calls = 0
		res = applyBreaches(t, db, detect.Page{Now: hour(3), Dossiers: evs(false), Plan: p.plan})
		wantBreachResult(t, res, detect.PageResult{Resolved: n})
		if p.calls != 0 {
			t.Errorf("Plan called %d times with no open breach", p.calls)
		}
		if counts, err := db.OpenBreachCounts(context.Background()); err != nil || len(counts) != 0 {
			t.Errorf("OpenBreachCounts = %v, %v; want none", counts, err)
		}
	})
}

func TestAcknowledge(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedDossiers(t, db, "A")
		applyBreaches(t, db, detect.Page{Now: hour(1),
			Dossiers: []dvcwatch.Evaluation{eval("A", brc(dvcwatch.BreachOverdue, "A", 0, dvcwatch.SeverityWarning))}})
		b := breachByFP(t, db, dvcwatch.BreachOverdue, "A", 0)

		if _, err := db.Acknowledge(ctx, b.ID+1000, "binh", "ok", hour(2)); !errors.Is(err, dvcwatch.ErrNotFound) {
			t.Errorf("unknown breach: error %v, want ErrNotFound", err)
		}
		for _, c := range []struct{ official, reason string }{{"binh", ""}, {"binh", "  \t"}, {"", "lý do"}} {
			_, err := db.Acknowledge(ctx, b.ID, c.official, c.reason, hour(2))
			if err == nil || errors.Is(err, dvcwatch.ErrNotFound) || !strings.Contains(err.Error(), "required") {
				t.Errorf("Acknowledge(official %q, reason %q): error %v, want one saying what is required", c.official, c.reason, err)
			}
		}
		type ack struct {
			Official string `db:"official"`
			Severity string `db:"severity"`
			Reason   string `db:"reason"`
		}
		acks := func() []ack {
			var rows []ack
			if err := store.SQLX(db).SelectContext(ctx, &rows, `SELECT official, severity, reason FROM breach_acks ORDER BY official`); err != nil {
				t.Fatal(err)
			}
			return rows
		}
		if rows := acks(); len(rows) != 0 {
			t.Fatalf("invalid acknowledgements stored %+v", rows)
		}

		got, err := db.Acknowledge(ctx, b.ID, "binh", "đang xử lý", hour(2))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, b) {
			t.Errorf("Acknowledge returned %+v, want %+v", got, b)
		}
		if _, err := db.Acknowledge(ctx, b.ID, "lan", "đã biết", hour(2)); err != nil {
			t.Fatal(err)
		}
		applyBreaches(t, db, detect.Page{Now: hour(3),
			Dossiers: []dvcwatch.Evaluation{eval("A", brc(dvcwatch.BreachOverdue, "A", 0, dvcwatch.SeverityCritical))}})
		if _, err := db.Acknowledge(ctx, b.ID, "binh", "chờ bổ sung", hour(4)); err != nil {
			t.Fatal(err)
		}
		want := []ack{{"binh", "critical", "chờ bổ sung"}, {"lan", "warning", "đã biết"}}
		if rows := acks(); !reflect.DeepEqual(rows, want) {
			t.Errorf("acknowledgements = %+v, want %+v", rows, want)
		}
	})
}

func TestBreachQueries(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedDossiers(t, db, "A", "B", "C", "D")
		other := func(ev dvcwatch.Evaluation) dvcwatch.Evaluation { ev.Agency = "UBND-XA-02"; return ev }
		lan := func(b dvcwatch.Breach) dvcwatch.Breach { b.Official = "lan"; return b }
		// Pass 1 (hour 1): A overdue, A step 1, B no_apology; pass 2 (hour 3): C
		// overdue in another agency, B's breach resolved; pass 3 (hour 5): D due_soon.
		applyBreaches(t, db, detect.Page{Now: hour(1), Dossiers: []dvcwatch.Evaluation{
			eval("A", brc(dvcwatch.BreachOverdue, "A", 0, dvcwatch.SeverityCritical),
				lan(brc(dvcwatch.BreachStepOverdue, "A", 1, dvcwatch.SeverityWarning))),
			eval("B", brc(dvcwatch.BreachNoApology, "B", 0, dvcwatch.SeverityWarning)),
		}})
		applyBreaches(t, db, detect.Page{Now: hour(3), Dossiers: []dvcwatch.Evaluation{
			other(eval("C", lan(brc(dvcwatch.BreachOverdue, "C", 0, dvcwatch.SeverityWarning)))),
			eval("B"),
		}})
		applyBreaches(t, db, detect.Page{Now: hour(5), Dossiers: []dvcwatch.Evaluation{
			eval("D", brc(dvcwatch.BreachDueSoon, "D", 0, dvcwatch.SeverityInfo)),
		}})
		aOver := breachByFP(t, db, dvcwatch.BreachOverdue, "A", 0)
		aStep := breachByFP(t, db, dvcwatch.BreachStepOverdue, "A", 1)
		bApo := breachByFP(t, db, dvcwatch.BreachNoApology, "B", 0)
		cOver := breachByFP(t, db, dvcwatch.BreachOverdue, "C", 0)
		dSoon := breachByFP(t, db, dvcwatch.BreachDueSoon, "D", 0)
		if bApo.ResolvedAt.IsZero() {
			t.Fatalf("B's breach is not resolved: %+v", bApo)
		}

		ids := func(bs []dvcwatch.StoredBreach) []int64 {
			out := []int64{}
			for _, b := range bs {
				out = append(out, b.ID)
			}
			return out
		}
		// Most recently detected first; the same detection time by id, descending.
		cases := []struct {
			name string
			f    store.BreachFilter
			want []dvcwatch.StoredBreach
		}{
			{"all", store.BreachFilter{}, []dvcwatch.StoredBreach{dSoon, cOver, bApo, aStep, aOver}},
			{"open", store.BreachFilter{OpenOnly: true}, []dvcwatch.StoredBreach{dSoon, cOver, aStep, aOver}},
			{"agency", store.BreachFilter{Agency: agency}, []dvcwatch.StoredBreach{dSoon, bApo, aStep, aOver}},
			{"other agency", store.BreachFilter{Agency: "UBND-XA-02"}, []dvcwatch.StoredBreach{cOver}},
			{"kind", store.BreachFilter{Kind: dvcwatch.BreachOverdue}, []dvcwatch.StoredBreach{cOver, aOver}},
			{"official", store.BreachFilter{Official: "lan"}, []dvcwatch.StoredBreach{cOver, aStep}},
			{"official and agency", store.BreachFilter{Official: "lan", Agency: agency}, []dvcwatch.StoredBreach{aStep}},
			{"open of a kind", store.BreachFilter{OpenOnly: true, Kind: dvcwatch.BreachNoApology}, []dvcwatch.StoredBreach{}},
			{"limit", store.BreachFilter{Limit: 2}, []dvcwatch.StoredBreach{dSoon, cOver}},
			{"unknown agency", store.BreachFilter{Agency: "nowhere"}, []dvcwatch.StoredBreach{}},
		}
		for _, c := range cases {
			got, err := db.Breaches(ctx, c.f)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if !reflect.DeepEqual(ids(got), ids(c.want)) {
				t.Errorf("%s: Breaches = %v, want %v", c.name, ids(got), ids(c.want))
			} else if len(got) > 0 && !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s: Breaches = %+v, want %+v", c.name, got, c.want)
			}
		}

		if got := getBreach(t, db, cOver.ID); got.Agency != "UBND-XA-02" || got.Official != "lan" ||
			!got.DetectedAt.Equal(hour(3)) || !got.ResolvedAt.IsZero() {
			t.Errorf("GetBreach = %+v", got)
		}
		if _, err := db.GetBreach(ctx, dSoon.ID+1000); !errors.Is(err, dvcwatch.ErrNotFound) {
			t.Errorf("GetBreach of an unknown id: error %v, want ErrNotFound", err)
		}

		counts, err := db.OpenBreachCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wantCounts := map[dvcwatch.BreachKind]int{dvcwatch.BreachOverdue: 2, dvcwatch.BreachStepOverdue: 1, dvcwatch.BreachDueSoon: 1}
		if !reflect.DeepEqual(counts, wantCounts) {
			t.Errorf("OpenBreachCounts = %v, want %v", counts, wantCounts)
		}

		// AgencyBreaches: the open ones, plus the resolved ones detected since, by id.
		agencyCases := []struct {
			name   string
			agency string
			since  time.Time
			want   []dvcwatch.StoredBreach
		}{
			{"since the first pass", agency, hour(1), []dvcwatch.StoredBreach{aOver, aStep, bApo, dSoon}},
			{"since just after it", agency, hour(1).Add(time.Microsecond), []dvcwatch.StoredBreach{aOver, aStep, dSoon}},
			{"since later", agency, hour(6), []dvcwatch.StoredBreach{aOver, aStep, dSoon}},
			{"no since", agency, time.Time{}, []dvcwatch.StoredBreach{aOver, aStep, dSoon}},
			{"other agency", "UBND-XA-02", hour(0), []dvcwatch.StoredBreach{cOver}},
			{"unknown agency", "nowhere", hour(0), nil},
		}
		for _, c := range agencyCases {
			var stored []dvcwatch.StoredBreach
			for d, err := range db.AgencyBreaches(ctx, c.agency, c.since) {
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				stored = append(stored, d.StoredBreach)
				if d.ProcedureName != "Đăng ký khai sinh" || d.ApplicantName != "Nguyễn Văn "+d.Key.Code ||
					d.ApplicantPhone != "0912 000 "+d.Key.Code {
					t.Errorf("%s: dossier details of %s = %q, %q, %q", c.name, d.Key, d.ProcedureName, d.ApplicantName, d.ApplicantPhone)
				}
			}
			if !reflect.DeepEqual(ids(stored), ids(c.want)) {
				t.Errorf("%s: AgencyBreaches = %v, want %v", c.name, ids(stored), ids(c.want))
			} else if !reflect.DeepEqual(stored, c.want) {
				t.Errorf("%s: AgencyBreaches = %+v, want %+v", c.name, stored, c.want)
			}
		}
	})
}

func TestDetectorState(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if s, ok, err := db.DetectorState(ctx, "detect"); err != nil || ok {
			t.Fatalf("before any pass: %+v, ok %v, err %v; want none", s, ok, err)
		}
		saves := []struct {
			name string
			save dvcwatch.DetectorState
			want dvcwatch.DetectorState
		}{
			{"incremental pass, no sweep yet",
				dvcwatch.DetectorState{LastRunAt: time.Date(2026, 3, 2, 9, 0, 0, 123456789, ict)},
				dvcwatch.DetectorState{LastRunAt: time.Date(2026, 3, 2, 2, 0, 0, 123456000, time.UTC)}},
			{"full sweep",
				dvcwatch.DetectorState{LastRunAt: hour(2), LastFullAt: hour(2)},
				dvcwatch.DetectorState{LastRunAt: hour(2).UTC(), LastFullAt: hour(2).UTC()}},
			{"incremental pass after it",
				dvcwatch.DetectorState{LastRunAt: hour(3), LastFullAt: hour(2)},
				dvcwatch.DetectorState{LastRunAt: hour(3).UTC(), LastFullAt: hour(2).UTC()}},
		}
		for _, s := range saves {
			if err := db.SaveDetectorState(ctx, "detect", s.save); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			got, ok, err := db.DetectorState(ctx, "detect")
			if err != nil || !ok || !reflect.DeepEqual(got, s.want) {
				t.Errorf("%s: dvcwatch.DetectorState = %+v, ok %v, err %v; want %+v", s.name, got, ok, err, s.want)
			}
		}
		if _, ok, err := db.DetectorState(ctx, "other"); err != nil || ok {
			t.Errorf("another name: ok %v, err %v; want none", ok, err)
		}
	})
}

// TestRecordBreachesDoesNotReplanAFinishedDossiersUnchangedBreach: a finished
// dossier's breach is planned when it is recorded and when it changes, not
// at every pass; an open dossier's is planned at every pass (repeats).
func TestRecordBreachesDoesNotReplanAFinishedDossiersUnchangedBreach(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		seedDossiers(t, db, "OPEN", "DONE")
		done := eval("DONE", brc(dvcwatch.BreachFinishedLate, "DONE", 0, dvcwatch.SeverityWarning))
		done.Open = false
		open := eval("OPEN", brc(dvcwatch.BreachOverdue, "OPEN", 0, dvcwatch.SeverityWarning))
		p := &planner{}
		batch := detect.Page{Now: hour(1), Dossiers: []dvcwatch.Evaluation{open, done}, Plan: p.plan}
		applyBreaches(t, db, batch)
		if len(p.seen) != 2 {
			t.Fatalf("first pass planned %d breaches, want both new ones", len(p.seen))
		}
		batch.Now = hour(2)
		applyBreaches(t, db, batch)
		if len(p.seen) != 1 || p.seen[0].Key.Code != "OPEN" {
			t.Fatalf("second pass planned %+v, want the open dossier's breach only", p.seen)
		}
		done.Breaches[0].Severity = dvcwatch.SeverityCritical
		batch = detect.Page{Now: hour(3), Dossiers: []dvcwatch.Evaluation{open, done}, Plan: p.plan}
		applyBreaches(t, db, batch)
		if len(p.seen) != 2 {
			t.Errorf("a changed breach of the finished dossier: planned %d, want it and the open one", len(p.seen))
		}
	})
}
