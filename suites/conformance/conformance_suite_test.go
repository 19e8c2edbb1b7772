// Package conformance_test plays the conformance catalog (scenarios/conformance)
// as a Ginkgo suite: an Ordered container per case, one spec per stage,
// labelled feature:<feature> plus the case's own labels, so that
// -ginkgo.label-filter picks features. Every case starts from the estate as
// booted: the data plane is reset after each. The data plane is the
// network-namespace lab (-tierproof.data-plane=lab, root), Antrea on kind
// (-tierproof.data-plane=antrea: make conformance) or kube-router on kind. A
// summary table by feature is printed and written to the reports directory.
// This file is the Ginkgo wiring; framework/suite does the work.
package conformance_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/tierproof/tierproof/fixtures"
	"github.com/tierproof/tierproof/framework/dataplane"
	"github.com/tierproof/tierproof/framework/scenario"
	"github.com/tierproof/tierproof/framework/suite"
)

var (
	opts       suite.Options
	outcome    suite.Outcome
	catalogDir string
	env        *suite.Env
	plane      *dataplane.Opened // the catalog's, reset after each case
)

func init() {
	opts.Register(flag.CommandLine, suite.Conformance)
	flag.StringVar(&catalogDir, "tierproof.catalog", "../../scenarios/conformance", "the conformance catalog directory")
	flag.CommandLine.Usage = suite.ShortUsage(flag.CommandLine, suite.Conformance, os.Args[1:])
}

// TestConformance checks the flags and loads the catalog, then runs the
// suite: nothing is cleared or built for a run that cannot play.
func TestConformance(t *testing.T) {
	if err := opts.Check(flag.CommandLine); err != nil {
		t.Fatal(err)
	}
	var err error
	if catalog, err = scenario.LoadCatalog(catalogDir); err != nil {
		t.Fatal(err)
	}
	RegisterFailHandler(Fail)
	defer outcome.WatchInterrupts()()
	RunSpecs(t, "tierproof conformance")
}

// catalog is loaded by TestConformance, before Ginkgo builds the spec tree.
var catalog *scenario.Catalog

var _ = BeforeSuite(func(ctx SpecContext) {
	env = suite.Start(ctx, &opts, &outcome, catalog.Cases, "tierproof-conformance")
	topo, err := fixtures.Topology("conformance")
	Expect(err).NotTo(HaveOccurred())
	plane, err = env.Open(ctx, topo, catalog.Probes())
	Expect(err).NotTo(HaveOccurred())
	_, resets := plane.Plane.(dataplane.Resetter)
	Expect(resets).To(BeTrue(), "%s cannot reset between cases", plane.Plane.Name())
})

// Every spec's outcome counts for keep-on-failure, whatever failed in it.
var _ = ReportAfterEach(func(r SpecReport) { outcome.Record(r) })

var _ = AfterSuite(func(ctx SpecContext) {
	if env != nil {
		Expect(env.CloseLab(ctx, plane)).To(Succeed())
	}
	GinkgoWriter.Println(opts.Decision(&outcome))
	if env != nil {
		Expect(env.TearDown(ctx, opts.Keep(outcome.Failed()))).To(Succeed())
	}
})

var _ = Describe("conformance", func() {
	for _, s := range catalog.Cases {
		labels := Label(append([]string{"feature:" + s.Feature}, s.Labels...)...)
		Describe(s.Name, Ordered, labels, func() {
			var c *suite.Case
			BeforeAll(func() { c = env.StartCase(plane, s) })
			AfterAll(func(ctx SpecContext) {
				if c == nil {
					return
				}
				Expect(plane.Plane.(dataplane.Resetter).Reset(ctx)).To(Succeed(), "resetting the data plane after case %s", s.Name)
				if run := c.Report(suite.UnplayedWhy(&outcome, true)); len(run.Stages) > 0 {
					_, err := env.WriteReports(filepath.Join("cases", s.Name), run)
					Expect(err).NotTo(HaveOccurred())
				}
			})
			for i, st := range s.Stages {
				It(st.Name, func(ctx SpecContext) {
					skip, err := c.Stage(ctx, i)
					if skip != "" {
						Skip(skip) // not a pass: the case gives no verdict here
					}
					if err != nil {
						Fail(err.Error())
					}
				})
			}
		})
	}
})

// The summary by feature, from the specs' states.
var _ = ReportAfterSuite("conformance summary", func(r Report) {
	if catalog == nil {
		return
	}
	if opts.LabUnavailable() == nil && r.SuiteSucceeded {
		if err := suite.NothingChecked(r); err != nil {
			defer Fail(err.Error()) // after the summary is written
		}
	}
	name := opts.DataPlane
	if plane != nil {
		name = plane.Plane.Name()
	}
	text, err := suite.WriteConformance(opts.Reports, suite.ConformanceSummary(catalog, r, name))
	Expect(err).NotTo(HaveOccurred())
	fmt.Fprintln(os.Stdout, "\n"+text)
})
