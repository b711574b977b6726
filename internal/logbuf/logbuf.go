// Package logbuf is a log writer that tests read back: several goroutines
// (servers, workers, a child process's output copier) write to it while the
// test looks for lines in it.
package logbuf

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"sync"
)

// Buffer collects log output (JSON lines, text lines or anything else);
// its zero value is ready and it is safe for concurrent use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *Buffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

// String returns everything written so far.
func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Lines returns the output, line by line.
func (l *Buffer) Lines() []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(l.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// Entries returns the JSON log lines decoded, in order; other lines are
// left out.
func (l *Buffer) Entries() []map[string]any {
	var out []map[string]any
	for _, line := range l.Lines() {
		var e map[string]any
		if json.Unmarshal([]byte(line), &e) == nil {
			out = append(out, e)
		}
	}
	return out
}

// Count returns how many JSON lines logged msg.
func (l *Buffer) Count(msg string) int {
	n := 0
	for _, e := range l.Entries() {
		if e["msg"] == msg {
			n++
		}
	}
	return n
}

// Tail returns the last n lines.
func (l *Buffer) Tail(n int) string {
	lines := l.Lines()
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
