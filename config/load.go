package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads and parses the configuration file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes data, expands secrets, applies defaults and validates; name is
// used in messages and as the base for relative paths. An invalid file yields
// Problems listing everything wrong with it.
func Parse(data []byte, name string) (*Config, error) {
	c, _, err := parse(data, name, false)
	return c, err
}

// LoadWithoutSecrets reads the file at path as Load does, but reads no
// environment variable: each ${NAME} in a secret stands for a value that
// passes every check, so that a configuration repository's CI can check
// everything else without holding the secrets. It returns the secrets the
// file needs at run time. Its Config is for checking only: it does not
// hold the secrets.
func LoadWithoutSecrets(path string) (*Config, []SecretRef, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read configuration: %w", err)
	}
	return parse(data, path, true)
}

func parse(data []byte, name string, withoutSecrets bool) (*Config, []SecretRef, error) {
	doc, p := parseNode(data)
	if p != nil {
		p.File = name
		return nil, nil, Problems{*p}
	}
	fields := indexFields(doc)

	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var found []Problem
	if err := dec.Decode(&c); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, nil, Problems{{File: name, Message: err.Error()}}
		}
		fatal := false
		for _, msg := range te.Errors {
			found = append(found, fields.decodeProblem(msg))
			// yaml.v3 drops a whole mapping with a duplicate key, so checking
			// what was decoded would only report its fields as missing.
			fatal = fatal || duplicateKey.MatchString(msg)
		}
		if fatal {
			return nil, nil, fields.finish(name, found)
		}
	}
	lookup := os.LookupEnv
	var refs []SecretRef
	if withoutSecrets {
		refs = c.secretRefs(fields)
		lookup = placeholder
	}
	found = append(found, c.expandSecrets(lookup)...)
	c.applyDefaults(fields.has)
	if c.Calendar.File != "" && !filepath.IsAbs(c.Calendar.File) {
		c.Calendar.File = filepath.Join(filepath.Dir(name), c.Calendar.File)
	}
	if c.Notify.Templates != "" && !filepath.IsAbs(c.Notify.Templates) {
		c.Notify.Templates = filepath.Join(filepath.Dir(name), c.Notify.Templates)
	}
	found = append(found, c.validate()...)

	ps := fields.finish(name, found)
	if len(ps) > 0 {
		return nil, refs, ps
	}
	return &c, refs, nil
}

// parseNode returns the document's top-level mapping, or the problem that there
// is none; syntax errors are reported here, before any field is looked at.
func parseNode(data []byte) (*yaml.Node, *Problem) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Problem{Message: "file is empty; dvcwatch.example.yaml shows every section"}
		}
		return nil, syntaxProblem(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, syntaxProblem(err)
		}
		return nil, &Problem{Line: extra.Line, Message: "a second YAML document (---) is not allowed: dvcwatch reads one"}
	}
	doc := root.Content[0]
	switch {
	case doc.Kind == yaml.ScalarNode && doc.Tag == "!!null":
		return nil, &Problem{Message: "file is empty; dvcwatch.example.yaml shows every section"}
	case doc.Kind != yaml.MappingNode:
		return nil, &Problem{Line: doc.Line, Message: "the top level must be a mapping of sections (database:, connectors:, …), found " + nodeKind(doc)}
	}
	return doc, nil
}

var syntaxLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func syntaxProblem(err error) *Problem {
	if m := syntaxLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Problem{Line: line, Message: "invalid YAML: " + m[2]}
	}
	return &Problem{Message: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	return fmt.Sprintf("the value %q", n.Value)
}
