package config

import (
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// redacted is what every printed form of a Secret shows.
const redacted = "[redacted]"

// Secret is a password, token or DSN: fmt, slog, JSON and YAML print it as
// [redacted], so a logged Config leaks nothing; Reveal gives the value to the
// one call that needs it.
//
// In the file, ${NAME} anywhere in a secret is replaced by the environment
// variable NAME, so secrets stay out of the file; $${ writes a literal ${.
// Other fields are never expanded.
type Secret struct{ value string }

// NewSecret wraps value, for tests and for callers building a Config in code.
func NewSecret(value string) Secret { return Secret{value} }

// Reveal returns the secret's value; call it only where the value is used.
func (s Secret) Reveal() string { return s.value }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.value == "" }

// String returns [redacted].
func (s Secret) String() string { return redacted }

// Format prints [redacted] for every verb, %#v and %x included.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// LogValue makes slog print [redacted].
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON writes "[redacted]".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText writes [redacted], for encoders and slog handlers that prefer text.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// MarshalYAML writes [redacted], so a printed effective configuration is safe to share.
func (s Secret) MarshalYAML() (any, error) { return redacted, nil }

// UnmarshalYAML reads the raw value; Parse expands ${NAME} afterwards, where it
// knows the field's path for the error message.
func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	var v string
	if err := n.Decode(&v); err != nil {
		return err // a *yaml.TypeError with the line, which the decoder collects
	}
	s.value = v
	return nil
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// expandSecrets replaces ${NAME} in every Secret of c. A secret that cannot be
// expanded keeps its raw text, and its problem covers the field so that
// validation does not also call it too short or malformed.
func (c *Config) expandSecrets(lookup func(string) (string, bool)) []Problem {
	var ps []Problem
	eachSecret(reflect.ValueOf(c).Elem(), "", func(path string, s *Secret) {
		v, err := expand(s.value, lookup)
		if err != nil {
			ps = append(ps, Problem{Path: path, Message: err.Error(), covers: path})
			return
		}
		s.value = v
	})
	return ps
}

// eachSecret calls fn for every Secret under v, with its yaml path; reflection
// keeps a secret added to any section from being missed.
func eachSecret(v reflect.Value, path string, fn func(string, *Secret)) {
	switch v.Kind() {
	case reflect.Struct:
		if s, ok := v.Addr().Interface().(*Secret); ok {
			fn(path, s)
			return
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if f.IsExported() && name != "" {
				eachSecret(v.Field(i), joinPath(path, name), fn)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			eachSecret(v.Index(i), fmt.Sprintf("%s[%d]", path, i), fn)
		}
	}
}

// expand replaces each ${NAME} in s; any other $ is kept as written, since
// passwords may contain one.
func expand(s string, lookup func(string) (string, bool)) (string, error) {
	var b strings.Builder
	var unset []string
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		s = s[i:]
		switch {
		case strings.HasPrefix(s, "$${"):
			b.WriteString("${")
			s = s[3:]
		case strings.HasPrefix(s, "${"):
			end := strings.IndexByte(s, '}')
			if end < 0 {
				return "", fmt.Errorf("unterminated ${ (write $${ for a literal ${)")
			}
			name := s[2:end]
			if !envName.MatchString(name) {
				return "", fmt.Errorf("invalid environment variable name %q in ${…}", name)
			}
			v, ok := lookup(name)
			if !ok {
				unset = append(unset, name)
			}
			b.WriteString(v)
			s = s[end+1:]
		default:
			b.WriteByte('$')
			s = s[1:]
		}
	}
	switch len(unset) {
	case 0:
		return b.String(), nil
	case 1:
		return "", fmt.Errorf("environment variable %s is not set", unset[0])
	}
	return "", fmt.Errorf("environment variables %s are not set", strings.Join(unset, ", "))
}

// SecretRef is a secret of the configuration as written: where it is, and
// the environment variables it reads (none: its value is in the file).
type SecretRef struct {
	Path string
	Line int
	Env  []string
}

// envRef is one ${NAME} of a secret; $${ is a literal ${.
var envRef = regexp.MustCompile(`\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// secretRefs lists every secret written in c, before expansion, with the
// line of its field.
func (c *Config) secretRefs(fields *fieldIndex) []SecretRef {
	var refs []SecretRef
	eachSecret(reflect.ValueOf(c).Elem(), "", func(path string, s *Secret) {
		if s.IsZero() {
			return
		}
		ref := SecretRef{Path: path, Line: fields.first[path]}
		for _, m := range envRef.FindAllStringSubmatch(s.value, -1) {
			if m[1] != "" {
				ref.Env = append(ref.Env, m[1])
			}
		}
		refs = append(refs, ref)
	})
	return refs
}

// placeholder stands for an environment variable when secrets are left
// out: unique to the variable, and longer than any secret's minimum.
func placeholder(name string) (string, bool) {
	return "placeholder-for-" + name + "-0123456789abcdef0123456789abcdef", true
}
