// Package directory answers who is who from the configuration: the agencies,
// their departments and heads, the officials and the office (Văn phòng HĐND
// và UBND) of each, and each agency's working schedule (calendar and office
// hours), against which deadlines are counted and mail is timed.
package directory

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/sla"
	"golang.org/x/text/unicode/norm"
)

// Directory is the configuration's agencies, departments and people, with each
// agency's working schedule.
type Directory struct {
	people      map[string]dvcwatch.Official
	agencies    map[string]config.Agency
	departments map[string]config.Department // by agency + "/" + code
	byRole      map[string][]string          // agency + "/" + role → ids, for the roles told as a whole (office, monitor)
	names       map[string]string            // agency + "/" + folded display name → id
	schedules   map[string]*sla.Schedule     // by agency; "" is the calendar's default
	dossierURL  string
	procedures  map[string]string // code → name
}

// New builds the directory and every agency's schedule from a
// validated configuration.
func New(cfg *config.Config) (*Directory, error) {
	cal, err := sla.LoadCalendar(cfg.Calendar.File)
	if err != nil {
		return nil, err
	}
	d := &Directory{
		people: map[string]dvcwatch.Official{}, agencies: map[string]config.Agency{},
		departments: map[string]config.Department{}, byRole: map[string][]string{}, names: map[string]string{},
		schedules: map[string]*sla.Schedule{}, dossierURL: cfg.Notify.DossierURL,
		procedures: map[string]string{},
	}
	for _, p := range cfg.Procedures {
		d.procedures[p.Code] = p.Name
	}
	if d.schedules[""], err = schedule(cal, cfg.Calendar.OfficeHours, cfg.Calendar.Cutoff, cfg.Calendar.Counting); err != nil {
		return nil, fmt.Errorf("calendar schedule: %w", err)
	}
	for _, a := range cfg.Agencies {
		d.agencies[a.Code] = a
		if d.schedules[a.Code], err = schedule(cal, a.OfficeHours, a.Cutoff, a.Counting); err != nil {
			return nil, fmt.Errorf("agency %s schedule: %w", a.Code, err)
		}
		for _, dep := range a.Departments {
			d.departments[a.Code+"/"+dep.Code] = dep
		}
		for _, o := range a.Officials {
			d.people[o.ID] = dvcwatch.Official{ID: o.ID, Name: o.Name, Title: o.Title, Email: o.Email, Role: o.Role,
				DepartmentCode: o.Department, AgencyCode: a.Code}
			d.names[a.Code+"/"+fold(o.Name)] = o.ID
			if o.Role == dvcwatch.RoleOffice || o.Role == dvcwatch.RoleMonitor {
				d.byRole[a.Code+"/"+string(o.Role)] = append(d.byRole[a.Code+"/"+string(o.Role)], o.ID)
			}
		}
	}
	return d, nil
}

func schedule(cal *sla.Calendar, sessions []string, cutoff string, counting sla.Counting) (*sla.Schedule, error) {
	if counting == "" { // a configuration built without defaults
		counting = sla.DefaultCounting
	}
	hours := sla.DefaultOfficeHours()
	if len(sessions) > 0 {
		var err error
		if hours, err = sla.ParseOfficeHours(sessions, cutoff); err != nil {
			return nil, err
		}
	}
	return sla.NewScheduleCounting(cal, hours, counting)
}

// Schedule returns the working schedule of an agency, or the calendar's
// default for an agency not in the configuration.
func (d *Directory) Schedule(agency string) *sla.Schedule {
	if s, ok := d.schedules[agency]; ok {
		return s
	}
	return d.schedules[""]
}

// Official returns the id and department of the official of agency whom a
// step names, by id or by display name: portals send either, and Vietnamese
// arrives both precomposed and decomposed, so names are compared in Unicode
// NFC, ignoring case and spacing. It implements breach.People.
func (d *Directory) Official(agency, name string) (id, department string, ok bool) {
	p, found := d.people[name]
	if !found {
		if id, named := d.names[agency+"/"+fold(name)]; named {
			p, found = d.people[id]
		}
	}
	if !found {
		return "", "", false
	}
	return p.ID, p.DepartmentCode, true
}

// fold is a display name as names are compared.
func fold(name string) string {
	return strings.ToLower(strings.Join(strings.Fields(norm.NFC.String(name)), " "))
}

// Person returns the configured official (or office member) with id.
func (d *Directory) Person(id string) (dvcwatch.Official, bool) {
	p, ok := d.people[id]
	return p, ok
}

// AgencyName returns an agency's name, or its code if it is not configured.
func (d *Directory) AgencyName(code string) string {
	if a, ok := d.agencies[code]; ok {
		return a.Name
	}
	return code
}

// AgencyShortName returns the short name an agency signs its mail with (the
// configured short_name, else its name, else its code).
func (d *Directory) AgencyShortName(code string) string {
	if a, ok := d.agencies[code]; ok && a.ShortName != "" {
		return a.ShortName
	}
	return d.AgencyName(code)
}

// OfficialName returns an official's name, or the id when the official is
// not configured.
func (d *Directory) OfficialName(id string) string {
	if p, ok := d.people[id]; ok && p.Name != "" {
		return p.Name
	}
	return id
}

// Agencies returns the configured agencies.
func (d *Directory) Agencies() []config.Agency {
	out := make([]config.Agency, 0, len(d.agencies))
	for _, a := range d.agencies {
		out = append(out, a)
	}
	return out
}

// DepartmentName returns a department's name, or its code if it is not configured.
func (d *Directory) DepartmentName(agency, code string) string {
	if dep, ok := d.departments[agency+"/"+code]; ok {
		return dep.Name
	}
	return code
}

// Head returns the head of a department, if configured.
func (d *Directory) Head(agency, department string) (dvcwatch.Official, bool) {
	dep, ok := d.departments[agency+"/"+department]
	if !ok || dep.Head == "" {
		return dvcwatch.Official{}, false
	}
	return d.Person(dep.Head)
}

// Name returns the configured name of a group of the results (an agency,
// one of its departments, an official or a procedure); "" for one not
// configured.
func (d *Directory) Name(level dvcwatch.TallyLevel, agency, code string) string {
	switch level {
	case dvcwatch.LevelAgency:
		return d.agencies[code].Name
	case dvcwatch.LevelDepartment:
		return d.departments[agency+"/"+code].Name
	case dvcwatch.LevelOfficial:
		return d.people[code].Name
	case dvcwatch.LevelProcedure:
		return d.procedures[code]
	}
	return ""
}

// Office returns the office people of an agency.
func (d *Directory) Office(agency string) []dvcwatch.Official {
	return d.withRole(agency, dvcwatch.RoleOffice)
}

// Monitors returns the people of agency with role monitor, who are told the
// month's results, in configuration order.
func (d *Directory) Monitors(agency string) []dvcwatch.Official {
	return d.withRole(agency, dvcwatch.RoleMonitor)
}

func (d *Directory) withRole(agency string, role dvcwatch.Role) []dvcwatch.Official {
	var out []dvcwatch.Official
	for _, id := range d.byRole[agency+"/"+string(role)] {
		out = append(out, d.people[id])
	}
	return out
}

// DossierLink returns the one-stop system's page of a dossier, or "" when no
// URL pattern is configured.
func (d *Directory) DossierLink(code string) string {
	if d.dossierURL == "" {
		return ""
	}
	return strings.ReplaceAll(d.dossierURL, "{code}", url.PathEscape(code))
}

// InOfficeHours reports whether t is within the agency's office hours; an
// error (a year beyond the calendar) counts as inside, so mail is never held
// forever.
func (d *Directory) InOfficeHours(agency string, t time.Time) bool {
	ok, err := d.Schedule(agency).InOfficeHours(t)
	return ok || err != nil
}
