package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/report"
)

// report reads the database of --config directly, as dossier show does: a
// month's results are wanted when no server runs too.
func newReportCommand() *cobra.Command {
	var path, month, agency, by, format, out string
	var year int
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Print a month's results per agency, department, official or procedure",
		Long: `Print the results of one month (Asia/Ho_Chi_Minh) as the national service
index of Decision 766/QĐ-TTg counts them: dossiers received, carried over,
finished before, on or after their due date, withdrawn, open within or past
their due at the month's end; the on-time rate, the steps' on-time rate, the
average handling time in working days, the online, digitisation, online
payment and sync rates, apologies and breaches. The due is the citizen's
appointment, compared by date; a rate with nothing to count is empty.

The agency's line comes first, then one line per group of --by: the
department answering for each dossier (the one whose steps held it longest)
and its official of the longest step, or its procedure; the groups' counts add
up to the agency's line. The steps' columns count each step under its own
department and official. The counts are those the last detection pass
recorded: run "dvcwatch detect" first on a store that has just been synced.

--year gives the calendar year instead; with --by official it is the yearly
evaluation of each official: the steps they handled and the share on time,
the breaches attributed to them by kind and how many were acknowledged, and
citizens' satisfaction (no data until citizens' ratings are ingested, never
shown as 100%).

--format xlsx writes one agency's workbook of a month (--agency, unless only
one is configured): a sheet per level, agency, department, official and
procedure (--by is not needed), with charts of the on-time rate per
department, per official and per month of the year to the month. A workbook
is binary: give --out, or redirect standard output to a file.`,
		Example: `  dvcwatch report --config dvcwatch.yaml --month 2026-11
  dvcwatch report --config dvcwatch.yaml --month 2026-11 --by procedure --format csv --out ket-qua-11-2026.csv
  dvcwatch report --config dvcwatch.yaml --year 2026 --by official
  dvcwatch report --config dvcwatch.yaml --month 2026-11 --agency 000.05.31.H99 --format xlsx --out ket-qua-11-2026.xlsx`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var period report.Period
			switch {
			case month != "" && year != 0:
				return usageErrorf("--month and --year: give one period, a month or a year")
			case year != 0:
				if year < 2000 || year > 2100 {
					return usageErrorf("--year %d: want a year such as 2026", year)
				}
				period = report.Year(year)
			case month == "":
				return usageErrorf("--month: required, as YYYY-MM (e.g. 2026-11), or --year YYYY")
			default:
				var err error
				if period, err = report.ParseMonth(month); err != nil {
					return usageErrorf("--month: %v", err)
				}
			}
			level := dvcwatch.TallyLevel(by)
			if !slices.Contains(dvcwatch.TallyLevels, level) || level == dvcwatch.LevelAgency {
				return unknownValue("--by", by, "level", []string{"department", "official", "procedure"})
			}
			writeTables, ok := map[string]func(io.Writer, ...report.Table) error{"table": report.WriteTable, "csv": report.WriteCSV}[format]
			xlsx := format == "xlsx"
			if !ok && !xlsx {
				return unknownValue("--format", format, "format", []string{"table", "csv", "xlsx"})
			}
			if xlsx && year != 0 {
				return usageErrorf("--format xlsx: a workbook is of one month (--month); a year prints as table or csv")
			}
			if xlsx && out == "" && isTerminal(cmd.OutOrStdout()) {
				return usageErrorf("--format xlsx: a workbook is binary and standard output is a terminal: give --out FILE, or redirect it to a file")
			}
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			agencies, err := reportAgencies(cfg, agency)
			if err != nil {
				return err
			}
			if xlsx && len(agencies) > 1 {
				return usageErrorf("--format xlsx: one agency per workbook; give --agency, one of %s", strings.Join(agencies, ", "))
			}
			svc, err := openServices(cmd, cfg)
			if err != nil {
				return err
			}
			defer svc.Close()
			names := report.Names(svc.Directory.Name)
			var write func(io.Writer) error
			if xlsx {
				wb, err := report.BuildWorkbook(cmd.Context(), svc.DB, names, period, agencies[0])
				if err != nil {
					return err
				}
				write = func(w io.Writer) error { return report.WriteXLSX(w, wb) }
			} else {
				var tables []report.Table
				for _, code := range agencies {
					for _, l := range []dvcwatch.TallyLevel{dvcwatch.LevelAgency, level} {
						t, err := report.Build(cmd.Context(), svc.DB, names, period, code, l)
						if err != nil {
							return err
						}
						tables = append(tables, t)
					}
				}
				write = func(w io.Writer) error { return writeTables(w, tables...) }
			}
			if out == "" {
				return write(cmd.OutOrStdout())
			}
			f, err := os.Create(out)
			if err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			if err := write(f); err != nil {
				_ = f.Close()
				return fmt.Errorf("--out %s: %w", out, err)
			}
			return f.Close()
		},
	}
	cmd.Flags().StringVar(&path, "config", os.Getenv("DVCWATCH_CONFIG"), "configuration file (default $DVCWATCH_CONFIG)")
	cmd.Flags().StringVar(&month, "month", "", "the month, YYYY-MM")
	cmd.Flags().IntVar(&year, "year", 0, "the calendar year instead of a month")
	cmd.Flags().StringVar(&agency, "agency", "", "one agency's code (default: every configured agency)")
	cmd.Flags().StringVar(&by, "by", string(dvcwatch.LevelDepartment), "the lines after the agency's: department, official or procedure")
	cmd.Flags().StringVar(&format, "format", "table", "table, csv or xlsx (every level, one agency)")
	cmd.Flags().StringVar(&out, "out", "", "write to this file instead of standard output")
	return cmd
}

// reportAgencies is the agency asked for, or every configured one.
func reportAgencies(cfg *config.Config, agency string) ([]string, error) {
	var codes []string
	for _, a := range cfg.Agencies {
		codes = append(codes, a.Code)
	}
	if agency == "" {
		return codes, nil
	}
	if !slices.Contains(codes, agency) {
		return nil, usageErrorf("--agency %q: not a configured agency; configured: %s", agency, strings.Join(codes, ", "))
	}
	return []string{agency}, nil
}

// isTerminal says whether w is a terminal (a character device), where a
// binary file must not go.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
