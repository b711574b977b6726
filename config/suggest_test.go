package config

import "testing"

func TestWantOneOf(t *testing.T) {
	t.Parallel()
	kinds := []string{"due_soon", "overdue", "finished_late"}
	for _, c := range []struct {
		value string
		known []string
		want  string
	}{
		{"overdu", kinds, `(did you mean "overdue"? want one of: due_soon, overdue, finished_late)`},
		{"OVERDUE", kinds, `(did you mean "overdue"? want one of: due_soon, overdue, finished_late)`},
		{"late", kinds, `(want one of: due_soon, overdue, finished_late)`},
		{"wran", []string{"debug", "info", "warn", "error"}, `(did you mean "warn"? want one of: debug, info, warn, error)`},
		{"x", nil, `(want one of: none configured)`},
	} {
		if got := WantOneOf(c.value, c.known); got != c.want {
			t.Errorf("WantOneOf(%q) = %s, want %s", c.value, got, c.want)
		}
	}
}
