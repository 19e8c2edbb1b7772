// Package e2e is tierproof's Ginkgo suite: an Ordered container per scenario
// and one spec per stage (apply → wait realized → probe → compare with the
// model), labelled by scenario and stage so --ginkgo.label-filter works. A
// failed stage skips the later stages of its scenario. The data plane is the
// network-namespace lab (-tierproof.data-plane=lab, root) or Antrea on kind
// (-tierproof.data-plane=kind, Docker and the openvswitch module).
package e2e_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/tierproof/tierproof/fixtures"
	"github.com/tierproof/tierproof/framework/cluster"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/netlab"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/probe"
	"github.com/tierproof/tierproof/framework/report"
	"github.com/tierproof/tierproof/framework/scenario"
	"github.com/tierproof/tierproof/framework/topology"
	"github.com/tierproof/tierproof/framework/walkthrough"
	"github.com/tierproof/tierproof/suites/e2e"
)

var (
	opts    e2e.Options
	outcome e2e.Outcome
)

func init() {
	opts.Register(flag.CommandLine, e2e.Walkthrough)
	flag.CommandLine.Usage = e2e.ShortUsage(flag.CommandLine, e2e.Walkthrough, os.Args[1:])
}

// TestE2E checks the flags, then runs the suite: a flag the run cannot act
// on, or a lab fault that names nothing the scenarios have, stops it before
// anything is built.
func TestE2E(t *testing.T) {
	if err := opts.Check(flag.CommandLine); err != nil {
		t.Fatal(err)
	}
	if err := checkLabFault(); err != nil {
		t.Fatal(err)
	}
	RegisterFailHandler(Fail)
	defer outcome.WatchInterrupts()()
	RunSpecs(t, "tierproof e2e")
}

// checkLabFault makes sure -tierproof.lab-fault names a stage, endpoints and a
// probe of one of the scenarios.
func checkLabFault() error {
	if opts.LabFault == "" {
		return nil
	}
	fault, err := e2e.ParseFault(opts.LabFault)
	if err != nil {
		return err
	}
	var errs []error
	for _, dir := range strings.Split(opts.Scenarios, ",") {
		s, err := scenario.Load(dir)
		if err != nil {
			return err
		}
		topo, err := fixtures.Topology(s.Topology)
		if err != nil {
			return err
		}
		if err := fault.CheckAgainst(s, topo); err != nil {
			errs = append(errs, err)
			continue
		}
		return nil
	}
	return errors.Join(errs...)
}

// suite is what BeforeSuite sets up once.
var suite struct {
	agentBinary string
	reportsDir  string
	estate      *cluster.Estate // kind only
}

var _ = BeforeSuite(func(ctx SpecContext) {
	var err error
	suite.reportsDir, err = opts.ReportsDir(GinkgoT().TempDir)
	Expect(err).NotTo(HaveOccurred())
	dir := GinkgoT().TempDir()
	switch opts.DataPlane {
	case e2e.Lab:
		if err := netlab.Available(); err != nil {
			Skip(err.Error() + "; run the lab suite as root (CI does)")
		}
		var err error
		suite.agentBinary, err = netlab.BuildAgent(dir)
		Expect(err).NotTo(HaveOccurred())
	case e2e.Kind, e2e.KubeRouter:
		var err error
		suite.agentBinary, err = netlab.BuildAgent(dir)
		Expect(err).NotTo(HaveOccurred())
		boot, err := opts.BootOptions(cluster.BlogEstate, suite.agentBinary, suite.reportsDir, func(f string, a ...any) { GinkgoWriter.Printf(f+"\n", a...) })
		Expect(err).NotTo(HaveOccurred())
		suite.estate, err = cluster.Boot(ctx, boot)
		if err != nil {
			outcome.Fail()
			Fail(err.Error())
		}
	}
})

// A run that set up its data plane and checked nothing fails.
var _ = ReportAfterSuite("something was checked", func(r Report) {
	if opts.LabUnavailable() != nil {
		return // the lab suite skips where it cannot run
	}
	if err := e2e.NothingChecked(r); err != nil && r.SuiteSucceeded {
		Fail(err.Error())
	}
})

// Every spec's outcome counts for keep-on-failure, whatever failed in it.
var _ = ReportAfterEach(func(r SpecReport) { outcome.Record(r) })

var _ = AfterSuite(func(ctx SpecContext) {
	GinkgoWriter.Println(opts.Decision(&outcome))
	if suite.estate != nil {
		Expect(suite.estate.Finish(ctx, opts.Keep(outcome.Failed()))).To(Succeed())
	}
})

// played is one scenario's data plane and the stages played so far.
type played struct {
	runner walkthrough.Runner
	topo   *topology.Topology
	values map[string]string
	run    report.Run
	close  func()
	// attempted are the stages whose specs ran; failed the one that failed
	// (with failedErr; failedUnprobed when it failed before probing).
	attempted      []int
	failed         int
	failedErr      error
	failedUnprobed bool
}

// notPlayed lists the stages without a verdict: from the failed stage on,
// and any the run's filters left out.
func (p *played) notPlayed(s *scenario.Scenario) []report.NotPlayed {
	if p.failedErr != nil {
		return walkthrough.NotPlayed(s, p.failed, p.failedUnprobed, p.failedErr)
	}
	why := "not selected by the run's -ginkgo.label-filter or -ginkgo.focus"
	switch {
	case outcome.Interrupted():
		why = "the run was interrupted before this stage"
	case p.runner.Plane == nil:
		why = "the scenario's data plane was not set up (see its BeforeAll)"
	}
	var out []report.NotPlayed
	for i, st := range s.Stages {
		if !slices.Contains(p.attempted, i) {
			out = append(out, report.NotPlayed{Stage: st.Name, Why: why})
		}
	}
	return out
}

var _ = Describe("walkthrough", func() {
	for _, dir := range strings.Split(opts.Scenarios, ",") {
		s, err := scenario.Load(dir)
		if err != nil {
			It("loads scenario "+dir, func() { Expect(err).NotTo(HaveOccurred()) })
			continue
		}
		Describe(s.Name, Ordered, Label("scenario:"+s.Name), func() {
			var p played
			BeforeAll(func(ctx SpecContext) { p = setUp(ctx, s) })
			AfterAll(func() {
				if p.close != nil {
					p.close()
				}
				p.run.NotPlayed = p.notPlayed(s)
				written, err := report.WriteFiles(filepath.Join(suite.reportsDir, s.Name), p.run)
				Expect(err).NotTo(HaveOccurred())
				GinkgoWriter.Printf("reports: %v\n%s\n", written, report.Summary(p.run, filepath.Join(suite.reportsDir, s.Name)))
			})
			for i, st := range s.Stages {
				It(st.Name, Label("stage:"+st.Name), func(ctx SpecContext) {
					p.attempted = append(p.attempted, i)
					stage, err := p.runner.PlayStage(ctx, s, i, p.topo, p.values)
					if stage.Matrix != nil {
						p.run.Stages = append(p.run.Stages, stage)
						AddReportEntry("mismatches", len(stage.Matrix.Mismatches()))
					}
					if err != nil {
						p.failed, p.failedErr, p.failedUnprobed = i, err, stage.Matrix == nil
						Fail(err.Error() + report.DescribeMismatches(stage, 20))
					}
				})
			}
		})
	}
})

// setUp builds a scenario's data plane: a lab mirroring its topology, or the
// booted kind estate.
func setUp(ctx context.Context, s *scenario.Scenario) played {
	engine := probe.Config{Timeout: opts.Timeout, Retries: 2}
	logf := func(f string, a ...any) { GinkgoWriter.Printf(f+"\n", a...) }
	if suite.estate != nil {
		plane, cp, err := opts.Plane(suite.estate, "tierproof")
		Expect(err).NotTo(HaveOccurred())
		values := s.ValuesFor(suite.estate.Topology)
		maps.Copy(values, suite.estate.Values) // the run's addresses, not the placeholders
		runner := walkthrough.Runner{Plane: plane, Engine: engine, Logf: logf}
		Expect(runner.CheckScenario(s, values)).To(Succeed())
		if opts.OutOfBand != "" {
			Expect(injectOutOfBand(cp, s)).To(Succeed())
		}
		return played{runner: runner,
			topo: suite.estate.Topology, values: values,
			run: report.Run{Scenario: s.Name, DataPlane: plane.Name()}}
	}
	topo, err := fixtures.Topology(s.Topology)
	Expect(err).NotTo(HaveOccurred())
	plane, err := walkthrough.NewLabPlane(ctx, topo, s.Probes, suite.agentBinary)
	Expect(err).NotTo(HaveOccurred())
	if opts.LabFault != "" {
		fault, err := e2e.ParseFault(opts.LabFault)
		Expect(err).NotTo(HaveOccurred())
		plane.Faults = func(stage int, plan *netlab.Plan) {
			if s.Stages[stage].Name != fault.Stage {
				return
			}
			cell := netlab.Cell{From: fault.From, To: fault.To, Probe: fault.Probe}
			if _, denied := plan.Verdicts[cell]; denied {
				delete(plan.Verdicts, cell) // the lab lets through what the model denies
			} else {
				plan.Verdicts[cell] = model.Drop // or drops what the model allows
			}
		}
	}
	return played{runner: walkthrough.Runner{Plane: plane, Engine: engine, Logf: logf}, topo: topo, values: s.ValuesFor(topo),
		run: report.Run{Scenario: s.Name, DataPlane: plane.Name()}, close: func() { plane.Close() }}
}

// injectOutOfBand makes the plane apply -tierproof.out-of-band's NetworkPolicies,
// which the scenario (and so the model) does not hold, once its stage is
// applied: the run must then fail on exactly the cells they change.
func injectOutOfBand(p *cluster.ClusterPlane, s *scenario.Scenario) error {
	stageName, file, ok := strings.Cut(opts.OutOfBand, ":")
	if !ok || stageName == "" || file == "" {
		return fmt.Errorf("-tierproof.out-of-band %q: want STAGE:FILE", opts.OutOfBand)
	}
	stage := slices.IndexFunc(s.Stages, func(st scenario.Stage) bool { return st.Name == stageName })
	if stage < 0 {
		return fmt.Errorf("-tierproof.out-of-band: scenario %s has no stage %q", s.Name, stageName)
	}
	set, err := policy.Load(file)
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
		GinkgoWriter.Printf("out of band: applying %d NetworkPolicies from %s at stage %s\n", len(set.K8sNetworkPolicies), file, stageName)
		return p.Applier.ApplyStage(ctx, "out-of-band", set.Objects())
	}
	return nil
}
