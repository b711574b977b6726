package notify

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/notify/email"
	"github.com/dvcwatch/dvcwatch/report"
)

// ReportStore is what the monthly results read and write.
type ReportStore interface {
	report.Source
	outboxAdder
}

// MonthlyWorkbook makes the workbook attached to an agency's monthly
// results; nil attaches none.
type MonthlyWorkbook func(ctx context.Context, agency string, month report.Period) (*dvcwatch.Attachment, error)

// monthlyWorkbook makes the workbook of package report for an agency's month,
// the same as "dvcwatch report --format xlsx" writes.
func monthlyWorkbook(src report.Source, names report.Names) MonthlyWorkbook {
	return func(ctx context.Context, agency string, month report.Period) (*dvcwatch.Attachment, error) {
		wb, err := report.BuildWorkbook(ctx, src, names, month, agency)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		if err := report.WriteXLSX(&b, wb); err != nil {
			return nil, err
		}
		return &dvcwatch.Attachment{
			Name: "ket-qua-" + month.From.Format("2006-01") + "-" + agency + ".xlsx", Type: email.WorkbookType, Data: b.Bytes(),
		}, nil
	}
}

// Report writes, for every agency, its results of month to each of its
// monitors and office people: the headline indicators against the month
// before and a line per department, with the workbook attached. Each
// person gets one such email per agency and month, however often it runs.
func (c *Composer) Report(ctx context.Context, st ReportStore, month report.Period, now time.Time) ([]int64, error) {
	var created []int64
	agencies := c.Dir.Agencies()
	slices.SortFunc(agencies, func(a, b config.Agency) int { return strings.Compare(a.Code, b.Code) })
	for _, a := range agencies {
		people := append(c.Dir.Monitors(a.Code), c.Dir.Office(a.Code)...)
		if len(people) == 0 {
			continue
		}
		m, err := c.monthly(ctx, st, a, month)
		if err != nil {
			return created, err
		}
		var attachment *dvcwatch.Attachment
		if c.Workbook != nil {
			if attachment, err = c.Workbook(ctx, a.Code, month); err != nil {
				return created, fmt.Errorf("monthly results of %s: workbook: %w", a.Code, err)
			}
			m.Attached = attachment.Name
		}
		for _, p := range people {
			m.Recipient = email.Recipient{Name: p.Name, Email: p.Email, Role: p.Role}
			subject, text, html, err := c.Renderer.RenderMonthlyReport(m)
			if err != nil {
				return created, err
			}
			n := dvcwatch.NewNotification{
				DedupeKey: "report:" + a.Code + ":" + month.From.Format("2006-01") + ":" + p.ID,
				Kind:      dvcwatch.NotificationReport, Recipient: p.ID, Email: p.Email,
				Subject: subject, Text: text, HTML: html, Attachment: attachment,
			}
			if created, err = addNew(ctx, st, n, now, created); err != nil {
				return created, err
			}
		}
	}
	return created, nil
}

// monthly composes agency a's results of month, but for the recipient.
func (c *Composer) monthly(ctx context.Context, st ReportStore, a config.Agency, month report.Period) (email.MonthlyReport, error) {
	agency := a.Code
	names := report.Names(c.Dir.Name)
	previous := month.Previous()
	now, err := agencyRow(ctx, st, month, agency)
	if err != nil {
		return email.MonthlyReport{}, err
	}
	before, err := agencyRow(ctx, st, previous, agency)
	if err != nil {
		return email.MonthlyReport{}, err
	}
	departments, err := report.Build(ctx, st, names, month, agency, dvcwatch.LevelDepartment)
	if err != nil {
		return email.MonthlyReport{}, err
	}
	m := email.MonthlyReport{
		Agency: c.Dir.AgencyName(agency), Prefix: c.prefix(agency), Month: month.Name, Previous: previous.Name,
		OnTime: report.Percent(now.OnTime), PreviousOnTime: report.Percent(before.OnTime),
		ConsoleURL: c.reportURL(month),
	}
	figure := func(label string, f func(report.Row) string) {
		m.Figures = append(m.Figures, email.Figure{Label: label, Value: f(now), Previous: f(before)})
	}
	count := func(f func(report.Row) int) func(report.Row) string {
		return func(r report.Row) string { return report.Number(f(r)) }
	}
	figure("Tỷ lệ giải quyết đúng hạn", func(r report.Row) string { return report.Percent(r.OnTime) })
	figure("Tiếp nhận trong tháng", count(func(r report.Row) int { return r.Received }))
	figure("Đã giải quyết", count(func(r report.Row) int { return r.Finished() }))
	figure("Giải quyết quá hạn", count(func(r report.Row) int { return r.FinishedLate }))
	figure("Đang giải quyết quá hạn cuối tháng", count(func(r report.Row) int { return r.OpenOverdue }))
	figure("Thời gian giải quyết trung bình (ngày làm việc)", func(r report.Row) string { return report.Days(r.AverageDays, r.HasAverage) })
	figure("Tỷ lệ bước xử lý đúng hạn", func(r report.Row) string { return report.Percent(r.StepsOnTime) })
	figure("Tỷ lệ nộp trực tuyến", func(r report.Row) string { return report.Percent(r.Online) })
	figure("Tỷ lệ số hóa hồ sơ", func(r report.Row) string { return report.Percent(r.Digitized) })
	figure("Tỷ lệ thanh toán trực tuyến", func(r report.Row) string { return report.Percent(r.OnlinePayment) })
	figure("Tỷ lệ đồng bộ lên Cổng DVCQG", func(r report.Row) string { return report.Percent(r.Synced) })
	figure("Thư xin lỗi đã gửi", count(func(r report.Row) int { return r.Apologies }))
	// The configuration's order, which the office knows; then departments
	// it does not name; the dossiers no step has reached yet last.
	rank := func(code string) int {
		if code == "" {
			return len(a.Departments) + 1
		}
		if i := slices.IndexFunc(a.Departments, func(d config.Department) bool { return d.Code == code }); i >= 0 {
			return i
		}
		return len(a.Departments)
	}
	slices.SortStableFunc(departments.Rows, func(x, y report.Row) int { return rank(x.Code) - rank(y.Code) })
	for _, r := range departments.Rows {
		name := r.Name
		if r.Code == "" {
			name = report.Unassigned
		}
		m.Departments = append(m.Departments, email.ResultLine{
			Name: name, Received: report.Number(r.Received), Finished: report.Number(r.Finished()),
			Late: report.Number(r.FinishedLate + r.OpenOverdue), OnTime: report.Percent(r.OnTime),
		})
	}
	return m, nil
}

// agencyRow is agency's line of period; an agency with no dossiers gets an
// empty one, all rates "no data".
func agencyRow(ctx context.Context, st report.Source, period report.Period, agency string) (report.Row, error) {
	t, err := report.Build(ctx, st, nil, period, agency, dvcwatch.LevelAgency)
	if err != nil {
		return report.Row{}, err
	}
	if len(t.Rows) == 0 {
		return report.RowOf(dvcwatch.LevelAgency, agency, dvcwatch.Tally{Group: agency}), nil
	}
	return t.Rows[0], nil
}

// reportURL is the month's results in the admin console, "" when the
// console's address is not configured.
func (c *Composer) reportURL(month report.Period) string {
	if c.ConsoleURL == "" {
		return ""
	}
	return strings.TrimSuffix(c.ConsoleURL, "/") + "/#/report?month=" + month.From.Format("2006-01")
}
