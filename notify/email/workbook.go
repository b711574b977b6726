package email

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"
)

// WorkbookType is the media type of SummaryWorkbook's file.
const WorkbookType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// SummaryWorkbook returns the full list of a summary as an XLSX workbook: a
// sheet "Hồ sơ" with one row per dossier, most urgent first (applicants'
// data masked, as in the email), and a sheet "Phòng ban" with the counts per
// department. The email lists only the most urgent; the office files and
// filters the workbook.
func SummaryWorkbook(s Summary) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	const dossiers, departments = "Hồ sơ", "Phòng ban"
	if err := f.SetSheetName("Sheet1", dossiers); err != nil {
		return nil, fmt.Errorf("summary workbook: %w", err)
	}
	if _, err := f.NewSheet(departments); err != nil {
		return nil, fmt.Errorf("summary workbook: %w", err)
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, fmt.Errorf("summary workbook: %w", err)
	}

	// A stream writer keeps memory flat however long the list is.
	sw, err := f.NewStreamWriter(dossiers)
	if err != nil {
		return nil, fmt.Errorf("summary workbook: %w", err)
	}
	widths := []float64{26, 40, 26, 14, 14, 44, 8, 22, 16, 60}
	for i, w := range widths {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return nil, fmt.Errorf("summary workbook: %w", err)
		}
	}
	header := []any{"Mã hồ sơ", "Thủ tục", "Đang xử lý", "Hạn", "Quá hạn (ngày làm việc)", "Vi phạm", "Mới",
		"Người nộp", "Điện thoại", "Cần làm"}
	if err := sw.SetRow("A1", styled(header, bold), excelize.RowOpts{Height: 30}); err != nil {
		return nil, fmt.Errorf("summary workbook: %w", err)
	}
	rows := slices.Clone(s.Rows)
	slices.SortStableFunc(rows, urgentRow)
	for i, row := range rows {
		v := newRowView(row)
		isNew := ""
		if v.New {
			isNew = "x"
		}
		cell, err := excelize.CoordinatesToCellName(1, i+2)
		if err != nil {
			return nil, fmt.Errorf("summary workbook: %w", err)
		}
		values := []any{v.Code, v.Procedure, v.Holder, v.Due, row.LateDays, strings.Join(v.Tags, "; "), isNew,
			v.Applicant, v.Phone, v.Action}
		if err := sw.SetRow(cell, values); err != nil {
			return nil, fmt.Errorf("summary workbook: %w", err)
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, fmt.Errorf("summary workbook: %w", err)
	}

	if err := f.SetSheetRow(departments, "A1", &[]any{"Phòng ban", "Quá hạn", "Sắp đến hạn", "Có vi phạm mới", "Thiếu văn bản xin lỗi"}); err != nil {
		return nil, fmt.Errorf("summary workbook: %w", err)
	}
	if err := f.SetRowStyle(departments, 1, 1, bold); err != nil {
		return nil, fmt.Errorf("summary workbook: %w", err)
	}
	if err := f.SetColWidth(departments, "A", "A", 36); err != nil {
		return nil, fmt.Errorf("summary workbook: %w", err)
	}
	for i, d := range s.Departments {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := f.SetSheetRow(departments, cell, &[]any{departmentLabel(d.Name), d.Overdue, d.DueSoon, d.New, d.MissingApology}); err != nil {
			return nil, fmt.Errorf("summary workbook: %w", err)
		}
	}
	var b bytes.Buffer
	if _, err := f.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("summary workbook: %w", err)
	}
	return b.Bytes(), nil
}

// styled wraps each value in a cell of style.
func styled(values []any, style int) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = excelize.Cell{StyleID: style, Value: v}
	}
	return out
}
