// Package e2e_test is tierproof's walkthrough suite: an Ordered container per
// scenario and one spec per stage (apply → wait realized → probe → compare
// with the model), labelled by scenario and stage so --ginkgo.label-filter
// works. A failed stage skips the later stages of its scenario. The data plane
// is the network-namespace lab (-tierproof.data-plane=lab, root), Antrea on
// kind (-tierproof.data-plane=antrea: make e2e) or kube-router on kind. This
// file is the Ginkgo wiring; framework/suite does the work.
package e2e_test

import (
	"flag"
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/tierproof/tierproof/framework/dataplane"
	"github.com/tierproof/tierproof/framework/report"
	"github.com/tierproof/tierproof/framework/scenario"
	"github.com/tierproof/tierproof/framework/suite"
	"github.com/tierproof/tierproof/framework/walkthrough"
)

var (
	opts      suite.Options
	outcome   suite.Outcome
	env       *suite.Env
	scenarios []*scenario.Scenario // loaded before the run clears or builds anything
)

func init() {
	opts.Register(flag.CommandLine, suite.Walkthrough)
	flag.CommandLine.Usage = suite.ShortUsage(flag.CommandLine, suite.Walkthrough, os.Args[1:])
}

// TestE2E checks the flags and loads the scenarios, then runs the suite: a
// flag the run cannot act on, a scenario that does not load, or a lab fault
// that names nothing the scenarios have stops it before anything is cleared
// or built.
func TestE2E(t *testing.T) {
	if err := opts.Check(flag.CommandLine); err != nil {
		t.Fatal(err)
	}
	var err error
	if scenarios, err = opts.LoadScenarios(); err != nil {
		t.Fatal(err)
	}
	RegisterFailHandler(Fail)
	defer outcome.WatchInterrupts()()
	RunSpecs(t, "tierproof e2e")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	env = suite.Start(ctx, &opts, &outcome, scenarios, "tierproof")
})

// A run that set up its data plane and checked nothing fails.
var _ = ReportAfterSuite("something was checked", func(r Report) {
	if opts.LabUnavailable() != nil {
		return // the lab suite skips where it cannot run
	}
	if err := suite.NothingChecked(r); err != nil && r.SuiteSucceeded {
		Fail(err.Error())
	}
})

// Every spec's outcome counts for keep-on-failure, whatever failed in it.
var _ = ReportAfterEach(func(r SpecReport) { outcome.Record(r) })

var _ = AfterSuite(func(ctx SpecContext) {
	GinkgoWriter.Println(opts.Decision(&outcome))
	if env != nil {
		Expect(env.TearDown(ctx, opts.Keep(outcome.Failed()))).To(Succeed())
	}
})

var _ = Describe("walkthrough", func() {
	for _, s := range scenarios {
		Describe(s.Name, Ordered, Label("scenario:"+s.Name), func() {
			var (
				play  *walkthrough.Play
				plane *dataplane.Opened
			)
			BeforeAll(func(ctx SpecContext) {
				var err error
				play, plane, err = env.StartScenario(ctx, s)
				Expect(err).NotTo(HaveOccurred())
			})
			AfterAll(func(ctx SpecContext) {
				Expect(env.CloseLab(ctx, plane)).To(Succeed())
				run := walkthrough.NotStarted(s, suite.UnplayedWhy(&outcome, false))
				if play != nil {
					run = play.Report(suite.UnplayedWhy(&outcome, true))
				}
				summary, err := env.WriteReports(s.Name, run)
				Expect(err).NotTo(HaveOccurred())
				GinkgoWriter.Println(summary)
			})
			for i, st := range s.Stages {
				It(st.Name, Label("stage:"+st.Name), func(ctx SpecContext) {
					stage, err := play.Stage(ctx, i)
					if stage.Matrix != nil {
						AddReportEntry("mismatches", len(stage.Matrix.Mismatches()))
					}
					if err != nil {
						Fail(err.Error() + report.DescribeMismatches(stage, 20))
					}
				})
			}
		})
	}
})
