package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is the unit of the CPU times in /proc (USER_HZ, 100 on Linux).
const clockTick = time.Second / 100

// cpuSample is where the machine's CPU time had gone at one moment: to the server, to
// PostgreSQL (all its processes), to this process (the load generator, or the ceiling's
// client), and in all.
type cpuSample struct {
	server, db, client time.Duration
	busy, total        time.Duration
}

// sampleCPU reads the CPU times of the server (pid 0: none), PostgreSQL and this process.
func sampleCPU(serverPID int) cpuSample {
	var s cpuSample
	if serverPID != 0 {
		s.server, _ = procCPU(serverPID)
	}
	s.db = postgresCPU()
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.client = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	s.busy, s.total = machineCPU()
	return s
}

// CPU is where the CPU time of a measured run went, per request, and how busy the machine's
// cores were.
type CPU struct {
	Server, DB, Client time.Duration `json:",omitempty"`
	// Busy is the share of all cores' time that was not idle, 0 to 1.
	Busy float64
}

func cpuBetween(before, after cpuSample, requests int) CPU {
	n := float64(max(requests, 1))
	per := func(d time.Duration) time.Duration { return time.Duration(float64(d) / n) }
	c := CPU{Server: per(after.server - before.server), DB: per(after.db - before.db), Client: per(after.client - before.client)}
	if total := after.total - before.total; total > 0 {
		c.Busy = float64(after.busy-before.busy) / float64(total)
	}
	return c
}

// procCPU returns the CPU time, user plus system, of a process and of its children that
// ended, and its command name.
func procCPU(pid int) (time.Duration, string) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, ""
	}
	text := string(raw)
	open, end := strings.IndexByte(text, '('), strings.LastIndexByte(text, ')')
	if open < 0 || end < open || end+2 > len(text) {
		return 0, ""
	}
	// Fields after the command name (which may hold spaces) start after the last ')'.
	fields := strings.Fields(text[end+2:])
	if len(fields) < 15 {
		return 0, ""
	}
	var sum int64
	// utime and stime, then cutime and cstime: the time of children that ended and were
	// waited for. Only PostgreSQL's postmaster has such children (backends, autovacuum
	// workers), and without them the time of a process that ended would be lost.
	for _, f := range fields[11:15] {
		n, _ := strconv.ParseInt(f, 10, 64)
		sum += n
	}
	return time.Duration(sum) * clockTick, text[open+1 : end]
}

// postgresCPU sums the CPU time of every PostgreSQL process on the machine, with that of the
// processes that ended (counted in the postmaster's children's time).
func postgresCPU() time.Duration {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var sum time.Duration
	for _, dir := range dirs {
		pid, err := strconv.Atoi(filepath.Base(dir))
		if err != nil {
			continue
		}
		if d, name := procCPU(pid); name == "postgres" {
			sum += d
		}
	}
	return sum
}

// machineCPU returns the busy and total time of all cores, from the first line of /proc/stat.
func machineCPU() (busy, total time.Duration) {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	fields := strings.Fields(line)
	if len(fields) < 5 || fields[0] != "cpu" {
		return 0, 0
	}
	var sum, idle int64
	// user nice system idle iowait irq softirq steal; guest time is already in user and nice.
	for i, f := range fields[1:min(len(fields), 9)] {
		n, _ := strconv.ParseInt(f, 10, 64)
		sum += n
		if i == 3 || i == 4 { // idle and iowait
			idle += n
		}
	}
	return time.Duration(sum-idle) * clockTick, time.Duration(sum) * clockTick
}
