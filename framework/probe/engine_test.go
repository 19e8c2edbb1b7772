package probe_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tierproof/tierproof/framework/agent"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/probe"
)

// scripted answers each probe from a script of outcomes per target IP and
// attempt: the engine's grouping, retries and error handling are under test,
// not the network.
type scripted struct {
	mu       sync.Mutex
	execs    map[string]int             // per source endpoint
	attempts map[string]int             // per source+ip+port
	script   map[string][]agent.Outcome // by ip:port, one outcome per attempt (the last repeats)
	fail     map[string]error           // exec failure per source
	silent   map[string]bool            // ip:port the agent never answers
	late     map[string]int64           // ip:port whose first attempt timed out this late (ms)
	commands [][]string                 // every command executed
	at       []time.Time                // when each exec started
}

func (s *scripted) Exec(_ context.Context, endpoint string, command []string, stdin []byte) ([]byte, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.execs[endpoint]++
	s.commands = append(s.commands, command)
	s.at = append(s.at, time.Now())
	if err := s.fail[endpoint]; err != nil {
		return nil, []byte("agent: something broke\nfatal: no sidecar"), err
	}
	var b agent.Batch
	if err := json.Unmarshal(stdin, &b); err != nil {
		return nil, nil, err
	}
	var out strings.Builder
	for _, r := range b.Requests {
		key := r.IP + ":" + r.Protocol
		if s.silent[key] {
			continue
		}
		n := s.attempts[endpoint+key]
		s.attempts[endpoint+key]++
		outcomes := s.script[key]
		o := agent.Connected
		if len(outcomes) > 0 {
			o = outcomes[min(n, len(outcomes)-1)]
		}
		res := agent.Result{ID: r.ID, Outcome: o}
		if n == 0 {
			res.Late = s.late[key]
		}
		line, _ := json.Marshal(res)
		out.Write(line)
		out.WriteByte('\n')
	}
	return []byte(out.String()), nil, nil
}

func newScripted() *scripted {
	return &scripted{execs: map[string]int{}, attempts: map[string]int{}, script: map[string][]agent.Outcome{},
		fail: map[string]error{}, silent: map[string]bool{}, late: map[string]int64{}}
}

func flows(sources []string, targets map[string]string, probes ...model.Probe) []probe.Flow {
	var out []probe.Flow
	for _, from := range sources {
		for to, ip := range targets {
			for _, p := range probes {
				out = append(out, probe.Flow{From: from, To: to, ToIP: ip, Probe: p})
			}
		}
	}
	return out
}

var (
	tcp80 = model.Probe{Protocol: model.TCP, Port: 80}
	udp53 = model.Probe{Protocol: model.UDP, Port: 53}
	icmp  = model.Probe{Protocol: model.ICMP}
)

func TestOneExecPerSourceAndOutcomeMapping(t *testing.T) {
	s := newScripted()
	s.script["10.0.0.2:TCP"] = []agent.Outcome{agent.Rejected}
	s.script["10.0.0.2:UDP"] = []agent.Outcome{agent.Dropped}
	s.script["10.0.0.3:ICMP"] = []agent.Outcome{agent.Error}
	fl := flows([]string{"a", "b", "c"}, map[string]string{"x": "10.0.0.2", "y": "10.0.0.3"}, tcp80, udp53, icmp)
	obs, stats := probe.NewEngine(s, probe.Config{}).Run(context.Background(), fl, nil)
	if stats.Execs != 3 || len(s.execs) != 3 {
		t.Fatalf("%d execs over %v, want one per source (3)", stats.Execs, s.execs)
	}
	for _, o := range obs {
		want := probe.Allow
		switch {
		case o.Flow.ToIP == "10.0.0.2" && o.Flow.Probe == tcp80:
			want = probe.Reject
		case o.Flow.ToIP == "10.0.0.2" && o.Flow.Probe == udp53:
			want = probe.Drop
		case o.Flow.ToIP == "10.0.0.3" && o.Flow.Probe == icmp:
			want = probe.Error
		}
		if o.Verdict() != want || len(o.Attempts) != 1 {
			t.Errorf("%v: %s after %d attempts, want %s after 1", o.Flow, o.Verdict(), len(o.Attempts), want)
		}
	}
}

func TestRetriesOnlyErrorsAndMismatchesAndCountsAttempts(t *testing.T) {
	s := newScripted()
	// Flaky: dropped once, then connected. Broken: always dropped. Error once, then fine.
	s.script["10.0.0.2:TCP"] = []agent.Outcome{agent.Dropped, agent.Connected}
	s.script["10.0.0.3:TCP"] = []agent.Outcome{agent.Dropped}
	s.script["10.0.0.4:TCP"] = []agent.Outcome{agent.Error, agent.Rejected}
	fl := flows([]string{"a"}, map[string]string{"flaky": "10.0.0.2", "broken": "10.0.0.3", "err": "10.0.0.4", "fine": "10.0.0.5"}, tcp80)
	expect := func(f probe.Flow) (probe.Verdict, bool) {
		if f.To == "err" {
			return probe.Reject, true
		}
		return probe.Allow, true
	}
	obs, stats := probe.NewEngine(s, probe.Config{Retries: 2}).Run(context.Background(), fl, expect)
	got := map[string]probe.Observation{}
	for _, o := range obs {
		got[o.Flow.To] = o
	}
	check := func(to string, verdict probe.Verdict, attempts int) {
		t.Helper()
		o := got[to]
		if o.Verdict() != verdict || len(o.Attempts) != attempts {
			t.Errorf("%s: %s after %d attempts, want %s after %d", to, o.Verdict(), len(o.Attempts), verdict, attempts)
		}
	}
	check("fine", probe.Allow, 1)
	check("flaky", probe.Allow, 2) // matched only on retry: the attempts show it
	check("broken", probe.Drop, 3) // Retries bounds the re-probing
	check("err", probe.Reject, 2)
	if stats.Rounds != 3 || stats.Execs != 3 {
		t.Errorf("stats %+v, want 3 rounds of one exec", stats)
	}
	if want := (probe.Retried{Timeouts: 2, Errors: 1}); stats.Retried != want {
		t.Errorf("retried %+v, want %+v", stats.Retried, want)
	}
}

func TestRetriedFlowsSayWhetherTheirProberRanLate(t *testing.T) {
	s := newScripted()
	// Three first attempts time out: at "starved" the agent ran 300 ms late
	// (a tenth of the 1 s timeout or more), at "punctual" 20 ms; both then
	// connect. At "dropped" the model expects the silence, late or not.
	s.script["10.0.0.2:TCP"] = []agent.Outcome{agent.Dropped, agent.Connected}
	s.script["10.0.0.3:TCP"] = []agent.Outcome{agent.Dropped, agent.Connected}
	s.script["10.0.0.4:TCP"] = []agent.Outcome{agent.Dropped}
	s.late["10.0.0.2:TCP"] = 300
	s.late["10.0.0.3:TCP"] = 20
	s.late["10.0.0.4:TCP"] = 500
	fl := flows([]string{"a"}, map[string]string{"starved": "10.0.0.2", "punctual": "10.0.0.3", "dropped": "10.0.0.4"}, tcp80)
	expect := func(f probe.Flow) (probe.Verdict, bool) {
		if f.To == "dropped" {
			return probe.Drop, true
		}
		return probe.Allow, true
	}
	obs, stats := probe.NewEngine(s, probe.Config{Retries: 2, Backoff: -1}).Run(context.Background(), fl, expect)
	got := map[string]probe.Observation{}
	for _, o := range obs {
		got[o.Flow.To] = o
	}
	for to, want := range map[string]int{"starved": 2, "punctual": 2, "dropped": 1} {
		if n := len(got[to].Attempts); n != want {
			t.Errorf("%s: %d attempts, want %d", to, n, want)
		}
	}
	if want := (probe.Retried{Late: 1, Timeouts: 1}); stats.Retried != want {
		t.Errorf("retried %+v, want %+v", stats.Retried, want)
	}
	first := got["starved"].Attempts[0]
	if first.Late != 300*time.Millisecond {
		t.Errorf("first attempt at starved: late %v, want 300ms", first.Late)
	}
	// The JSON of the reports keeps the lateness, in milliseconds.
	data, _ := json.Marshal(first)
	var back probe.Attempt
	if err := json.Unmarshal(data, &back); err != nil || back.Late != first.Late || !strings.Contains(string(data), `"lateMillis":300`) {
		t.Errorf("attempt JSON %s read back as %+v (%v)", data, back, err)
	}
}

func TestMissingResultsAndFailedExecsAreErrorsWithTheReason(t *testing.T) {
	s := newScripted()
	s.silent["10.0.0.3:TCP"] = true
	s.fail["b"] = errors.New("exit status 137")
	fl := flows([]string{"a", "b"}, map[string]string{"x": "10.0.0.2", "y": "10.0.0.3"}, tcp80)
	obs, _ := probe.NewEngine(s, probe.Config{}).Run(context.Background(), fl, nil)
	for _, o := range obs {
		detail := o.Attempts[0].Detail
		switch {
		case o.Flow.From == "b":
			if o.Verdict() != probe.Error || !strings.Contains(detail, "exit status 137") || !strings.Contains(detail, "fatal: no sidecar") {
				t.Errorf("%v: %s %q, want Error naming the exec failure and the agent's last stderr line", o.Flow, o.Verdict(), detail)
			}
		case o.Flow.ToIP == "10.0.0.3":
			if o.Verdict() != probe.Error || !strings.Contains(detail, "no result") {
				t.Errorf("%v: %s %q, want Error: the agent gave no result", o.Flow, o.Verdict(), detail)
			}
		default:
			if o.Verdict() != probe.Allow {
				t.Errorf("%v: %s", o.Flow, o.Verdict())
			}
		}
	}
}

func TestBatchSizeSplitsASourcesFlows(t *testing.T) {
	s := newScripted()
	fl := flows([]string{"a"}, map[string]string{"x": "10.0.0.2", "y": "10.0.0.3", "z": "10.0.0.4"}, tcp80, udp53)
	_, stats := probe.NewEngine(s, probe.Config{BatchSize: 1}).Run(context.Background(), fl, nil)
	if stats.Execs != 6 {
		t.Fatalf("%d execs, want 6 with one flow per exec", stats.Execs)
	}
}

func TestEveryExecRunsTheAgentAtItsInstalledPath(t *testing.T) {
	s := newScripted()
	probe.NewEngine(s, probe.Config{}).Run(context.Background(), flows([]string{"a", "b"}, map[string]string{"x": "10.0.0.2"}, tcp80), nil)
	for _, c := range s.commands {
		if len(c) != 2 || c[0] != agent.Path || c[1] != "probe" {
			t.Errorf("the engine ran %q, want [%s probe]", c, agent.Path)
		}
	}
}

func TestRetryRoundsBackOffAndAnInterruptEndsThem(t *testing.T) {
	s := newScripted()
	s.script["10.0.0.3:TCP"] = []agent.Outcome{agent.Dropped} // never what is expected
	fl := flows([]string{"a"}, map[string]string{"broken": "10.0.0.3"}, tcp80)
	allow := func(probe.Flow) (probe.Verdict, bool) { return probe.Allow, true }
	_, stats := probe.NewEngine(s, probe.Config{Retries: 2, Backoff: 100 * time.Millisecond}).Run(context.Background(), fl, allow)
	if stats.Rounds != 3 || len(s.at) != 3 {
		t.Fatalf("%d rounds, %d execs: want 3 and 3", stats.Rounds, len(s.at))
	}
	// 100ms before the first retry, then 200ms.
	if gap := s.at[1].Sub(s.at[0]); gap < 100*time.Millisecond {
		t.Errorf("first retry %v after the first round, want at least 100ms", gap)
	}
	if gap := s.at[2].Sub(s.at[1]); gap < 200*time.Millisecond {
		t.Errorf("second retry %v after the first, want at least 200ms (doubled)", gap)
	}

	s = newScripted()
	s.script["10.0.0.3:TCP"] = []agent.Outcome{agent.Dropped}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	obs, stats := probe.NewEngine(s, probe.Config{Retries: 5, Backoff: time.Hour}).Run(ctx, fl, allow)
	if took := time.Since(start); took > 5*time.Second || stats.Rounds != 1 || len(obs[0].Attempts) != 1 {
		t.Errorf("interrupted during the backoff: %v, %d rounds, %d attempts; want it back at once after one round", took, stats.Rounds, len(obs[0].Attempts))
	}
}

// A negative Retries still probes every flow once: an engine never returns
// flows without a verdict.
func TestNegativeRetriesStillProbeOnce(t *testing.T) {
	obs, stats := probe.NewEngine(newScripted(), probe.Config{Retries: -1}).Run(context.Background(),
		flows([]string{"a"}, map[string]string{"b": "10.0.0.2"}, tcp80), nil)
	if len(obs) != 1 || len(obs[0].Attempts) != 1 || stats.Rounds != 1 {
		t.Errorf("observations %+v, stats %+v: want one attempt in one round", obs, stats)
	}
}

func TestAttemptDurationsReadInMilliseconds(t *testing.T) {
	data, err := json.Marshal(probe.Attempt{Verdict: probe.Reject, Duration: 1250 * time.Microsecond})
	if err != nil || string(data) != `{"verdict":"Reject","durationMillis":1.25}` {
		t.Fatalf("%s %v", data, err)
	}
	var back probe.Attempt
	if err := json.Unmarshal(data, &back); err != nil || back.Duration != 1250*time.Microsecond || back.Verdict != probe.Reject {
		t.Errorf("round trip: %+v %v", back, err)
	}
}
