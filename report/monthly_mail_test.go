package report_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// TestMonthlyResultsMail runs the monthly results on 1 December over the
// golden month: one email to the monitor and one to the office, quoting the
// hand counts of November against October (D10 finished late, D4 open within
// its due: 1 of 2 on time), departments in the configuration's order and
// the dossiers no department answers for yet last, written once however
// often the job runs.
func TestMonthlyResultsMail(t *testing.T) {
	yaml := strings.Replace(goldenConfig, "      - {id: vp,", "      - {id: vhxh-tonghop, name: Bộ phận tổng hợp, email: tonghop@hoabinh.example, role: monitor}\n      - {id: vp,", 1)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := goldenServices(t, db, yaml)
		for range 2 { // a retry writes nothing more
			if _, err := svc.Report(ctx, "", goldenNow); err != nil {
				t.Fatal(err)
			}
		}
		all, err := db.Notifications(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		var reports []dvcwatch.Notification
		for _, n := range all {
			if n.Kind == dvcwatch.NotificationReport {
				reports = append(reports, n)
			}
		}
		if len(reports) != 2 {
			t.Fatalf("%d monthly emails, want one to the monitor and one to the office", len(reports))
		}
		to := map[string]bool{}
		for _, n := range reports {
			to[n.Email] = true
			const subject = "[UBND xã Hòa Bình] Kết quả giải quyết hồ sơ tháng 11/2026: 66,7% đúng hạn (tháng 10/2026: 50,0%)"
			if n.Subject != subject {
				t.Errorf("subject %q, want %q", n.Subject, subject)
			}
			for _, want := range []string{
				"Tỷ lệ giải quyết đúng hạn: 66,7% (tháng trước: 50,0%)",
				"Tiếp nhận trong tháng: 9 (tháng trước: 1)",
				// October: D10 only, 1/9 09:00 to 15/10 09:00, the National Day
				// holiday 1–2/9 skipped: 30 days and 1.5 hours = 30.2 days.
				"Thời gian giải quyết trung bình (ngày làm việc): 5,6 (tháng trước: 30,2)",
				"Tỷ lệ đồng bộ lên Cổng DVCQG: 88,9%",
				"Phòng Văn hóa – Xã hội: 6 / 3 / 2 / 60,0%",
				"Phòng Kinh tế: 2 / 2 / 1 / 66,7%",
				"(chưa phân công): 1 / 0 / 0 / 100,0%\n", // last
			} {
				if !strings.Contains(n.Text, want) {
					t.Errorf("the text to %s lacks %q:\n%s", n.Email, want, n.Text)
				}
			}
			if !strings.Contains(n.Text, "Chi tiết theo phòng ban, cán bộ và thủ tục trong tệp đính kèm ket-qua-2026-11-000.05.31.H99.xlsx.") {
				t.Errorf("the text to %s does not name the workbook:\n%s", n.Email, n.Text)
			}
			if n.AttachmentName != "ket-qua-2026-11-000.05.31.H99.xlsx" {
				t.Errorf("attachment %q, want the month's workbook", n.AttachmentName)
			}
			if !strings.Contains(n.HTML, "<strong>tháng 11/2026</strong>") {
				t.Errorf("the HTML to %s does not name the month", n.Email)
			}
		}
		if !to["tonghop@hoabinh.example"] || !to["vp@hoabinh.example"] {
			t.Errorf("sent to %v, want the monitor and the office", to)
		}
	})
}
