// Package report computes the monthly and year-to-date results of dossier
// handling per agency, department, official and procedure: the indicators of
// the national service index (Bộ chỉ số chỉ đạo, điều hành và đánh giá chất
// lượng phục vụ người dân, doanh nghiệp, Decision 766/QĐ-TTg of 23 June 2022)
// as dossier data allows them, judged by the decided lateness rules (the due
// is the citizen's appointment, compared by date; the end of processing is
// processed, else returned, else refused, stopped or withdrawn).
//
// Every formula is written once, here, over the counts the store sums from
// the verdicts detection recorded (dvcwatch.Tally); a rate with nothing to
// count is "no data", never 100%.
package report

import (
	"github.com/dvcwatch/dvcwatch"
)

// Rate is a share Num/Den; with Den zero there is nothing to count.
type Rate struct{ Num, Den int }

// Value returns the rate as a fraction of 1, and false when Den is zero.
func (r Rate) Value() (float64, bool) {
	if r.Den == 0 {
		return 0, false
	}
	return float64(r.Num) / float64(r.Den), true
}

// OnTimeRate is the share of dossiers handled on time (tỷ lệ hồ sơ giải quyết
// đúng hạn; Decision 766/QĐ-TTg, group "Tiến độ, kết quả giải quyết"): those
// finished in the period on or before their due date, plus those still open
// at its end and not past their due, over those finished in the period plus
// those open at its end. A dossier with more than one supplement request
// counts as late; withdrawn dossiers are nobody's delay and are left out.
func OnTimeRate(t dvcwatch.Tally) Rate {
	return Rate{Num: t.FinishedEarly + t.FinishedOnDue + t.OpenWithinDue, Den: t.Finished() + t.OpenAtEnd()}
}

// StepOnTimeRate is the share of a department's or official's steps
// finished in the period by their own step due date (NgayKetThucTheoQuyDinh
// of the step, in an interconnected workflow), compared by date.
func StepOnTimeRate(t dvcwatch.Tally) Rate { return Rate{Num: t.StepsOnTime, Den: t.StepsFinished} }

// AverageHandlingDays is the average processing time (thời gian giải quyết
// trung bình; Decision 766/QĐ-TTg, group "Tiến độ, kết quả giải quyết") in
// working days, from reception to the end of processing less the time the
// clock stood still (supplements, payment), over the dossiers processed or
// returned in the period; false when there were none.
func AverageHandlingDays(t dvcwatch.Tally) (float64, bool) {
	if t.Handled == 0 {
		return 0, false
	}
	return t.HandlingDays / float64(t.Handled), true
}

// OnlineRate is the share of the dossiers received in the period that were
// submitted online (KenhThucHien = 2; Decision 766/QĐ-TTg, group "Cung cấp
// dịch vụ trực tuyến").
func OnlineRate(t dvcwatch.Tally) Rate { return Rate{Num: t.Online, Den: t.Received} }

// DigitisationRate is the share of the dossiers received in the period with
// digitised parts (HoSoCoThanhPhanSoHoa; Decision 766/QĐ-TTg, group "Số hóa
// hồ sơ").
func DigitisationRate(t dvcwatch.Tally) Rate { return Rate{Num: t.Digitized, Den: t.Received} }

// OnlinePaymentRate is the share of the dossiers received in the period that
// owed a fee and paid it online (DuocThanhToanTrucTuyen; Decision 766/QĐ-TTg,
// group "Cung cấp dịch vụ trực tuyến"). The data says a fee was owed when the
// dossier waited for payment (status 6) or was paid online.
func OnlinePaymentRate(t dvcwatch.Tally) Rate { return Rate{Num: t.PaidOnline, Den: t.FeeDue} }

// SyncRate is the share of the dossiers received in the period that the
// national portal holds with the same status (tỷ lệ đồng bộ hồ sơ lên Cổng
// Dịch vụ công quốc gia): those with no open reconciliation finding, as of
// the last reconciliation, over those received.
func SyncRate(t dvcwatch.Tally) Rate { return Rate{Num: t.Received - t.Unsynced, Den: t.Received} }
