package email

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"
	"unicode"

	"github.com/dvcwatch/dvcwatch"
)

//go:embed templates/*.tmpl
var defaultTemplates embed.FS

// Template files, in templates/ and in an override directory.
const (
	SubjectFile = "subject.tmpl" // text/template, one line
	TextFile    = "text.tmpl"    // text/template, the text/plain part
	HTMLFile    = "html.tmpl"    // html/template, the text/html part

	// The office's daily summary (see Summary), likewise.
	SummarySubjectFile = "summary_subject.tmpl"
	SummaryTextFile    = "summary_text.tmpl"
	SummaryHTMLFile    = "summary_html.tmpl"

	// The monthly results (see MonthlyReport), likewise.
	MonthlySubjectFile = "monthly_subject.tmpl"
	MonthlyTextFile    = "monthly_text.tmpl"
	MonthlyHTMLFile    = "monthly_html.tmpl"
)

// Recipient is the person a digest is addressed to.
type Recipient struct {
	Name  string
	Email string
	Role  dvcwatch.Role
}

// Renderer turns digests and summaries into subject, text and HTML from parsed
// templates.
type Renderer struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template

	summarySubject *texttemplate.Template
	summaryText    *texttemplate.Template
	summaryHTML    *htmltemplate.Template

	monthlySubject *texttemplate.Template
	monthlyText    *texttemplate.Template
	monthlyHTML    *htmltemplate.Template
}

// vietnam is where officials read their mail; Vietnam has kept UTC+7 without
// daylight saving since 1975, so the fixed zone is exact when tzdata is missing.
var vietnam = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Ho_Chi_Minh"); err == nil {
		return loc
	}
	return time.FixedZone("ICT", 7*3600)
}()

const (
	timeLayout = "02/01/2006 15:04"
	dateLayout = "02/01/2006"
)

var funcs = map[string]any{
	"lower": lowerFirst,
}

// NewRenderer parses the embedded templates, each replaced by the file of the
// same name in overrideDir when there is one; an empty overrideDir uses only
// the defaults. A template that fails to parse is an error naming its file and
// line.
func NewRenderer(overrideDir string) (*Renderer, error) {
	load := func(name string) (source, content string, err error) {
		if overrideDir != "" {
			path := filepath.Join(overrideDir, name)
			b, err := os.ReadFile(path)
			if err == nil {
				return path, string(b), nil
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return "", "", fmt.Errorf("read email template: %w", err)
			}
		}
		b, err := defaultTemplates.ReadFile("templates/" + name)
		if err != nil {
			return "", "", fmt.Errorf("read embedded email template: %w", err)
		}
		return "templates/" + name, string(b), nil
	}
	var r Renderer
	// Templates are named by their source so parse and execution errors read
	// "template: /etc/dvcwatch/mail/html.tmpl:12: ...".
	for _, f := range []struct {
		name string
		t    **texttemplate.Template
	}{
		{SubjectFile, &r.subject}, {TextFile, &r.text},
		{SummarySubjectFile, &r.summarySubject}, {SummaryTextFile, &r.summaryText},
		{MonthlySubjectFile, &r.monthlySubject}, {MonthlyTextFile, &r.monthlyText},
	} {
		src, content, err := load(f.name)
		if err != nil {
			return nil, err
		}
		*f.t, err = texttemplate.New(src).Funcs(funcs).Option("missingkey=error").Parse(content)
		if err != nil {
			return nil, fmt.Errorf("parse email template: %w", err)
		}
	}
	for _, f := range []struct {
		name string
		t    **htmltemplate.Template
	}{
		{HTMLFile, &r.html}, {SummaryHTMLFile, &r.summaryHTML}, {MonthlyHTMLFile, &r.monthlyHTML},
	} {
		src, content, err := load(f.name)
		if err != nil {
			return nil, err
		}
		*f.t, err = htmltemplate.New(src).Funcs(funcs).Option("missingkey=error").Parse(content)
		if err != nil {
			return nil, fmt.Errorf("parse email template: %w", err)
		}
	}
	return &r, nil
}

// defaultRenderer parses the embedded templates once, on first use.
var defaultRenderer = sync.OnceValues(func() (*Renderer, error) { return NewRenderer("") })

// Render renders d with the embedded default templates.
func Render(d Digest) (subject, text, html string, err error) {
	r, err := defaultRenderer()
	if err != nil {
		return "", "", "", err
	}
	return r.Render(d)
}

// execute runs one email's three templates on v; what names the email in
// errors ("render email subject: ...").
func execute(subjectT, textT *texttemplate.Template, htmlT *htmltemplate.Template, v any, what string) (subject, text, html string, err error) {
	var b bytes.Buffer
	if err := subjectT.Execute(&b, v); err != nil {
		return "", "", "", fmt.Errorf("render %s subject: %w", what, err)
	}
	// A header is one line: fold whatever the template produced.
	subject = strings.Join(strings.Fields(b.String()), " ")
	b.Reset()
	if err := textT.Execute(&b, v); err != nil {
		return "", "", "", fmt.Errorf("render %s text: %w", what, err)
	}
	text = b.String()
	b.Reset()
	if err := htmlT.Execute(&b, v); err != nil {
		return "", "", "", fmt.Errorf("render %s html: %w", what, err)
	}
	return subject, text, b.String(), nil
}

var roleLabels = map[dvcwatch.Role]string{
	dvcwatch.RoleOfficial:       "cán bộ xử lý",
	dvcwatch.RoleDepartmentHead: "lãnh đạo phòng",
	dvcwatch.RoleOffice:         "Văn phòng HĐND–UBND",
	dvcwatch.RoleMonitor:        "bộ phận theo dõi, tổng hợp kết quả",
}

var severityRank = map[string]int{"critical": 0, "warning": 1, "info": 2}

func rank(severity string) int {
	if r, ok := severityRank[severity]; ok {
		return r
	}
	return len(severityRank)
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(vietnam).Format(timeLayout)
}

// lowerFirst lower-cases a label's first letter for use mid-sentence:
// "Quá hạn" → "quá hạn", but leaves an acronym such as "HĐND" intact.
func lowerFirst(s string) string {
	rs := []rune(s)
	if len(rs) == 0 || (len(rs) > 1 && unicode.IsUpper(rs[1])) {
		return s
	}
	rs[0] = unicode.ToLower(rs[0])
	return string(rs)
}

// MaskName reduces a person's name to initials: "Nguyễn Văn An" → "N. V. A.",
// "đặng thị ánh" → "Đ. T. Á.". An initial keeps its diacritics, including
// combining marks of decomposed (NFD) text; words without a letter are dropped.
func MaskName(name string) string {
	var parts []string
	for _, word := range strings.Fields(name) {
		rs := []rune(word)
		for i, r := range rs {
			if !unicode.IsLetter(r) {
				continue
			}
			initial := []rune{unicode.ToUpper(r)}
			for _, m := range rs[i+1:] {
				if !unicode.Is(unicode.Mn, m) {
					break
				}
				initial = append(initial, m)
			}
			parts = append(parts, string(initial)+".")
			break
		}
	}
	return strings.Join(parts, " ")
}

// MaskPhone keeps only the last three digits of a phone number, one star for
// every other digit: "0912 345 789" → "*******789". A number of fewer than
// four digits is all stars, as three digits would reveal it whole.
func MaskPhone(phone string) string {
	var digits []rune
	for _, r := range phone {
		if r >= '0' && r <= '9' {
			digits = append(digits, r)
		}
	}
	n := len(digits)
	switch {
	case n == 0:
		return ""
	case n < 4:
		return strings.Repeat("*", n)
	}
	return strings.Repeat("*", n-3) + string(digits[n-3:])
}
