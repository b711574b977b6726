package admin

import (
	"net/http"
	"time"

	"github.com/dvcwatch/dvcwatch"
)

// Notification is an email of the outbox; Text and HTML are the email as it
// was sent, filled in by GET /api/v1/notifications/{id} only.
type Notification struct {
	ID        int64      `json:"id"`
	Kind      string     `json:"kind"`
	Recipient string     `json:"recipient"`
	Email     string     `json:"email"`
	Subject   string     `json:"subject"`
	Items     int        `json:"items"`
	State     string     `json:"state"` // pending, sending, sent, failed
	Attempts  int        `json:"attempts"`
	LastError string     `json:"last_error,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
	FailedAt  *time.Time `json:"failed_at,omitempty"`
	Text      string     `json:"text,omitempty"`
	HTML      string     `json:"html,omitempty"`
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

func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request, _ Principal) error {
	n, err := limit(r, 50, 1000)
	if err != nil {
		return err
	}
	ns, err := s.opts.Store.Notifications(r.Context(), n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, views(ns, listedNotification))
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
