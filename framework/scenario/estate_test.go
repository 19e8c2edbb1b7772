package scenario_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/scenario"
)

const shop = "../../examples/shop"

// A scenario with an estate needs no topology and no probes: both come
// from its workloads, its externals and its policies, and it says so.
func TestAScenarioDerivesItsTopologyAndProbesFromItsEstate(t *testing.T) {
	s, err := scenario.Load(shop)
	if err != nil {
		t.Fatal(err)
	}
	if s.Estate == nil || len(s.Topology.Pods) != 8 || len(s.Topology.Externals) != 3 {
		t.Fatalf("estate %v, %d pods, %d externals", s.Estate != nil, len(s.Topology.Pods), len(s.Topology.Externals))
	}
	var probes []string
	for _, p := range s.Probes {
		probes = append(probes, p.String())
	}
	if got, want := strings.Join(probes, " "), "icmp tcp/8080 tcp/7070 tcp/6379 tcp/5050 tcp/9090 tcp/8000 tcp/443"; got != want {
		t.Errorf("probes %s, want %s", got, want)
	}
	values := s.ValuesFor(s.Topology)
	if values["customers-pool.cidr"] != "172.18.0.240/28" || values["customers-client-2.ip"] != "172.18.0.242" || values["gateway.ip"] != "172.18.0.100" {
		t.Errorf("values: %v", values)
	}
	if !slices.ContainsFunc(s.Derived, func(l string) bool { return strings.HasPrefix(l, "probes (scenario.yaml sets none): icmp") }) {
		t.Errorf("derived: %q", s.Derived)
	}
}

// A port only a policy names is probed too (the policy is about it), once;
// probes: in scenario.yaml overrides the derivation.
func TestPortsThePoliciesNameAreProbed(t *testing.T) {
	dir := copyScenario(t, shop)
	edit(t, filepath.Join(dir, "01-app-rules", "shop.yaml"), "        - port: 5050", "        - port: 5050\n        - port: 5353\n          protocol: UDP")
	s, err := scenario.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(s.Probes, model.Probe{Protocol: model.UDP, Port: 5353}) ||
		!slices.ContainsFunc(s.Derived, func(l string) bool { return strings.Contains(l, "udp/5353 (ports the policies name)") }) {
		t.Errorf("probes %v, derived %q", s.Probes, s.Derived)
	}
	edit(t, filepath.Join(dir, "scenario.yaml"), "estate: estate\n", "estate: estate\nprobes: [tcp/80]\n")
	if s, err = scenario.Load(dir); err != nil || len(s.Probes) != 1 {
		t.Errorf("probes: %v, %v", s.Probes, err)
	}
}

// What is wrong in a scenario's estate and externals is one line each.
func TestEstateScenarioErrors(t *testing.T) {
	for name, c := range map[string]struct{ old, new, want string }{
		"estate and topology":              {"estate: estate\n", "estate: estate\ntopology: antrea-blog\n", `topology: Invalid value: "antrea-blog": set estate or topology, not both`},
		"neither":                          {"estate: estate\n", "", "estate: Required value: the directory of the scenario's workloads"},
		"a missing estate":                 {"estate: estate\n", "estate: nowhere\n", "nowhere: no such file or directory"},
		"a bad port":                       {"ports: [tcp/443]", "ports: [http]", `externals[0].ports[0]: Invalid value: "http": want tcp/PORT, udp/PORT or sctp/PORT`},
		"a pool that serves":               {"clients: 2}", "clients: 2, ports: [tcp/80]}", "externals[1].ports: Forbidden: a client pool serves no port"},
		"two pools":                        {"clients: 2}", "clients: 2}\n  - {name: more, clients: 1}", "externals[2].clients: Forbidden: one client pool per scenario"},
		"a big pool":                       {"clients: 2}", "clients: 14}", "externals[1].clients: Invalid value: 14: a client pool has 1 to 13 hosts"},
		"an external twice":                {"name: customers,", "name: gateway,", `externals[1].name: Duplicate value: "gateway"`},
		"an external named as a namespace": {"name: gateway,", "name: shop,", "external shop has the name of a namespace of the estate"},
		"externals without an estate":      {"estate: estate\n", "topology: antrea-blog\n", "externals: Forbidden: externals, nodes and coreDNS come with an estate"},
		"a workload without labels":        {"", "", "spec.template.metadata.labels: Required value"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := copyScenario(t, shop)
			if c.old == "" {
				edit(t, filepath.Join(dir, "estate", "10-shop.yaml"), "      labels: {app: redis, tier: cache}\n", "")
				edit(t, filepath.Join(dir, "estate", "10-shop.yaml"), "    matchLabels: {app: redis}\n", "    matchLabels: {}\n")
			} else {
				edit(t, filepath.Join(dir, "scenario.yaml"), c.old, c.new)
			}
			_, err := scenario.Load(dir)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v\nwant %q", err, c.want)
			}
		})
	}
}
