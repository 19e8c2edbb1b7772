// Package suite is the library behind tierproof's Ginkgo suites (suites/e2e
// plays scenarios, suites/conformance the catalog): their options, the data
// plane they set up once, each scenario's play and report, the keep/teardown
// decision and the conformance verdict. The suites' _test.go files are only
// the Ginkgo wiring over it.
package suite

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/agnivade/levenshtein"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/tierproof/tierproof/framework/antrea"
	"github.com/tierproof/tierproof/framework/cluster"
	"github.com/tierproof/tierproof/framework/dataplane"
	"github.com/tierproof/tierproof/framework/kind"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/netlab"
	"github.com/tierproof/tierproof/framework/nodeimage"
	"github.com/tierproof/tierproof/framework/report"
	"github.com/tierproof/tierproof/framework/scenario"
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
	plane         dataplane.ID // DataPlane, read by Check
	Scenarios     string       // the walkthrough suite only
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
	// OutOfBand applies a manifest's Kubernetes NetworkPolicies on the
	// cluster behind the scenario's back before a stage is probed, to see the
	// suite fail on exactly the cells they change: "STAGE:FILE". The
	// walkthrough suite only.
	OutOfBand string
	// Until plays each scenario up to this stage, and no further: the stages
	// a data plane can enforce (the K8s NetworkPolicy stages of a scenario,
	// on kube-router). The walkthrough suite only.
	Until string
	// PerFlowSample probes, after each stage, that many sources' flows one
	// exec per flow, to compare the cost (walkthrough.Runner.PerFlowSample).
	PerFlowSample int
	// IdleSample, when positive, reads the machine's CPU for that long
	// before the first stage probes: the baseline of an idle estate
	// (walkthrough.Runner.IdleSample).
	IdleSample time.Duration
	// Prober is how the pods probe: agent (tierproof's agent) or tools
	// (their own ping, curl and nc, from the tools images).
	Prober string

	set map[string]bool // the flags given, after Check
}

// planeFlags are the flags that mean something on some data planes only.
var planeFlags = map[string][]dataplane.ID{
	"tierproof.keep-cluster":           {dataplane.Antrea, dataplane.KubeRouter},
	"tierproof.node-image":             {dataplane.Antrea, dataplane.KubeRouter},
	"tierproof.kubeconfig":             {dataplane.Antrea, dataplane.KubeRouter},
	"tierproof.out-of-band":            {dataplane.Antrea, dataplane.KubeRouter},
	"tierproof.antrea-version":         {dataplane.Antrea},
	"tierproof.antrea-manifest-sha256": {dataplane.Antrea},
	"tierproof.lab-fault":              {dataplane.Lab},
	"tierproof.prober":                 {dataplane.Antrea, dataplane.KubeRouter},
}

// Register adds the suite's flags to fs: a suite has only the flags it reads.
func (o *Options) Register(fs *flag.FlagSet, suite Suite) {
	o.Suite = suite
	fs.StringVar(&o.DataPlane, "tierproof.data-plane", string(dataplane.Lab), "lab (network namespaces, needs root), antrea (Antrea on kind: Docker and the openvswitch module; formerly kind) or kube-router (kube-router on kind, Kubernetes NetworkPolicy only: Docker and make node-image)")
	if suite == Walkthrough {
		fs.StringVar(&o.Scenarios, "tierproof.scenarios", "../../scenarios/antrea-blog", "comma-separated scenario directories")
		fs.StringVar(&o.LabFault, "tierproof.lab-fault", "", "lab: flip one cell, STAGE:FROM>TO:PROBE, to see the suite fail on exactly it")
		fs.DurationVar(&o.IdleSample, "tierproof.idle-sample", 0, "before the first stage probes, read where the machine's CPU goes for this long with nothing probed: the estate's idle baseline (a measurement; kind planes only)")
		fs.IntVar(&o.PerFlowSample, "tierproof.per-flow-sample", 0, "after each stage that matched, probe this many sources' flows again one exec per flow, and log what that costs beside the stage's own execs (a measurement)")
		fs.StringVar(&o.Until, "tierproof.until", "", "play each scenario up to this stage, and no further: its later stages are left out of the run (to play the stages a data plane can enforce, as the K8s NetworkPolicy stages on kube-router)")
		fs.StringVar(&o.OutOfBand, "tierproof.out-of-band", "", "antrea, kube-router: STAGE:FILE, apply FILE's NetworkPolicies behind the scenario's back before STAGE is probed, to see the suite fail on exactly the cells they change")
	}
	fs.StringVar(&o.Reports, "tierproof.reports", "", "where reports are written, one directory per scenario (default: a temporary directory)")
	fs.StringVar(&o.KeepCluster, "tierproof.keep-cluster", "on-failure", "antrea, kube-router: keep what the run created: on-failure, always or never")
	fs.StringVar(&o.AntreaVersion, "tierproof.antrea-version", antrea.DefaultVersion, "antrea: the Antrea release")
	fs.StringVar(&o.AntreaSHA256, "tierproof.antrea-manifest-sha256", "", "antrea: the release manifest's sha256, if neither fixtures/antrea/checksums.txt nor GitHub's release digest gives it")
	fs.StringVar(&o.NodeImage, "tierproof.node-image", "", "antrea, kube-router: the node image (default: "+kind.NodeImage+" for antrea, the local "+nodeimage.Tag+" for kube-router)")
	fs.DurationVar(&o.Timeout, "tierproof.timeout", time.Second, "per-probe timeout")
	fs.StringVar(&o.Prober, "tierproof.prober", "agent", "antrea, kube-router: agent (tierproof's agent probes from every pod) or tools (each pod also runs an image with ping, curl and nc — Debian's, or BusyBox's alone — and probes with them, as the blog does by hand; make tools-images builds them)")
	fs.StringVar(&o.Kubeconfig, "tierproof.kubeconfig", "", "antrea, kube-router: use this existing kind cluster instead of creating one (any other cluster is refused)")
}

// Check refuses flag values the suites cannot act on, and flags given for
// the other data plane, which would be silently ignored.
func (o *Options) Check(fs *flag.FlagSet) error {
	o.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	if o.KeepCluster != "on-failure" && o.KeepCluster != "always" && o.KeepCluster != "never" {
		return fmt.Errorf("-tierproof.keep-cluster %q: want on-failure, always or never", o.KeepCluster)
	}
	plane, deprecated, err := dataplane.ParseID(o.DataPlane)
	if err != nil {
		return fmt.Errorf("-tierproof.data-plane: %w", err)
	}
	if deprecated != "" {
		fmt.Fprintln(fs.Output(), "tierproof: -tierproof.data-plane: "+deprecated)
	}
	o.plane = plane
	if o.Prober != "agent" && o.Prober != "tools" {
		return fmt.Errorf("-tierproof.prober %q: want agent or tools", o.Prober)
	}
	if o.Timeout <= 0 {
		return fmt.Errorf("-tierproof.timeout %v: want a positive duration", o.Timeout)
	}
	if o.Kubeconfig != "" && o.Reports != "" {
		// Each run clears its reports directory (report.PrepareDir): a kept
		// run's kubeconfig there would be gone before the cluster is reached.
		if within(o.Kubeconfig, o.Reports) {
			return fmt.Errorf("-tierproof.kubeconfig %s lies in -tierproof.reports %s, which this run clears first: copy it out (cp %s /tmp/kubeconfig) and pass that", o.Kubeconfig, o.Reports, o.Kubeconfig)
		}
	}
	names := make([]string, 0, len(planeFlags))
	for name := range planeFlags {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if planes := planeFlags[name]; o.set[name] && !slices.Contains(planes, o.plane) {
			var names []string
			for _, p := range planes {
				names = append(names, string(p))
			}
			return fmt.Errorf("-%s applies to -tierproof.data-plane=%s only, and this run uses %s", name, strings.Join(names, " or "), o.plane)
		}
	}
	return nil
}

// within says whether path lies in dir, comparing cleaned absolute paths
// (one may be relative, and a name may start with "..").
func within(path, dir string) bool {
	absPath, err1 := filepath.Abs(path)
	absDir, err2 := filepath.Abs(dir)
	if err1 != nil || err2 != nil {
		return false
	}
	return absPath == absDir || strings.HasPrefix(absPath, absDir+string(filepath.Separator))
}

// Plane is the data plane the run uses (after Check).
func (o *Options) Plane() dataplane.ID { return o.plane }

// Hint is what a user types to give flag=value to this suite.
func (o *Options) Hint(flag, value string) string {
	return fmt.Sprintf(`make %s E2E_FLAGS="-tierproof.%s=%s"`, o.Suite, flag, value)
}

// ReportsDir is -tierproof.reports, made ready for this run's reports (an
// earlier run's cleared: report.PrepareDir), or a temporary directory from temp.
func (o *Options) ReportsDir(temp func() string) (string, error) {
	dir := o.Reports
	if dir == "" {
		dir = temp()
	}
	return dir, report.PrepareDir(dir)
}

// Keep says whether a run's cluster and estate are kept.
func (o *Options) Keep(failed bool) bool {
	return o.KeepCluster == "always" || (o.KeepCluster == "on-failure" && failed)
}

// Outcome records whether any part of a suite run failed — a stage, a
// BeforeAll or AfterAll, a scenario that did not load — or was interrupted,
// for the keep/teardown decision AfterSuite makes. It is fed from
// ReportAfterEach, BeforeSuite and its own signal watch: ReportAfterSuite runs
// after AfterSuite, too late to decide, and a spec an interrupt skips before
// it starts reports a plain skip.
type Outcome struct{ failed, interrupted atomic.Bool }

// Record takes a spec's report.
func (r *Outcome) Record(spec types.SpecReport) {
	if spec.State.Is(types.SpecStateInterrupted) {
		r.interrupted.Store(true)
	}
	if spec.State.Is(types.SpecStateFailureStates) {
		r.failed.Store(true)
	}
}

// Fail records a failure outside any spec (BeforeSuite).
func (r *Outcome) Fail() { r.failed.Store(true) }

// WatchInterrupts records SIGINT and SIGTERM (Ginkgo gets them too, and
// stops the run) until stop is called.
func (r *Outcome) WatchInterrupts() (stop func()) {
	signals := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case <-signals:
			r.interrupted.Store(true)
		case <-done:
		}
	}()
	return func() { signal.Stop(signals); close(done) }
}

// Interrupted says whether the run was interrupted.
func (r *Outcome) Interrupted() bool { return r.interrupted.Load() }

// Failed says whether anything failed or the run was interrupted.
func (r *Outcome) Failed() bool { return r.failed.Load() || r.interrupted.Load() }

func (r *Outcome) verdict() string {
	switch {
	case r.Interrupted():
		return "was interrupted"
	case r.Failed():
		return "failed"
	}
	return "passed"
}

// LabUnavailable is why the lab cannot run here (not root), when the run asks
// for it: such a suite skips, which is not a run that checked nothing.
func (o *Options) LabUnavailable() error {
	if o.plane != dataplane.Lab {
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

// Decision says what Finish will do after a run with this outcome, in one
// line for the log.
func (o *Options) Decision(outcome *Outcome) string {
	verdict := outcome.verdict()
	switch {
	case !o.plane.OnCluster():
		return fmt.Sprintf("the run %s; the lab is removed (-tierproof.keep-cluster applies to antrea and kube-router)", verdict)
	case o.Keep(outcome.Failed()):
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
func (f Fault) CheckAgainst(s *scenario.Scenario) error {
	var stages []string
	for _, st := range s.Stages {
		stages = append(stages, st.Name)
	}
	if !slices.Contains(stages, f.Stage) {
		return fmt.Errorf("-tierproof.lab-fault: scenario %s has no stage %q (stages: %s)", s.Name, f.Stage, strings.Join(stages, ", "))
	}
	var endpoints []string
	for _, p := range s.Topology.Pods {
		endpoints = append(endpoints, p.EndpointName())
	}
	for _, e := range s.Topology.Externals {
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

// DataPlaneOptions are the options of this run's data plane on estate (the
// cluster planes' estate; the lab's is given per scenario): a cluster named
// tierproof; its kubeconfig and the agent image archive in a working
// directory under the user's cache directory, apart from the reports (which
// CI publishes); the estate's topology in reportsDir; and for Antrea its
// release, the manifest cached in the user's cache directory too.
func (o *Options) DataPlaneOptions(estate cluster.EstateSpec, run, agentBinary, reportsDir string, logf func(string, ...any)) (dataplane.Options, error) {
	cacheDir, err := os.UserCacheDir()
	if err != nil {
		return dataplane.Options{}, err
	}
	const cluster = "tierproof"
	d := dataplane.Options{Plane: o.plane, AgentBinary: agentBinary, Logf: logf, Estate: estate, Run: run,
		ClusterName: cluster, WorkDir: filepath.Join(cacheDir, "tierproof", "work", cluster), ReportsDir: reportsDir,
		NodeImage: o.NodeImage, Kubeconfig: o.Kubeconfig}
	if o.Prober == "tools" {
		d.ToolsCache = filepath.Join(cacheDir, "tierproof", "node-image")
	}
	if o.plane == dataplane.Antrea {
		d.Antrea = antrea.Enforcer{Version: o.AntreaVersion, SHA256: o.AntreaSHA256,
			Manifests: antrea.Manifests{BaseURL: antrea.Releases, API: antrea.ReleaseAPI,
				CacheDir: filepath.Join(cacheDir, "tierproof"), OverrideHint: o.Hint("antrea-manifest-sha256", "<sha256>")}}
	}
	return d, nil
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
