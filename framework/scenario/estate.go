package scenario

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	antreav1beta1 "github.com/tierproof/tierproof/apis/antrea/v1beta1"
	"github.com/tierproof/tierproof/framework/estate"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/topology"
)

// Offline placeholders for the hosts outside the cluster, where kind's
// network would have them (a cluster run finds the real ones): servers
// from .100 up, a client pool in the /28 at .240, as cluster.PlanExternals
// places them.
var (
	serverBase = netip.MustParseAddr("172.18.0.100")
	clientPool = netip.MustParsePrefix("172.18.0.240/28")
)

// maxClients is what a client pool's /28 holds besides its network,
// broadcast and gateway addresses.
const maxClients = 13

func parseExternals(files []externalFile, path *field.Path) ([]External, field.ErrorList) {
	var out []External
	var errs field.ErrorList
	pools := 0
	seen := map[string]bool{}
	for i, f := range files {
		p := path.Index(i)
		for _, msg := range validation.IsDNS1123Label(f.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), f.Name, msg))
		}
		if seen[f.Name] {
			errs = append(errs, field.Duplicate(p.Child("name"), f.Name))
		}
		seen[f.Name] = true
		x := External{Name: f.Name, Clients: f.Clients}
		for j, spec := range f.Ports {
			probe, err := model.ParseProbe(spec)
			if err != nil || probe.Protocol == model.ICMP {
				errs = append(errs, field.Invalid(p.Child("ports").Index(j), spec, "want tcp/PORT, udp/PORT or sctp/PORT"))
				continue
			}
			x.Ports = append(x.Ports, probe)
		}
		switch {
		case f.Clients < 0 || f.Clients > maxClients:
			errs = append(errs, field.Invalid(p.Child("clients"), f.Clients, fmt.Sprintf("a client pool has 1 to %d hosts (they share a /28)", maxClients)))
		case f.Clients > 0 && len(f.Ports) > 0:
			errs = append(errs, field.Forbidden(p.Child("ports"), "a client pool serves no port: it only starts flows"))
		case f.Clients > 0:
			pools++
			if pools == 2 {
				errs = append(errs, field.Forbidden(p.Child("clients"), "one client pool per scenario (the kind network has room for one)"))
			}
		}
		out = append(out, x)
	}
	return out, errs
}

// hosts are the externals as topology endpoints at their offline
// placeholders, and the pool's CIDR as the value NAME-pool.cidr.
func hosts(externals []External) ([]topology.External, map[string]string) {
	var out []topology.External
	values := map[string]string{}
	servers := 0
	for _, x := range externals {
		if x.Clients == 0 {
			out = append(out, topology.External{Name: x.Name, IP: addrAdd(serverBase, servers).String()})
			servers++
			continue
		}
		values[x.Name+"-pool.cidr"] = clientPool.String()
		for i := 1; i <= x.Clients; i++ {
			out = append(out, topology.External{Name: x.Name + "-client-" + strconv.Itoa(i), IP: addrAdd(clientPool.Addr(), i).String()})
		}
	}
	return out, values
}

func addrAdd(a netip.Addr, n int) netip.Addr {
	for range n {
		a = a.Next()
	}
	return a
}

// loadTopology is the scenario's offline topology: derived from its estate,
// or read from its topology file (relative to the scenario).
func (s *Scenario) loadTopology(path string, root *field.Path, f file) (*topology.Topology, error) {
	switch {
	case f.Estate != "":
		// Loading a scenario is quick and not interruptible; its manifests are capped in size.
		e, err := estate.Load(context.Background(), filepath.Join(s.Dir, f.Estate))
		if err != nil {
			return nil, err
		}
		externals, values := hosts(s.Externals)
		topo, err := e.Topology(estate.Layout{Workers: f.Nodes, Externals: externals, CoreDNS: f.CoreDNS})
		if err != nil {
			return nil, err
		}
		s.Estate = e
		for k, v := range values {
			if _, set := s.Values[k]; !set {
				if s.Values == nil {
					s.Values = map[string]string{}
				}
				s.Values[k] = v
			}
		}
		s.Derived = append(s.Derived, e.Summary()...)
		s.Derived = append(s.Derived, fmt.Sprintf("topology: %d pods on %d nodes, %d hosts outside the cluster (derived from the estate; addresses are placeholders a cluster run replaces)",
			len(topo.Pods), len(topo.Nodes), len(topo.Externals)))
		return topo, nil
	}
	file := f.Topology
	if !filepath.IsAbs(file) {
		file = filepath.Join(s.Dir, file)
	}
	topo, err := topology.Load(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", path, root.Child("topology"), err)
	}
	return topo, nil
}

// deriveProbes probes what the estate and the policies can tell apart: ICMP,
// every port a container declares, every port an external serves, and every
// numeric port a policy of any stage names, each once, in that order.
func (s *Scenario) deriveProbes(sets []*policy.Set) {
	var why []string
	add := func(reason string, probes []model.Probe) {
		var added []string
		for _, p := range probes {
			if !slices.Contains(s.Probes, p) {
				s.Probes = append(s.Probes, p)
				added = append(added, p.String())
			}
		}
		if len(added) > 0 {
			why = append(why, strings.Join(added, " ")+" ("+reason+")")
		}
	}
	add("every pod answers ping", []model.Probe{{Protocol: model.ICMP}})
	var declared []model.Probe
	for _, p := range s.Topology.Pods {
		for _, port := range p.Ports {
			declared = append(declared, portProbe(port.Protocol, port.Port))
		}
	}
	add("ports the containers declare", declared)
	for _, x := range s.Externals {
		add("what "+x.Name+" serves", x.Ports)
	}
	var named []model.Probe
	for _, set := range sets {
		named = append(named, policyPorts(set)...)
	}
	add("ports the policies name", named)
	s.Derived = append(s.Derived, "probes (scenario.yaml sets none): "+strings.Join(why, "; "))
}

func portProbe(protocol corev1.Protocol, port int32) model.Probe {
	return model.Probe{Protocol: model.ProtocolOf(protocol), Port: port}
}

// policyPorts are the numeric ports the rules of set name (the first of a
// range); named ports are the containers' and are probed as theirs.
func policyPorts(set *policy.Set) []model.Probe {
	var out []model.Probe
	add := func(protocol *corev1.Protocol, port *intstr.IntOrString) {
		if port == nil || port.Type != intstr.Int {
			return
		}
		p := corev1.ProtocolTCP
		if protocol != nil {
			p = *protocol
		}
		out = append(out, portProbe(p, port.IntVal))
	}
	for _, p := range set.K8sNetworkPolicies {
		for _, r := range p.Object.Spec.Ingress {
			for _, port := range r.Ports {
				add(port.Protocol, port.Port)
			}
		}
		for _, r := range p.Object.Spec.Egress {
			for _, port := range r.Ports {
				add(port.Protocol, port.Port)
			}
		}
	}
	var specs []antreav1beta1.PolicySpec
	for _, p := range set.ClusterNetworkPolicies {
		specs = append(specs, p.Object.Spec.PolicySpec())
	}
	for _, p := range set.NetworkPolicies {
		specs = append(specs, p.Object.Spec.PolicySpec())
	}
	for _, spec := range specs {
		for _, r := range append(slices.Clone(spec.Ingress), spec.Egress...) {
			for _, port := range r.Ports {
				add(port.Protocol, port.Port)
			}
		}
	}
	return out
}
