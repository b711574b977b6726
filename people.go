package dvcwatch

// Role is what a person answers for when a dossier is late.
type Role string

// Roles used to route alerts: the official handling a step, the head of that
// official's department, and the Office of the People's Council and People's
// Committee (Văn phòng HĐND và UBND), which must learn of every delay.
const (
	RoleOfficial       Role = "official"
	RoleDepartmentHead Role = "department_head"
	RoleOffice         Role = "office"
	// RoleMonitor monitors and aggregates the results of dossier handling
	// (in a commune, the Culture–Social Department): told the month's
	// results, not individual delays.
	RoleMonitor Role = "monitor"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleOfficial, RoleDepartmentHead, RoleOffice, RoleMonitor:
		return true
	}
	return false
}

// Agency is a handling agency (a commune or provincial body, DonViXuLy).
type Agency struct {
	Code string
	Name string
}

// Department is a department (phòng ban) of an agency.
type Department struct {
	Code       string
	Name       string
	AgencyCode string
}

// Official is a person who receives alerts.
type Official struct {
	ID             string // stable identifier, e.g. the portal user name
	Name           string
	Title          string
	Email          string
	Role           Role
	DepartmentCode string // empty for the office
	AgencyCode     string
}
