package suite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/tierproof/tierproof/framework/cluster"
	"github.com/tierproof/tierproof/framework/dataplane"
	"github.com/tierproof/tierproof/framework/kind"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/netlab"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/probe"
	"github.com/tierproof/tierproof/framework/report"
	"github.com/tierproof/tierproof/framework/scenario"
	"github.com/tierproof/tierproof/framework/topology"
	"github.com/tierproof/tierproof/framework/walkthrough"
)

// Env is what a suite sets up once (its BeforeSuite): the reports directory,
// the agent, and on a cluster plane the booted cluster and estate.
type Env struct {
	Options     *Options
	ReportsDir  string
	AgentBinary string
	Logf        func(format string, args ...any)
	// Cluster is the booted cluster plane; nil on the lab, which each
	// scenario builds for its own topology.
	Cluster *dataplane.Opened
}

// ErrLabUnavailable is wrapped by SetUp where the lab cannot run (not
// root): the suite skips, which is not a run that checked nothing.
var ErrLabUnavailable = errors.New("the lab cannot run here; run the lab suite as root (CI does)")

// SetUp prepares the suite's run: the reports directory (an earlier run's
// cleared), the agent binary (built in tempDir), and on a cluster plane the
// cluster booted with the scenarios' estate, its plane applying as run. A
// cluster that failed to boot is returned with the error, for TearDown.
func SetUp(ctx context.Context, o *Options, scenarios []*scenario.Scenario, run, tempDir string, logf func(string, ...any)) (*Env, error) {
	// The host first: a run it refuses leaves nothing, not even its
	// reports directory (Boot checks the rest before it makes anything).
	if o.plane == dataplane.Lab {
		if err := netlab.Available(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrLabUnavailable, err)
		}
	} else if err := kind.CheckDocker(ctx); err != nil {
		return nil, err
	}
	reports, err := o.ReportsDir(func() string { return filepath.Join(tempDir, "reports") })
	if err != nil {
		return nil, err
	}
	agent, err := netlab.BuildAgent(tempDir)
	if err != nil {
		return nil, err
	}
	env := &Env{Options: o, ReportsDir: reports, AgentBinary: agent, Logf: logf}
	if !o.plane.OnCluster() {
		return env, nil
	}
	estate, err := cluster.EstateFor(scenarios...)
	if err != nil {
		return nil, err
	}
	opts, err := o.DataPlaneOptions(estate, run, agent, reports, logf)
	if err != nil {
		return nil, err
	}
	if opts.Antrea.ClusterNetworkPolicy, err = scenario.HoldUpstreamCNPs(scenarios); err != nil {
		return nil, err
	}
	env.Cluster, err = dataplane.Open(ctx, opts)
	return env, err
}

// Open is the data plane a scenario (or the catalog) plays on: the booted
// cluster, or a lab built for topo and probes. Close it with CloseLab.
func (e *Env) Open(ctx context.Context, topo *topology.Topology, probes []model.Probe) (*dataplane.Opened, error) {
	if e.Cluster != nil {
		return e.Cluster, nil
	}
	return dataplane.Open(ctx, dataplane.Options{Plane: dataplane.Lab, AgentBinary: e.AgentBinary, Logf: e.Logf, Topology: topo, Probes: probes})
}

// CloseLab removes a lab Open built; a cluster plane stays for TearDown.
func (e *Env) CloseLab(ctx context.Context, p *dataplane.Opened) error {
	if p == nil || p == e.Cluster {
		return nil
	}
	return p.Close(ctx, false)
}

// TearDown removes the cluster and estate, unless keep (Options.Keep and
// Options.Decision say which, and why).
func (e *Env) TearDown(ctx context.Context, keep bool) error {
	if e.Cluster == nil || e.Cluster.Estate == nil {
		return nil
	}
	return e.Cluster.Close(ctx, keep)
}

// Values are a scenario's template values on the plane: its own, with the
// run's addresses (external hosts on kind) in place of the placeholders.
func Values(s *scenario.Scenario, p *dataplane.Opened) map[string]string {
	values := s.ValuesFor(p.Topology)
	maps.Copy(values, p.Values)
	return values
}

// Runner plays on p with the suite's probe settings.
func (e *Env) Runner(p *dataplane.Opened) walkthrough.Runner {
	return walkthrough.Runner{Plane: p.Plane, Engine: probe.Config{Timeout: e.Options.Timeout, Retries: 2}, Logf: e.Logf, PerFlowSample: e.Options.PerFlowSample, IdleSample: e.Options.IdleSample}
}

// StartScenario sets up a scenario of the walkthrough suite: its data plane
// (with the run's lab fault or out-of-band policies), checked to enforce
// every stage before anything is applied.
func (e *Env) StartScenario(ctx context.Context, s *scenario.Scenario) (*walkthrough.Play, *dataplane.Opened, error) {
	p, err := e.Open(ctx, s.Topology, s.Probes)
	if err != nil {
		return nil, nil, err
	}
	values := Values(s, p)
	runner := e.Runner(p)
	if err := runner.CheckScenario(s, values); err != nil {
		return nil, p, err
	}
	if lab, ok := p.Plane.(*dataplane.LabPlane); ok && e.Options.LabFault != "" {
		fault, err := ParseFault(e.Options.LabFault)
		if err != nil {
			return nil, p, err
		}
		lab.Faults = fault.flipper(s)
	}
	if e.Options.OutOfBand != "" && p.Cluster != nil {
		if err := e.injectOutOfBand(p.Cluster, s); err != nil {
			return nil, p, err
		}
	}
	return runner.Start(s, p.Topology, values), p, nil
}

// UnplayedWhy is why a scenario's stages were not played when none failed.
func UnplayedWhy(outcome *Outcome, planeSetUp bool) string {
	switch {
	case outcome.Interrupted():
		return "the run was interrupted before this stage"
	case !planeSetUp:
		return "the scenario's data plane was not set up (see its BeforeAll)"
	}
	return "not selected by the run's -ginkgo.label-filter or -ginkgo.focus"
}

// WriteReports writes a scenario's (or a case's) reports under the reports
// directory, in dir, and returns the summary lines to log: the files, what
// writing them took beside the probing, and the run in one line.
func (e *Env) WriteReports(dir string, run report.Run) (string, error) {
	path := filepath.Join(e.ReportsDir, dir)
	start := time.Now()
	written, err := report.WriteFiles(e.ReportsDir, dir, run)
	took := time.Since(start)
	var probing time.Duration
	cells := 0
	for _, st := range run.Stages {
		probing += st.Probing
		n := len(st.Matrix.Endpoints)
		cells += n * n * len(st.Matrix.Probes)
	}
	return fmt.Sprintf("reports: %v\nreports: %d cells written in %v (the probing took %v)\n%s",
		written, cells, took.Round(time.Millisecond), probing.Round(time.Millisecond), report.Summary(run, path)), err
}

// flipper makes the lab let through what the model denies, or drop what it
// allows, on the fault's cell at its stage.
func (f Fault) flipper(s *scenario.Scenario) func(stage int, plan *netlab.Plan) {
	return func(stage int, plan *netlab.Plan) {
		if s.Stages[stage].Name != f.Stage {
			return
		}
		cell := netlab.Cell{From: f.From, To: f.To, Probe: f.Probe}
		if _, denied := plan.Verdicts[cell]; denied {
			delete(plan.Verdicts, cell)
		} else {
			plan.Verdicts[cell] = model.Drop
		}
	}
}

// LoadScenarios loads -tierproof.scenarios before anything is cleared or
// built, and checks that -tierproof.lab-fault names a stage, endpoints and
// a probe of one of them: every problem is reported, one per line.
func (o *Options) LoadScenarios() ([]*scenario.Scenario, error) {
	var scenarios []*scenario.Scenario
	var errs []error
	for _, dir := range strings.Split(o.Scenarios, ",") {
		s, err := scenario.Load(dir)
		if errors.Is(err, fs.ErrNotExist) && !filepath.IsAbs(dir) {
			// go test runs the suite in its own directory, suites/e2e.
			err = fmt.Errorf("%w (a relative -tierproof.scenarios is read from the suite's directory, suites/e2e: give an absolute path, e.g. $(pwd)/%s)", err, dir)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if o.Until != "" {
			last := slices.IndexFunc(s.Stages, func(st scenario.Stage) bool { return st.Name == o.Until })
			if last < 0 {
				errs = append(errs, fmt.Errorf("-tierproof.until %s: scenario %s has no such stage", o.Until, s.Name))
				continue
			}
			s.Stages = s.Stages[:last+1]
		}
		scenarios = append(scenarios, s)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if o.LabFault == "" {
		return scenarios, nil
	}
	fault, err := ParseFault(o.LabFault)
	if err != nil {
		return nil, err
	}
	for _, s := range scenarios {
		err := fault.CheckAgainst(s)
		if err == nil {
			return scenarios, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// injectOutOfBand makes the plane apply -tierproof.out-of-band's NetworkPolicies,
// which the scenario (and so the model) does not hold, once its stage is
// applied: the run must then fail on exactly the cells they change.
func (e *Env) injectOutOfBand(p *cluster.ClusterPlane, s *scenario.Scenario) error {
	stageName, file, ok := strings.Cut(e.Options.OutOfBand, ":")
	if !ok || stageName == "" || file == "" {
		return fmt.Errorf("-tierproof.out-of-band %q: want STAGE:FILE", e.Options.OutOfBand)
	}
	stage := slices.IndexFunc(s.Stages, func(st scenario.Stage) bool { return st.Name == stageName })
	if stage < 0 {
		return fmt.Errorf("-tierproof.out-of-band: scenario %s has no stage %q", s.Name, stageName)
	}
	set, err := policy.Load(context.Background(), file)
	if err != nil {
		return fmt.Errorf("-tierproof.out-of-band: %w", err)
	}
	if native := set.AntreaNative(); len(native) > 0 || len(set.K8sNetworkPolicies) == 0 {
		return fmt.Errorf("-tierproof.out-of-band: %s must hold Kubernetes NetworkPolicies only (it holds %d, and %d Antrea-native objects)", file, len(set.K8sNetworkPolicies), len(native))
	}
	p.AfterApply = func(ctx context.Context, i int) error {
		if i != stage {
			return nil
		}
		e.Logf("out of band: applying %d NetworkPolicies from %s at stage %s", len(set.K8sNetworkPolicies), file, stageName)
		return p.Applier.ApplyStage(ctx, "out-of-band", set.Objects())
	}
	return nil
}

// Start is a suite's BeforeSuite: SetUp with Ginkgo's temporary directory
// and writer; a skip where the lab cannot run; a failure, recorded in
// outcome, where set-up fails (the Env is still returned for TearDown).
func Start(ctx context.Context, o *Options, outcome *Outcome, scenarios []*scenario.Scenario, run string) *Env {
	env, err := SetUp(ctx, o, scenarios, run, ginkgo.GinkgoT().TempDir(), Logf)
	if errors.Is(err, ErrLabUnavailable) {
		ginkgo.Skip(err.Error())
	}
	if err != nil {
		outcome.Fail()
		ginkgo.Fail(err.Error())
	}
	return env
}

// Logf logs a line to Ginkgo's writer: shown for failed specs, or with -v.
func Logf(format string, args ...any) { ginkgo.GinkgoWriter.Printf(format+"\n", args...) }
