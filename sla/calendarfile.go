package sla

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// embeddedCalendar holds the announced years shipped with the binary.
//
//go:embed calendars/vn.yaml
var embeddedCalendar []byte

const embeddedCalendarName = "sla/calendars/vn.yaml (embedded)"

// The calendar file format; see calendars/vn.yaml. Typed decoding with
// KnownFields(true) rejects unknown fields and wrong types; the yaml.Node pass that
// follows gives each semantic error its line.
type calendarFile struct {
	Years map[int]yearFile `yaml:"years"`
}

type yearFile struct {
	Source string    `yaml:"source"` // default source of the year's entries
	Days   []dayFile `yaml:"days"`
}

type dayFile struct {
	Date   string `yaml:"date"`
	Kind   string `yaml:"kind"`
	Name   string `yaml:"name"`
	Source string `yaml:"source"`
}

// LoadCalendar builds the calendar from the embedded announcements and, unless path
// is empty, the operator's calendar file at path, whose years replace embedded ones.
func LoadCalendar(path string) (*Calendar, error) {
	if path == "" {
		return NewCalendar("", nil)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read calendar file: %w", err)
	}
	return NewCalendar(path, data)
}

// NewCalendar is LoadCalendar for an operator file already read: name labels its
// errors, and nil data means the embedded announcements alone.
func NewCalendar(name string, data []byte) (*Calendar, error) {
	years, err := parseCalendarFile(embeddedCalendarName, embeddedCalendar)
	if err != nil {
		return nil, err
	}
	if data != nil {
		operator, err := parseCalendarFile(name, data)
		if err != nil {
			return nil, err
		}
		for y, entries := range operator { // an operator's year replaces the whole year
			years[y] = entries
		}
	}
	return newCalendar(years), nil
}

// parseCalendarFile decodes and validates a calendar file into its entries by year.
func parseCalendarFile(name string, data []byte) (map[int][]Entry, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f calendarFile
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty calendar file (want a top-level years: mapping)", name)
		}
		return nil, yamlError(name, err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(name, err)
	}
	v := validator{file: name}
	years := make(map[int][]Entry)
	top := root.Content[0]
	yearsNode := mappingValue(top, "years")
	if yearsNode == nil || len(yearsNode.Content) == 0 {
		return nil, fmt.Errorf("%s:%d: years: missing or empty", name, top.Line)
	}
	for i := 0; i+1 < len(yearsNode.Content); i += 2 {
		keyNode := yearsNode.Content[i]
		year, _ := strconv.Atoi(keyNode.Value) // typed decoding already checked the key
		years[year] = v.year(year, keyNode, yearsNode.Content[i+1], f.Years[year])
	}
	if err := errors.Join(v.errs...); err != nil {
		return nil, err
	}
	return years, nil
}

// yamlLine matches the "line N: message" form of yaml.v3's errors.
var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlError rewrites yaml.v3's errors as "file:line: message", one per line.
func yamlError(name string, err error) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	errs := make([]error, 0, len(msgs))
	for _, m := range msgs {
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			errs = append(errs, fmt.Errorf("%s:%s: %s", name, sm[1], sm[2]))
		} else {
			errs = append(errs, fmt.Errorf("%s: %s", name, strings.TrimPrefix(m, "yaml: ")))
		}
	}
	return errors.Join(errs...)
}

// mappingValue returns the value node of key in a mapping node, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// validator collects the semantic errors of one calendar file.
type validator struct {
	file string
	errs []error
}

func (v *validator) errorf(line int, path, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s:%d: %s: %s", v.file, line, path, fmt.Sprintf(format, args...)))
}

// year validates one announced year and returns its entries.
func (v *validator) year(year int, keyNode, node *yaml.Node, yf yearFile) []Entry {
	path := fmt.Sprintf("years.%d", year)
	if year < MinYear || year > MaxYear {
		v.errorf(keyNode.Line, path, "year out of range (supported %d–%d)", MinYear, MaxYear)
		return nil
	}
	daysNode := mappingValue(node, "days")
	if daysNode == nil || len(daysNode.Content) == 0 {
		v.errorf(keyNode.Line, path+".days", "missing or empty: an announced year replaces the computed defaults, so it lists all its exceptions")
		return nil
	}
	entries := make([]Entry, 0, len(yf.Days))
	firstLine := make(map[civilDate]int)
	for i, df := range yf.Days {
		n := daysNode.Content[i]
		p := fmt.Sprintf("%s.days[%d]", path, i)
		line := func(field string) int {
			if fn := mappingValue(n, field); fn != nil {
				return fn.Line
			}
			return n.Line
		}
		t, err := time.ParseInLocation(time.DateOnly, df.Date, Location())
		if err != nil {
			v.errorf(line("date"), p+".date", "%q is not a date (want YYYY-MM-DD)", df.Date)
			continue
		}
		d := dateOf(t)
		if d.year != year {
			v.errorf(line("date"), p+".date", "%s is not in %d", d, year)
			continue
		}
		if first, dup := firstLine[d]; dup {
			v.errorf(line("date"), p+".date", "duplicate date %s (first at line %d)", d, first)
			continue
		}
		firstLine[d] = line("date")
		kind := Kind(df.Kind)
		switch {
		case !knownKind(kind):
			v.errorf(line("kind"), p+".kind", "unknown kind %q (want %s)", df.Kind, kindList())
			continue
		case kind == KindWorkingWeekend && !d.weekend():
			v.errorf(line("kind"), p+".kind", "working_weekend on %s, a %s (want a Saturday or Sunday)", d, d.weekday())
			continue
		case kind != KindWorkingWeekend && d.weekend():
			v.errorf(line("kind"), p+".kind", "%s on %s, a %s (want a weekday; list a weekend holiday's compensatory day instead)", kind, d, d.weekday())
			continue
		}
		if strings.TrimSpace(df.Name) == "" {
			v.errorf(n.Line, p+".name", "missing")
			continue
		}
		source := df.Source
		if source == "" {
			source = yf.Source
		}
		if strings.TrimSpace(source) == "" {
			v.errorf(n.Line, p+".source", "missing (set it on the entry or as %s.source)", path)
			continue
		}
		entries = append(entries, Entry{Date: t, Name: df.Name, Kind: kind, Source: source})
	}
	return entries
}

func knownKind(k Kind) bool {
	for _, known := range kinds {
		if k == known {
			return true
		}
	}
	return false
}

func kindList() string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}
