package config

import (
	"fmt"
	"strings"
)

// Suggest returns the known name closest to a misspelt one, if it is close enough
// to be a typo (at most two edits, or a different case); "" when none is. The
// configuration's checks and the command line's both use it, so that a wrong
// name gets the same "did you mean" wherever it is typed.
func Suggest(name string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		d := editDistance(name, k)
		if strings.EqualFold(name, k) {
			d = 0
		}
		if d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == name {
		return ""
	}
	return best
}

// WantOneOf is what follows a value that is none of the known ones: the
// nearest if it looks like a typo, then every one of them, as in
// `(did you mean "overdue"? want one of: due_soon, overdue)`.
func WantOneOf(value string, known []string) string {
	all := strings.Join(known, ", ")
	if len(known) == 0 {
		all = "none configured"
	}
	if s := Suggest(value, known); s != "" {
		return fmt.Sprintf("(did you mean %q? want one of: %s)", s, all)
	}
	return "(want one of: " + all + ")"
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev = cur
	}
	return prev[len(b)]
}
