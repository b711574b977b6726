package portalsim

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/sla"
)

// Directory is who and what the simulated portals know: the agency, its
// departments and officials, and the procedures its dossiers follow. A demo
// builds a matching dvcwatch configuration from it.
type Directory struct {
	Agency      dvcwatch.Agency
	Departments []Department
	Officials   []dvcwatch.Official
	Procedures  []Procedure
}

// Department is a department (phòng ban) of the agency, as PhongBanXuLy reports
// it, with the id of its head (an official with role department_head).
type Department struct {
	Code string `json:"code"`
	Name string `json:"name"`
	Head string `json:"head"`
}

// Procedure is an administrative procedure (thủ tục hành chính) the agency
// handles. Codes and names resemble the national catalogue but are simulated.
type Procedure struct {
	Code       string    `json:"code"` // MaTTHC
	Name       string    `json:"name"` // TenTTHC
	FieldCode  string    `json:"field_code"`
	FieldName  string    `json:"field_name"`
	Department string    `json:"department"` // code of the department that handles it
	Limit      sla.Limit `json:"limit"`
	Steps      int       `json:"steps"` // processing steps, 2 or 3

	weight   int     // relative share of dossiers
	online   float64 // share submitted online
	business float64 // share filed by businesses
	fee      float64 // share that wait for a payment (status 6)
}

func mustLimit(s string) sla.Limit {
	l, err := sla.ParseLimit(s)
	if err != nil {
		panic(err)
	}
	return l
}

// officeDepartment is the department whose staff sign and hand out results.
const officeDepartment = "VP"

func newDirectory(agencyCode, agencyName, emailDomain string) Directory {
	deps := []Department{
		{"VHXH", "Phòng Văn hóa – Xã hội", "tran.thi.b"},
		{"KT", "Phòng Kinh tế", "le.van.d"},
		{"TP", "Tư pháp – Hộ tịch", "ngo.van.m"},
		{"DC", "Địa chính – Xây dựng", "trinh.van.q"},
		{officeDepartment, "Văn phòng HĐND và UBND", "hoang.van.e"},
	}
	type person struct{ id, name, title, dep string }
	people := []person{
		{"tran.thi.b", "Trần Thị B", "Trưởng phòng Văn hóa – Xã hội", "VHXH"},
		{"nguyen.van.a", "Nguyễn Văn A", "Công chức Văn hóa – Xã hội", "VHXH"},
		{"do.thi.h", "Đỗ Thị H", "Công chức Lao động – Thương binh và Xã hội", "VHXH"},
		{"le.van.d", "Lê Văn D", "Trưởng phòng Kinh tế", "KT"},
		{"vu.minh.k", "Vũ Minh K", "Công chức Kinh tế", "KT"},
		{"bui.thi.l", "Bùi Thị L", "Công chức Tài chính – Kế toán", "KT"},
		{"ngo.van.m", "Ngô Văn M", "Trưởng ban Tư pháp – Hộ tịch", "TP"},
		{"dang.thu.n", "Đặng Thu N", "Công chức Tư pháp – Hộ tịch", "TP"},
		{"phan.van.p", "Phan Văn P", "Công chức Tư pháp – Hộ tịch", "TP"},
		{"trinh.van.q", "Trịnh Văn Q", "Trưởng ban Địa chính – Xây dựng", "DC"},
		{"pham.van.c", "Phạm Văn C", "Công chức Địa chính – Xây dựng", "DC"},
		{"ly.thi.r", "Lý Thị R", "Công chức Địa chính – Nông nghiệp – Môi trường", "DC"},
		{"hoang.van.e", "Hoàng Văn E", "Chánh Văn phòng HĐND và UBND", officeDepartment},
		{"dinh.thi.g", "Đinh Thị G", "Công chức Văn phòng – Thống kê (Bộ phận Một cửa)", officeDepartment},
	}
	d := Directory{Agency: dvcwatch.Agency{Code: agencyCode, Name: agencyName}, Departments: deps}
	heads := map[string]bool{}
	for _, dep := range deps {
		heads[dep.Head] = true
	}
	for _, p := range people {
		role := dvcwatch.RoleOfficial
		if heads[p.id] {
			role = dvcwatch.RoleDepartmentHead
		}
		d.Officials = append(d.Officials, dvcwatch.Official{
			ID: p.id, Name: p.name, Title: p.title, Email: p.id + "@" + emailDomain,
			Role: role, DepartmentCode: p.dep, AgencyCode: agencyCode,
		})
	}
	d.Officials = append(d.Officials, dvcwatch.Official{
		ID: "van.phong", Name: "Văn phòng HĐND và UBND " + strings.TrimPrefix(agencyName, "UBND "),
		Title: "Văn phòng HĐND và UBND", Email: "vanphong@" + emailDomain,
		Role: dvcwatch.RoleOffice, AgencyCode: agencyCode,
	})
	d.Procedures = []Procedure{
		{Code: "1.001193", Name: "Đăng ký khai sinh", FieldCode: "HOTICH", FieldName: "Hộ tịch", Department: "TP", Limit: mustLimit("8h"), Steps: 2, weight: 14, online: 0.55},
		{Code: "1.000656", Name: "Đăng ký khai tử", FieldCode: "HOTICH", FieldName: "Hộ tịch", Department: "TP", Limit: mustLimit("8h"), Steps: 2, weight: 5, online: 0.35},
		{Code: "1.000894", Name: "Đăng ký kết hôn", FieldCode: "HOTICH", FieldName: "Hộ tịch", Department: "TP", Limit: mustLimit("5wd"), Steps: 2, weight: 6, online: 0.3},
		{Code: "1.004873", Name: "Cấp giấy xác nhận tình trạng hôn nhân", FieldCode: "HOTICH", FieldName: "Hộ tịch", Department: "TP", Limit: mustLimit("3wd"), Steps: 2, weight: 8, online: 0.6},
		{Code: "2.000635", Name: "Cấp bản sao trích lục hộ tịch", FieldCode: "HOTICH", FieldName: "Hộ tịch", Department: "TP", Limit: mustLimit("4h"), Steps: 2, weight: 9, online: 0.7, fee: 0.6},
		{Code: "2.000815", Name: "Chứng thực bản sao từ bản chính giấy tờ, văn bản", FieldCode: "CHUNGTHUC", FieldName: "Chứng thực", Department: "TP", Limit: mustLimit("4h"), Steps: 2, weight: 16, online: 0.25, business: 0.1, fee: 0.9},
		{Code: "1.001234", Name: "Xác nhận hộ gia đình làm nông nghiệp, lâm nghiệp, ngư nghiệp có mức sống trung bình", FieldCode: "BTXH", FieldName: "Bảo trợ xã hội", Department: "VHXH", Limit: mustLimit("5wd"), Steps: 3, weight: 4, online: 0.3},
		{Code: "1.001776", Name: "Thực hiện, điều chỉnh, thôi hưởng trợ cấp xã hội hằng tháng", FieldCode: "BTXH", FieldName: "Bảo trợ xã hội", Department: "VHXH", Limit: mustLimit("15wd"), Steps: 3, weight: 5, online: 0.2},
		{Code: "1.001758", Name: "Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội", FieldCode: "BTXH", FieldName: "Bảo trợ xã hội", Department: "VHXH", Limit: mustLimit("3wd"), Steps: 3, weight: 2, online: 0.1},
		{Code: "2.000720", Name: "Đăng ký thành lập hộ kinh doanh", FieldCode: "HKD", FieldName: "Thành lập và hoạt động của hộ kinh doanh", Department: "KT", Limit: mustLimit("3wd"), Steps: 2, weight: 6, online: 0.65, business: 1, fee: 0.9},
		{Code: "1.001612", Name: "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh", FieldCode: "HKD", FieldName: "Thành lập và hoạt động của hộ kinh doanh", Department: "KT", Limit: mustLimit("3wd"), Steps: 2, weight: 3, online: 0.7, business: 1, fee: 0.9},
		{Code: "1.003003", Name: "Cấp giấy phép xây dựng nhà ở riêng lẻ", FieldCode: "XAYDUNG", FieldName: "Hoạt động xây dựng", Department: "DC", Limit: mustLimit("15d"), Steps: 3, weight: 4, online: 0.4, fee: 0.8},
		{Code: "1.004227", Name: "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất", FieldCode: "DATDAI", FieldName: "Đất đai", Department: "DC", Limit: mustLimit("15wd"), Steps: 3, weight: 5, online: 0.3, business: 0.05, fee: 0.7},
		{Code: "1.003612", Name: "Hòa giải tranh chấp đất đai", FieldCode: "DATDAI", FieldName: "Đất đai", Department: "DC", Limit: mustLimit("30d"), Steps: 3, weight: 2, online: 0.05},
	}
	return d
}

// staff returns the officials of a department: its head and the others.
func (d *Directory) staff(dep string) (head int, others []int) {
	head = -1
	for i, o := range d.Officials {
		if o.DepartmentCode != dep {
			continue
		}
		if o.Role == dvcwatch.RoleDepartmentHead {
			head = i
		} else {
			others = append(others, i)
		}
	}
	return head, others
}

// Vietnamese personal names for fake applicants, each with its ASCII folding for
// e-mail addresses.
type namePart struct{ vi, ascii string }

var (
	familyNames = []namePart{
		{"Nguyễn", "nguyen"}, {"Nguyễn", "nguyen"}, {"Nguyễn", "nguyen"}, {"Trần", "tran"}, {"Trần", "tran"},
		{"Lê", "le"}, {"Lê", "le"}, {"Phạm", "pham"}, {"Hoàng", "hoang"}, {"Huỳnh", "huynh"}, {"Phan", "phan"},
		{"Vũ", "vu"}, {"Võ", "vo"}, {"Đặng", "dang"}, {"Bùi", "bui"}, {"Đỗ", "do"}, {"Hồ", "ho"},
		{"Ngô", "ngo"}, {"Dương", "duong"}, {"Lý", "ly"}, {"Đinh", "dinh"}, {"Trịnh", "trinh"},
	}
	maleMiddle   = []namePart{{"Văn", "van"}, {"Hữu", "huu"}, {"Đức", "duc"}, {"Minh", "minh"}, {"Quốc", "quoc"}, {"Thanh", "thanh"}, {"Công", "cong"}, {"Xuân", "xuan"}}
	femaleMiddle = []namePart{{"Thị", "thi"}, {"Thị", "thi"}, {"Ngọc", "ngoc"}, {"Thu", "thu"}, {"Thanh", "thanh"}, {"Minh", "minh"}, {"Hồng", "hong"}, {"Kim", "kim"}}
	maleGiven    = []namePart{
		{"An", "an"}, {"Bình", "binh"}, {"Cường", "cuong"}, {"Dũng", "dung"}, {"Đạt", "dat"}, {"Hải", "hai"},
		{"Hiếu", "hieu"}, {"Hùng", "hung"}, {"Khánh", "khanh"}, {"Long", "long"}, {"Minh", "minh"}, {"Nam", "nam"},
		{"Phong", "phong"}, {"Phúc", "phuc"}, {"Quân", "quan"}, {"Quang", "quang"}, {"Sơn", "son"}, {"Thắng", "thang"},
		{"Trung", "trung"}, {"Tuấn", "tuan"}, {"Việt", "viet"}, {"Vinh", "vinh"},
	}
	femaleGiven = []namePart{
		{"Anh", "anh"}, {"Chi", "chi"}, {"Dung", "dung"}, {"Giang", "giang"}, {"Hà", "ha"}, {"Hạnh", "hanh"},
		{"Hoa", "hoa"}, {"Hương", "huong"}, {"Lan", "lan"}, {"Linh", "linh"}, {"Mai", "mai"}, {"Nga", "nga"},
		{"Ngọc", "ngoc"}, {"Nhung", "nhung"}, {"Phương", "phuong"}, {"Tâm", "tam"}, {"Thảo", "thao"},
		{"Trang", "trang"}, {"Uyên", "uyen"}, {"Vy", "vy"}, {"Yến", "yen"},
	}
	businessWords = []string{"Minh Phát", "Thành Công", "Hòa Bình", "An Khang", "Phú Quý", "Đại Việt", "Hưng Thịnh", "Tân Tiến", "Sao Mai", "Trường An"}
	businessKinds = []string{"Hộ kinh doanh", "Công ty TNHH", "Công ty cổ phần", "Hợp tác xã"}
	mailDomains   = []string{"gmail.com", "gmail.com", "gmail.com", "yahoo.com.vn", "outlook.com", "hotmail.com"}
	provinceCodes = []string{"001", "031", "034", "036", "038", "040"} // first digits of a citizen ID
	phonePrefixes = []string{"032", "033", "034", "035", "036", "037", "038", "039", "070", "076", "077", "078", "079", "081", "082", "083", "084", "085", "086", "088", "089", "090", "091", "093", "094", "096", "097", "098"}

	apologyReasons = []string{
		"Hồ sơ cần xác minh thêm thông tin tại cơ sở",
		"Chờ ý kiến của cơ quan có liên quan",
		"Công chức thụ lý nghỉ ốm đột xuất",
		"Khối lượng hồ sơ tiếp nhận tăng đột biến",
		"Hệ thống phần mềm một cửa gặp sự cố",
	}
)

// ConfigYAML returns the "agencies" and "procedures" sections of a dvcwatch
// configuration describing this directory, so that a configuration for the
// simulator routes alerts to its people and knows its procedures' limits.
func (d Directory) ConfigYAML() (string, error) {
	// Own types rather than config's: only the fields given, so that the
	// configuration's defaults (office hours, cutoff) still apply.
	type department struct{ Code, Name, Head string }
	type official struct {
		ID, Name, Title, Email string
		Role                   dvcwatch.Role
		Department             string `yaml:"department,omitempty"`
	}
	type agency struct {
		Code, Name  string
		Departments []department
		Officials   []official
	}
	type procedure struct{ Code, Name, Limit string }
	a := agency{Code: d.Agency.Code, Name: d.Agency.Name}
	for _, dep := range d.Departments {
		a.Departments = append(a.Departments, department{dep.Code, dep.Name, dep.Head})
	}
	for _, o := range d.Officials {
		a.Officials = append(a.Officials, official{o.ID, o.Name, o.Title, o.Email, o.Role, o.DepartmentCode})
	}
	var procs []procedure
	for _, p := range d.Procedures {
		procs = append(procs, procedure{p.Code, p.Name, p.Limit.String()})
	}
	b, err := yaml.Marshal(struct {
		Agencies   []agency    `yaml:"agencies"`
		Procedures []procedure `yaml:"procedures"`
	}{[]agency{a}, procs})
	return string(b), err
}
