package dvcwatch

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// NotificationKind says what an email in the outbox is.
type NotificationKind string

// Notification kinds.
const (
	NotificationAlerts  NotificationKind = "alerts"  // one recipient's digest of breaches
	NotificationSummary NotificationKind = "summary" // the office's daily summary
	// NotificationOperator is a notice to the configured administrators about
	// dvcwatch itself: a connector stopped after a permanent failure, or
	// recovered.
	NotificationOperator NotificationKind = "operator"
	// NotificationReport is an agency's results of a month, to the people
	// who monitor them and the office, with the workbook attached.
	NotificationReport NotificationKind = "report"
)

// NewNotification is an email to put in the outbox. DedupeKey makes the
// insert idempotent: a second notification with the same key is not created.
type NewNotification struct {
	DedupeKey string
	Kind      NotificationKind
	Recipient string // the official's id
	Email     string
	Subject   string
	Text      string
	HTML      string
	Items     int // dossiers the email tells of
	// Attachment, when set, goes with the email (the office summary's full
	// list as a workbook).
	Attachment *Attachment
}

// Attachment is a file sent with an email.
type Attachment struct {
	Name string // file name, e.g. "tong-hop-2026-12-06.xlsx"
	Type string // media type
	Data []byte
}

// Notification is an email in the outbox.
type Notification struct {
	ID         int64
	DedupeKey  string
	Kind       NotificationKind
	Recipient  string
	Email      string
	Subject    string
	Text       string
	HTML       string
	Items      int
	Attempts   int
	LastError  string
	CreatedAt  time.Time
	EnqueuedAt time.Time
	SendingAt  time.Time
	SentAt     time.Time
	FailedAt   time.Time
	// Attachment is read only when the email is claimed for delivery;
	// listings carry its name alone (AttachmentName).
	Attachment     *Attachment
	AttachmentName string
	// MessageID is the email's Message-ID left of "@" (the domain is added
	// when it is sent): chosen at random when the row is written, so that it
	// is unique across installations and database rebuilds, and the same on
	// every attempt. Rows written before it was stored carry the old form,
	// LegacyMessageID.
	MessageID string
}

// LegacyMessageID is the Message-ID (left of "@") of a notification written
// before each row stored one of its own: derived from the row id, so it
// repeats across installations and database rebuilds.
func LegacyMessageID(id int64) string { return "dvcwatch.notification." + strconv.FormatInt(id, 10) }

// NewMessageID returns a fresh Message-ID left part for a new notification.
func NewMessageID() string { return "dvcwatch.notification." + uuid.NewString() }

// Outcomes of claiming a notification for delivery.
var (
	ErrAlreadySent = errors.New("already sent")
	ErrClaimed     = errors.New("being sent by another attempt")
)

// UnreadableNotifications is returned, with the rows that could be read, by
// a listing some of whose rows could not be (a time that does not parse):
// the reader skips those and goes on with the others.
type UnreadableNotifications struct {
	Rows []UnreadableNotification
}

// UnreadableNotification is an outbox row that could not be read, and why.
type UnreadableNotification struct {
	ID  int64
	Err error
}

func (e *UnreadableNotifications) Error() string {
	if len(e.Rows) == 1 {
		return fmt.Sprintf("notification %d unreadable: %v", e.Rows[0].ID, e.Rows[0].Err)
	}
	return fmt.Sprintf("%d notifications unreadable, the first %d: %v", len(e.Rows), e.Rows[0].ID, e.Rows[0].Err)
}
