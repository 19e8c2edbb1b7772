package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// Antrea's docs/cluster-network-policy.md (v2.7.0) gives two sample
// ClusterNetworkPolicies and says what each does: the Admin one denies
// "ingress to Pods in selected Namespaces from all Namespaces", the Baseline
// one is a "default deny" of every pod's ingress from every namespace. A
// namespaces peer holds pods only, so an external host is not denied.
func TestAntreaDocsClusterNetworkPolicyExamples(t *testing.T) {
	const dir = "../../examples/cluster-network-policy"
	sensitive := func(name string) bool { return strings.HasPrefix(name, "sensitive-ns/") }
	pod := func(name string) bool { return strings.Contains(name, "/") }
	cases := []struct {
		file string
		want func(from, to string) string
	}{
		{"admin-deny.yaml", func(from, to string) string {
			if from != to && pod(from) && sensitive(to) {
				return "Drop"
			}
			return "Allow"
		}},
		{"baseline-deny.yaml", func(from, to string) string {
			if from != to && pod(from) && pod(to) {
				return "Drop"
			}
			return "Allow"
		}},
	}
	for _, c := range cases {
		out, err := run(t, "simulate", "--topology", dir+"/topology.yaml", "--policies", dir+"/"+c.file, "-o", "json")
		if err != nil {
			t.Fatalf("%s: %v\n%s", c.file, err, out)
		}
		var result struct {
			Semantics string
			Flows     []struct{ From, To, Verdict string }
		}
		if err := json.Unmarshal([]byte(out), &result); err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if result.Semantics != "Antrea" || len(result.Flows) != 25 {
			t.Fatalf("%s: semantics %q, %d flows; want Antrea, 25", c.file, result.Semantics, len(result.Flows))
		}
		for _, f := range result.Flows {
			if want := c.want(f.From, f.To); f.Verdict != want {
				t.Errorf("%s: %s → %s: %s, the doc says %s", c.file, f.From, f.To, f.Verdict, want)
			}
		}
	}
}
