package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// readmeExampleCheck is what the README's Configuration section tells a user
// to type to check the example: the variables it exports and the arguments of
// the command that follows.
func readmeExampleCheck(t *testing.T) (env map[string]string, args []string) {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	_, after, ok := strings.Cut(readme, "passes\n`dvcwatch config check` once the six variables it reads are set")
	if !ok {
		t.Fatal("README.md no longer says which variables the example needs to pass config check")
	}
	_, block, _ := strings.Cut(after, "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	block = strings.ReplaceAll(block, "\\\n", " ")
	env = map[string]string{}
	for _, line := range strings.Split(block, "\n") {
		fields := strings.Fields(line)
		switch {
		case len(fields) > 1 && fields[0] == "export":
			for _, f := range fields[1:] {
				k, v, _ := strings.Cut(f, "=")
				env[k] = v
			}
		case len(fields) > 1 && fields[0] == "dvcwatch":
			args = fields[1:]
		}
	}
	if len(env) == 0 || !slices.Equal(args[:2], []string{"config", "check"}) {
		t.Fatalf("README.md's example check is not an export then a config check:\n%s", block)
	}
	return env, args
}

// TestExampleConfigPassesCheckAsTheREADMESays runs `config check` on the
// example exactly as the README shows, with the variables it exports and no
// other DVCWATCH_ variable: it passes, each variable is needed (without it
// the check fails naming it), and they are every one the example reads.
func TestExampleConfigPassesCheckAsTheREADMESays(t *testing.T) {
	env, args := readmeExampleCheck(t)
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "DVCWATCH_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	for i, a := range args {
		if a == "config/dvcwatch.example.yaml" {
			args[i] = "../../" + a // the README runs from the repository's root
		}
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	out, errOut, status := run(t, args...)
	if status != 0 || !strings.Contains(out, "valid") {
		t.Fatalf("config check with the README's variables: status %d, stdout %q, stderr %q", status, out, errOut)
	}

	example, err := os.ReadFile("../../config/dvcwatch.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var read []string // the variables the example's uncommented lines read
	for _, line := range strings.Split(string(example), "\n") {
		line, _, _ = strings.Cut(line, " #")
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, m := range regexp.MustCompile(`\$\{([A-Z0-9_]+)\}`).FindAllStringSubmatch(line, -1) {
			read = append(read, m[1])
		}
	}
	slices.Sort(read)
	var exported []string
	for k := range env {
		exported = append(exported, k)
	}
	slices.Sort(exported)
	if !slices.Equal(read, exported) {
		t.Errorf("the example reads %q, the README exports %q", read, exported)
	}

	for k, v := range env {
		os.Unsetenv(k)
		_, errOut, status := run(t, args...)
		if status != exitUsage || !strings.Contains(errOut, k) {
			t.Errorf("config check without %s: status %d, stderr %q; want %d naming the variable", k, status, errOut, exitUsage)
		}
		os.Setenv(k, v)
	}
}
