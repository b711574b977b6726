package admin

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/hibiken/asynq"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/store"
)

// Dashboard is the overview: where dossiers are at risk, what is broken,
// what was sent, what the queue holds.
type Dashboard struct {
	AtRisk        []DepartmentRisk `json:"at_risk"`
	OpenBreaches  map[string]int   `json:"open_breaches"` // by kind
	Notifications map[string]int   `json:"notifications"` // pending, sent, failed
	Recent        []Notification   `json:"recent"`
	Queue         QueueSizes       `json:"queue"`
	FailedOpen    int              `json:"failed_open"` // failed tasks no administrator has handled
	// Operations are the connectors' health and the mail server's state, as
	// GET /api/v1/health answers them.
	Operations
}

// DepartmentRisk counts a department's open dossiers at risk.
type DepartmentRisk struct {
	Agency     string `json:"agency"`
	Department string `json:"department"`
	// The configured names of Agency and Department (their codes when none
	// is configured).
	AgencyName     string `json:"agency_name"`
	DepartmentName string `json:"department_name"`
	DueSoon        int    `json:"due_soon"`
	Overdue        int    `json:"overdue"`
	StepOverdue    int    `json:"step_overdue"`
}

// QueueSizes counts the queue's tasks by state.
type QueueSizes struct {
	Pending   int `json:"pending"`
	Active    int `json:"active"`
	Scheduled int `json:"scheduled"`
	Retry     int `json:"retry"`
	Archived  int `json:"archived"`
	Completed int `json:"completed"`
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request, _ Principal) error {
	ctx := r.Context()
	var d Dashboard
	risks, err := s.opts.Store.AtRisk(ctx)
	if err != nil {
		return err
	}
	names := s.names()
	d.AtRisk = views(risks, func(x store.DepartmentRisk) DepartmentRisk {
		return DepartmentRisk{Agency: x.Agency, Department: x.Department, AgencyName: names.AgencyName(x.Agency),
			DepartmentName: names.DepartmentName(x.Agency, x.Department), DueSoon: x.DueSoon, Overdue: x.Overdue,
			StepOverdue: x.StepOverdue}
	})
	open, err := s.opts.Store.OpenBreachCounts(ctx)
	if err != nil {
		return err
	}
	d.OpenBreaches = map[string]int{}
	for k, n := range open {
		d.OpenBreaches[string(k)] = n
	}
	if d.Notifications, err = s.opts.Store.NotificationCounts(ctx); err != nil {
		return err
	}
	recent, err := s.opts.Store.Notifications(ctx, 10)
	if err != nil {
		return err
	}
	d.Recent = views(recent, func(n dvcwatch.Notification) Notification {
		v := listedNotification(n)
		v.RecipientName = names.OfficialName(n.Recipient)
		return v
	})
	if d.Queue, err = s.queueSizes(); err != nil {
		return err
	}
	if d.FailedOpen, err = s.opts.Store.CountOpenFailedTasks(ctx); err != nil {
		return err
	}
	if d.Operations, err = s.operations(ctx); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// queueSizes sums the sizes of every queue.
func (s *Server) queueSizes() (QueueSizes, error) {
	var sum QueueSizes
	for _, q := range s.opts.Queues {
		info, err := s.opts.Queue.GetQueueInfo(q)
		if errors.Is(err, asynq.ErrQueueNotFound) {
			continue // nothing was ever enqueued
		}
		if err != nil {
			return QueueSizes{}, fmt.Errorf("queue %s: %w", q, err)
		}
		sum.Pending += info.Pending
		sum.Active += info.Active
		sum.Scheduled += info.Scheduled
		sum.Retry += info.Retry
		sum.Archived += info.Archived
		sum.Completed += info.Completed
	}
	return sum, nil
}
