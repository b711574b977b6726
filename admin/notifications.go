package admin

import (
	"net/http"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/failure"
	"github.com/dvcwatch/dvcwatch/store"
)

// Notification is an email of the outbox; Text and HTML are the email as it
// was sent, filled in by GET /api/v1/notifications/{id} only.
type Notification struct {
	ID        int64  `json:"id"`
	Kind      string `json:"kind"`
	Recipient string `json:"recipient"`
	// RecipientName is the recipient's configured name, in lists.
	RecipientName string `json:"recipient_name,omitempty"`
	Email         string `json:"email"`
	Subject       string `json:"subject"`
	Items         int    `json:"items"`
	State         string `json:"state"` // pending, sending, sent, failed
	Attempts      int    `json:"attempts"`
	LastError     string `json:"last_error,omitempty"`
	// Cause is what the last error means (package failure), for a failed
	// email: mail_uncertain says it was possibly delivered.
	Cause     dvcwatch.Cause `json:"cause,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
	SentAt    *time.Time     `json:"sent_at,omitempty"`
	FailedAt  *time.Time     `json:"failed_at,omitempty"`
	Text      string         `json:"text,omitempty"`
	HTML      string         `json:"html,omitempty"`
}

func notificationView(n dvcwatch.Notification, bodies bool) Notification {
	v := Notification{ID: n.ID, Kind: string(n.Kind), Recipient: n.Recipient, Email: n.Email, Subject: n.Subject,
		Items: n.Items, Attempts: n.Attempts, LastError: n.LastError, CreatedAt: n.CreatedAt,
		SentAt: timePtr(n.SentAt), FailedAt: timePtr(n.FailedAt)}
	switch {
	case !n.SentAt.IsZero():
		v.State = "sent"
	case !n.FailedAt.IsZero():
		v.State = "failed"
		v.Cause = failure.OfText(n.LastError)
	case !n.SendingAt.IsZero():
		v.State = "sending"
	default:
		v.State = "pending"
	}
	if bodies {
		v.Text, v.HTML = n.Text, n.HTML
	}
	return v
}

// listedNotification is a notification as lists show it: without its bodies.
func listedNotification(n dvcwatch.Notification) Notification { return notificationView(n, false) }

// NotificationParams are the parameters GET /api/v1/notifications takes.
var NotificationParams = []string{"limit", "cursor", "state", "kind", "recipient"}

func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request, _ Principal) error {
	p, err := listParams(r, NotificationParams...)
	if err != nil {
		return err
	}
	f := store.NotificationFilter{Recipient: p.get("recipient"), Cursor: p.get("cursor")}
	if f.Limit, err = p.limit(50, 1000); err != nil {
		return err
	}
	if f.State, err = p.oneOf("state", "", store.NotificationStates()...); err != nil {
		return err
	}
	kind, err := p.oneOf("kind", "", string(dvcwatch.NotificationAlerts), string(dvcwatch.NotificationSummary),
		string(dvcwatch.NotificationOperator))
	if err != nil {
		return err
	}
	f.Kind = dvcwatch.NotificationKind(kind)
	l, err := s.opts.Store.NotificationPage(r.Context(), f)
	if err != nil {
		return listError(err)
	}
	names := s.names()
	writeJSON(w, http.StatusOK, page(l, func(n dvcwatch.Notification) Notification {
		v := listedNotification(n)
		v.RecipientName = names.OfficialName(n.Recipient)
		return v
	}))
	return nil
}

func (s *Server) getNotification(w http.ResponseWriter, r *http.Request, _ Principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	n, err := s.opts.Store.GetNotification(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, notificationView(n, true))
	return nil
}
