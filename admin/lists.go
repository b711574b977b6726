package admin

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/dvcwatch/dvcwatch/store"
)

// Page is one page of a list: its rows, how many rows the filters select in
// all, and the cursor that reads the next page (?cursor=), "" after the last.
// Pages are read by key: rows added meanwhile never shift or repeat the rows
// of a later page.
type Page[T any] struct {
	Items      []T    `json:"items"`
	Total      int    `json:"total"`
	NextCursor string `json:"next_cursor"`
}

func page[T, V any](l store.Listing[T], view func(T) V) Page[V] {
	return Page[V]{Items: views(l.Items, view), Total: l.Total, NextCursor: l.Next}
}

// params reads a list's query: every parameter must be one of allowed, and
// given once.
type params struct {
	q url.Values
}

func listParams(r *http.Request, allowed ...string) (params, error) {
	q := r.URL.Query()
	var unknown []string
	for k, vs := range q {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		} else if len(vs) > 1 {
			return params{}, badRequest("%s: given %d times; give it once", k, len(vs))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return params{}, badRequest("unknown parameter %s: want %s", strings.Join(unknown, ", "), strings.Join(allowed, ", "))
	}
	return params{q}, nil
}

func (p params) get(name string) string { return strings.TrimSpace(p.q.Get(name)) }

// oneOf reads an enumerated parameter: def when absent, else one of allowed.
func (p params) oneOf(name, def string, allowed ...string) (string, error) {
	v := p.get(name)
	if v == "" {
		return def, nil
	}
	if !slices.Contains(allowed, v) {
		return "", badRequest("%s=%q: want one of %s", name, v, strings.Join(allowed, ", "))
	}
	return v, nil
}

// limit reads limit: def when absent, else a whole number from 1 to max.
func (p params) limit(def, max int) (int, error) {
	v := p.get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, badRequest("limit=%q: want a whole number from 1 to %d", v, max)
	}
	return n, nil
}

// listError turns a cursor the store refused into a 400 naming the parameter.
func listError(err error) error {
	if errors.Is(err, store.ErrBadCursor) {
		return badRequest("cursor: %v", store.ErrBadCursor)
	}
	return err
}
