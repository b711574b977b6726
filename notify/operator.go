package notify

import (
	"fmt"
	"strings"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/sla"
)

// ConnectorNotice is what the administrators are told about a connector:
// that it stopped after a permanent failure, or that it works again.
type ConnectorNotice struct {
	Connector string
	Kind      config.ConnectorKind
	// Schedules are the connector's sync schedules, for the command that runs
	// one by hand.
	Schedules []string
	Recovered bool      // false: it stopped
	Since     time.Time // when it stopped
	At        time.Time // when it recovered
	Cause     dvcwatch.Cause
	Error     string // the permanent failure's message, short
}

// OperatorRecipient is the Recipient of the administrators' emails: they are
// addresses of the configuration, not officials of the directory.
const OperatorRecipient = "admin"

// OperatorEmails renders the notice once for each address, plain text in
// Vietnamese: short, saying what failed, since when, the cause in plain
// words and what to do. The dedupe key names the connector, the stop's time
// and the address, so each address is told of a stop, and of the recovery
// that ends it, once, however many syncs see it.
func OperatorEmails(n ConnectorNotice, admins []string) []dvcwatch.NewNotification {
	loc := sla.Location()
	when := func(t time.Time) string { return t.In(loc).Format("15:04 ngày 02/01/2006") }
	portal := map[config.ConnectorKind]string{
		config.KindDVCQG: "Cổng Dịch vụ công quốc gia", config.KindOneStop: "hệ thống một cửa điện tử",
	}[n.Kind]
	if portal == "" {
		portal = string(n.Kind)
	}
	cause := n.Cause.Text()
	run := "dvcwatch schedules run (tên lịch đồng bộ của kết nối)"
	if len(n.Schedules) > 0 {
		run = "dvcwatch schedules run " + n.Schedules[0]
	}

	var subject, key string
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	if n.Recovered {
		subject = fmt.Sprintf("dvcwatch: kết nối %s đã hoạt động lại", n.Connector)
		key = "connector-recovered"
		line("Kết nối %s (%s) đã đồng bộ thành công lúc %s.", n.Connector, portal, when(n.At))
		line("")
		line("Kết nối đã dừng từ %s. Nguyên nhân khi đó: %s.", when(n.Since), cause.Title)
		line("Các lượt đồng bộ theo lịch chạy lại bình thường; hồ sơ thay đổi trong lúc dừng được đọc tiếp từ vị trí đã lưu, không mất hồ sơ nào.")
	} else {
		subject = fmt.Sprintf("dvcwatch: kết nối %s đã dừng — %s", n.Connector, cause.Title)
		key = "connector-stopped"
		line("Kết nối %s (%s) đã dừng đồng bộ lúc %s vì một lỗi mà thử lại không khắc phục được.", n.Connector, portal, when(n.Since))
		line("")
		line("Nguyên nhân: %s. %s", cause.Title, cause.Explain)
		line("Lỗi ghi nhận: %s", n.Error)
		line("")
		line("Cần làm: %s", cause.Action)
		line("Chạy lại bằng tay sau khi sửa: %s", run)
		line("")
		line("Trong lúc dừng, các lượt đồng bộ theo lịch của kết nối này được bỏ qua (không báo lỗi mỗi phút): " +
			"hồ sơ từ cổng này không được cập nhật nên cảnh báo trễ hạn có thể thiếu hoặc sai. Sẽ có thư báo khi kết nối hoạt động lại.")
	}
	line("")
	line("— dvcwatch (thư tự động gửi quản trị viên trong notify.admins, một lần cho mỗi sự cố)")

	out := make([]dvcwatch.NewNotification, 0, len(admins))
	for _, a := range admins {
		out = append(out, dvcwatch.NewNotification{
			DedupeKey: fmt.Sprintf("%s:%s:%s:%s", key, n.Connector, n.Since.UTC().Format(time.RFC3339Nano), strings.ToLower(a)),
			Kind:      dvcwatch.NotificationOperator, Recipient: OperatorRecipient, Email: a,
			Subject: subject, Text: b.String(), Items: 1,
		})
	}
	return out
}
