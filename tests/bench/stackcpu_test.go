package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stackCPU is the CPU time the stack's processes have used: the Temporal
// dev server, the Postgres cluster (the postmaster and its backends, the
// ended ones included through the postmaster's children times) and this
// process (the workers and activities). It tells where a procedure's CPU
// goes, which throughput on a shared 2-core machine cannot: the ratio of
// CPU per procedure is what bounds the ratio of procedures per second when
// the cores are the ceiling.
type stackCPU struct {
	temporal, postgres, self time.Duration
}

// readStackCPU reads the stack's CPU times from /proc, finding the
// processes through the state folder (MADOGUCHI_STATE); a part it cannot
// find counts zero.
func readStackCPU() stackCPU {
	var s stackCPU
	state := os.Getenv("MADOGUCHI_STATE")
	if pid, ok := pidFile(filepath.Join(state, "run", "temporal.pid")); ok {
		s.temporal = procCPU(pid, true)
	}
	// The cluster's four services, each under its supervisor (lib.sh's
	// md_supervise): the supervisor's reaped children (a killed service) and
	// the running child.
	for _, svc := range clusterServices {
		if sup, ok := pidFile(filepath.Join(state, "run", "temporal-"+svc+".pid")); ok {
			s.temporal += procCPU(sup, true)
		}
		if child, ok := pidFile(filepath.Join(state, "run", "temporal-"+svc+".child.pid")); ok {
			s.temporal += procCPU(child, false)
		}
	}
	if pm, ok := pidFile(filepath.Join(state, "pg", "data", "postmaster.pid")); ok {
		s.postgres = procCPU(pm, true)
		for _, child := range childrenOf(pm) {
			s.postgres += procCPU(child, false)
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return s
}

func (s stackCPU) sub(o stackCPU) stackCPU {
	return stackCPU{temporal: s.temporal - o.temporal, postgres: s.postgres - o.postgres, self: s.self - o.self}
}

// pidFile reads the pid that opens a file (Postgres's postmaster.pid, or
// lib.sh's "<pid> <command>").
func pidFile(path string) (int, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, false
	}
	pid, err := strconv.Atoi(f[0])
	return pid, err == nil
}

// clusterServices are the Temporal cluster's processes (scripts/lib.sh's
// md_cluster_start).
var clusterServices = []string{"history", "matching", "frontend", "worker"}

// clockTicks is USER_HZ, 100 on Linux.
const clockTicks = 100

// procCPU is a process's user and system time from /proc/<pid>/stat, with
// its waited-for children's when children is set.
func procCPU(pid int, children bool) time.Duration {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	// The fields after the command, which is in parentheses and may hold spaces.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	// utime, stime, cutime, cstime are fields 14 to 17 of stat: 11 to 14 after the command.
	n := 2
	if children {
		n = 4
	}
	var ticks int64
	for i := 11; i < 11+n && i < len(f); i++ {
		v, _ := strconv.ParseInt(f[i], 10, 64)
		ticks += v
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// childrenOf lists a process's children.
func childrenOf(pid int) []int {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "task", strconv.Itoa(pid), "children"))
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if c, err := strconv.Atoi(f); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// profileTimed writes a CPU profile of the timed part of a run (without the
// cards' key pool and the residents made before it) to
// $MADOGUCHI_BENCH_CPUPROFILE-<name>-<c>.prof when that is set.
func profileTimed(b *testing.B, name string, c int) func() {
	prefix := os.Getenv("MADOGUCHI_BENCH_CPUPROFILE")
	if prefix == "" {
		return func() {}
	}
	f, err := os.Create(fmt.Sprintf("%s-%s-%d.prof", prefix, name, c))
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}
}
