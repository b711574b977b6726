package storetest

import (
	"context"
	"fmt"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/store"
)

// SeedSource is the source of the dossiers SeedBreaches writes.
const SeedSource = "onestop"

// Seed names: the agencies, departments and officials SeedBreaches spreads
// its breaches over, in turn.
var (
	SeedAgencies    = []string{"000.00.31.H99", "000.05.31.H99", "000.07.31.H99"}
	SeedDepartments = []string{"TP", "KT", "VP"}
	SeedOfficials   = []string{"nguyen.van.an", "tran.thi.binh", "le.van.cuong", "pham.thi.dung", "hoang.van.em"}
)

// SeedCode is the code of the i-th dossier SeedBreaches writes (from 0).
func SeedCode(i int) string { return fmt.Sprintf("000.00.31.H99-260301-%06d", i) }

// SeedReceipt is the receipt number of the i-th dossier SeedBreaches writes.
func SeedReceipt(i int) string { return fmt.Sprintf("BN-%07d", i) }

// SeedBreaches writes n dossiers, from the from-th on, and one breach of each:
// breach i is due i minutes before base (every 50th has no due), detected i
// seconds after it, every 10th resolved; kind, severity, agency, department
// and official go round their lists. It writes in batches of 1,000, about
// 100,000 breaches a minute.
func SeedBreaches(ctx context.Context, db *store.DB, base time.Time, from, n int) error {
	kinds := dvcwatch.BreachKinds()
	sevs := []dvcwatch.Severity{dvcwatch.SeverityInfo, dvcwatch.SeverityWarning, dvcwatch.SeverityCritical}
	for lo := from; lo < from+n; lo += 1000 {
		hi := min(lo+1000, from+n)
		page := store.Page{Source: SeedSource}
		var bs []dvcwatch.StoredBreach
		var resolved []int64
		for i := lo; i < hi; i++ {
			agency := SeedAgencies[i%len(SeedAgencies)]
			page.Dossiers = append(page.Dossiers, dvcwatch.Dossier{
				Key: dvcwatch.DossierKey{Source: SeedSource, Code: SeedCode(i)}, ReceiptNo: SeedReceipt(i),
				ProcedureCode: fmt.Sprintf("1.%06d", i%7), ProcedureName: "Đăng ký khai sinh", Agency: agency,
				Status: dvcwatch.StatusInProgress, RawStatus: "2", ReceivedAt: base.AddDate(0, 0, -10),
				DueAt: base, SourceUpdatedAt: base,
			})
			due := base.Add(-time.Duration(i) * time.Minute)
			if i%50 == 49 {
				due = time.Time{}
			}
			bs = append(bs, dvcwatch.StoredBreach{
				Breach: dvcwatch.Breach{
					Kind: kinds[i%len(kinds)], Key: dvcwatch.DossierKey{Source: SeedSource, Code: SeedCode(i)},
					Official: SeedOfficials[i%len(SeedOfficials)], Department: SeedDepartments[i%len(SeedDepartments)],
					Severity: sevs[i%len(sevs)], StartedAt: base.AddDate(0, 0, -1), DueAt: due, Detail: "seed",
				},
				Agency: agency, Procedure: fmt.Sprintf("1.%06d", i%7), Actionable: true,
				DetectedAt: base.Add(time.Duration(i) * time.Second), UpdatedAt: base,
			})
		}
		if _, err := db.ApplyPage(ctx, page); err != nil {
			return fmt.Errorf("seed dossiers: %w", err)
		}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			got, err := tx.InsertBreaches(ctx, bs)
			if err != nil {
				return err
			}
			for k, b := range got {
				if (lo+k)%10 == 9 {
					resolved = append(resolved, b.ID)
				}
			}
			return tx.ResolveBreaches(ctx, resolved, base, dvcwatch.ResolvedEnded)
		})
		if err != nil {
			return fmt.Errorf("seed breaches: %w", err)
		}
	}
	return nil
}
