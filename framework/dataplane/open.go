package dataplane

import (
	"context"
	"fmt"

	"github.com/tierproof/tierproof/framework/antrea"
	"github.com/tierproof/tierproof/framework/cluster"
	"github.com/tierproof/tierproof/framework/kuberouter"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/netlab"
	"github.com/tierproof/tierproof/framework/nodeimage"
	"github.com/tierproof/tierproof/framework/probe"
	"github.com/tierproof/tierproof/framework/toolsimage"
	"github.com/tierproof/tierproof/framework/topology"
)

// Options choose a data plane and say what it is built for.
type Options struct {
	Plane       ID
	AgentBinary string // the static tierproof-agent
	Logf        func(format string, args ...any)

	// The lab: the endpoints it mirrors and the probes its agents serve.
	Topology *topology.Topology
	Probes   []model.Probe

	// The cluster planes: the estate Boot deploys, and where.
	Estate      cluster.EstateSpec
	ClusterName string // kind cluster name
	WorkDir     string // the kubeconfig and the agent image archive: never published
	ReportsDir  string // the estate's topology.yaml
	NodeImage   string // empty: kind's for Antrea, the local image for kube-router
	Kubeconfig  string // an existing kind cluster instead of a new one
	// ToolsCache, when set, makes the pods probe with their own ping, curl
	// and nc: the tools images are built or taken from this cache
	// (toolsimage.Build) and run in every pod (cluster.BootOptions.Tools).
	ToolsCache string
	// Run names what the plane applies (the server-side apply owner label).
	Run    string
	Antrea antrea.Enforcer // Version, SHA256 and Manifests; Antrea only
}

// Opened is a data plane ready to play stages on, with the estate it starts from.
type Opened struct {
	Plane DataPlane
	// Topology is the estate as built (the lab) or as booted (a cluster).
	Topology *topology.Topology
	// Values are the run's own template values (the external hosts'
	// addresses on kind); nil for the lab, whose addresses are the topology's.
	Values map[string]string
	// Cluster is the cluster plane beneath Plane; nil for the lab.
	Cluster *cluster.ClusterPlane
	// Estate is what Boot deployed; nil for the lab.
	Estate *cluster.Estate
	lab    *LabPlane
}

// Open builds the data plane o asks for: the lab, mirroring o.Topology, or a
// kind cluster booted with o.Estate and the chosen enforcer. Close it when
// done — even after an error, when it is not nil: a cluster that failed to
// boot is kept or removed as its run decides.
func Open(ctx context.Context, o Options) (*Opened, error) {
	if o.Plane == Lab {
		if err := netlab.Available(); err != nil {
			return nil, err
		}
		lab, err := NewLab(ctx, o.Topology, o.Probes, o.AgentBinary)
		if err != nil {
			return nil, err
		}
		return &Opened{Plane: lab, Topology: o.Topology, lab: lab}, nil
	}
	boot, err := o.BootOptions()
	if err != nil {
		return nil, err
	}
	if o.ToolsCache != "" {
		if boot.Tools, err = toolsimage.Build(ctx, toolsimage.Options{CacheDir: o.ToolsCache, Mirror: toolsimage.DefaultMirror, Logf: o.Logf}); err != nil {
			return nil, err
		}
	}
	estate, err := cluster.Boot(ctx, boot)
	if err != nil {
		// Boot returns what it made so far: Close keeps it or removes it.
		return &Opened{Estate: estate}, err
	}
	cp, err := estate.Plane(o.Run)
	if err != nil {
		return &Opened{Estate: estate}, err
	}
	opened := &Opened{Plane: cp, Topology: estate.Topology, Values: estate.Values, Cluster: cp, Estate: estate}
	if o.Plane == Antrea {
		opened.Plane = antreaPlane{cp}
	}
	return opened, nil
}

// BootOptions are what cluster.Boot needs for the chosen cluster plane:
// Antrea as configured, or kube-router on the local node image with stand-ins
// for application containers (that image is for machines without a registry).
func (o Options) BootOptions() (cluster.BootOptions, error) {
	b := cluster.BootOptions{DataPlane: string(o.Plane), ClusterName: o.ClusterName, WorkDir: o.WorkDir, ReportsDir: o.ReportsDir, NodeImage: o.NodeImage,
		AgentBinary: o.AgentBinary, Kubeconfig: o.Kubeconfig, Estate: o.Estate, Logf: o.Logf}
	switch o.Plane {
	case Antrea:
		enforcer := o.Antrea
		b.Enforcer = &enforcer
	case KubeRouter:
		b.Enforcer = kuberouter.Enforcer{}
		if b.NodeImage == "" {
			b.NodeImage = nodeimage.Tag
		}
		b.StandIns = true
	default:
		return cluster.BootOptions{}, fmt.Errorf("data plane %s boots no cluster", o.Plane)
	}
	return b, nil
}

// Close removes the lab, or finishes the cluster run: what it created is
// removed unless keep.
func (o *Opened) Close(ctx context.Context, keep bool) error {
	if o.lab != nil {
		return o.lab.Close()
	}
	return o.Estate.Finish(ctx, keep)
}

// antreaPlane is the cluster plane where Antrea enforces: it can trace a
// mismatched flow with Antrea's Traceflow.
type antreaPlane struct{ *cluster.ClusterPlane }

func (p antreaPlane) Trace(ctx context.Context, f probe.Flow) (string, error) {
	return antrea.Trace(ctx, p.Client, f)
}
