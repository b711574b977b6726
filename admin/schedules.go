package admin

import (
	"net/http"
	"strings"
	"time"

	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/scheduler"
)

// Schedule is a schedule as it runs: its expression in force and the one the
// configuration file gives, its next tick, and who last changed it.
type Schedule struct {
	Name       string     `json:"name"`
	Job        string     `json:"job"`
	Connector  string     `json:"connector,omitempty"`
	Cron       string     `json:"cron"`       // in force, with its CRON_TZ
	Configured string     `json:"configured"` // in the configuration file
	Paused     bool       `json:"paused"`
	Next       *time.Time `json:"next,omitempty"`
	Prev       *time.Time `json:"prev,omitempty"`
	UpdatedBy  string     `json:"updated_by,omitempty"`
	UpdatedAt  *time.Time `json:"updated_at,omitempty"`
}

func scheduleView(e scheduler.Entry) Schedule {
	return Schedule{Name: e.Name, Job: string(e.Job), Connector: e.Connector, Cron: e.Spec, Configured: e.Configured,
		Paused: e.Paused, Next: timePtr(e.Next), Prev: timePtr(e.Prev), UpdatedBy: e.UpdatedBy, UpdatedAt: timePtr(e.UpdatedAt)}
}

func (s *Server) listSchedules(w http.ResponseWriter, _ *http.Request, _ Principal) error {
	writeJSON(w, http.StatusOK, views(s.opts.Schedules.Entries(), scheduleView))
	return nil
}

func (s *Server) entry(name string) (scheduler.Entry, error) {
	var names []string
	for _, e := range s.opts.Schedules.Entries() {
		if e.Name == name {
			return e, nil
		}
		names = append(names, e.Name)
	}
	return scheduler.Entry{}, notFound("schedule %q: no such schedule %s", name, config.WantOneOf(name, names))
}

// RunResult names the task a "run now" enqueued.
type RunResult struct {
	TaskID string `json:"task_id"`
}

func (s *Server) runSchedule(w http.ResponseWriter, r *http.Request, p Principal) error {
	name := r.PathValue("name")
	if _, err := s.entry(name); err != nil {
		return err
	}
	id, err := s.opts.Schedules.RunNow(r.Context(), name)
	if err != nil {
		return err
	}
	s.audit(p, "run schedule now", "schedule", name, "task", id)
	writeJSON(w, http.StatusAccepted, RunResult{TaskID: id})
	return nil
}

func (s *Server) pauseSchedule(w http.ResponseWriter, r *http.Request, p Principal) error {
	return s.setPaused(w, r, p, true)
}

func (s *Server) resumeSchedule(w http.ResponseWriter, r *http.Request, p Principal) error {
	return s.setPaused(w, r, p, false)
}

func (s *Server) setPaused(w http.ResponseWriter, r *http.Request, p Principal, paused bool) error {
	name := r.PathValue("name")
	if _, err := s.entry(name); err != nil {
		return err
	}
	if err := s.opts.Store.SetSchedulePaused(r.Context(), name, paused, p.Name); err != nil {
		return err
	}
	s.audit(p, map[bool]string{true: "pause schedule", false: "resume schedule"}[paused], "schedule", name)
	return s.refreshed(w, name, func(e scheduler.Entry) bool { return e.Paused == paused })
}

// ScheduleChange sets a schedule's cron expression.
type ScheduleChange struct {
	Cron string `json:"cron"`
}

func (s *Server) setSchedule(w http.ResponseWriter, r *http.Request, p Principal) error {
	name := r.PathValue("name")
	e, err := s.entry(name)
	if err != nil {
		return err
	}
	var req ScheduleChange
	if err := decodeJSON(r, &req); err != nil {
		return badRequest("%v", err)
	}
	expr := strings.TrimSpace(req.Cron)
	if err := config.CheckCron(expr); err != nil {
		return badRequest("schedule %s: %v", name, err)
	}
	if s.opts.MinInterval > 0 {
		if err := config.CheckInterval(expr, s.opts.MinInterval); err != nil {
			return badRequest("schedule %s: %v", name, err)
		}
	}
	// The schedule keeps its time zone unless the new expression names one.
	spec := config.Schedule{Cron: expr, Timezone: e.Timezone}.Spec()
	c, err := scheduler.Parse(spec)
	if err != nil {
		return badRequest("schedule %s: %v", name, err)
	}
	if c.Next(s.now()).IsZero() {
		return badRequest("schedule %s: cron expression %q never fires", name, expr)
	}
	if err := s.opts.Store.SetScheduleCron(r.Context(), name, expr, p.Name); err != nil {
		return err
	}
	s.audit(p, "set schedule cron", "schedule", name, "cron", expr)
	return s.refreshed(w, name, func(e scheduler.Entry) bool { return e.Spec == spec })
}

// refreshed makes this replica's scheduler read the change now and answers
// with the schedule as it then runs; other replicas read it within
// scheduler.DefaultReload.
func (s *Server) refreshed(w http.ResponseWriter, name string, applied func(scheduler.Entry) bool) error {
	s.opts.Schedules.Refresh()
	deadline := time.Now().Add(2 * time.Second)
	for {
		e, err := s.entry(name)
		if err != nil {
			return err
		}
		if applied(e) || time.Now().After(deadline) {
			writeJSON(w, http.StatusOK, scheduleView(e))
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}
