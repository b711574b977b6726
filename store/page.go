package store

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dvcwatch/dvcwatch"
)

// Page is one batch of dossiers pulled from a source, applied by ApplyPage in
// one transaction.
type Page struct {
	Source   string // connector name; a dossier with an empty Key.Source gets it
	Dossiers []dvcwatch.Dossier
	// Cursor, when set, is saved for Source in the same transaction as the
	// dossiers, so a crash never moves it past rows that were not committed.
	Cursor *Cursor
	// ObservedBy is recorded as the Source of the status events the page adds.
	ObservedBy string
	// ExpectNew says most of the page's dossiers are probably not stored yet
	// (a first sync, a backfill). ApplyPage then inserts them first and reads
	// the stored state only of those that turn out to be there, instead of
	// reading the state of every dossier before writing. The outcome is the
	// same either way, only the cost differs: a wrong guess costs an insert
	// attempt per stored dossier.
	ExpectNew bool
}

// PageResult counts what ApplyPage did with a page's dossiers;
// Inserted+Updated+Unchanged+Stale is always len(Page.Dossiers).
type PageResult struct {
	Inserted  int // dossiers seen for the first time
	Updated   int // dossiers whose content changed
	Unchanged int // same content as stored: nothing written
	// Stale counts snapshots that were not written because a newer one is stored
	// (an older SourceUpdatedAt) or comes in the same page (a duplicate key).
	Stale  int
	Events int // status events added
}

// Cursor is where a connector's next pull starts: the source's update time and
// key of the last dossier it has stored.
type Cursor struct {
	Source    string
	UpdatedAt time.Time
	Key       string
}

// incoming is a dossier ready to be written: normalized, with its content hash.
type incoming struct {
	d    dvcwatch.Dossier
	hash []byte
}

// preparePage checks a page, keeps the newest snapshot of each key, and
// normalizes (text to Unicode NFC, see dvcwatch.Dossier.NFC) and hashes what
// is left, all before any transaction starts.
// superseded counts the duplicates dropped.
func preparePage(p Page) (in []incoming, superseded int, err error) {
	if p.Source == "" {
		return nil, 0, errors.New("page has no source")
	}
	if p.Cursor != nil && p.Cursor.Source != "" && p.Cursor.Source != p.Source {
		return nil, 0, fmt.Errorf("cursor is for source %q", p.Cursor.Source)
	}
	byCode := make(map[string]int, len(p.Dossiers))
	in = make([]incoming, 0, len(p.Dossiers))
	for _, d := range p.Dossiers {
		// One Unicode form before the key is compared and the content hashed:
		// a portal that sends Vietnamese decomposed one day and precomposed the
		// next must neither change the dossier nor make two of it.
		d = d.NFC()
		if d.Key.Source == "" {
			d.Key.Source = p.Source
		}
		if err := validate(d, p.Source); err != nil {
			return nil, 0, err
		}
		i, dup := byCode[d.Key.Code]
		if !dup {
			byCode[d.Key.Code] = len(in)
			in = append(in, incoming{d: d})
			continue
		}
		// Keep the newest; on a tie, the one seen last.
		superseded++
		if !d.SourceUpdatedAt.Before(in[i].d.SourceUpdatedAt) {
			in[i].d = d
		}
	}
	var buf []byte
	for i := range in {
		in[i].d = normalize(in[i].d)
		buf = encodeContent(buf[:0], &in[i].d)
		sum := sha256.Sum256(buf)
		in[i].hash = sum[:]
	}
	return in, superseded, nil
}

func validate(d dvcwatch.Dossier, source string) error {
	switch {
	case d.Key.Source != source:
		return fmt.Errorf("dossier %s: not from source %q", d.Key, source)
	case d.Key.Code == "":
		return fmt.Errorf("dossier %s: empty code", d.Key)
	case !d.Status.Valid():
		return fmt.Errorf("dossier %s: invalid status %d", d.Key, int(d.Status))
	}
	if err := uniqueSeq(d.Steps, func(s dvcwatch.Step) int { return s.Seq }); err != nil {
		return fmt.Errorf("dossier %s: steps: %w", d.Key, err)
	}
	if err := uniqueSeq(d.Supplements, func(s dvcwatch.Supplement) int { return s.Seq }); err != nil {
		return fmt.Errorf("dossier %s: supplements: %w", d.Key, err)
	}
	if err := uniqueSeq(d.Apologies, func(a dvcwatch.Apology) int { return a.Seq }); err != nil {
		return fmt.Errorf("dossier %s: apologies: %w", d.Key, err)
	}
	return nil
}

// uniqueSeq reports a Seq used twice: children are keyed by dossier and Seq.
func uniqueSeq[T any](items []T, seq func(T) int) error {
	seen := make(map[int]bool, len(items))
	for _, it := range items {
		s := seq(it)
		if seen[s] {
			return fmt.Errorf("seq %d used twice", s)
		}
		seen[s] = true
	}
	return nil
}

// normalize returns d as the store keeps it: times in UTC to the microsecond
// (what PostgreSQL keeps), children in Seq order. It copies the children, so
// the caller's slices are left alone.
func normalize(d dvcwatch.Dossier) dvcwatch.Dossier {
	for _, t := range []*time.Time{
		&d.SubmittedAt, &d.ReceivedAt, &d.DueAt, &d.ProcessedAt, &d.ReturnedAt, &d.RefusedAt, &d.SourceUpdatedAt,
	} {
		*t = normTime(*t)
	}
	d.Steps = slices.Clone(d.Steps)
	for i := range d.Steps {
		s := &d.Steps[i]
		s.StartedAt, s.DueAt, s.FinishedAt = normTime(s.StartedAt), normTime(s.DueAt), normTime(s.FinishedAt)
	}
	slices.SortStableFunc(d.Steps, func(a, b dvcwatch.Step) int { return cmp.Compare(a.Seq, b.Seq) })
	d.Supplements = slices.Clone(d.Supplements)
	for i := range d.Supplements {
		s := &d.Supplements[i]
		s.RequestedAt, s.ReturnedAt = normTime(s.RequestedAt), normTime(s.ReturnedAt)
		s.DueBefore, s.DueAfter = normTime(s.DueBefore), normTime(s.DueAfter)
	}
	slices.SortStableFunc(d.Supplements, func(a, b dvcwatch.Supplement) int { return cmp.Compare(a.Seq, b.Seq) })
	d.Apologies = slices.Clone(d.Apologies)
	for i := range d.Apologies {
		a := &d.Apologies[i]
		a.IssuedAt, a.NewDueAt = normTime(a.IssuedAt), normTime(a.NewDueAt)
	}
	slices.SortStableFunc(d.Apologies, func(a, b dvcwatch.Apology) int { return cmp.Compare(a.Seq, b.Seq) })
	return d
}

// normTime keeps the instant, in UTC, to the microsecond; zero stays zero.
func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// contentVersion starts every encoding; change it when the encoding changes
// (every stored dossier then counts as updated once, without status events).
const contentVersion = "dvcwatch.dossier.v1"

// encodeContent appends a canonical encoding of everything the source reported
// about a normalized dossier: every field, in declaration order, strings length-
// prefixed, times as Unix microseconds. Our bookkeeping is not part of it.
func encodeContent(b []byte, d *dvcwatch.Dossier) []byte {
	e := encoder{b: append(b, contentVersion...)}
	e.str(d.Key.Source)
	e.str(d.Key.Code)
	e.str(d.ReceiptNo)
	e.str(d.ProcedureCode)
	e.str(d.ProcedureName)
	e.str(d.FieldCode)
	e.str(d.FieldName)
	e.str(d.Agency)
	e.int(int64(d.Channel))
	e.int(int64(d.ApplicantKind))
	e.str(d.Applicant.Name)
	e.str(d.Applicant.Email)
	e.str(d.Applicant.Phone)
	e.str(d.Applicant.IDNumber)
	e.time(d.SubmittedAt)
	e.time(d.ReceivedAt)
	e.time(d.DueAt)
	e.time(d.ProcessedAt)
	e.time(d.ReturnedAt)
	e.time(d.RefusedAt)
	e.int(int64(d.Status))
	e.str(d.RawStatus)
	e.bool(d.PaidOnline)
	e.bool(d.HasDigitizedParts)
	e.int(int64(len(d.Steps)))
	for _, s := range d.Steps {
		e.int(int64(s.Seq))
		e.str(s.Department)
		e.str(s.Official)
		e.str(s.OfficialTitle)
		e.str(s.Content)
		e.str(s.State)
		e.time(s.StartedAt)
		e.time(s.DueAt)
		e.time(s.FinishedAt)
	}
	e.int(int64(len(d.Supplements)))
	for _, s := range d.Supplements {
		e.int(int64(s.Seq))
		e.time(s.RequestedAt)
		e.time(s.ReturnedAt)
		e.time(s.DueBefore)
		e.time(s.DueAfter)
	}
	e.int(int64(len(d.Apologies)))
	for _, a := range d.Apologies {
		e.int(int64(a.Seq))
		e.time(a.IssuedAt)
		e.time(a.NewDueAt)
		e.str(a.IssuedBy)
		e.str(a.Reason)
	}
	e.time(d.SourceUpdatedAt)
	return e.b
}

type encoder struct{ b []byte }

func (e *encoder) int(v int64) { e.b = binary.AppendVarint(e.b, v) }

func (e *encoder) str(s string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

// time tells zero (not reported) apart from every real instant, the Unix epoch
// included.
func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.b = append(e.b, 0)
		return
	}
	e.b = append(e.b, 1)
	e.int(t.UnixMicro())
}
