// Package conformance_test plays the conformance catalog (scenarios/conformance)
// as a Ginkgo suite: an Ordered container per case, one spec per stage,
// labelled feature:<feature> plus the case's own labels, so that
// -ginkgo.label-filter picks features. Every case starts from the estate as
// booted: the data plane is reset after each. The data plane is the
// network-namespace lab (-tierproof.data-plane=lab, root) or Antrea on kind
// (-tierproof.data-plane=kind: make conformance). A summary table by feature
// is printed and written to the reports directory.
package conformance_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	"github.com/tierproof/tierproof/fixtures"
	"github.com/tierproof/tierproof/framework/cluster"
	"github.com/tierproof/tierproof/framework/netlab"
	"github.com/tierproof/tierproof/framework/probe"
	"github.com/tierproof/tierproof/framework/report"
	"github.com/tierproof/tierproof/framework/scenario"
	"github.com/tierproof/tierproof/framework/topology"
	"github.com/tierproof/tierproof/framework/walkthrough"
	"github.com/tierproof/tierproof/suites/e2e"
)

var (
	opts       e2e.Options
	outcome    e2e.Outcome
	catalogDir string
)

func init() {
	opts.Register(flag.CommandLine, e2e.Conformance)
	flag.StringVar(&catalogDir, "tierproof.catalog", "../../scenarios/conformance", "the conformance catalog directory")
	flag.CommandLine.Usage = e2e.ShortUsage(flag.CommandLine, e2e.Conformance, os.Args[1:])
}

func TestConformance(t *testing.T) {
	if err := opts.Check(flag.CommandLine); err != nil {
		t.Fatal(err)
	}
	RegisterFailHandler(Fail)
	defer outcome.WatchInterrupts()()
	RunSpecs(t, "tierproof conformance")
}

// resettable is a data plane that can return to its estate as booted.
type resettable interface {
	walkthrough.DataPlane
	Reset(ctx context.Context) error
}

// resettablePlane is a cluster data plane (Antrea's can trace) with its Reset.
type resettablePlane struct {
	walkthrough.DataPlane
	cluster *cluster.ClusterPlane
}

func (p resettablePlane) Reset(ctx context.Context) error { return p.cluster.Reset(ctx) }

// suite is what BeforeSuite sets up once.
var suite struct {
	reportsDir string
	plane      resettable
	topo       *topology.Topology
	runValues  map[string]string // the run's own values (external hosts on kind)
	estate     *cluster.Estate   // kind only
	closeLab   func()
}

// The catalog is loaded when Ginkgo builds the spec tree, after flags are parsed.
var (
	catalog    *scenario.Catalog
	catalogErr error
)

var _ = BeforeSuite(func(ctx SpecContext) {
	var err error
	suite.reportsDir, err = opts.ReportsDir(GinkgoT().TempDir)
	Expect(err).NotTo(HaveOccurred())
	logf := func(f string, a ...any) { GinkgoWriter.Printf(f+"\n", a...) }
	switch opts.DataPlane {
	case e2e.Lab:
		if err := netlab.Available(); err != nil {
			Skip(err.Error() + "; run the lab suite as root (CI does)")
		}
		agent, err := netlab.BuildAgent(GinkgoT().TempDir())
		Expect(err).NotTo(HaveOccurred())
		suite.topo, err = fixtures.Topology("conformance")
		Expect(err).NotTo(HaveOccurred())
		lab, err := walkthrough.NewLabPlane(ctx, suite.topo, catalog.Probes(), agent)
		Expect(err).NotTo(HaveOccurred())
		suite.plane, suite.closeLab = lab, func() { lab.Close() }
	case e2e.Kind, e2e.KubeRouter:
		agent, err := netlab.BuildAgent(GinkgoT().TempDir())
		Expect(err).NotTo(HaveOccurred())
		boot, err := opts.BootOptions(cluster.ConformanceEstate, agent, suite.reportsDir, logf)
		Expect(err).NotTo(HaveOccurred())
		suite.estate, err = cluster.Boot(ctx, boot)
		if err != nil {
			outcome.Fail()
			Fail(err.Error())
		}
		plane, cp, err := opts.Plane(suite.estate, "tierproof-conformance")
		Expect(err).NotTo(HaveOccurred())
		suite.plane, suite.topo, suite.runValues = resettablePlane{plane, cp}, suite.estate.Topology, suite.estate.Values
	}
})

// Every spec's outcome counts for keep-on-failure, whatever failed in it.
var _ = ReportAfterEach(func(r SpecReport) { outcome.Record(r) })

var _ = AfterSuite(func(ctx SpecContext) {
	if suite.closeLab != nil {
		suite.closeLab()
	}
	GinkgoWriter.Println(opts.Decision(&outcome))
	if suite.estate != nil {
		Expect(suite.estate.Finish(ctx, opts.Keep(outcome.Failed()))).To(Succeed())
	}
})

var _ = Describe("conformance", func() {
	if catalog, catalogErr = scenario.LoadCatalog(catalogDir); catalogErr != nil {
		It("loads the catalog", func() { Expect(catalogErr).NotTo(HaveOccurred()) })
		return
	}
	for _, s := range catalog.Cases {
		labels := Label(append([]string{"feature:" + s.Feature}, s.Labels...)...)
		Describe(s.Name, Ordered, labels, func() {
			var run report.Run
			AfterAll(func(ctx SpecContext) {
				Expect(suite.plane.Reset(ctx)).To(Succeed(), "resetting the data plane after case %s", s.Name)
				if len(run.Stages) > 0 {
					_, err := report.WriteFiles(filepath.Join(suite.reportsDir, "cases", s.Name), run)
					Expect(err).NotTo(HaveOccurred())
				}
			})
			for i, st := range s.Stages {
				It(st.Name, func(ctx SpecContext) {
					run.Scenario, run.DataPlane = s.Name, suite.plane.Name()
					runner := walkthrough.Runner{Plane: suite.plane, Engine: probe.Config{Timeout: opts.Timeout, Retries: 2},
						Logf: func(f string, a ...any) { GinkgoWriter.Printf(f+"\n", a...) }}
					values := s.ValuesFor(suite.topo)
					maps.Copy(values, suite.runValues)
					if err := runner.CheckScenario(s, values); err != nil {
						// Not a pass either: the case cannot be played here.
						Skip(err.Error())
					}
					stage, err := runner.PlayStage(ctx, s, i, suite.topo, values)
					if stage.Matrix != nil {
						run.Stages = append(run.Stages, stage)
					}
					if errors.Is(err, walkthrough.ErrNothingProbed) {
						// Not a pass: the case is held against the model offline only.
						Skip(err.Error() + " (the offline check holds its assertions against the model)")
					}
					if err != nil {
						Fail(err.Error() + report.DescribeMismatches(stage, 10))
					}
				})
			}
		})
	}
})

// The summary by feature, from the specs' states: a case passed when each
// of its stages did.
var _ = ReportAfterSuite("conformance summary", func(r Report) {
	if catalog == nil {
		return
	}
	if opts.LabUnavailable() == nil && r.SuiteSucceeded {
		if err := e2e.NothingChecked(r); err != nil {
			defer Fail(err.Error()) // after the summary is written
		}
	}
	states := map[string][]types.SpecReport{}
	for _, spec := range r.SpecReports {
		if len(spec.ContainerHierarchyTexts) == 2 {
			name := spec.ContainerHierarchyTexts[1]
			states[name] = append(states[name], spec)
		}
	}
	summary := report.Conformance{DataPlane: opts.DataPlane}
	if suite.plane != nil {
		summary.DataPlane = suite.plane.Name()
	}
	for _, s := range catalog.Cases {
		summary.Cases = append(summary.Cases, caseResult(s, states[s.Name]))
	}
	var text strings.Builder
	Expect(report.WriteConformanceText(&text, summary)).To(Succeed())
	fmt.Fprintln(os.Stdout, "\n"+text.String())
	if opts.Reports == "" {
		return
	}
	Expect(os.MkdirAll(opts.Reports, 0o755)).To(Succeed())
	Expect(os.WriteFile(filepath.Join(opts.Reports, "conformance-summary.txt"), []byte(text.String()), 0o644)).To(Succeed())
	f, err := os.Create(filepath.Join(opts.Reports, "conformance-summary.json"))
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	Expect(report.WriteConformanceJSON(f, summary)).To(Succeed())
})

func caseResult(s *scenario.Scenario, specs []types.SpecReport) report.CaseResult {
	result := report.CaseResult{Feature: s.Feature, Case: s.Name, State: report.CaseSkipped}
	passed := 0
	for _, spec := range specs {
		switch {
		case spec.State.Is(types.SpecStateFailureStates):
			result.State, result.Reason = report.CaseFailed, spec.FailureMessage()
			return result
		case spec.State == types.SpecStatePassed:
			passed++
		case spec.State == types.SpecStateSkipped && result.Reason == "":
			result.Reason = spec.FailureMessage()
		}
	}
	if passed == len(s.Stages) {
		result.State = report.CasePassed
	}
	return result
}
