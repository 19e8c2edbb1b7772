// Package probe runs a stage's reachability matrix from inside the endpoints:
// the flows are grouped by source, each source gets one agent `probe` exec for
// all its flows, and sources are probed in parallel. It knows nothing of
// Kubernetes: it talks to an Executor.
package probe

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tierproof/tierproof/framework/agent"
	"github.com/tierproof/tierproof/framework/model"
)

// Executor runs a command inside an endpoint (a pod's agent sidecar, a lab
// network namespace) with stdin, and returns what it wrote. err is set when
// the command could not run or exited non-zero.
type Executor interface {
	Exec(ctx context.Context, endpoint string, command []string, stdin []byte) (stdout, stderr []byte, err error)
}

// Flow is one cell of the matrix.
type Flow struct {
	From, To string
	ToIP     string
	Probe    model.Probe
}

func (f Flow) String() string { return f.From + " → " + f.To + " " + f.Probe.String() }

// Verdict is what a probe observed.
type Verdict string

// Observed verdicts; Error means the probe itself failed and says nothing of
// policy. Denied is a Drop or a Reject from a prober that cannot tell them
// apart (BusyBox's ping, in an audit with the pods' own tools).
const (
	Allow  Verdict = "Allow"
	Drop   Verdict = "Drop"
	Reject Verdict = "Reject"
	Denied Verdict = "Denied"
	Error  Verdict = "Error"
)

// Satisfies says whether observing v is doing what want says: the same
// verdict, or a Denied where want is either denial.
func (v Verdict) Satisfies(want Verdict) bool {
	if v == Denied {
		return want == Drop || want == Reject
	}
	return v == want
}

// FromModel converts an expected verdict for comparison.
func FromModel(v model.Verdict) Verdict { return Verdict(v.String()) }

func fromOutcome(o agent.Outcome) Verdict {
	switch o {
	case agent.Connected:
		return Allow
	case agent.Rejected:
		return Reject
	case agent.Dropped:
		return Drop
	}
	return Error
}

// Attempt is one probing of a flow. In JSON its durations are in
// milliseconds ("durationMillis": 1.25), which a person reads, not
// nanoseconds.
type Attempt struct {
	Verdict  Verdict       `json:"verdict"`
	Detail   string        `json:"detail,omitempty"`
	Duration time.Duration `json:"-"`
	// Late, for a Drop, is how late the prober ran (agent.Result.Late); the
	// wait was timed from the probe's first packet all the same.
	Late time.Duration `json:"-"`
}

// starved says whether a Drop's prober ran late by a tenth of the timeout or
// more: a sign of a machine short of CPU, worth counting.
func (a Attempt) starved(timeout time.Duration) bool {
	return a.Verdict == Drop && a.Late >= timeout/10
}

type attemptJSON struct {
	Verdict        Verdict `json:"verdict"`
	Detail         string  `json:"detail,omitempty"`
	DurationMillis float64 `json:"durationMillis"`
	LateMillis     float64 `json:"lateMillis,omitempty"`
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// MarshalJSON writes the durations in milliseconds, to the microsecond.
func (a Attempt) MarshalJSON() ([]byte, error) {
	return json.Marshal(attemptJSON{a.Verdict, a.Detail, millis(a.Duration), millis(a.Late)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (a *Attempt) UnmarshalJSON(data []byte) error {
	var j attemptJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	a.Verdict, a.Detail = j.Verdict, j.Detail
	a.Duration = time.Duration(j.DurationMillis * float64(time.Millisecond))
	a.Late = time.Duration(j.LateMillis * float64(time.Millisecond))
	return nil
}

// Observation is a flow and every attempt made at it. The last attempt is the
// observed verdict.
type Observation struct {
	Flow     Flow
	Attempts []Attempt
}

// Verdict is the last attempt's verdict.
func (o *Observation) Verdict() Verdict { return o.Attempts[len(o.Attempts)-1].Verdict }

// Config tunes an Engine. Zero values take the defaults.
type Config struct {
	// AgentCommand runs the agent's probe mode in an endpoint.
	AgentCommand []string
	// Probers choose, per source, how its flows are probed; nil, or a nil
	// Prober for a source, means the agent (AgentCommand).
	Probers func(source string) Prober
	// Timeout bounds each probe (default 1s).
	Timeout time.Duration
	// Parallel is how many execs run at once (default 32).
	Parallel int
	// Retries is how many times a cell that came back Error, or that disagrees
	// with the expectation, is probed again (default 0).
	Retries int
	// Backoff is the pause before the first retry round, doubled before each
	// later one (default 500ms): a cell that is wrong because a server is
	// still starting or a policy is still being programmed needs time, not an
	// immediate second look. Negative: no pause.
	Backoff time.Duration
	// BatchSize caps the flows per exec; 0 puts all of a source's flows in one.
	// 1 is the one-process-per-flow style of other harnesses.
	BatchSize int
	// InFlight caps the probes in flight across all execs (default 1024):
	// each exec's agent runs InFlight divided by the execs running at once.
	// More than the machine can serve makes probes time out for want of CPU,
	// not for a policy: at 150 pods on 2 cores (make bench-cluster), 32 execs
	// of 256 probes each made 33 395 of 270 000 flows match only on a retry,
	// whole sources' execs missing their deadline; 1 024 in flight, 462; 512,
	// 289. A probe that a policy drops waits out its timeout, so fewer in
	// flight also makes a stage of drops slower.
	InFlight int
}

// Stats describes one Run.
type Stats struct {
	Execs  int64
	Rounds int
	Wall   time.Duration
	// Retried counts the flows that needed more than one attempt, and why
	// their first attempt did not settle them.
	Retried Retried
}

// Retried sorts the flows probed more than once by their first attempt.
type Retried struct {
	// Late timed out while their prober ran late (by a tenth of the timeout
	// or more); Timeouts timed out with a punctual prober; Errors failed to
	// probe; Others came back Allow or Reject against the expectation.
	Late, Timeouts, Errors, Others int
}

// Total is how many flows were probed more than once.
func (r Retried) Total() int { return r.Late + r.Timeouts + r.Errors + r.Others }

func (e *Engine) retried(obs []Observation) Retried {
	var r Retried
	for _, o := range obs {
		if len(o.Attempts) < 2 {
			continue
		}
		switch first := o.Attempts[0]; {
		case first.Verdict == Error:
			r.Errors++
		case first.starved(e.cfg.Timeout):
			r.Late++
		case first.Verdict == Drop:
			r.Timeouts++
		default:
			r.Others++
		}
	}
	return r
}

// Engine probes flows through an Executor.
type Engine struct {
	exec  Executor
	cfg   Config
	execs atomic.Int64
}

// AgentPorts are the ports an agent must serve to answer probes, each once.
func AgentPorts(probes []model.Probe) agent.Ports {
	var p agent.Ports
	for _, probe := range probes {
		n := []int{int(probe.Port)}
		switch probe.Protocol {
		case model.TCP:
			p = p.Union(agent.Ports{TCP: n})
		case model.UDP:
			p = p.Union(agent.Ports{UDP: n})
		case model.SCTP:
			p = p.Union(agent.Ports{SCTP: n})
		}
	}
	return p
}

// NewEngine applies the defaults to cfg.
func NewEngine(exec Executor, cfg Config) *Engine {
	if cfg.Retries < 0 {
		cfg.Retries = 0 // every flow is probed at least once
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Second
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 32
	}
	if cfg.InFlight <= 0 {
		cfg.InFlight = 1024
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = 500 * time.Millisecond
	}
	if len(cfg.AgentCommand) == 0 {
		cfg.AgentCommand = []string{agent.Path, "probe"}
	}
	return &Engine{exec: exec, cfg: cfg}
}

// Expectation gives a flow's expected verdict; ok is false when there is none.
type Expectation func(Flow) (v Verdict, ok bool)

// Run probes every flow, then re-probes, up to Retries times, the cells that
// came back Error or disagree with expect (which may be nil). Observations are
// in the order of flows.
func (e *Engine) Run(ctx context.Context, flows []Flow, expect Expectation) ([]Observation, Stats) {
	start := time.Now()
	e.execs.Store(0)
	obs := make([]Observation, len(flows))
	for i, f := range flows {
		obs[i].Flow = f
	}
	todo := make([]int, len(flows))
	for i := range todo {
		todo[i] = i
	}
	rounds := 0
	pause := e.cfg.Backoff
	for ; len(todo) > 0 && rounds <= e.cfg.Retries; rounds++ {
		if rounds > 0 && pause > 0 {
			select {
			case <-time.After(pause):
			case <-ctx.Done():
				// An interrupted run says nothing more about the cells.
				return obs, Stats{Execs: e.execs.Load(), Rounds: rounds, Wall: time.Since(start), Retried: e.retried(obs)}
			}
			pause *= 2
		}
		e.round(ctx, obs, todo)
		var again []int
		for _, i := range todo {
			v := obs[i].Verdict()
			if v == Error {
				again = append(again, i)
			} else if expect != nil {
				if want, ok := expect(obs[i].Flow); ok && !v.Satisfies(want) {
					again = append(again, i)
				}
			}
		}
		todo = again
	}
	return obs, Stats{Execs: e.execs.Load(), Rounds: rounds, Wall: time.Since(start), Retried: e.retried(obs)}
}

// round probes the flows at idx once: one exec per source (or per BatchSize
// flows of a source), Parallel execs at a time.
func (e *Engine) round(ctx context.Context, obs []Observation, idx []int) {
	bySource := map[string][]int{}
	for _, i := range idx {
		bySource[obs[i].Flow.From] = append(bySource[obs[i].Flow.From], i)
	}
	sources := make([]string, 0, len(bySource))
	for s := range bySource {
		sources = append(sources, s)
	}
	sort.Strings(sources)
	var batches [][]int
	for _, s := range sources {
		flows := bySource[s]
		size := e.cfg.BatchSize
		if size <= 0 {
			size = len(flows)
		}
		for len(flows) > 0 {
			n := min(size, len(flows))
			batches = append(batches, flows[:n])
			flows = flows[n:]
		}
	}

	var wg sync.WaitGroup
	slots := make(chan struct{}, e.cfg.Parallel)
	perExec := max(1, e.cfg.InFlight/min(e.cfg.Parallel, max(1, len(batches))))
	for _, batch := range batches {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			attempts := e.probeBatch(ctx, obs, batch, perExec)
			for k, i := range batch {
				obs[i].Attempts = append(obs[i].Attempts, attempts[k])
			}
		}()
	}
	wg.Wait()
}

// A Prober is how one exec probes flows of one source: what it runs, and
// how its output is read.
type Prober interface {
	// Command is the exec's command and stdin for flows, parallel probes at a
	// time of timeout each; the command returns by deadline.
	Command(flows []Flow, timeout time.Duration, parallel int) (command []string, stdin []byte, deadline time.Duration, err error)
	// Read takes each flow's attempt out of the exec's output, by the flow's
	// index; a flow the output says nothing of is missing.
	Read(flows []Flow, stdout []byte) map[int]Attempt
}

// agentProber probes with tierproof's agent: a JSON batch in, a JSON result
// per line out.
type agentProber struct{ command []string }

func (a agentProber) Command(flows []Flow, timeout time.Duration, parallel int) ([]string, []byte, time.Duration, error) {
	b := agent.Batch{
		Timeout:  agent.Duration{Duration: timeout},
		Parallel: min(len(flows), parallel),
	}
	waves := (len(flows) + b.Parallel - 1) / b.Parallel
	b.Deadline = agent.Duration{Duration: time.Duration(waves)*timeout + time.Second}
	for k, f := range flows {
		b.Requests = append(b.Requests, agent.Request{ID: strconv.Itoa(k), IP: f.ToIP, Protocol: f.Probe.Protocol.String(),
			Port: int(f.Probe.Port), SourcePort: int(f.Probe.SourcePort)})
	}
	stdin, err := json.Marshal(b)
	return a.command, stdin, b.Deadline.Duration, err
}

func (agentProber) Read(_ []Flow, stdout []byte) map[int]Attempt {
	got := map[int]Attempt{}
	scanner := bufio.NewScanner(bytes.NewReader(stdout))
	for scanner.Scan() {
		var r agent.Result
		if json.Unmarshal(scanner.Bytes(), &r) != nil {
			continue
		}
		k, err := strconv.Atoi(r.ID)
		if _, seen := got[k]; err != nil || seen {
			continue
		}
		got[k] = Attempt{Verdict: fromOutcome(r.Outcome), Detail: r.Detail, Duration: time.Duration(r.Duration) * time.Millisecond,
			Late: time.Duration(r.Late) * time.Millisecond}
	}
	return got
}

// prober is the source's prober: the configured one, else the agent.
func (e *Engine) prober(source string) Prober {
	if e.cfg.Probers != nil {
		if p := e.cfg.Probers(source); p != nil {
			return p
		}
	}
	return agentProber{e.cfg.AgentCommand}
}

// probeBatch runs one exec for flows of one source, parallel probes at a time.
func (e *Engine) probeBatch(ctx context.Context, obs []Observation, batch []int, parallel int) []Attempt {
	source := obs[batch[0]].Flow.From
	flows := make([]Flow, len(batch))
	for k, i := range batch {
		flows[k] = obs[i].Flow
	}
	prober := e.prober(source)
	command, stdin, deadline, err := prober.Command(flows, e.cfg.Timeout, parallel)
	if err != nil {
		return allErrors(len(batch), "writing the probes' command: "+err.Error())
	}
	// The prober returns by its own deadline; the extra time covers the exec itself.
	execCtx, cancel := context.WithTimeout(ctx, deadline+10*time.Second)
	defer cancel()
	e.execs.Add(1)
	stdout, stderr, execErr := e.exec.Exec(execCtx, source, command, stdin)

	got := prober.Read(flows, stdout)
	attempts := make([]Attempt, len(batch))
	for k := range attempts {
		if a, ok := got[k]; ok {
			attempts[k] = a
			continue
		}
		// Never trust the exit status alone: a cell without its own result is an error.
		reason := "the prober gave no result for this probe"
		if execErr != nil {
			reason = fmt.Sprintf("exec in %s failed: %v", source, execErr)
		}
		if s := strings.TrimSpace(string(stderr)); s != "" {
			reason += "; stderr: " + lastLine(s)
		}
		attempts[k] = Attempt{Verdict: Error, Detail: reason}
	}
	return attempts
}

func allErrors(n int, detail string) []Attempt {
	out := make([]Attempt, n)
	for i := range out {
		out[i] = Attempt{Verdict: Error, Detail: detail}
	}
	return out
}

func lastLine(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
