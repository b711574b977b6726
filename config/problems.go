package config

import (
	"cmp"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Problem is one thing wrong with a configuration.
type Problem struct {
	File string // as given to Parse; empty from Validate
	// Line is where Path is written, or where its nearest enclosing entry is when
	// the field is missing; 0 when neither is in the file.
	Line    int
	Path    string // yaml field path, e.g. agencies[0].officials[3].email
	Message string

	// covers is a path whose later problems this one already explains: a value
	// that failed to decode or expand is left zero or raw, and a misspelt
	// field's correct name would be reported missing.
	covers string
}

// String renders the problem as "file:line: path: message", leaving out what is unknown.
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is every problem found in a configuration, ordered by line then path;
// it is the error Parse, Load and Validate return.
type Problems []Problem

// Error lists the problems one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// fieldIndex records where each field path is written, so that problems found
// on decoded values can name their line.
type fieldIndex struct {
	entries []entry        // in document order, duplicate keys included
	first   map[string]int // path → line of its first entry
}

// entry is one mapping key or sequence item: its path, the line of the key or
// item, and its value.
type entry struct {
	path  string
	line  int
	value *yaml.Node
}

func indexFields(doc *yaml.Node) *fieldIndex {
	ix := &fieldIndex{first: map[string]int{}}
	var walk func(n *yaml.Node, path string)
	add := func(path string, line int, value *yaml.Node) {
		ix.entries = append(ix.entries, entry{path, line, value})
		if _, dup := ix.first[path]; !dup {
			ix.first[path] = line
		}
		walk(value, path)
	}
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.ShortTag() == "!!merge" {
					// "<<: *base" writes base's fields here; they count as
					// present, so no default overwrites them.
					sources := []*yaml.Node{v}
					if v.Kind == yaml.SequenceNode {
						sources = v.Content
					}
					for _, src := range sources {
						walk(src, path)
					}
					continue
				}
				add(joinPath(path, k.Value), k.Line, v)
			}
		case yaml.AliasNode:
			if n.Alias.Kind == yaml.MappingNode {
				walk(n.Alias, path)
			}
		case yaml.SequenceNode:
			for i, item := range n.Content {
				add(fmt.Sprintf("%s[%d]", path, i), item.Line, item)
			}
		}
	}
	walk(doc, "")
	return ix
}

// has reports whether path is written in the file.
func (ix *fieldIndex) has(path string) bool { _, ok := ix.first[path]; return ok }

// line returns the line of path, or of its nearest ancestor written in the file.
func (ix *fieldIndex) line(path string) int {
	for p := path; p != ""; p = parentPath(p) {
		if n, ok := ix.first[p]; ok {
			return n
		}
	}
	return 0
}

// deepest returns the longest path among the entries match accepts; deepest,
// because "- name: x" starts both an item and its first field on one line.
func (ix *fieldIndex) deepest(match func(entry) bool) (entry, bool) {
	var best entry
	found := false
	for _, e := range ix.entries {
		if match(e) && len(e.path) > len(best.path) {
			best, found = e, true
		}
	}
	return best, found
}

func joinPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

func parentPath(path string) string {
	if i := strings.LastIndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return ""
}

func lastSegment(path string) string { return path[strings.LastIndexAny(path, ".[")+1:] }

var (
	unknownField = regexp.MustCompile(`^line (\d+): field (\S+) not found in type (\S+)$`)
	cannotDecode = regexp.MustCompile("^line (\\d+): cannot unmarshal (!!\\w+)(?: `(.*)`)? into (\\S+)$")
	duplicateKey = regexp.MustCompile(`^line (\d+): mapping key "(.*)" already defined at line \d+$`)
	lineMessage  = regexp.MustCompile(`^line (\d+): (.*)$`)
)

// decodeProblem turns one of yaml.v3's strict-decoding messages into a Problem
// naming the field, in words an operator without Go can act on.
func (ix *fieldIndex) decodeProblem(msg string) Problem {
	keyAt := func(line int, name string) string {
		e, _ := ix.deepest(func(e entry) bool { return e.line == line && lastSegment(e.path) == name })
		return e.path
	}
	if m := unknownField.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		p := Problem{Line: line, Path: keyAt(line, m[2]), Message: fmt.Sprintf("unknown field %q", m[2])}
		if s := Suggest(m[2], fieldNames(m[3])); s != "" {
			p.Message += fmt.Sprintf(" (did you mean %q?)", s)
			if c := joinPath(parentPath(p.Path), s); !ix.has(c) {
				p.covers = c
			}
		}
		return p
	}
	if m := cannotDecode.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		tag, short := m[2], m[3]
		// yaml.v3 cuts long values to 7 characters and "...".
		short, cut := strings.CutSuffix(short, "...")
		e, ok := ix.deepest(func(e entry) bool {
			v := e.value
			return v.Line == line && v.ShortTag() == tag &&
				(v.Kind != yaml.ScalarNode || v.Value == short || cut && strings.HasPrefix(v.Value, short))
		})
		if !ok {
			e, _ = ix.deepest(func(e entry) bool { return e.line == line })
		}
		found := map[string]string{"!!map": "a mapping", "!!seq": "a list", "!!null": "nothing"}[tag]
		if found == "" {
			found = strconv.Quote(short)
			if ok {
				found = strconv.Quote(e.value.Value)
			}
		}
		return Problem{Line: line, Path: e.path, Message: fmt.Sprintf("expected %s, found %s", expected(m[4]), found), covers: e.path}
	}
	if m := duplicateKey.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Problem{Line: line, Path: keyAt(line, m[2]), Message: strings.TrimPrefix(msg, "line "+m[1]+": ")}
	}
	if m := lineMessage.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Problem{Line: line, Message: m[2]}
	}
	return Problem{Message: msg}
}

// goTypes maps the Go type names yaml.v3 prints to the types under Config.
var goTypes = func() map[string]reflect.Type {
	m := map[string]reflect.Type{}
	var add func(t reflect.Type)
	add = func(t reflect.Type) {
		if _, seen := m[t.String()]; seen {
			return
		}
		m[t.String()] = t
		switch t.Kind() {
		case reflect.Slice:
			add(t.Elem())
		case reflect.Struct:
			for i := range t.NumField() {
				add(t.Field(i).Type)
			}
		}
	}
	add(reflect.TypeFor[Config]())
	return m
}()

func expected(goType string) string {
	t, ok := goTypes[goType]
	switch {
	case goType == "time.Duration":
		return `a duration such as "30s", "10m" or "24h"`
	case !ok:
		return "a value of type " + goType
	case t == reflect.TypeFor[Secret]():
		return "text"
	}
	switch t.Kind() {
	case reflect.String:
		return "text"
	case reflect.Int:
		return "a whole number"
	case reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list"
	case reflect.Struct:
		return "a mapping"
	}
	return "a value of type " + goType
}

// fieldNames returns the yaml names of the struct type yaml.v3 calls goType.
func fieldNames(goType string) []string {
	t, ok := goTypes[goType]
	if !ok || t.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); name != "" {
			names = append(names, name)
		}
	}
	return names
}

// finish names the file and lines of found, drops what an earlier problem already
// explains, and sorts by line (problems with no line last) then path.
func (ix *fieldIndex) finish(file string, found []Problem) Problems {
	var ps Problems
	var covered []string
	for _, p := range found {
		if slices.ContainsFunc(covered, func(c string) bool { return within(p.Path, c) }) {
			continue
		}
		if p.covers != "" {
			covered = append(covered, p.covers)
		}
		if p.Line == 0 {
			p.Line = ix.line(p.Path)
		}
		p.File = file
		ps = append(ps, p)
	}
	slices.SortStableFunc(ps, func(a, b Problem) int {
		if (a.Line == 0) != (b.Line == 0) {
			return cmp.Compare(b.Line, a.Line) // the one with a line first
		}
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Path, b.Path))
	})
	return ps
}

// within reports whether path is p or lies under it.
func within(path, p string) bool {
	return p != "" && (path == p || strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"["))
}
