package dataplane

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/tierproof/tierproof/framework/matrix"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/netlab"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/probe"
	"github.com/tierproof/tierproof/framework/topology"
)

// LabPlane is the network-namespace lab standing in for Antrea: it enforces
// the model's own verdicts, so it checks the harness (agent, engine,
// comparison, reports), never Antrea. Faults, if set, alters a stage's plan.
type LabPlane struct {
	*netlab.Lab
	base     *topology.Topology // as built; Reset returns to it
	topology *topology.Topology // with the labels stages changed
	probes   []model.Probe
	sctp     bool // the kernel has SCTP
	Faults   func(stage int, plan *netlab.Plan)
}

// Name labels every report of a lab run honestly.
func (*LabPlane) Name() string {
	return "lab data plane (network namespaces enforcing the model's verdicts, not Antrea)"
}

// Semantics are Antrea's: the lab enforces the model's own verdicts.
func (*LabPlane) Semantics() model.Semantics { return model.Antrea }

// Probeable: every flow, SCTP ones when the kernel has SCTP: every lab
// endpoint runs the agent.
func (p *LabPlane) Probeable(f probe.Flow) error {
	if !p.sctp && f.Probe.Protocol == model.SCTP {
		return errors.New("this kernel has no SCTP")
	}
	return nil
}

// Relabel changes the lab's labels; the next Apply programs their verdicts.
func (p *LabPlane) Relabel(_ context.Context, changes []topology.LabelChange) error {
	t := p.topology.DeepCopy()
	if err := t.Relabel(changes); err != nil {
		return err
	}
	p.topology = t
	return nil
}

// Reset returns the lab to its first labels and lets every flow through, so
// that the next scenario starts afresh.
func (p *LabPlane) Reset(context.Context) error {
	p.topology = p.base.DeepCopy()
	return p.Program(netlab.Plan{})
}

// Apply programs the lab with the verdicts the model gives the stage's policies.
func (p *LabPlane) Apply(_ context.Context, stage int, policies *policy.Set) error {
	m, err := model.Compile(p.topology, policies)
	if err != nil {
		return err
	}
	// A lab shared by several scenarios serves all their probes; the probes a
	// stage's rules make ambiguous (unpinned ones under source-port rules)
	// are not the stage's own and get no verdicts.
	var probes []model.Probe
	for _, pr := range p.probes {
		if m.CheckProbe(pr) == nil {
			probes = append(probes, pr)
		}
	}
	expected, err := matrix.Expected(m, probes)
	if err != nil {
		return err
	}
	plan := netlab.Plan{Verdicts: map[netlab.Cell]model.Verdict{}}
	for _, c := range expected.Cells() {
		// A pinned probe's Allow is listed: the lab must let it through even
		// where the same port's unpinned probe is denied.
		if c.Expected.Verdict != model.Allow || c.Probe.SourcePort != 0 {
			plan.Verdicts[netlab.Cell{From: c.From, To: c.To, Probe: c.Probe}] = c.Expected.Verdict
		}
	}
	if p.Faults != nil {
		p.Faults(stage, &plan)
	}
	return p.Program(plan)
}

// NewLab builds a lab mirroring topo — one namespace per pod and external
// host, at its own address, each agent serving the ports probes need — as a
// data plane. Close it when done.
func NewLab(ctx context.Context, topo *topology.Topology, probes []model.Probe, agentBinary string) (*LabPlane, error) {
	var names []string
	ips := map[string]netip.Addr{}
	add := func(name, ip string) error {
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			return fmt.Errorf("endpoint %s: %w", name, err)
		}
		names = append(names, name)
		ips[name] = addr
		return nil
	}
	for _, p := range topo.Pods {
		if err := add(p.EndpointName(), p.IP); err != nil {
			return nil, err
		}
	}
	for _, e := range topo.Externals {
		if err := add(e.Name, e.IP); err != nil {
			return nil, err
		}
	}
	ports := probe.AgentPorts(probes)
	lab, err := netlab.New(ctx, netlab.Config{Endpoints: names, Ports: ports, AgentBinary: agentBinary, IPs: ips})
	if err != nil {
		return nil, err
	}
	return &LabPlane{Lab: lab, base: topo, topology: topo.DeepCopy(), probes: probes, sctp: netlab.HasSCTP()}, nil
}
