package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// TestDossierFile: a dossier with its history, payment wait, breaches, their
// acknowledgements and the emails that told of them; and a code found in
// every source.
func TestDossierFile(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ids := seedAlerts(t, db) // A told to binh and the office, B to binh, C to lan
		// A waits for payment for an hour, then is processed further.
		paying := dossier("A", dvcwatch.StatusAwaitingPayment, 10)
		back := dossier("A", dvcwatch.StatusInProgress, 70)
		paying.Applicant = dvcwatch.Applicant{Name: "Nguyễn Văn A"}
		back.Applicant = paying.Applicant
		apply(t, db, store.Page{Dossiers: []dvcwatch.Dossier{paying}})
		apply(t, db, store.Page{Dossiers: []dvcwatch.Dossier{back}})
		// The national portal's mirror holds A too.
		apply(t, db, store.Page{Source: "onestop", Dossiers: []dvcwatch.Dossier{{
			Key: dvcwatch.DossierKey{Source: "onestop", Code: "A"}, Status: dvcwatch.StatusReceived, SourceUpdatedAt: t0}}})
		if _, err := db.Acknowledge(ctx, ids["A"], "binh", "Đang chờ thẩm định", hour(2)); err != nil {
			t.Fatal(err)
		}
		notes := compose(t, db, hour(3), &composer{})
		if len(notes) != 3 {
			t.Fatalf("%d emails composed, want binh's, the office's and lan's", len(notes))
		}

		f, err := db.DossierFile(ctx, key("A"))
		if err != nil {
			t.Fatal(err)
		}
		if f.Dossier.Key != key("A") || len(f.Dossier.Steps) != 1 || f.Dossier.Applicant.Name != "Nguyễn Văn A" {
			t.Errorf("dossier = %+v", f.Dossier)
		}
		if w := f.Dossier.PaymentWaits; len(w) != 1 || !w[0].Start.Equal(paying.SourceUpdatedAt) || !w[0].End.Equal(back.SourceUpdatedAt) {
			t.Errorf("payment waits = %+v, want the hour in status 6", w)
		}
		var history []string
		for _, e := range f.Events {
			history = append(history, fmt.Sprintf("%d→%d", e.From, e.To))
		}
		if fmt.Sprint(history) != "[0→4 4→6 6→4]" {
			t.Errorf("history = %v", history)
		}
		if len(f.Breaches) != 1 || f.Breaches[0].ID != ids["A"] {
			t.Errorf("breaches = %+v, want A's overdue alone", f.Breaches)
		}
		if len(f.Acks) != 1 || f.Acks[0].Official != "binh" || f.Acks[0].BreachID != ids["A"] ||
			f.Acks[0].Reason != "Đang chờ thẩm định" || !f.Acks[0].At.Equal(hour(2)) || f.Acks[0].Severity != dvcwatch.SeverityCritical {
			t.Errorf("acknowledgements = %+v", f.Acks)
		}
		var told []string
		for _, e := range f.Emails {
			if e.Text != "" || e.HTML != "" || e.Subject == "" || e.CreatedAt.IsZero() {
				t.Errorf("email %d read with its bodies, or without its head: %+v", e.ID, e.Notification)
			}
			told = append(told, fmt.Sprint(e.Recipient, e.Breaches))
		}
		if len(told) != 2 || (told[0] != fmt.Sprint("office", []int64{ids["A"]}) && told[0] != fmt.Sprint("binh", []int64{ids["A"]})) ||
			f.Emails[0].ID < f.Emails[1].ID {
			t.Errorf("emails = %v, want binh's and the office's, newest first", told)
		}

		// C's file: lan's email alone; B's: binh's, also telling of A.
		if f, err := db.DossierFile(ctx, key("C")); err != nil || len(f.Emails) != 1 || f.Emails[0].Recipient != "lan" || len(f.Acks) != 0 {
			t.Errorf("C's emails = %+v, %v", f.Emails, err)
		}
		if _, err := db.DossierFile(ctx, key("Z")); !errors.Is(err, dvcwatch.ErrNotFound) {
			t.Errorf("a dossier never stored: err = %v, want ErrNotFound", err)
		}

		found, err := db.DossiersByCode(ctx, "A")
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != 2 || found[0].Key.Source != src || found[1].Key.Source != "onestop" || len(found[0].Steps) != 0 {
			t.Errorf("DossiersByCode(A) = %+v, want dvcqg's and onestop's, without children", found)
		}
		for _, code := range []string{"Z", "a", ""} {
			if found, err := db.DossiersByCode(ctx, code); err != nil || len(found) != 0 {
				t.Errorf("DossiersByCode(%q) = %+v, %v; want none", code, found, err)
			}
		}
	})
}

// TestDossiersByCodeEmptyStore: no dossier, no source.
func TestDossiersByCodeEmptyStore(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if found, err := db.DossiersByCode(ctx, "A"); err != nil || len(found) != 0 {
			t.Errorf("DossiersByCode = %+v, %v", found, err)
		}
	})
}
