//go:build unix

package report_test

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/dvcwatch/dvcwatch/store/storetest"
)

// TestWorkbookOpensInLibreOffice converts the golden month's workbook to PDF
// with LibreOffice headless, as an office without Excel opens it: the
// conversion must succeed and give a non-empty PDF. It skips where
// LibreOffice is missing, unless CI is set (.ci/run installs it).
func TestWorkbookOpensInLibreOffice(t *testing.T) {
	office := libreOffice(t)
	_, data := goldenWorkbook(t, storetest.SQLite(t))
	dir := t.TempDir()
	path := filepath.Join(dir, "ket-qua-11-2026.xlsx")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	pdf := convert(t, office, path, "pdf")
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) || len(pdf) < 1000 {
		t.Fatalf("LibreOffice's PDF is %d bytes starting %q", len(pdf), pdf[:min(len(pdf), 16)])
	}
}

// libreOffice is the path of LibreOffice's binary; it skips the test where
// there is none, unless CI is set.
func libreOffice(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"libreoffice", "soffice"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("LibreOffice is missing (CI is set): apt-get install libreoffice-calc")
	}
	t.Skip("LibreOffice is missing: apt-get install libreoffice-calc")
	return ""
}

// convert converts the file at path to format with LibreOffice headless and
// returns the result. LibreOffice gets a profile and HOME of its own, so
// that parallel runs and a desktop session do not share (and lock) one, and
// two minutes; on timeout its whole process group is killed (soffice starts
// soffice.bin).
func convert(t *testing.T, office, path, format string) []byte {
	t.Helper()
	home := t.TempDir()
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	profile := url.URL{Scheme: "file", Path: filepath.Join(home, "profile")}
	cmd := exec.CommandContext(ctx, office, "-env:UserInstallation="+profile.String(),
		"--headless", "--norestore", "--nolockcheck", "--nodefault",
		"--convert-to", format, "--outdir", out, path)
	cmd.Env = append(os.Environ(), "HOME="+home)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	output, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s --convert-to %s: %v\n%s", office, format, err, output)
	}
	name := filepath.Base(path)
	name = name[:len(name)-len(filepath.Ext(name))] + "." + format
	data, err := os.ReadFile(filepath.Join(out, name))
	if err != nil {
		t.Fatalf("%s --convert-to %s wrote no %s: %v\n%s", office, format, name, err, output)
	}
	return data
}
