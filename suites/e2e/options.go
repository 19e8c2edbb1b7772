// Package e2e holds the options of tierproof's Ginkgo suites (the walkthrough
// suite is in e2e_suite_test.go; suites/conformance shares the options), so
// that tools and tests can check flags against them.
package e2e

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/agnivade/levenshtein"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/tierproof/tierproof/framework/cluster"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/netlab"
	"github.com/tierproof/tierproof/framework/scenario"
	"github.com/tierproof/tierproof/framework/topology"
)

// Suite names a suite and the make target that runs it on kind.
type Suite string

// The suites.
const (
	Walkthrough Suite = "e2e"         // suites/e2e, make e2e
	Conformance Suite = "conformance" // suites/conformance, make conformance
)

// Options configure a suite run; every field is a -tierproof.* flag.
type Options struct {
	Suite         Suite
	DataPlane     string
	Scenarios     string // the walkthrough suite only
	Reports       string
	KeepCluster   string
	AntreaVersion string
	AntreaSHA256  string
	NodeImage     string
	Timeout       time.Duration
	// Kubeconfig selects an existing kind cluster instead of creating one.
	Kubeconfig string
	// LabFault flips one cell in the lab, to see the suite fail on it:
	// "STAGE:FROM>TO:PROBE", e.g. "block-all:prod-app/ubuntu-16-04>ssh-server:tcp/22".
	// The walkthrough suite only.
	LabFault string

	set map[string]bool // the flags given, after Check
}

// kindOnly and labOnly are the flags that mean something on one data plane.
var (
	kindOnly = []string{"tierproof.keep-cluster", "tierproof.antrea-version", "tierproof.antrea-manifest-sha256", "tierproof.node-image", "tierproof.kubeconfig"}
	labOnly  = []string{"tierproof.lab-fault"}
)

// Register adds the suite's flags to fs: a suite has only the flags it reads.
func (o *Options) Register(fs *flag.FlagSet, suite Suite) {
	o.Suite = suite
	fs.StringVar(&o.DataPlane, "tierproof.data-plane", "lab", "lab (network namespaces, needs root) or kind (needs Docker and the openvswitch module)")
	if suite == Walkthrough {
		fs.StringVar(&o.Scenarios, "tierproof.scenarios", "../../scenarios/antrea-blog", "comma-separated scenario directories")
		fs.StringVar(&o.LabFault, "tierproof.lab-fault", "", "lab: flip one cell, STAGE:FROM>TO:PROBE, to see the suite fail on exactly it")
	}
	fs.StringVar(&o.Reports, "tierproof.reports", "", "where reports are written, one directory per scenario (default: a temporary directory)")
	fs.StringVar(&o.KeepCluster, "tierproof.keep-cluster", "on-failure", "kind: keep what the run created: on-failure, always or never")
	fs.StringVar(&o.AntreaVersion, "tierproof.antrea-version", cluster.DefaultAntreaVersion, "kind: the Antrea release")
	fs.StringVar(&o.AntreaSHA256, "tierproof.antrea-manifest-sha256", "", "kind: the release manifest's sha256, if neither fixtures/antrea/checksums.txt nor GitHub's release digest gives it")
	fs.StringVar(&o.NodeImage, "tierproof.node-image", cluster.NodeImage, "kind: the node image (the Kubernetes version), pinned by digest")
	fs.DurationVar(&o.Timeout, "tierproof.timeout", time.Second, "per-probe timeout")
	fs.StringVar(&o.Kubeconfig, "tierproof.kubeconfig", "", "kind: use this existing kind cluster instead of creating one (any other cluster is refused)")
}

// Check refuses flag values the suites cannot act on, and flags given for
// the other data plane, which would be silently ignored.
func (o *Options) Check(fs *flag.FlagSet) error {
	o.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	if o.KeepCluster != "on-failure" && o.KeepCluster != "always" && o.KeepCluster != "never" {
		return fmt.Errorf("-tierproof.keep-cluster %q: want on-failure, always or never", o.KeepCluster)
	}
	if o.DataPlane != "lab" && o.DataPlane != "kind" {
		return fmt.Errorf("-tierproof.data-plane %q: want lab or kind", o.DataPlane)
	}
	if o.Timeout <= 0 {
		return fmt.Errorf("-tierproof.timeout %v: want a positive duration", o.Timeout)
	}
	misplaced, plane := labOnly, "lab"
	if o.DataPlane == "lab" {
		misplaced, plane = kindOnly, "kind"
	}
	for _, name := range misplaced {
		if o.set[name] {
			return fmt.Errorf("-%s applies to -tierproof.data-plane=%s only, and this run uses %s", name, plane, o.DataPlane)
		}
	}
	return nil
}

// Hint is what a user types to give flag=value to this suite.
func (o *Options) Hint(flag, value string) string {
	return fmt.Sprintf(`make %s E2E_FLAGS="-tierproof.%s=%s"`, o.Suite, flag, value)
}

// ReportsDir is -tierproof.reports, or a temporary directory from temp.
func (o *Options) ReportsDir(temp func() string) string {
	if o.Reports == "" {
		return temp()
	}
	return o.Reports
}

// Keep says whether a run's cluster and estate are kept.
func (o *Options) Keep(failed bool) bool {
	return o.KeepCluster == "always" || (o.KeepCluster == "on-failure" && failed)
}

// Outcome records whether any part of a suite run failed — a stage, a
// BeforeAll or AfterAll, a scenario that did not load, an interrupt — for the
// keep/teardown decision AfterSuite makes. It is fed from ReportAfterEach and
// BeforeSuite: ReportAfterSuite runs after AfterSuite, too late to decide.
type Outcome struct{ failed atomic.Bool }

// Record takes a spec's report.
func (r *Outcome) Record(spec types.SpecReport) {
	if spec.State.Is(types.SpecStateFailureStates) {
		r.failed.Store(true)
	}
}

// Fail records a failure outside any spec (BeforeSuite).
func (r *Outcome) Fail() { r.failed.Store(true) }

// Failed says whether anything failed.
func (r *Outcome) Failed() bool { return r.failed.Load() }

// LabUnavailable is why the lab cannot run here (not root), when the run asks
// for it: such a suite skips, which is not a run that checked nothing.
func (o *Options) LabUnavailable() error {
	if o.DataPlane != "lab" {
		return nil
	}
	return netlab.Available()
}

// NothingChecked says why a run whose data plane was set up checked nothing
// (every spec filtered out or skipped): such a run must not pass.
func NothingChecked(r types.Report) error {
	for _, spec := range r.SpecReports {
		if spec.LeafNodeType == types.NodeTypeIt && spec.State == types.SpecStatePassed {
			return nil
		}
	}
	return fmt.Errorf("nothing was checked: no stage passed out of %d specs (%d were selected to run); check -ginkgo.label-filter and -ginkgo.focus",
		r.PreRunStats.TotalSpecs, r.PreRunStats.SpecsThatWillRun)
}

// Decision says what Finish will do, in one line for the log.
func (o *Options) Decision(failed bool) string {
	verdict := "passed"
	if failed {
		verdict = "failed"
	}
	switch {
	case o.DataPlane != "kind":
		return fmt.Sprintf("the run %s; the lab is removed (-tierproof.keep-cluster applies to kind)", verdict)
	case o.Keep(failed):
		return fmt.Sprintf("the run %s; keeping the cluster and estate (-tierproof.keep-cluster=%s)", verdict, o.KeepCluster)
	default:
		return fmt.Sprintf("the run %s; removing what it created (-tierproof.keep-cluster=%s)", verdict, o.KeepCluster)
	}
}

// Fault is a parsed LabFault.
type Fault struct {
	Stage, From, To string
	Probe           model.Probe
}

// ParseFault reads "STAGE:FROM>TO:PROBE".
func ParseFault(s string) (Fault, error) {
	stage, rest, ok1 := strings.Cut(s, ":")
	pair, probeText, ok2 := strings.Cut(rest, ":")
	from, to, ok3 := strings.Cut(pair, ">")
	if !ok1 || !ok2 || !ok3 || stage == "" || from == "" || to == "" {
		return Fault{}, fmt.Errorf("-tierproof.lab-fault %q: want STAGE:FROM>TO:PROBE", s)
	}
	p, err := model.ParseProbe(probeText)
	if err != nil {
		return Fault{}, fmt.Errorf("-tierproof.lab-fault %q: %w", s, err)
	}
	return Fault{Stage: stage, From: from, To: to, Probe: p}, nil
}

// CheckAgainst makes sure the fault names a stage, two endpoints and a probe
// of the scenario: a fault that flips nothing would let the run pass.
func (f Fault) CheckAgainst(s *scenario.Scenario, topo *topology.Topology) error {
	var stages []string
	for _, st := range s.Stages {
		stages = append(stages, st.Name)
	}
	if !slices.Contains(stages, f.Stage) {
		return fmt.Errorf("-tierproof.lab-fault: scenario %s has no stage %q (stages: %s)", s.Name, f.Stage, strings.Join(stages, ", "))
	}
	var endpoints []string
	for _, p := range topo.Pods {
		endpoints = append(endpoints, p.EndpointName())
	}
	for _, e := range topo.Externals {
		endpoints = append(endpoints, e.Name)
	}
	for _, e := range []string{f.From, f.To} {
		if !slices.Contains(endpoints, e) {
			return fmt.Errorf("-tierproof.lab-fault: scenario %s has no endpoint %q (endpoints: %s)", s.Name, e, strings.Join(endpoints, ", "))
		}
	}
	if !slices.Contains(s.Probes, f.Probe) {
		return fmt.Errorf("-tierproof.lab-fault: scenario %s does not probe %s", s.Name, f.Probe)
	}
	return nil
}

// BootOptions are the options of a kind run of this suite on estate: a cluster
// named tierproof, its kubeconfig and snapshots in reports, Antrea's manifest
// cached in the user's cache directory.
func (o *Options) BootOptions(estate cluster.EstateSpec, agentBinary, reports string, logf func(string, ...any)) (cluster.BootOptions, error) {
	cacheDir, err := os.UserCacheDir()
	if err != nil {
		return cluster.BootOptions{}, err
	}
	return cluster.BootOptions{ClusterName: "tierproof", WorkDir: reports, NodeImage: o.NodeImage,
		AntreaVersion: o.AntreaVersion, AntreaSHA256: o.AntreaSHA256,
		Antrea: cluster.AntreaManifests{BaseURL: cluster.AntreaReleases, API: cluster.AntreaReleaseAPI,
			CacheDir: filepath.Join(cacheDir, "tierproof"), OverrideHint: o.Hint("antrea-manifest-sha256", "<sha256>")},
		AgentBinary: agentBinary, Kubeconfig: o.Kubeconfig, Estate: estate, Logf: logf}, nil
}

// ShortUsage makes fs answer a mistyped flag with one line that names the
// closest flag, instead of the usage of every test, Ginkgo and tierproof
// flag; -help still lists them all.
func ShortUsage(fs *flag.FlagSet, suite Suite, args []string) func() {
	return func() {
		out := fs.Output()
		for _, a := range args {
			if a == "-h" || a == "-help" || a == "--help" || a == "--h" {
				fs.PrintDefaults()
				return
			}
		}
		for _, a := range args {
			name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if strings.HasPrefix(a, "-") && fs.Lookup(name) == nil {
				if near := closestFlag(fs, name); near != "" {
					fmt.Fprintf(out, "did you mean -%s? (every flag: make %s E2E_FLAGS=-help)\n", near, suite)
					return
				}
			}
		}
		fmt.Fprintf(out, "every flag: make %s E2E_FLAGS=-help\n", suite)
	}
}

// closestFlag is the registered flag nearest to name by edit distance, if
// any is near enough to be a typo of it.
func closestFlag(fs *flag.FlagSet, name string) string {
	best, bestDist := "", len(name)/3+1
	fs.VisitAll(func(f *flag.Flag) {
		if d := levenshtein.ComputeDistance(name, f.Name); d < bestDist {
			best, bestDist = f.Name, d
		}
	})
	return best
}
