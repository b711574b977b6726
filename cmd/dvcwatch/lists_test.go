package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch"
	"github.com/dvcwatch/dvcwatch/admin"
	"github.com/dvcwatch/dvcwatch/internal/portalsim"
	"github.com/dvcwatch/dvcwatch/store"
	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// TestBreachesListSaysWhatItLeftOut: 1,200 breaches, 1,080 open; the table
// of the first 100 says how many more there are, in Vietnamese digits, and
// --output json prints the API's page with the total.
func TestBreachesListSaysWhatItLeftOut(t *testing.T) {
	sim := portalsim.New(portalsim.Options{Seed: 1, Dossiers: 1, Start: simStart})
	defer sim.Close()
	cfg := simConfig(t, sim, "http://127.0.0.1:9", "")
	ctx := context.Background()
	db, err := store.Open(ctx, store.DriverSQLite, filepath.Join(filepath.Dir(cfg), "dvcwatch.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := storetest.SeedBreaches(ctx, db, time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC), 0, 1200); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	out, errOut, status := run(t, "breaches", "list", "--config", cfg)
	if status != 0 {
		t.Fatalf("breaches list: status %d\n%s", status, errOut)
	}
	if n := strings.Count(out, "\n"); n != 101 {
		t.Errorf("%d lines printed, want a header and 100 rows", n)
	}
	if want := "100 of 1.080 shown; 980 more — use --limit or filters\n"; !strings.HasSuffix(errOut, want) {
		t.Errorf("stderr %q, want it to end %q", errOut, want)
	}
	// The most late first: the first row is the breach due earliest.
	if first := strings.Fields(strings.Split(out, "\n")[1]); len(first) < 4 || first[3] != storetest.SeedSource+"/"+storetest.SeedCode(1198) {
		t.Errorf("first row %v, want the dossier %s (due earliest, open)", first, storetest.SeedCode(1198))
	}

	out, errOut, status = run(t, "breaches", "list", "--config", cfg, "--output", "json", "--limit", "7", "--kind", "overdue")
	var p admin.Page[admin.Breach]
	if err := json.Unmarshal([]byte(out), &p); status != 0 || err != nil {
		t.Fatalf("--output json: status %d, %v:\n%s\n%s", status, err, out, errOut)
	}
	if p.Total != 80 || len(p.Items) != 7 || p.NextCursor == "" || p.Items[0].Kind != "overdue" || p.Items[0].AgencyName == "" {
		t.Errorf("--output json: total %d, %d items, next %q, first %+v", p.Total, len(p.Items), p.NextCursor, p.Items[0])
	}
	if strings.Contains(errOut, "more") {
		t.Errorf("--output json also wrote %q", errOut)
	}

	_, errOut, status = run(t, "breaches", "list", "--config", cfg, "--search", storetest.SeedReceipt(5), "--all")
	if status != 0 || strings.Contains(errOut, "more") {
		t.Errorf("a list shown whole: status %d, stderr %q", status, errOut)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--output", "yaml"}, `--output "yaml": unknown format (want one of: table, json)`},
		{[]string{"--sort", "oldest"}, `--sort "oldest": unknown order (want one of: late, due, detected)`},
		{[]string{"--limit", "0"}, `--limit 0: want 1 to 1000`},
	} {
		_, errOut, status := run(t, append([]string{"breaches", "list", "--config", cfg}, c.args...)...)
		if status != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: status %d, %q; want %d and %q", c.args, status, errOut, exitUsage, c.want)
		}
	}
}

// TestAPIListsSayWhatTheyLeftOut: the job runs and the emails, through the
// admin API, say how many rows the table left out, from the API's total.
func TestAPIListsSayWhatTheyLeftOut(t *testing.T) {
	a := startCLIAPI(t)
	ctx := context.Background()
	now := time.Now()
	for i := range 1150 {
		if _, err := a.db.RecordJobRun(ctx, dvcwatch.JobRun{Job: []string{"sync", "detect"}[i%2], StartedAt: now, FinishedAt: now,
			Status: dvcwatch.RunSucceeded}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 130 {
		if _, _, err := a.db.AddNotification(ctx, dvcwatch.NewNotification{DedupeKey: fmt.Sprint("m", i), Kind: "alerts",
			Recipient: "binh", Email: "binh@x.example", Subject: "s", Text: "t", HTML: "h"}, now); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		args  []string
		want  string
		total int
	}{
		{[]string{"jobs", "list", "--runs"}, "100 of 1.150 shown; 1.050 more — use --limit or filters\n", 1150},
		{[]string{"jobs", "list", "--runs", "--job", "sync", "--limit", "500"}, "500 of 575 shown; 75 more — use --limit or filters\n", 575},
		{[]string{"emails", "list"}, "100 of 130 shown; 30 more — use --limit or filters\n", 130},
		{[]string{"emails", "list", "--limit", "130"}, "", 130},
	} {
		out, errOut, status := a.cli(t, cliViewer, c.args...)
		if status != 0 || !strings.HasSuffix(errOut, c.want) || (c.want == "" && errOut != "") {
			t.Errorf("%v: status %d, stderr %q, want %q\n%s", c.args, status, errOut, c.want, out)
		}
		out, errOut, status = a.cli(t, cliViewer, append(c.args, "--output", "json")...)
		var p struct {
			Items []json.RawMessage `json:"items"`
			Total int               `json:"total"`
		}
		if err := json.Unmarshal([]byte(out), &p); status != 0 || err != nil || p.Total != c.total || errOut != "" {
			t.Errorf("%v --output json: status %d, %v, total %d, stderr %q", c.args, status, err, p.Total, errOut)
		}
	}
	// An email whose end the server never answered says so.
	if err := a.db.MarkAttemptFailed(ctx, 1, now, "send email <x> via smtp.x.example:587: possibly delivered: the server did not answer the end of the message: EOF", true); err != nil {
		t.Fatal(err)
	}
	if out := wantOK(t)(a.cli(t, cliViewer, "emails", "list", "--state", "failed")); !strings.Contains(out, " failed: possibly delivered ") {
		t.Errorf("emails list --state failed:\n%s", out)
	}
	_, errOut, status := a.cli(t, cliViewer, "emails", "list", "--state", "lost")
	if status != exitUsage || !strings.Contains(errOut, `--state "lost": want one of pending, sending, sent, failed`) {
		t.Errorf("emails list --state lost: status %d, %q", status, errOut)
	}
}
