package breach

import (
	"testing"

	"github.com/dvcwatch/dvcwatch"
)

// TestVerdictLead: the department answering for a dossier in the results is
// the one that held it longest, whether it ended on time or late, not the
// leader's office that signed it last or the step that made it late; with
// no step finished, the step in progress.
func TestVerdictLead(t *testing.T) {
	r := rules(t)
	appraise := dvcwatch.Step{Seq: 1, Department: "VHXH", Official: "a", StartedAt: vn(2026, 3, 2, 8, 0)}
	sign := dvcwatch.Step{Seq: 2, Department: "VP", Official: "g", StartedAt: vn(2026, 3, 5, 9, 0)}
	signLate := sign
	signLate.StartedAt = vn(2026, 3, 11, 9, 0) // appraised for 9 days
	for _, c := range []struct {
		name      string
		processed int // day of March 2026
		steps     []dvcwatch.Step
		status    dvcwatch.Status
		want      string
		outcome   dvcwatch.Outcome
	}{
		{"on time: appraised 3 days, signed 1", 6, []dvcwatch.Step{appraise, sign}, dvcwatch.StatusProcessed, "VHXH a", dvcwatch.OutcomeEarly},
		{"late: the same department", 12, []dvcwatch.Step{appraise, signLate}, dvcwatch.StatusProcessed, "VHXH a", dvcwatch.OutcomeLate},
		{"signed for longer than appraised", 27, []dvcwatch.Step{appraise, sign}, dvcwatch.StatusProcessed, "VP g", dvcwatch.OutcomeLate},
		{"open, nothing finished: the step in progress", 0, []dvcwatch.Step{appraise}, dvcwatch.StatusInProgress, "VHXH a", ""},
	} {
		d := p5(c.status) // due Monday 9 March
		d.Steps = c.steps
		if c.processed > 0 {
			d.ProcessedAt = vn(2026, 3, c.processed, 10, 0)
		}
		_, v, _, err := r.Judge(d, vn(2026, 3, 30, 9, 0))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := v.Department + " " + v.Official; got != c.want || v.Outcome != c.outcome {
			t.Errorf("%s: lead %q, outcome %q; want %q, %q", c.name, got, v.Outcome, c.want, c.outcome)
		}
	}
}
