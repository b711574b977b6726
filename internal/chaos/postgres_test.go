//go:build chaos

package chaos

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
)

// cluster is a PostgreSQL cluster of the test's own: initdb into a temporary
// directory, served on a loopback port with fsync on (durability is what
// the cases test), stopped and started with pg_ctl. PostgreSQL refuses to run
// as root, so as root its commands run as the postgres user.
type cluster struct {
	bin, dir string
	port     int
	asUser   bool // run the commands as postgres (the test runs as root)
}

// startCluster creates and starts a cluster; it is stopped and removed at cleanup.
func startCluster(t *testing.T, port int) *cluster {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Fatal("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)")
	}
	c := &cluster{bin: filepath.Dir(bins[len(bins)-1]), port: port, asUser: os.Geteuid() == 0}
	// Not t.TempDir: its parents are root's alone, and the postgres user
	// must reach the directory.
	dir, err := os.MkdirTemp("", "dvcwatch-chaos-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	c.dir = dir
	if c.asUser {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, PostgreSQL needs the postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	c.run(t, "initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
	c.start(t)
	t.Cleanup(func() { _, _ = c.pgctl("stop", "-m", "immediate") })
	return c
}

// dsn is the cluster's postgres database.
func (c *cluster) dsn() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

func (c *cluster) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	if c.asUser {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

func (c *cluster) run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := c.command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func (c *cluster) pgctl(args ...string) ([]byte, error) {
	// -l every time: a server started without it writes to pg_ctl's output,
	// which would then never end.
	full := append([]string{"-D", filepath.Join(c.dir, "data"), "-l", filepath.Join(c.dir, "log"), "-w", "-t", "120"}, args...)
	return c.command("pg_ctl", full...).CombinedOutput()
}

// start starts the server and waits until it accepts connections.
func (c *cluster) start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s -c fsync=on -c max_connections=200",
		c.port, c.dir)
	if out, err := c.pgctl("-o", opts, "start"); err != nil {
		t.Fatalf("start PostgreSQL: %v\n%s\n%s", err, out, c.logTail())
	}
}

// stop stops the server: mode "fast" as an administrator does, "immediate"
// as a crash (no checkpoint; the next start replays the WAL).
func (c *cluster) stop(t *testing.T, mode string) {
	t.Helper()
	if out, err := c.pgctl("-m", mode, "stop"); err != nil {
		t.Fatalf("stop PostgreSQL (%s): %v\n%s", mode, err, out)
	}
}

// restart is pg_ctl restart, with the options of the last start.
func (c *cluster) restart(t *testing.T) {
	t.Helper()
	if out, err := c.pgctl("-m", "fast", "restart"); err != nil {
		t.Fatalf("restart PostgreSQL: %v\n%s\n%s", err, out, c.logTail())
	}
}

func (c *cluster) logTail() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "log"))
	return string(b[max(0, len(b)-2000):])
}
