package bench

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/procfs"
	"github.com/redis/go-redis/v9"
)

// cpuScope names the processes a notification stage runs in: this one
// (asynq's client and server, the deliverer, SQLite, the mail sink), the
// Redis server, and the PostgreSQL backends serving the stage's database.
// Their CPU time, summed, is what an email costs the machine in that stage;
// other programs are left out, so the figure holds on a busy machine, which
// the machine-wide /proc/stat would not.
type cpuScope struct {
	redis redis.UniversalClient // nil: no Redis in the stage
	// pg lists the backends from pg_stat_activity whose application_name
	// is pgApp (freshSchema names each database's connections); nil: none.
	pg    *sql.DB
	pgApp string
}

// stageCPU is the CPU time of a scope's processes over a stage.
type stageCPU struct {
	busy, wall float64 // seconds: CPU summed over the processes, elapsed
	// byRole is busy split by process: this one, the Redis server, the
	// PostgreSQL backends; it tells which of them a stage's extra CPU went to.
	byRole [roles]float64
	lost   int // processes gone before the stage ended, whose last CPU time is not counted
}

// processRole says which of a scope's processes a pid is.
type processRole int

const (
	roleSelf processRole = iota
	roleRedis
	rolePostgres
	roles // how many
)

// processTime is one process's CPU time so far.
type processTime struct {
	role processRole
	cpu  float64 // seconds
}

// cpuStart is a scope's CPU times at the start of a stage.
type cpuStart struct {
	scope cpuScope
	at    time.Time
	times map[int]processTime // by pid
}

func (s cpuScope) start(ctx context.Context) cpuStart {
	return cpuStart{scope: s, at: time.Now(), times: s.times(ctx)}
}

// since is the scope's CPU use from the start until now. A PostgreSQL
// backend that started during the stage counts from zero.
func (c cpuStart) since(ctx context.Context) stageCPU {
	wall := time.Since(c.at).Seconds()
	now := c.scope.times(ctx)
	m := stageCPU{wall: wall}
	for pid, t := range now {
		d := t.cpu - c.times[pid].cpu
		m.busy += d
		m.byRole[t.role] += d
	}
	for pid := range c.times {
		if _, ok := now[pid]; !ok {
			m.lost++
		}
	}
	return m
}

// times reads the CPU time (user and system, all threads) of each process
// of the scope that it can find.
func (s cpuScope) times(ctx context.Context) map[int]processTime {
	pids := map[int]processRole{os.Getpid(): roleSelf}
	if s.redis != nil {
		if pid := redisPID(ctx, s.redis); pid > 0 {
			pids[pid] = roleRedis
		}
	}
	if s.pg != nil {
		rows, err := s.pg.QueryContext(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, s.pgApp)
		if err == nil {
			for rows.Next() {
				var pid int
				if rows.Scan(&pid) == nil {
					pids[pid] = rolePostgres
				}
			}
			_ = rows.Close()
		}
	}
	out := make(map[int]processTime, len(pids))
	for pid, role := range pids {
		p, err := procfs.NewProc(pid)
		if err != nil {
			continue // another machine's server, or gone
		}
		st, err := p.Stat()
		if err != nil {
			continue
		}
		out[pid] = processTime{role, st.CPUTime()}
	}
	return out
}

// redisPID is the Redis server's process id from INFO, 0 if unknown.
func redisPID(ctx context.Context, rdb redis.UniversalClient) int {
	info, err := rdb.Info(ctx, "server").Result()
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			pid, _ := strconv.Atoi(v)
			return pid
		}
	}
	return 0
}

// pgScope is the scope of a stage on the PostgreSQL database at dsn (a
// freshSchema one): its backends are found by the application_name the DSN
// gives them, through admin. SQLite runs in this process: no backends.
func pgScope(rdb redis.UniversalClient, admin *sql.DB, dsn string) cpuScope {
	s := cpuScope{redis: rdb}
	if u, err := url.Parse(dsn); err == nil && admin != nil {
		if app := u.Query().Get("application_name"); app != "" {
			s.pg, s.pgApp = admin, app
		}
	}
	return s
}

// Cores is how many cores the scope kept busy on average.
func (m stageCPU) Cores() float64 {
	if m.wall <= 0 {
		return 0
	}
	return m.busy / m.wall
}

// PerItem is the CPU seconds each of n items cost.
func (m stageCPU) PerItem(n int) float64 { return m.busy / float64(n) }

// cpuFigures prints m for n emails: the cores its processes kept busy and
// their CPU per email.
func cpuFigures(m stageCPU, n int) string {
	s := fmt.Sprintf("its processes' CPU %.2f of %d cores, %.2f ms per email (this process %.2f, Redis %.2f, PostgreSQL %.2f)",
		m.Cores(), runtime.NumCPU(), 1000*m.PerItem(n), 1000*m.byRole[roleSelf]/float64(n), 1000*m.byRole[roleRedis]/float64(n), 1000*m.byRole[rolePostgres]/float64(n))
	if m.lost > 0 {
		s += fmt.Sprintf(" (%d processes ended during the stage, their last CPU uncounted)", m.lost)
	}
	return s
}

// loadAverage is /proc/loadavg's three averages, to say how busy the
// machine was around a measurement.
func loadAverage() string {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return "load average unknown"
	}
	l, err := fs.LoadAvg()
	if err != nil {
		return "load average unknown"
	}
	return fmt.Sprintf("load average %.2f %.2f %.2f (1, 5, 15 min)", l.Load1, l.Load5, l.Load15)
}
