package dvcwatch

// Cause says why a job or a connector failed, in the terms an operator acts
// on. Package failure finds it from an error (or from a stored error's
// text); the admin UI groups failures by it.
type Cause string

// Causes of failures.
const (
	CausePortalCredentials Cause = "portal_credentials" // the portal rejected the connector's account
	CausePortalRefused     Cause = "portal_refused"     // the portal refused the request for good (403, an unknown error code)
	CausePortalUnreachable Cause = "portal_unreachable" // no answer, a timeout, a 5xx, after the retries
	CausePortalBusy        Cause = "portal_busy"        // the portal asked for fewer requests (429, 503, a busy code)
	CausePortalBadReply    Cause = "portal_bad_reply"   // a reply that cannot be read or used
	CauseDatabase          Cause = "database"           // the database cannot be reached or written
	CauseMailRejected      Cause = "mail_rejected"      // the mail server refused a recipient or the message (5xx)
	CauseMailUnreachable   Cause = "mail_unreachable"   // the mail server cannot be reached, or refuses for now
	CauseMailUncertain     Cause = "mail_uncertain"     // the message was written whole but its end was never answered
	CauseBadPayload        Cause = "bad_payload"        // a task whose payload cannot be read
	CauseUnknown           Cause = "unknown"
)

// Causes lists every cause, the known ones first, in the order the UI shows
// groups of equal size.
func Causes() []Cause {
	return []Cause{CausePortalCredentials, CausePortalRefused, CausePortalUnreachable, CausePortalBusy,
		CausePortalBadReply, CauseDatabase, CauseMailRejected, CauseMailUnreachable, CauseMailUncertain, CauseBadPayload, CauseUnknown}
}

// CauseText is how the admin UI and the operators' emails explain a cause:
// in Vietnamese, with a short English gloss of the title.
type CauseText struct {
	Title   string // a few words
	English string // the title's gloss
	Explain string // what happened, one or two sentences
	Action  string // what the operator should do
}

// Text explains c; an unknown value is explained as CauseUnknown.
func (c Cause) Text() CauseText {
	if t, ok := causeTexts[c]; ok {
		return t
	}
	return causeTexts[CauseUnknown]
}

var causeTexts = map[Cause]CauseText{
	CausePortalCredentials: {
		Title: "Cổng từ chối tài khoản đăng nhập", English: "portal credentials rejected",
		Explain: "Cổng không chấp nhận tên đăng nhập hoặc mật khẩu của kết nối: mật khẩu đã đổi hoặc hết hạn, hoặc tài khoản bị khoá.",
		Action: "Sửa username/password của kết nối (biến môi trường chứa mật khẩu) rồi khởi động lại dvcwatch, " +
			"hoặc chạy lại lịch đồng bộ của nó bằng tay (nút Chạy ngay ở trang Lịch chạy, hoặc dvcwatch schedules run).",
	},
	CausePortalRefused: {
		Title: "Cổng từ chối yêu cầu", English: "portal refused the request",
		Explain: "Cổng trả lời rằng yêu cầu không được phép hoặc không hợp lệ (ví dụ HTTP 403, mã đơn vị sai); thử lại không khắc phục được.",
		Action:  "Kiểm tra base_url, agency_code và quyền của tài khoản với đơn vị quản lý cổng, rồi chạy lại lịch bằng tay.",
	},
	CausePortalUnreachable: {
		Title: "Không kết nối được cổng", English: "portal unreachable or timed out",
		Explain: "Cổng không trả lời trong thời gian chờ, từ chối kết nối hoặc báo lỗi máy chủ (5xx), kể cả sau các lần thử lại.",
		Action:  "Thường tự hết khi cổng hoạt động lại: các lượt sau tự thử lại. Nếu kéo dài, kiểm tra mạng, tường lửa và base_url.",
	},
	CausePortalBusy: {
		Title: "Cổng đang quá tải", English: "portal busy or rate-limited",
		Explain: "Cổng yêu cầu giảm số lượt gọi (HTTP 429, 503 hoặc mã báo bận trong câu trả lời).",
		Action:  "Tự thử lại theo thời gian cổng yêu cầu. Nếu lặp lại thường xuyên, giảm rate_limit của kết nối hoặc giãn lịch đồng bộ.",
	},
	CausePortalBadReply: {
		Title: "Cổng trả dữ liệu không đọc được", English: "bad portal reply",
		Explain: "Câu trả lời của cổng sai định dạng (JSON hỏng, thiếu trường, bản ghi không dùng được) hoặc quá nhiều bản ghi cho một lần đọc.",
		Action:  "Gửi lỗi gốc cho đơn vị vận hành cổng; chạy lại lịch bằng tay khi cổng đã sửa.",
	},
	CauseDatabase: {
		Title: "Cơ sở dữ liệu không sẵn sàng", English: "database unavailable",
		Explain: "dvcwatch không kết nối được hoặc không ghi được vào cơ sở dữ liệu (PostgreSQL dừng hoặc hết kết nối, tệp SQLite bị khoá, đĩa đầy).",
		Action:  "Kiểm tra máy chủ cơ sở dữ liệu và /readyz; khi đã ổn, bấm Thử lại các tác vụ lỗi.",
	},
	CauseMailRejected: {
		Title: "Máy chủ thư từ chối người nhận", English: "mail server rejected a recipient",
		Explain: "Máy chủ thư trả lời lỗi vĩnh viễn (5xx, ví dụ 550 không có hộp thư) hoặc địa chỉ không hợp lệ; gửi lại vẫn bị từ chối.",
		Action:  "Sửa địa chỉ email của người nhận trong cấu hình (agencies[].officials[].email, notify.admins), rồi thử lại thư.",
	},
	CauseMailUnreachable: {
		Title: "Không gửi được qua máy chủ thư", English: "mail server unreachable",
		Explain: "Không kết nối được máy chủ SMTP, hết thời gian chờ, lỗi TLS hoặc đăng nhập SMTP, hoặc máy chủ tạm từ chối (4xx).",
		Action: "Kiểm tra smtp.host, port, tls, tài khoản SMTP và máy chủ thư. Thư đang chờ tự gửi khi máy chủ hoạt động lại; " +
			"thư đã bỏ cuộc thì bấm Thử lại.",
	},
	CauseMailUncertain: {
		Title: "Không rõ thư đã đến chưa", English: "mail possibly delivered",
		Explain: "Thư đã gửi trọn nội dung nhưng máy chủ thư không trả lời xác nhận trong thời gian chờ (smtp.data_timeout) hoặc mất kết nối: " +
			"máy chủ có thể đã nhận thư. dvcwatch không tự gửi lại để tránh thư trùng.",
		Action: "Hỏi người nhận hoặc xem nhật ký máy chủ thư; chỉ bấm Thử lại khi thư chưa đến (nếu đã đến, thử lại sẽ tạo một bản trùng). " +
			"Nếu máy chủ thường trả lời chậm hơn smtp.data_timeout (mặc định 10 phút), tăng smtp.data_timeout.",
	},
	CauseBadPayload: {
		Title: "Dữ liệu tác vụ hỏng", English: "bad task payload",
		Explain: "Tác vụ trong hàng đợi mang dữ liệu không đọc được (do một phiên bản khác ghi vào, hoặc bị sửa tay).",
		Action:  "Xoá tác vụ: lịch chạy tạo tác vụ mới ở lượt sau.",
	},
	CauseUnknown: {
		Title: "Lỗi chưa phân loại", English: "unclassified error",
		Explain: "dvcwatch chưa nhận ra nguyên nhân của lỗi này.",
		Action:  "Đọc lỗi gốc và nhật ký (log) của dvcwatch.",
	},
}
