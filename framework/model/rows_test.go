package model_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/fixtures"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/topology"
)

// randomSets is how many random policy sets the property test compiles.
const randomSets = 10000

// TestRowsDecideAsFlowsDo holds the set evaluator (Row, which the matrix
// uses) to the per-flow one (Evaluate, which explain uses) on every cell of
// random policy sets shaped like the conformance catalog's: every tier, Pass,
// priorities that tie, peers by pod, namespace, ipBlock, `namespaces: Self`
// and `sameLabels`, named ports at both ends, port ranges, pinned client
// ports, ICMP, K8s NetworkPolicies with their isolation, ClusterNetworkPolicies
// of both tiers, on the three semantics.
func TestRowsDecideAsFlowsDo(t *testing.T) {
	topo := randomTopology()
	const shards = 4 // in parallel: the machine's cores
	seen := make([]map[string]int, shards)
	counts := make([][2]int, shards)
	t.Run("shards", func(t *testing.T) {
		for shard := range shards {
			t.Run(fmt.Sprint(shard), func(t *testing.T) {
				t.Parallel()
				seen[shard] = map[string]int{}
				counts[shard] = checkRandomSets(t, topo, uint64(shard), shards, randomSets/shards, seen[shard])
			})
		}
	})
	total := map[string]int{}
	compiled, cells := 0, 0
	for shard := range shards {
		for k, v := range seen[shard] {
			total[k] += v
		}
		compiled, cells = compiled+counts[shard][0], cells+counts[shard][1]
	}
	t.Logf("%d random sets, %d cells: rows and flows agree; %v", compiled, cells, total)
	// The sets must reach every way a side is decided, or agreeing says little.
	for _, kind := range []string{"antrea-tiers", "k8s-networkpolicy", "k8s-isolation", "baseline", "default", "no-side", "self", "pass", "tie", "Drop", "Reject", "cnp", "cnp-baseline-pass"} {
		if total[kind] == 0 {
			t.Errorf("no cell was decided by %s: the generator misses a shape", kind)
		}
	}
}

// checkRandomSets compares rows and flows on want compiled sets, their seeds
// first, first+step, …, and returns how many sets compiled and cells agreed.
func checkRandomSets(t *testing.T, topo *topology.Topology, first, step uint64, want int, seen map[string]int) [2]int {
	probes := []string{"tcp/80", "tcp/8080", "udp/53", "icmp", "tcp/80,sourcePort=40000", "tcp/8090,sourcePort=50000"}
	compiled, cells := 0, 0
	for seed := first; compiled < want; seed += step {
		if seed > 4*randomSets {
			t.Fatalf("only %d of %d random sets compiled: the generator makes too many the model refuses", compiled, want)
		}
		r := rand.New(rand.NewPCG(seed, 26))
		// Each semantics gets the kinds its data plane enforces.
		semantics, kinds := model.Antrea, []func(*rand.Rand, int) string{randomACNP, randomANP, randomKNP, randomCNP}
		switch r.IntN(4) {
		case 0:
			semantics, kinds = model.KubeRouter, kinds[:3]
		case 1:
			semantics, kinds = model.Spec, kinds[2:]
		}
		manifests := randomPolicies(r, kinds)
		m, err := compileYAMLFor(t, topo, manifests, semantics)
		if err != nil {
			continue // an invalid combination the generator made: Antrea refuses it too
		}
		compiled++
		for _, ps := range probes {
			p, err := model.ParseProbe(ps)
			if err != nil {
				t.Fatal(err)
			}
			if m.CheckProbe(p) != nil {
				continue // the model refuses to guess this probe's client port
			}
			cells += compareRows(t, m, p, seed, manifests, seen)
		}
	}
	return [2]int{compiled, cells}
}

func compareRows(t *testing.T, m *model.Model, p model.Probe, seed uint64, manifests string, seen map[string]int) int {
	t.Helper()
	n := len(m.Endpoints())
	table := model.NewDecisionTable()
	var sc model.RowScratch
	egress, ingress := make([][]uint32, n), make([][]uint32, n)
	for a := range n {
		egress[a], ingress[a] = make([]uint32, n), make([]uint32, n)
		m.Row(model.Egress, a, p, table, egress[a], &sc)
		m.Row(model.Ingress, a, p, table, ingress[a], &sc)
	}
	names := m.Endpoints()
	for from := range n {
		for to := range n {
			want := m.Evaluate(from, to, p)
			got := model.Combine(table.Decision(egress[from][to]), table.Decision(ingress[to][from]))
			if got != want {
				t.Fatalf("seed %d, %s → %s %s:\nrow:  %s\nflow: %s\npolicies:\n%s", seed, names[from], names[to], p,
					describe(got), describe(want), manifests)
			}
			for _, d := range []model.Decision{want.Egress, want.Ingress} {
				seen[d.Phase.String()]++
				seen[d.Verdict.String()]++
				if d.PassedBy != nil {
					seen["pass"]++
				}
				if d.Rule != nil && d.Rule.Policy.Kind == model.KindUpstreamCNP {
					seen["cnp"]++
				}
				if d.PassedBy != nil && d.PassedBy.Tier == "Baseline" {
					seen["cnp-baseline-pass"]++
				}
				if d.Tie != nil {
					seen["tie"]++
				}
			}
		}
	}
	return n * n
}

func describe(r model.Result) string {
	side := func(d model.Decision) string {
		s := fmt.Sprintf("%s by %s", d.Verdict, who(d))
		if d.PassedBy != nil {
			s += " after Pass by " + d.PassedBy.Policy.String() + " " + d.PassedBy.ID()
		}
		if d.Tie != nil {
			s += ", tied with " + d.Tie.Policy.String() + " " + d.Tie.ID()
		}
		return s
	}
	return fmt.Sprintf("%s (egress %s; ingress %s)", r.Verdict, side(r.Egress), side(r.Ingress))
}

// randomTopology is three namespaces (one without the `team` label, so
// sameLabels leaves it out), pods with named ports that differ between
// pods, and an external host.
func randomTopology() *topology.Topology {
	t := &topology.Topology{}
	nsLabels := []map[string]string{{"env": "a", "team": "x"}, {"env": "b", "team": "x"}, {"env": "a"}}
	for ns, labels := range nsLabels {
		name := fmt.Sprintf("ns%d", ns)
		t.Namespaces = append(t.Namespaces, topology.Namespace{Name: name, Labels: labels})
		for i := range 3 {
			port := int32(80)
			if (ns+i)%2 == 1 {
				port = 8080
			}
			t.Pods = append(t.Pods, topology.Pod{Namespace: name, Name: fmt.Sprintf("p%d", i),
				Labels: map[string]string{"app": []string{"web", "db"}[i%2], "role": []string{"r1", "r2", "r1"}[i]},
				IP:     fmt.Sprintf("10.0.%d.%d", ns, i+1),
				Ports:  []topology.ContainerPort{{Name: "http", Port: port}, {Name: "dns", Port: 53, Protocol: "UDP"}}})
		}
	}
	t.Externals = append(t.Externals, topology.External{Name: "ext", IP: "192.168.0.5"})
	return t
}

func pick[T any](r *rand.Rand, options ...T) T { return options[r.IntN(len(options))] }

// randomPolicies is one to eight policies of the given kinds.
func randomPolicies(r *rand.Rand, kinds []func(*rand.Rand, int) string) string {
	var docs []string
	for i := range 1 + r.IntN(8) {
		docs = append(docs, pick(r, kinds...)(r, i))
	}
	return strings.Join(docs, "\n---\n")
}

// randomCNP is a network-policy-api ClusterNetworkPolicy: either tier, every
// action (a Baseline Pass only compiles on the spec's order), priorities that
// tie, pods / namespaces / networks peers, ports, ranges and named ports.
func randomCNP(r *rand.Rand, i int) string {
	var b strings.Builder
	subject := pick(r, "namespaces: "+randomNamespaceSelector(r), "pods: {namespaceSelector: "+randomNamespaceSelector(r)+", podSelector: "+randomSelector(r)+"}")
	fmt.Fprintf(&b, "apiVersion: policy.networking.k8s.io/%s\nkind: ClusterNetworkPolicy\nmetadata: {name: cnp%d}\nspec:\n  tier: %s\n  priority: %d\n  subject: {%s}\n",
		pick(r, "v1alpha2", "v1beta1"), i, pick(r, "Admin", "Baseline"), r.IntN(3), subject)
	for _, dir := range []string{"ingress", "egress"} {
		if r.IntN(3) == 0 {
			continue
		}
		peerKey := map[string]string{"ingress": "from", "egress": "to"}[dir]
		fmt.Fprintf(&b, "  %s:\n", dir)
		for range 1 + r.IntN(2) {
			peers := []string{"namespaces: " + randomNamespaceSelector(r), "pods: {namespaceSelector: " + randomNamespaceSelector(r) + ", podSelector: " + randomSelector(r) + "}"}
			if dir == "egress" {
				peers = append(peers, "networks: ["+pick(r, "10.0.1.0/24", "192.168.0.0/24", "10.0.0.0/16", "10.0.2.2/32")+"]")
			}
			fmt.Fprintf(&b, "  - action: %s\n    %s: [{%s}]\n", pick(r, "Accept", "Deny", "Pass"), peerKey, pick(r, peers...))
			if protocols := pick(r, "", "", "[{tcp: {destinationPort: {number: 80}}}]", "[{destinationNamedPort: http}]", "[{udp: {}}]",
				"[{tcp: {destinationPort: {range: {start: 8000, end: 8100}}}}]", "[{destinationNamedPort: dns}, {tcp: {}}]"); protocols != "" {
				fmt.Fprintf(&b, "    protocols: %s\n", protocols)
			}
		}
	}
	return b.String()
}

func randomSelector(r *rand.Rand) string {
	return pick(r, "{}", "{matchLabels: {app: web}}", "{matchLabels: {app: db}}", "{matchLabels: {role: r1}}",
		"{matchExpressions: [{key: role, operator: In, values: [r2]}]}")
}

func randomNamespaceSelector(r *rand.Rand) string {
	return pick(r, "{}", "{matchLabels: {env: a}}", "{matchLabels: {env: b}}", "{matchLabels: {team: x}}")
}

func randomAction(r *rand.Rand, tier string) string {
	if tier == "baseline" {
		return pick(r, "Allow", "Drop", "Reject")
	}
	return pick(r, "Allow", "Drop", "Reject", "Pass")
}

func randomAntreaPorts(r *rand.Rand) string {
	return pick(r, "", "", "ports: [{protocol: TCP, port: 80}]", "ports: [{port: http}]", "ports: [{protocol: TCP, port: 8000, endPort: 8100}]",
		"ports: [{protocol: UDP, port: 53}]", "ports: [{protocol: UDP, port: dns}]", "protocols: [{icmp: {icmpType: 8}}]", "protocols: [{icmp: {}}]",
		"ports: [{protocol: TCP, sourcePort: 40000, sourceEndPort: 40100}]", "ports: [{protocol: TCP, port: 8090, sourcePort: 49000, sourceEndPort: 49999}]",
		"ports: [{protocol: TCP, port: http}, {protocol: UDP, port: 53}]")
}

func randomAntreaPeer(r *rand.Rand, cluster, ingress bool) string {
	options := []string{
		"podSelector: " + randomSelector(r),
		"namespaceSelector: " + randomNamespaceSelector(r),
		"podSelector: " + randomSelector(r) + ", namespaceSelector: " + randomNamespaceSelector(r),
		"ipBlock: {cidr: " + pick(r, "10.0.1.0/24", "192.168.0.0/24", "10.0.0.0/16", "10.0.2.2/32") + "}",
	}
	if cluster {
		options = append(options, "namespaces: {match: Self}", "namespaces: {sameLabels: [team]}", "podSelector: "+randomSelector(r)+", namespaces: {match: Self}")
	}
	_ = ingress
	return "{" + pick(r, options...) + "}"
}

func randomAntreaRules(r *rand.Rand, tier string, cluster bool) string {
	var b strings.Builder
	for _, dir := range []string{"ingress", "egress"} {
		if r.IntN(3) == 0 {
			continue
		}
		fmt.Fprintf(&b, "  %s:\n", dir)
		peerKey := map[string]string{"ingress": "from", "egress": "to"}[dir]
		for range 1 + r.IntN(2) {
			fmt.Fprintf(&b, "  - action: %s\n", randomAction(r, tier))
			if r.IntN(5) > 0 {
				fmt.Fprintf(&b, "    %s: [%s]\n", peerKey, randomAntreaPeer(r, cluster, dir == "ingress"))
			}
			if ports := randomAntreaPorts(r); ports != "" {
				fmt.Fprintf(&b, "    %s\n", ports)
			}
		}
	}
	return b.String()
}

func randomACNP(r *rand.Rand, i int) string {
	tier := pick(r, "securityops", "networkops", "platform", "application", "baseline")
	appliedTo := pick(r, "podSelector: "+randomSelector(r), "namespaceSelector: "+randomNamespaceSelector(r),
		"podSelector: "+randomSelector(r)+", namespaceSelector: "+randomNamespaceSelector(r))
	return fmt.Sprintf(`apiVersion: crd.antrea.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: acnp%d}
spec:
  tier: %s
  priority: %d
  appliedTo: [{%s}]
%s`, i, tier, 1+r.IntN(3), appliedTo, randomAntreaRules(r, tier, true))
}

func randomANP(r *rand.Rand, i int) string {
	tier := pick(r, "securityops", "application", "baseline")
	return fmt.Sprintf(`apiVersion: crd.antrea.io/v1beta1
kind: NetworkPolicy
metadata: {name: anp%d, namespace: ns%d}
spec:
  tier: %s
  priority: %d
  appliedTo: [{podSelector: %s}]
%s`, i, r.IntN(3), tier, 1+r.IntN(3), randomSelector(r), randomAntreaRules(r, tier, false))
}

func randomKNP(r *rand.Rand, i int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: knp%d, namespace: ns%d}\nspec:\n  podSelector: %s\n", i, r.IntN(3), randomSelector(r))
	types := pick(r, []string{"Ingress"}, []string{"Egress"}, []string{"Ingress", "Egress"})
	fmt.Fprintf(&b, "  policyTypes: [%s]\n", strings.Join(types, ", "))
	for _, dir := range types {
		key, peerKey := map[string]string{"Ingress": "ingress", "Egress": "egress"}[dir], map[string]string{"Ingress": "from", "Egress": "to"}[dir]
		if r.IntN(4) == 0 {
			continue // isolation only
		}
		fmt.Fprintf(&b, "  %s:\n", key)
		for range 1 + r.IntN(2) {
			peer := pick(r, "", "podSelector: "+randomSelector(r), "namespaceSelector: "+randomNamespaceSelector(r),
				"podSelector: "+randomSelector(r)+", namespaceSelector: "+randomNamespaceSelector(r), "ipBlock: {cidr: 10.0.0.0/16, except: [10.0.1.0/24]}")
			ports := pick(r, "", "ports: [{port: 80}]", "ports: [{port: http}]", "ports: [{protocol: UDP, port: dns}]", "ports: [{port: 8000, endPort: 8100}]")
			fmt.Fprintf(&b, "  - ")
			sep := ""
			if peer != "" {
				fmt.Fprintf(&b, "%s: [{%s}]", peerKey, peer)
				sep = "\n    "
			}
			if ports != "" {
				fmt.Fprintf(&b, "%s%s", sep, ports)
			}
			if peer == "" && ports == "" {
				fmt.Fprintf(&b, "{}")
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// The large estate has sameLabels-free, named-port-heavy shapes at 1 000
// pods: rows and flows agree there too, on a sample of rows.
func TestRowsDecideAsFlowsDoOnTheLargeEstate(t *testing.T) {
	topo, set := fixtures.LargeEstate()
	m, err := model.Compile(topo, set)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := model.ParseProbe("tcp/80")
	n := len(m.Endpoints())
	table := model.NewDecisionTable()
	var sc model.RowScratch
	egress, ingress := make([]uint32, n), make([]uint32, n)
	for a := 0; a < n; a += 37 {
		m.Row(model.Egress, a, p, table, egress, &sc)
		m.Row(model.Ingress, a, p, table, ingress, &sc)
		for o := range n {
			if got, want := table.Decision(egress[o]), m.Evaluate(a, o, p).Egress; got != want {
				t.Fatalf("egress of %d towards %d: row %+v, flow %+v", a, o, got, want)
			}
			if got, want := table.Decision(ingress[o]), m.Evaluate(o, a, p).Ingress; got != want {
				t.Fatalf("ingress of %d from %d: row %+v, flow %+v", a, o, got, want)
			}
		}
	}
}
