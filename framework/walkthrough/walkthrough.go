// Package walkthrough plays a scenario's stages against a data plane: for each
// stage it computes the model's expected matrix, has the data plane apply the
// stage, probes every flow from inside the endpoints, and records what it saw.
// A stage with a mismatch stops the scenario: later stages build on it.
package walkthrough

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/tierproof/tierproof/framework/dataplane"
	"github.com/tierproof/tierproof/framework/hostload"
	"github.com/tierproof/tierproof/framework/matrix"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/probe"
	"github.com/tierproof/tierproof/framework/report"
	"github.com/tierproof/tierproof/framework/scenario"
	"github.com/tierproof/tierproof/framework/topology"
)

// ErrNothingProbed is wrapped by a stage none of whose flows the data plane
// can probe: nothing was checked, so the stage cannot pass.
var ErrNothingProbed = errors.New("nothing was checked")

// maxTraces bounds the flows traced per failed stage (Antrea runs about 14
// Traceflows at once per cluster; tracing is for diagnosis, not coverage).
const maxTraces = 5

// Runner plays scenarios.
type Runner struct {
	Plane  dataplane.DataPlane
	Engine probe.Config
	Logf   func(format string, args ...any)
	// PerFlowSample, when positive, probes again the flows of that many
	// sources one exec per flow — the way other harnesses probe — after a
	// stage that matched, and logs what that costs beside the stage's own
	// execs, extrapolated to the whole stage.
	PerFlowSample int
	// IdleSample, when positive, reads the machine's CPU for that long before
	// the first stage probes, on a plane that can (dataplane.LoadMeter): the
	// baseline the probing's own figures stand on.
	IdleSample time.Duration
}

// Run plays s on topo with the run's template values, stage after stage
// until one fails. The returned report.Run holds every stage played; err
// says which stage failed and why.
func (r Runner) Run(ctx context.Context, s *scenario.Scenario, topo *topology.Topology, values map[string]string) (report.Run, error) {
	p := r.Start(s, topo, values)
	for i := range s.Stages {
		if _, err := p.Stage(ctx, i); err != nil {
			return p.Report(""), err
		}
	}
	return p.Report(""), nil
}

// Play is one scenario being played, a stage at a time (a suite plays each
// stage in a spec of its own): it keeps the stages played and builds the
// scenario's report.
type Play struct {
	runner Runner
	s      *scenario.Scenario
	topo   *topology.Topology
	values map[string]string
	run    report.Run
	// attempted are the stages played; failed the one that failed (with
	// failedErr; failedUnprobed when it failed before probing).
	attempted      []int
	failed         int
	failedErr      error
	failedUnprobed bool
}

// Start begins playing s on topo with the run's template values.
func (r Runner) Start(s *scenario.Scenario, topo *topology.Topology, values map[string]string) *Play {
	return &Play{runner: r, s: s, topo: topo, values: values, run: report.Run{Scenario: s.Name, DataPlane: r.Plane.Name()}}
}

// Stage plays stage i and records it; see PlayStage.
func (p *Play) Stage(ctx context.Context, i int) (report.Stage, error) {
	p.attempted = append(p.attempted, i)
	stage, err := p.runner.PlayStage(ctx, p.s, i, p.topo, p.values)
	if stage.Matrix != nil {
		p.run.Stages = append(p.run.Stages, stage)
	}
	if err != nil {
		p.failed, p.failedErr, p.failedUnprobed = i, err, stage.Matrix == nil
	}
	return stage, err
}

// Report is the scenario's report: every stage played, and why the others
// were not — from a failed stage on, NotPlayed's reasons; otherwise
// unplayedWhy for each stage not played.
func (p *Play) Report(unplayedWhy string) report.Run {
	run := p.run
	if p.failedErr != nil {
		run.NotPlayed = NotPlayed(p.s, p.failed, p.failedUnprobed, p.failedErr)
		return run
	}
	run.NotPlayed = notAttempted(p.s, p.attempted, unplayedWhy)
	return run
}

// NotStarted is the report of a scenario none of whose stages was played, and why.
func NotStarted(s *scenario.Scenario, why string) report.Run {
	return report.Run{Scenario: s.Name, NotPlayed: notAttempted(s, nil, why)}
}

func notAttempted(s *scenario.Scenario, attempted []int, why string) []report.NotPlayed {
	var out []report.NotPlayed
	for i, st := range s.Stages {
		if !slices.Contains(attempted, i) {
			out = append(out, report.NotPlayed{Stage: st.Name, Why: why})
		}
	}
	return out
}

// PlayStage plays stage i of s: the data plane relabels what the stage
// relabels, applies the stages up to i (and waits until they are realized),
// the topology is re-read if the plane can, the model computes the expected matrix, and every probeable flow is
// probed and compared. The stage is returned whenever it was probed, even when
// err says that it failed.
func (r Runner) PlayStage(ctx context.Context, s *scenario.Scenario, i int, topo *topology.Topology, values map[string]string) (report.Stage, error) {
	st := s.Stages[i]
	set, err := s.Policies(i, values)
	if err != nil {
		return report.Stage{}, err
	}
	if topo, err = s.TopologyAt(i, topo); err != nil {
		return report.Stage{}, err
	}
	if err := r.Enforceable(set); err != nil {
		return report.Stage{}, fmt.Errorf("stage %s: %w", st.Name, err)
	}
	if len(st.Relabel) > 0 {
		relabeler, ok := r.Plane.(dataplane.Relabeler)
		if !ok {
			return report.Stage{}, fmt.Errorf("stage %s relabels endpoints, which %s cannot do", st.Name, r.Plane.Name())
		}
		if err := relabeler.Relabel(ctx, st.Relabel); err != nil {
			return report.Stage{}, stageError(ctx, st.Name, err)
		}
	}
	r.logf("stage %s: applying %d objects on %s", st.Name, len(set.Objects()), r.Plane.Name())
	if err := r.Plane.Apply(ctx, i, set); err != nil {
		return report.Stage{}, stageError(ctx, st.Name, err)
	}
	if snap, ok := r.Plane.(dataplane.Snapshotter); ok {
		if topo, err = snap.Snapshot(ctx); err != nil {
			return report.Stage{}, stageError(ctx, st.Name, fmt.Errorf("reading the estate: %w", err))
		}
	}
	m, err := model.CompileFor(topo, set, r.Plane.Semantics())
	if err != nil {
		return report.Stage{}, fmt.Errorf("stage %s: %w", st.Name, err)
	}
	x, err := matrix.Expected(m, s.Probes)
	if err != nil {
		return report.Stage{}, fmt.Errorf("stage %s: %w", st.Name, err)
	}
	var flows []probe.Flow
	notProbed := map[string]int{}
	for _, f := range x.Flows(r.Plane.IP) {
		if err := r.Plane.Probeable(f); err != nil {
			notProbed[err.Error()]++
			continue
		}
		flows = append(flows, f)
	}
	for _, why := range slices.Sorted(maps.Keys(notProbed)) {
		r.logf("stage %s: %d flow(s) not probed: %s", st.Name, notProbed[why], why)
	}
	if len(flows) == 0 {
		// A stage that checked nothing must never pass.
		return report.Stage{}, fmt.Errorf("stage %s: %w: %s can probe none of its %d flows", st.Name, ErrNothingProbed, r.Plane.Name(), len(x.Flows(r.Plane.IP)))
	}
	if i == 0 && r.IdleSample > 0 {
		r.meterLoad(ctx, st.Name, "idle for "+r.IdleSample.String()+" before probing", r.IdleSample)()
	}
	stopMeter := r.meterLoad(ctx, st.Name, "while probing", 0)
	obs, stats := probe.NewEngine(r.Plane, r.engineConfig()).Run(ctx, flows, x.Expectation())
	stopMeter()
	if ctx.Err() != nil {
		// What a cancelled probe saw says nothing about policy: no verdict.
		return report.Stage{}, interrupted(ctx, st.Name)
	}
	unprobed := 0
	for _, o := range obs {
		if len(o.Attempts) == 0 {
			unprobed++
		}
	}
	if unprobed > 0 {
		// Never a verdict from cells nothing looked at.
		// A failure, not ErrNothingProbed: that one means the plane can probe
		// none of the stage (which the conformance suite skips); this is a
		// plane that should have probed and did not.
		return report.Stage{}, fmt.Errorf("stage %s: %d of its %d probeable flows were not probed: no verdict", st.Name, unprobed, len(obs))
	}
	if err := x.Observe(obs); err != nil {
		return report.Stage{}, err
	}
	stage := report.Stage{Name: st.Name, Matrix: x, Probing: stats.Wall}
	mismatches := len(x.Mismatches())
	r.logf("stage %s: %d flows, %d execs, %d round(s), %v, %d mismatch(es)", st.Name, len(obs), stats.Execs, stats.Rounds, stats.Wall.Round(time.Millisecond), mismatches)
	rt := stats.Retried
	r.logf("stage %s: %d flows probed again; their first attempt: %d timed out while their agent ran late (short of CPU), %d timed out with a punctual agent, %d failed to probe, %d disagreed with the model",
		st.Name, rt.Total(), rt.Late, rt.Timeouts, rt.Errors, rt.Others)
	if mismatches > 0 {
		stage.Traces = r.trace(ctx, st.Name, x)
	}
	if r.PerFlowSample > 0 && mismatches == 0 {
		r.comparePerFlow(ctx, st.Name, flows, x.Expectation(), stats)
	}
	if failed := r.failedAssertions(x, st); len(failed) > 0 {
		return stage, fmt.Errorf("stage %s: assertions not observed: %v", st.Name, failed)
	}
	if mismatches > 0 {
		return stage, fmt.Errorf("stage %s: %d flows differ from the model; later stages not played", st.Name, mismatches)
	}
	return stage, nil
}

// meterLoad starts reading the machine's CPU use, part by part, if the plane
// can, and waits hold; the returned func logs what was spent since, with when
// saying when.
func (r Runner) meterLoad(ctx context.Context, stage, when string, hold time.Duration) (stop func()) {
	lm, ok := r.Plane.(dataplane.LoadMeter)
	if !ok {
		return func() {}
	}
	meter, err := lm.MeterLoad(ctx)
	var start hostload.Reading
	if err == nil {
		start, err = meter.Read()
	}
	if err != nil {
		r.logf("stage %s: CPU %s not read: %v", stage, when, err)
		return func() {}
	}
	select {
	case <-time.After(hold):
	case <-ctx.Done():
	}
	return func() {
		end, err := meter.Read()
		if err != nil {
			r.logf("stage %s: CPU %s not read: %v", stage, when, err)
			return
		}
		r.logf("stage %s: CPU %s: %s", stage, when, end.Since(start))
	}
}

// comparePerFlow probes the flows of the first PerFlowSample sources one
// exec per flow, without retries, and logs the execs and wall time beside
// the stage's, and what probing the whole stage that way would take.
func (r Runner) comparePerFlow(ctx context.Context, stage string, flows []probe.Flow, expect probe.Expectation, batched probe.Stats) {
	var sources []string
	var sample []probe.Flow
	for _, f := range flows {
		if !slices.Contains(sources, f.From) {
			if len(sources) == r.PerFlowSample {
				continue
			}
			sources = append(sources, f.From)
		}
		sample = append(sample, f)
	}
	cfg := r.engineConfig()
	cfg.BatchSize, cfg.Retries = 1, 0
	obs, stats := probe.NewEngine(r.Plane, cfg).Run(ctx, sample, expect)
	agree := 0
	for _, o := range obs {
		if want, ok := expect(o.Flow); ok && len(o.Attempts) > 0 && o.Attempts[0].Verdict == want {
			agree++
		}
	}
	whole := time.Duration(float64(stats.Wall) * float64(len(flows)) / float64(len(sample)))
	r.logf("stage %s: one exec per flow, %d sources: %d flows, %d execs, %v, %d as the model says; the whole stage so: %d execs, about %v (batched: %d execs, %v)",
		stage, len(sources), len(sample), stats.Execs, stats.Wall.Round(time.Millisecond), agree, len(flows), whole.Round(time.Second), batched.Execs, batched.Wall.Round(time.Millisecond))
}

// NotPlayed lists the stages a run that stopped at stage failed gives no
// verdict for: failed itself, when it stopped before probing (unprobed), and
// every later one.
func NotPlayed(s *scenario.Scenario, failed int, unprobed bool, err error) []report.NotPlayed {
	var out []report.NotPlayed
	if unprobed {
		out = append(out, report.NotPlayed{Stage: s.Stages[failed].Name, Why: "failed before probing: " + err.Error()})
	}
	for _, st := range s.Stages[failed+1:] {
		out = append(out, report.NotPlayed{Stage: st.Name, Why: "an earlier stage (" + s.Stages[failed].Name + ") failed"})
	}
	return out
}

// stageError says which stage failed, or that the run was interrupted there
// (the data plane's own error then is only a symptom of the cancellation).
func stageError(ctx context.Context, stage string, err error) error {
	if ctx.Err() != nil {
		return interrupted(ctx, stage)
	}
	return fmt.Errorf("stage %s: %w", stage, err)
}

func interrupted(ctx context.Context, stage string) error {
	return fmt.Errorf("interrupted at stage %s (%v): no verdict", stage, context.Cause(ctx))
}

// Enforceable refuses policies the data plane cannot enforce: Antrea-native
// ones on a Kubernetes-NetworkPolicy-only plane, network-policy-api ones on a
// plane that ignores them. Nothing is applied then.
func (r Runner) Enforceable(set *policy.Set) error {
	semantics := r.Plane.Semantics()
	var problems []string
	if native := set.AntreaNative(); !semantics.AntreaNative && len(native) > 0 {
		problems = append(problems, fmt.Sprintf("%d Antrea-native object(s): %s", len(native), strings.Join(native, ", ")))
	}
	if upstream := set.Upstream(); semantics.CNP == model.CNPNotEnforced && len(upstream) > 0 {
		problems = append(problems, fmt.Sprintf("%d network-policy-api object(s): %s", len(upstream), strings.Join(upstream, ", ")))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s enforces Kubernetes NetworkPolicies only, and this stage holds %s", r.Plane.Name(), strings.Join(problems, ", and "))
	}
	return nil
}

// CheckScenario refuses, before anything is applied, a scenario with a stage
// the data plane cannot enforce.
func (r Runner) CheckScenario(s *scenario.Scenario, values map[string]string) error {
	sets, err := s.StagePolicies(values)
	if err != nil {
		return err
	}
	for i, set := range sets {
		if err := r.Enforceable(set); err != nil {
			return fmt.Errorf("scenario %s, stage %s: %w", s.Name, s.Stages[i].Name, err)
		}
	}
	return nil
}

// trace runs the data plane's tracing, if it has any, for the first
// mismatched flows that start at a pod.
func (r Runner) trace(ctx context.Context, stage string, x *matrix.Matrix) map[string]string {
	tracer, ok := r.Plane.(dataplane.Tracer)
	if !ok {
		return nil
	}
	traces := map[string]string{}
	for _, c := range x.Mismatches() {
		if len(traces) == maxTraces {
			break
		}
		if !strings.Contains(c.From, "/") {
			continue // Antrea injects traced packets at pods only
		}
		f := probe.Flow{From: c.From, To: c.To, ToIP: r.Plane.IP(c.To), Probe: c.Probe}
		summary, err := tracer.Trace(ctx, f)
		if err != nil {
			summary = "traceflow: " + err.Error()
		}
		traces[report.CaseName(stage, c)] = summary
		r.logf("%s", summary)
	}
	return traces
}

func (r Runner) logf(format string, args ...any) {
	if r.Logf != nil {
		r.Logf(format, args...)
	}
}

// failedAssertions lists the stage's explicit assertions the data plane did
// not show. An assertion no probed cell covers is only logged: its flows are
// not probeable on this data plane (SCTP on a kernel without it, say); the
// offline check (scenario.Stage.Check) still holds it against the model.
func (r Runner) failedAssertions(x *matrix.Matrix, st scenario.Stage) []string {
	var failed []string
	for _, a := range st.Assertions {
		unmet, covered := x.Unmet(a, r.Plane.Semantics().K8sDenial)
		failed = append(failed, unmet...)
		if !covered {
			r.logf("stage %s: assertion %s → %s %s not probed on %s", st.Name, a.From, a.To, a.Probe, r.Plane.Name())
		}
	}
	return failed
}

// engineConfig is the probe engine's configuration, with the plane's probers
// where its sources do not all probe with the agent.
func (r Runner) engineConfig() probe.Config {
	cfg := r.Engine
	if c, ok := r.Plane.(dataplane.ProberChooser); ok {
		cfg.Probers = c.Prober
	}
	return cfg
}
