// Package dataplane is what enforces a stage and answers its probes: the
// DataPlane interface and its optional capabilities, the three planes a run
// can choose (the network-namespace lab, Antrea on kind, kube-router on kind)
// and Open, which builds the one asked for. The runner, the suites and
// `tierproof lab` reach a data plane only through here.
package dataplane

import (
	"context"
	"fmt"

	"github.com/tierproof/tierproof/framework/hostload"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/probe"
	"github.com/tierproof/tierproof/framework/topology"
)

// DataPlane is what enforces a stage: Antrea or kube-router on a cluster, or the lab.
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
	// Probeable says why the flow cannot be probed (nil: it can): its source
	// runs no prober, or its destination does not serve the probed port.
	// Such cells are reported as not probed, with why.
	Probeable(f probe.Flow) error
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

// ProberChooser is a data plane whose sources do not all probe with the agent
// (the pods' own ping, curl, wget and nc): the probe engine's Probers.
type ProberChooser interface {
	Prober(source string) probe.Prober // nil: the agent
}

// Resetter is a data plane that can return to its estate as booted (no
// policies, first labels), so that the next scenario starts afresh.
type Resetter interface {
	Reset(ctx context.Context) error
}

// LoadMeter is a data plane on this machine whose CPU use can be read, part
// by part, while a stage is probed.
type LoadMeter interface {
	MeterLoad(ctx context.Context) (*hostload.Meter, error)
}

// ID names a data plane a run can choose.
type ID string

// The data planes, from the most real to the fastest.
const (
	Antrea     ID = "antrea"      // Antrea on kind
	KubeRouter ID = "kube-router" // kube-router on kind: Kubernetes NetworkPolicies only
	Lab        ID = "lab"         // network namespaces enforcing the model's own verdicts
)

// kindAlias is Antrea's former ID, still accepted: users' scripts pass it.
const kindAlias = "kind"

// ParseID reads a data plane's ID; deprecated, when not empty, is the note
// to print for an ID accepted under its former name.
func ParseID(s string) (id ID, deprecated string, err error) {
	switch ID(s) {
	case Antrea, KubeRouter, Lab:
		return ID(s), "", nil
	}
	if s == kindAlias {
		return Antrea, `data plane "kind" is now called "antrea" (kube-router runs on kind too); "kind" still works for now`, nil
	}
	return "", "", fmt.Errorf("data plane %q: want lab, antrea or kube-router", s)
}

// OnCluster says whether the data plane boots a kind cluster.
func (id ID) OnCluster() bool { return id == Antrea || id == KubeRouter }
