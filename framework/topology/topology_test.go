package topology_test

import (
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/topology"
)

func TestParseValidTopology(t *testing.T) {
	topo, err := topology.Parse([]byte(`
namespaces: [{name: x, labels: {ns: x}}, {name: "y"}]
pods:
  - {namespace: x, name: a, ip: 10.0.0.1, ports: [{name: http, port: 80}]}
  - {namespace: "y", name: a, ip: 10.0.0.2, serviceAccount: robot}
externals: [{name: ext, ip: 192.0.2.1}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := topo.Namespaces[1].EffectiveLabels()[topology.NamespaceNameLabel]; got != "y" {
		t.Errorf("name label = %q, want y: the API server adds it to every namespace", got)
	}
	if topo.Pods[0].ServiceAccountName() != "default" || topo.Pods[1].ServiceAccountName() != "robot" {
		t.Errorf("service accounts: %q %q", topo.Pods[0].ServiceAccountName(), topo.Pods[1].ServiceAccountName())
	}
	if topo.Pods[1].EndpointName() != "y/a" {
		t.Errorf("endpoint name %q", topo.Pods[1].EndpointName())
	}
}

func TestParseRejectsBadTopologies(t *testing.T) {
	cases := map[string]struct{ doc, want string }{
		"no endpoints":                {"namespaces: [{name: x}]\npods: []\n", "the topology has no endpoints"},
		"unknown field":               {"namespaces: []\npods: []\nservices: []\n", `line 3: services: unknown field (known: externals, namespaces, nodes, pods)`},
		"pod in missing ns":           {"namespaces: [{name: x}]\npods: [{namespace: q, name: a, ip: 10.0.0.1}]\n", `pods[0].namespace: Not found: "q"`},
		"duplicate pod":               {"namespaces: [{name: x}]\npods: [{namespace: x, name: a, ip: 10.0.0.1}, {namespace: x, name: a, ip: 10.0.0.2}]\n", `pods[1].name: Duplicate value: "x/a"`},
		"duplicate namespace":         {"namespaces: [{name: x}, {name: x}]\npods: []\n", `namespaces[1].name: Duplicate value: "x"`},
		"bad IP":                      {"namespaces: [{name: x}]\npods: [{namespace: x, name: a, ip: 10.0.0.300}]\n", `pods[0].ip: Invalid value: "10.0.0.300"`},
		"shared IP":                   {"namespaces: [{name: x}]\npods: [{namespace: x, name: a, ip: 10.0.0.1}]\nexternals: [{name: e, ip: 10.0.0.1}]\n", "already used by pod x/a"},
		"external named like a pod":   {"namespaces: [{name: x}]\npods: [{namespace: x, name: a, ip: 10.0.0.1}]\nexternals: [{name: x/a, ip: 10.0.0.2}]\n", `externals[0].name: Duplicate value`},
		"bad label":                   {"namespaces: [{name: x, labels: {\"bad key!\": v}}]\npods: []\n", "namespaces[0].labels"},
		"bad port protocol":           {"namespaces: [{name: x}]\npods: [{namespace: x, name: a, ip: 10.0.0.1, ports: [{port: 80, protocol: ICMP}]}]\n", "pods[0].ports[0].protocol"},
		"unquoted y":                  {"namespaces: [{name: x}]\npods:\n  - {namespace: x, name: a, ip: 10.0.0.1, labels: {ns: y}}\n", `line 3: unquoted y is read as a boolean`},
		"ephemeral range upside down": {"namespaces: [{name: x}]\npods: [{namespace: x, name: a, ip: 10.0.0.1, ephemeralPorts: {from: 50000, to: 40000}}]\n", "pods[0].ephemeralPorts.to: Invalid value: 40000: must not be below from (50000)"},
		"external ephemeral port 0":   {"namespaces: [{name: x}]\npods: []\nexternals: [{name: e, ip: 10.0.0.9, ephemeralPorts: {from: 0, to: 10}}]\n", "externals[0].ephemeralPorts.from"},
		"unknown node":                {"namespaces: [{name: x}]\nnodes: [{name: n1}]\npods: [{namespace: x, name: a, ip: 10.0.0.1, node: n2}]\n", `pods[0].node: Not found: "n2"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := topology.Parse([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
