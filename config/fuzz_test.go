package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: whatever bytes the configuration file holds, Parse returns a
// Config or Problems, never panics; each problem has a message and says
// where (a line or a field path), but for those about the whole file.
func FuzzParse(f *testing.F) {
	seeds, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range append(seeds, "dvcwatch.example.yaml", "dvcwatch.compose.yaml") {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{"", "---\n---\n", "schedules:\n  - {name: a, cron: \"TZ=\", job: detect}\n", "database: [\n",
		"admin: {tokens: [{token: '${'}]}\n", "a: &a [*a]\n", "x: !!binary AAAA\n", "\xef\xbb\xbfdatabase: {}\n"} {
		f.Add([]byte(s))
	}
	name := filepath.Join(f.TempDir(), "dvcwatch.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		// A calendar file or template directory under /dev or /proc could
		// block the read forever: not the parser's input.
		if bytes.Contains(data, []byte("/dev")) || bytes.Contains(data, []byte("/proc")) || bytes.Contains(data, []byte("/sys")) {
			t.Skip()
		}
		c, err := Parse(data, name)
		if (c == nil) == (err == nil) {
			t.Fatalf("Parse = %v, %v: want a Config or an error", c, err)
		}
		if err == nil {
			return
		}
		var ps Problems
		if !errors.As(err, &ps) || len(ps) == 0 {
			t.Fatalf("Parse error %T %v, want Problems", err, err)
		}
		for _, p := range ps {
			whole := strings.HasPrefix(p.Message, "file is empty") || strings.HasPrefix(p.Message, "invalid YAML")
			if p.Message == "" || p.File != name || p.Line <= 0 && p.Path == "" && !whole {
				t.Errorf("problem %+v: want a message, the file, and a line or a field path", p)
			}
		}
	})
}
