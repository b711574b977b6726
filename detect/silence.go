package detect

import (
	"time"

	"github.com/dvcwatch/dvcwatch"
)

// unsilenced returns the breaches of bs that no silence of silences active
// at now matches, and how many it left out. The ones left out stay recorded
// but are not planned: nobody is told of them while the silence lasts. The
// planner decides from what each recipient was told, so the first pass after
// the silence ends tells what it held back: a breach is new to whoever was
// never told of it, escalated to whoever was told of a lower severity. It is
// pure, and keeps bs as it was.
func unsilenced(now time.Time, silences []dvcwatch.Silence, bs []dvcwatch.StoredBreach) ([]dvcwatch.StoredBreach, int) {
	if len(silences) == 0 {
		return bs, 0
	}
	out := make([]dvcwatch.StoredBreach, 0, len(bs))
	for _, b := range bs {
		if _, muted := dvcwatch.SilencedBy(silences, b, now); !muted {
			out = append(out, b)
		}
	}
	return out, len(bs) - len(out)
}
