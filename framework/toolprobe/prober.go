package toolprobe

import (
	"fmt"
	"strings"
	"time"

	"github.com/tierproof/tierproof/framework/probe"
)

// Shell runs a source's script: the one program every image with tools has.
const Shell = "/bin/sh"

// Prober probes a source's flows with the tools of its Kit, all in one
// script (the probe engine's Prober). Every flow must have a tool (Choose):
// the caller leaves out, with Choose's reason, those that have none.
type Prober struct{ Kit Kit }

// settle is how long the slowest tool takes past its start: BusyBox's nc
// under timeout 4, and the exec's own start.
const settle = 5 * time.Second

// Command writes the script. The tools keep their own deadlines (deadline),
// so timeout and parallel do not apply: every job starts at once, paced per
// destination.
func (p Prober) Command(flows []probe.Flow, _ time.Duration, _ int) ([]string, []byte, time.Duration, error) {
	jobs, err := p.jobs(flows)
	if err != nil {
		return nil, nil, 0, err
	}
	perDestination := map[string]int{}
	longest := 0
	for _, j := range jobs {
		perDestination[j.To]++
		longest = max(longest, perDestination[j.To])
	}
	paced := time.Duration((longest-1)/perDestinationBurst) * time.Second
	return []string{Shell, "-c", Script(jobs)}, nil, paced + settle, nil
}

// Read classifies each job's output. An output no rule explains is an Error
// attempt that says so: never a verdict.
func (p Prober) Read(flows []probe.Flow, stdout []byte) map[int]probe.Attempt {
	jobs, err := p.jobs(flows)
	if err != nil {
		return nil
	}
	got := map[int]probe.Attempt{}
	for i, o := range ParseScript(string(stdout)) {
		if i >= 0 && i < len(jobs) {
			got[i] = Attempt(jobs[i].Tool, o)
		}
	}
	return got
}

func (p Prober) jobs(flows []probe.Flow) ([]Job, error) {
	jobs := make([]Job, len(flows))
	for i, f := range flows {
		tool, err := Choose(p.Kit, f.Probe)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		jobs[i] = Job{Tool: tool, Command: Command(p.Kit, tool, f.ToIP, f.Probe.Port), To: f.ToIP}
	}
	return jobs, nil
}

// Unread starts the detail of an attempt whose output no rule explains.
const Unread = "the tool's output is not one tierproof knows how to read: "

// Attempt turns a tool's output into the probe engine's attempt. A tool that
// cannot tell a Drop from a Reject reports Denied, which the comparison
// takes for either; an output the tool gives for an allowed flow as well as
// a dropped one is an Error that says so; any other output no rule explains
// is an Error whose detail starts with Unread.
func Attempt(tool Tool, o Output) probe.Attempt {
	detail := fmt.Sprintf("%s exit %d: %s", tool, o.Exit, o.Text)
	switch Classify(tool, o) {
	case Allow:
		return probe.Attempt{Verdict: probe.Allow, Detail: detail}
	case Drop:
		return probe.Attempt{Verdict: probe.Drop, Detail: detail}
	case Reject:
		return probe.Attempt{Verdict: probe.Reject, Detail: detail}
	case Denied:
		return probe.Attempt{Verdict: probe.Denied, Detail: detail + " (" + string(tool) + " cannot tell a Drop from a Reject)"}
	}
	if why := cannotTell(tool, o); why != "" {
		return probe.Attempt{Verdict: probe.Error, Detail: why}
	}
	return probe.Attempt{Verdict: probe.Error, Detail: Unread + strings.TrimSpace(detail)}
}

// cannotTell says why an output is not a verdict though the tool printed it
// as recorded. BusyBox's wget, stopped by its timeout with nothing heard,
// printed the same for a server that held the connection as for a dropped
// SYN (testdata/recorded/busybox-wget: allow, drop). The reason names no
// address, so that the audit counts such flows on one line.
func cannotTell(tool Tool, o Output) string {
	if tool == WgetBusyBox && (o.Exit == 124 || o.Exit == 143) && !strings.Contains(o.Text, "wget:") {
		return string(tool) + " was stopped after 4 s with nothing heard: a dropped connection and a server that holds it without answering look the same to it"
	}
	return ""
}
