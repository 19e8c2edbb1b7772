// Package e2e holds the options of tierproof's Ginkgo suites (the walkthrough
// suite is in e2e_suite_test.go; suites/conformance shares the options), so
// that tools and tests can check flags against them.
package e2e

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tierproof/tierproof/framework/cluster"
	"github.com/tierproof/tierproof/framework/model"
)

// Options configure a suite run; every field is a -tierproof.* flag.
type Options struct {
	DataPlane     string
	Scenarios     string
	Reports       string
	KeepCluster   string
	AntreaVersion string
	AntreaSHA256  string
	NodeImage     string
	Timeout       time.Duration
	// Kubeconfig selects an existing cluster instead of creating one; it is
	// refused unless it is a kind cluster or AllowExistingCluster is set.
	Kubeconfig           string
	AllowExistingCluster bool
	// LabFault flips one cell in the lab, to see the suite fail on it:
	// "STAGE:FROM>TO:PROBE", e.g. "block-all:prod-app/ubuntu-16-04>ssh-server:tcp/22".
	LabFault string
}

// Register adds the suite's flags to fs.
func (o *Options) Register(fs *flag.FlagSet) {
	fs.StringVar(&o.DataPlane, "tierproof.data-plane", "lab", "lab (network namespaces, needs root) or kind (needs Docker and the openvswitch module)")
	fs.StringVar(&o.Scenarios, "tierproof.scenarios", "../../scenarios/antrea-blog", "comma-separated scenario directories")
	fs.StringVar(&o.Reports, "tierproof.reports", "", "where reports are written, one directory per scenario (default: a temporary directory)")
	fs.StringVar(&o.KeepCluster, "tierproof.keep-cluster", "on-failure", "kind: keep what the run created: on-failure, always or never")
	fs.StringVar(&o.AntreaVersion, "tierproof.antrea-version", cluster.DefaultAntreaVersion, "kind: the Antrea release")
	fs.StringVar(&o.AntreaSHA256, "tierproof.antrea-manifest-sha256", "", "kind: the release manifest's sha256, if fixtures/antrea/checksums.txt does not record it")
	fs.StringVar(&o.NodeImage, "tierproof.node-image", cluster.NodeImage, "kind: the node image (the Kubernetes version), pinned by digest")
	fs.DurationVar(&o.Timeout, "tierproof.timeout", time.Second, "per-probe timeout")
	fs.StringVar(&o.Kubeconfig, "tierproof.kubeconfig", "", "kind: use this existing cluster instead of creating one (refused unless it is a kind cluster)")
	fs.StringVar(&o.LabFault, "tierproof.lab-fault", "", "lab: flip one cell, STAGE:FROM>TO:PROBE, to see the suite fail on exactly it")
	fs.BoolVar(&o.AllowExistingCluster, "tierproof.allow-existing-cluster", false, "kind: use -tierproof.kubeconfig's cluster even if it is not a kind cluster: it gets drop-all policies")
}

// Check refuses flag values the suites cannot act on.
func (o *Options) Check() error {
	if o.KeepCluster != "on-failure" && o.KeepCluster != "always" && o.KeepCluster != "never" {
		return fmt.Errorf("-tierproof.keep-cluster %q: want on-failure, always or never", o.KeepCluster)
	}
	if o.DataPlane != "lab" && o.DataPlane != "kind" {
		return fmt.Errorf("-tierproof.data-plane %q: want lab or kind", o.DataPlane)
	}
	return nil
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

// BootOptions are the options of a kind run of this suite on estate: a cluster
// named tierproof, its kubeconfig and snapshots in reports, Antrea's manifest
// cached in the user's cache directory.
func (o *Options) BootOptions(estate cluster.EstateSpec, agentBinary, reports string, logf func(string, ...any)) (cluster.BootOptions, error) {
	cacheDir, err := os.UserCacheDir()
	if err != nil {
		return cluster.BootOptions{}, err
	}
	return cluster.BootOptions{ClusterName: "tierproof", WorkDir: reports, NodeImage: o.NodeImage,
		CacheDir: filepath.Join(cacheDir, "tierproof"), AntreaVersion: o.AntreaVersion, AntreaSHA256: o.AntreaSHA256,
		AgentBinary: agentBinary, Kubeconfig: o.Kubeconfig, AllowExistingCluster: o.AllowExistingCluster,
		Estate: estate, Logf: logf}, nil
}
