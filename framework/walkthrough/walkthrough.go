// Package walkthrough plays a scenario's stages against a data plane: for each
// stage it computes the model's expected matrix, has the data plane apply the
// stage, probes every flow from inside the endpoints, and records what it saw.
// A stage with a mismatch stops the scenario: later stages build on it.
package walkthrough

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/tierproof/tierproof/framework/agent"
	"github.com/tierproof/tierproof/framework/matrix"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/netlab"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/probe"
	"github.com/tierproof/tierproof/framework/report"
	"github.com/tierproof/tierproof/framework/scenario"
	"github.com/tierproof/tierproof/framework/topology"
)

// DataPlane is what enforces a stage: Antrea on a cluster, or the lab.
type DataPlane interface {
	probe.Executor
	// Name says what answers the probes, in every report.
	Name() string
	// Semantics are how the data plane reads K8s NetworkPolicies, and
	// whether it enforces Antrea-native policies at all.
	Semantics() model.Semantics
	// Apply makes the stage's policies effective (and waits until they are).
	Apply(ctx context.Context, stage int, policies *policy.Set) error
	// IP is an endpoint's address on this data plane.
	IP(endpoint string) string
	// Probeable says whether the flow can be probed: its source runs the agent
	// and its destination serves the probed port. Other cells are reported as
	// not probed.
	Probeable(f probe.Flow) bool
}

// Snapshotter is a data plane whose estate is read after each stage is
// applied (a live cluster), so the model sees the labels and IPs of that moment.
type Snapshotter interface {
	Snapshot(ctx context.Context) (*topology.Topology, error)
}

// Relabeler is a data plane whose namespaces and pods a stage can relabel.
type Relabeler interface {
	Relabel(ctx context.Context, changes []topology.LabelChange) error
}

// Tracer is a data plane that can trace a flow's packet (Antrea's Traceflow).
type Tracer interface {
	Trace(ctx context.Context, f probe.Flow) (string, error)
}

// ErrNothingProbed is wrapped by a stage none of whose flows the data plane
// can probe: nothing was checked, so the stage cannot pass.
var ErrNothingProbed = errors.New("nothing was checked")

// maxTraces bounds the flows traced per failed stage (Antrea runs about 14
// Traceflows at once per cluster; tracing is for diagnosis, not coverage).
const maxTraces = 5

// Runner plays scenarios.
type Runner struct {
	Plane  DataPlane
	Engine probe.Config
	Logf   func(format string, args ...any)
}

// Run plays s on topo with the run's template values. The returned report.Run
// holds every stage played; err says which stage failed and why.
func (r Runner) Run(ctx context.Context, s *scenario.Scenario, topo *topology.Topology, values map[string]string) (report.Run, error) {
	run := report.Run{Scenario: s.Name, DataPlane: r.Plane.Name()}
	for i := range s.Stages {
		stage, err := r.PlayStage(ctx, s, i, topo, values)
		if stage.Matrix != nil {
			run.Stages = append(run.Stages, stage)
		}
		if err != nil {
			run.NotPlayed = NotPlayed(s, i, stage.Matrix == nil, err)
			return run, err
		}
	}
	return run, nil
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
		relabeler, ok := r.Plane.(Relabeler)
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
	if snap, ok := r.Plane.(Snapshotter); ok {
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
	expect := func(f probe.Flow) (probe.Verdict, bool) {
		fi, _ := m.Endpoint(f.From)
		ti, _ := m.Endpoint(f.To)
		return probe.FromModel(m.Evaluate(fi, ti, f.Probe).Verdict), true
	}
	var flows []probe.Flow
	for _, f := range x.Flows(r.Plane.IP) {
		if r.Plane.Probeable(f) {
			flows = append(flows, f)
		}
	}
	if len(flows) == 0 {
		// A stage that checked nothing must never pass.
		return report.Stage{}, fmt.Errorf("stage %s: %w: %s can probe none of its %d flows", st.Name, ErrNothingProbed, r.Plane.Name(), len(x.Flows(r.Plane.IP)))
	}
	obs, stats := probe.NewEngine(r.Plane, r.Engine).Run(ctx, flows, expect)
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
	stage := report.Stage{Name: st.Name, Matrix: x}
	mismatches := len(x.Mismatches())
	r.logf("stage %s: %d flows, %d execs, %d round(s), %v, %d mismatch(es)", st.Name, len(obs), stats.Execs, stats.Rounds, stats.Wall.Round(time.Millisecond), mismatches)
	if mismatches > 0 {
		stage.Traces = r.trace(ctx, st.Name, x)
	}
	if failed := r.failedAssertions(x, st); len(failed) > 0 {
		return stage, fmt.Errorf("stage %s: assertions not observed: %v", st.Name, failed)
	}
	if mismatches > 0 {
		return stage, fmt.Errorf("stage %s: %d flows differ from the model; later stages not played", st.Name, mismatches)
	}
	return stage, nil
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
// ones on a Kubernetes-NetworkPolicy-only plane. Nothing is applied then.
func (r Runner) Enforceable(set *policy.Set) error {
	if r.Plane.Semantics().AntreaNative {
		return nil
	}
	if native := set.AntreaNative(); len(native) > 0 {
		return fmt.Errorf("%s enforces Kubernetes NetworkPolicies only, and this stage holds %d Antrea-native object(s): %s", r.Plane.Name(), len(native), strings.Join(native, ", "))
	}
	return nil
}

// CheckScenario refuses, before anything is applied, a scenario with a stage
// the data plane cannot enforce.
func (r Runner) CheckScenario(s *scenario.Scenario, values map[string]string) error {
	for i, st := range s.Stages {
		set, err := s.Policies(i, values)
		if err != nil {
			return err
		}
		if err := r.Enforceable(set); err != nil {
			return fmt.Errorf("scenario %s, stage %s: %w", s.Name, st.Name, err)
		}
	}
	return nil
}

// trace runs the data plane's tracing, if it has any, for the first
// mismatched flows that start at a pod.
func (r Runner) trace(ctx context.Context, stage string, x *matrix.Matrix) map[string]string {
	tracer, ok := r.Plane.(Tracer)
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
		covered := false
		for _, c := range x.Cells() {
			if c.Probe != a.Probe || len(c.Attempts) == 0 || !scenario.MatchesEndpoint(a.From, c.From) || !scenario.MatchesEndpoint(a.To, c.To) {
				continue
			}
			covered = true
			want := a.Verdict
			if want == model.Drop && deniedByK8sIsolation(c.Expected) {
				// Assertions are written for Antrea; this data plane's
				// K8s NetworkPolicy denials may look otherwise.
				want = r.Plane.Semantics().K8sDenial
			}
			if c.Observed() != probe.FromModel(want) {
				failed = append(failed, fmt.Sprintf("%s → %s %s: want %s, observed %s", c.From, c.To, a.Probe, want, c.Observed()))
			}
		}
		if !covered {
			r.logf("stage %s: assertion %s → %s %s not probed on %s", st.Name, a.From, a.To, a.Probe, r.Plane.Name())
		}
	}
	return failed
}

// deniedByK8sIsolation says whether K8s NetworkPolicy isolation denies the
// flow on the side that decided it.
func deniedByK8sIsolation(r model.Result) bool {
	for _, d := range []model.Decision{r.Egress, r.Ingress} {
		if d.Verdict != model.Allow {
			return d.Stage == model.StageK8sIsolation
		}
	}
	return false
}

// LabPlane is the network-namespace lab standing in for Antrea: it enforces
// the model's own verdicts, so it checks the harness (agent, engine,
// comparison, reports), never Antrea. Faults, if set, alters a stage's plan.
type LabPlane struct {
	*netlab.Lab
	base     *topology.Topology // as built; Reset returns to it
	topology *topology.Topology // with the labels stages changed
	probes   []model.Probe
	sctp     bool // the kernel has SCTP
	Faults   func(stage int, plan *netlab.Plan)
}

// Name labels every report of a lab run honestly.
func (*LabPlane) Name() string {
	return "lab data plane (network namespaces enforcing the model's verdicts, not Antrea)"
}

// Semantics are Antrea's: the lab enforces the model's own verdicts.
func (*LabPlane) Semantics() model.Semantics { return model.Antrea }

// Probeable is true for every flow, SCTP ones when the kernel has SCTP: every
// lab endpoint runs the agent.
func (p *LabPlane) Probeable(f probe.Flow) bool {
	return p.sctp || f.Probe.Protocol != model.SCTP
}

// Relabel changes the lab's labels; the next Apply programs their verdicts.
func (p *LabPlane) Relabel(_ context.Context, changes []topology.LabelChange) error {
	s := &scenario.Scenario{Stages: []scenario.Stage{{Relabel: changes}}}
	t, err := s.TopologyAt(0, p.topology)
	if err != nil {
		return err
	}
	p.topology = t
	return nil
}

// Reset returns the lab to its first labels and lets every flow through, so
// that the next scenario starts afresh.
func (p *LabPlane) Reset(context.Context) error {
	p.topology = p.base.DeepCopy()
	return p.Program(netlab.Plan{})
}

// Apply programs the lab with the verdicts the model gives the stage's policies.
func (p *LabPlane) Apply(_ context.Context, stage int, policies *policy.Set) error {
	m, err := model.Compile(p.topology, policies)
	if err != nil {
		return err
	}
	// A lab shared by several scenarios serves all their probes; the probes a
	// stage's rules make ambiguous (unpinned ones under source-port rules)
	// are not the stage's own and get no verdicts.
	var probes []model.Probe
	for _, pr := range p.probes {
		if m.CheckProbe(pr) == nil {
			probes = append(probes, pr)
		}
	}
	expected, err := matrix.Expected(m, probes)
	if err != nil {
		return err
	}
	plan := netlab.Plan{Verdicts: map[netlab.Cell]model.Verdict{}}
	for _, c := range expected.Cells() {
		// A pinned probe's Allow is listed: the lab must let it through even
		// where the same port's unpinned probe is denied.
		if c.Expected.Verdict != model.Allow || c.Probe.SourcePort != 0 {
			plan.Verdicts[netlab.Cell{From: c.From, To: c.To, Probe: c.Probe}] = c.Expected.Verdict
		}
	}
	if p.Faults != nil {
		p.Faults(stage, &plan)
	}
	return p.Program(plan)
}

// NewLabPlane builds a lab mirroring topo — one namespace per pod and external
// host, at its own address, each agent serving the ports probes need — as a
// data plane. Close it when done.
func NewLabPlane(ctx context.Context, topo *topology.Topology, probes []model.Probe, agentBinary string) (*LabPlane, error) {
	var names []string
	ips := map[string]netip.Addr{}
	add := func(name, ip string) error {
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			return fmt.Errorf("endpoint %s: %w", name, err)
		}
		names = append(names, name)
		ips[name] = addr
		return nil
	}
	for _, p := range topo.Pods {
		if err := add(p.EndpointName(), p.IP); err != nil {
			return nil, err
		}
	}
	for _, e := range topo.Externals {
		if err := add(e.Name, e.IP); err != nil {
			return nil, err
		}
	}
	var ports agent.Ports
	for _, p := range probes {
		switch p.Protocol {
		case model.TCP:
			ports.TCP = append(ports.TCP, int(p.Port))
		case model.UDP:
			ports.UDP = append(ports.UDP, int(p.Port))
		case model.SCTP:
			ports.SCTP = append(ports.SCTP, int(p.Port))
		}
	}
	lab, err := netlab.New(ctx, netlab.Config{Endpoints: names, Ports: ports, AgentBinary: agentBinary, IPs: ips})
	if err != nil {
		return nil, err
	}
	return &LabPlane{Lab: lab, base: topo, topology: topo.DeepCopy(), probes: probes, sctp: netlab.HasSCTP()}, nil
}
