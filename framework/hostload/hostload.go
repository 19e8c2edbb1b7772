// Package hostload says where this machine's CPU went while something ran —
// a stage's probing on a local kind cluster — from the kernel's own
// accounting: /proc/stat for the machine, the cgroups of Docker containers
// (the kind nodes and, inside them, each pod and each system service) and
// this process's own usage. Short-lived processes, such as each exec's agent
// or runc, are counted too: a cgroup keeps the time of processes that ended.
package hostload

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Container is a Docker container to account for, by its full ID.
type Container struct {
	Name, ID string
}

// Meter reads CPU usage by part: each container's system services and pods,
// labelled, plus this process and the machine as a whole.
type Meter struct {
	root       string // the cgroup hierarchy holding CPU accounting
	v2         bool
	proc       string            // /proc
	containers map[string]string // container name → its cgroup directory
	// PodLabel names the part a pod's CPU counts to, by the pod's UID; ""
	// counts it to "other pods".
	PodLabel func(uid string) string
}

// Open finds the cgroup of each container under the accounting hierarchy at
// root ("" for /sys/fs/cgroup): cgroup v1's cpuacct or the unified v2 tree,
// with Docker's cgroupfs or systemd layout.
func Open(root string, containers []Container) (*Meter, error) {
	if root == "" {
		root = "/sys/fs/cgroup"
	}
	m := &Meter{root: filepath.Join(root, "cpuacct"), proc: "/proc", containers: map[string]string{}}
	if _, err := os.Stat(filepath.Join(m.root, "cpuacct.usage")); err != nil {
		m.root, m.v2 = root, true
		if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err != nil {
			return nil, fmt.Errorf("no CPU accounting under %s (neither cgroup v1 cpuacct nor v2)", root)
		}
	}
	for _, c := range containers {
		found := ""
		for _, dir := range []string{filepath.Join("docker", c.ID), filepath.Join("system.slice", "docker-"+c.ID+".scope")} {
			if _, err := os.Stat(filepath.Join(m.root, dir)); err == nil {
				found = dir
				break
			}
		}
		if found == "" {
			return nil, fmt.Errorf("container %s (%.12s) has no cgroup under %s: is it on another machine?", c.Name, c.ID, m.root)
		}
		m.containers[c.Name] = found
	}
	return m, nil
}

// Reading is a moment's cumulative usage, by part.
type Reading struct {
	at    time.Time
	parts map[string]time.Duration
	busy  time.Duration // the machine's non-idle CPU time
	self  time.Duration
}

// podDir matches a pod's cgroup: kubelet-kubepods-…-pod<uid>.slice (systemd)
// or pod<uid> (cgroupfs); systemd writes the UID's dashes as underscores.
var podDir = regexp.MustCompile(`^(?:.*-)?pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\.slice)?$`)

// Read takes a reading now.
func (m *Meter) Read() (Reading, error) {
	r := Reading{at: time.Now(), parts: map[string]time.Duration{}}
	for name, dir := range m.containers {
		total, err := m.usage(dir)
		if err != nil {
			return Reading{}, err
		}
		counted := time.Duration(0)
		err = filepath.WalkDir(filepath.Join(m.root, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(m.root, path)
			label := ""
			if sub := podDir.FindStringSubmatch(d.Name()); sub != nil {
				uid := strings.ReplaceAll(sub[1], "_", "-")
				if m.PodLabel != nil {
					label = m.PodLabel(uid)
				}
				if label == "" {
					label = "other pods"
				}
			} else if strings.HasSuffix(d.Name(), ".service") {
				label = strings.TrimSuffix(d.Name(), ".service")
			}
			if label == "" {
				return nil
			}
			u, err := m.usage(rel)
			if err != nil {
				return err
			}
			r.parts[label] += u
			counted += u
			return filepath.SkipDir
		})
		if err != nil {
			return Reading{}, fmt.Errorf("reading the cgroups of %s: %w", name, err)
		}
		// The node's own processes (kubelet, containerd, each pod's shim)
		// share the container's top cgroup: split it by process name. Their
		// reaped children are left out — a shim reaps the agents exec'd in
		// its pod, whose time the pod's cgroup holds already — so what
		// remains is the processes that ended: runc above all.
		procs, err := m.processes(dir)
		if err != nil {
			return Reading{}, fmt.Errorf("reading the processes of %s: %w", name, err)
		}
		for comm, t := range procs {
			r.parts[comm] += t
			counted += t
		}
		r.parts[name+": ended processes (runc, …)"] += total - counted
	}
	var err error
	if r.busy, err = machineBusy(); err != nil {
		return Reading{}, err
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return Reading{}, err
	}
	r.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return r, nil
}

// usage is a cgroup's cumulative CPU time.
func (m *Meter) usage(rel string) (time.Duration, error) {
	if !m.v2 {
		data, err := os.ReadFile(filepath.Join(m.root, rel, "cpuacct.usage"))
		if err != nil {
			return 0, err
		}
		ns, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
		return time.Duration(ns), err
	}
	f, err := os.Open(filepath.Join(m.root, rel, "cpu.stat"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "usage_usec "); ok {
			us, err := strconv.ParseInt(v, 10, 64)
			return time.Duration(us) * time.Microsecond, err
		}
	}
	return 0, fmt.Errorf("%s/cpu.stat has no usage_usec", rel)
}

// processes sums the CPU time of the processes in a cgroup (not its
// sub-cgroups) by name.
func (m *Meter) processes(rel string) (map[string]time.Duration, error) {
	data, err := os.ReadFile(filepath.Join(m.root, rel, "cgroup.procs"))
	if err != nil {
		return nil, err
	}
	out := map[string]time.Duration{}
	for _, pid := range strings.Fields(string(data)) {
		stat, err := os.ReadFile(filepath.Join(m.proc, pid, "stat"))
		if err != nil {
			continue // it ended since the list was read
		}
		comm, ticks, ok := parseStat(string(stat))
		if ok {
			out[comm] += time.Duration(ticks) * time.Second / clockTick
		}
	}
	return out, nil
}

// parseStat reads a process's name and its own CPU time (utime and stime)
// from /proc/PID/stat. The name is in parentheses and may hold spaces.
func parseStat(stat string) (comm string, ticks int64, ok bool) {
	open, end := strings.IndexByte(stat, '('), strings.LastIndexByte(stat, ')')
	if open < 0 || end < open {
		return "", 0, false
	}
	fields := strings.Fields(stat[end+1:])
	if len(fields) < 15 {
		return "", 0, false
	}
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return "", 0, false
		}
		ticks += n
	}
	return stat[open+1 : end], ticks, true
}

// clockTick is USER_HZ, the unit of /proc/stat: 100 on every Linux ABI Go
// supports.
const clockTick = 100

// machineBusy is the CPU time all cores spent on anything but idling and
// waiting for I/O, from /proc/stat's first line.
func machineBusy() (time.Duration, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(line)
	if len(fields) < 8 || fields[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var ticks int64
	for i, f := range fields[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if i >= 8 { // guest time is counted in user already
			break
		}
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTick, nil
}

// Usage is the CPU time spent between two readings.
type Usage struct {
	Wall  time.Duration
	Cores int
	Busy  time.Duration // the whole machine
	Self  time.Duration // this process
	Parts []Part        // the largest first
}

// Part is one labelled part's CPU time.
type Part struct {
	Label string
	CPU   time.Duration
}

// Since is the usage from an earlier reading to r.
func (r Reading) Since(earlier Reading) Usage {
	u := Usage{Wall: r.at.Sub(earlier.at), Cores: runtime.NumCPU(), Busy: r.busy - earlier.busy, Self: r.self - earlier.self}
	for label, t := range r.parts {
		if d := t - earlier.parts[label]; d > 0 {
			u.Parts = append(u.Parts, Part{label, d})
		}
	}
	sort.Slice(u.Parts, func(i, j int) bool {
		if u.Parts[i].CPU != u.Parts[j].CPU {
			return u.Parts[i].CPU > u.Parts[j].CPU
		}
		return u.Parts[i].Label < u.Parts[j].Label
	})
	return u
}

// String is the usage in one line: the machine's busy share, then each part
// of at least 1% of the busy time, this process, and what no part explains
// (the Docker daemon, interrupts, other work on the machine).
func (u Usage) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d cores × %v: busy %v (%.0f%%)", u.Cores, u.Wall.Round(100*time.Millisecond), u.Busy.Round(100*time.Millisecond),
		100*u.Busy.Seconds()/max(u.Wall.Seconds()*float64(u.Cores), 1e-9))
	explained := u.Self
	for _, p := range u.Parts {
		explained += p.CPU
		if p.CPU*100 >= u.Busy {
			fmt.Fprintf(&b, "; %s %v", p.Label, p.CPU.Round(100*time.Millisecond))
		}
	}
	fmt.Fprintf(&b, "; tierproof %v", u.Self.Round(100*time.Millisecond))
	if rest := u.Busy - explained; rest > 0 {
		fmt.Fprintf(&b, "; elsewhere %v", rest.Round(100*time.Millisecond))
	}
	return b.String()
}
