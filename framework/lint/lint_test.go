package lint_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/fixtures"
	"github.com/tierproof/tierproof/framework/lint"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/scenario"
	"github.com/tierproof/tierproof/framework/topology"
)

const blog = "../../scenarios/antrea-blog"

// stockBlog is the blog's estate as a stock cluster has it: kube-system and
// monitoring without the ns label the harness adds.
func stockBlog(t *testing.T) *topology.Topology {
	t.Helper()
	topo, err := fixtures.Topology("antrea-blog")
	if err != nil {
		t.Fatal(err)
	}
	for i := range topo.Namespaces {
		if n := &topo.Namespaces[i]; n.Name == "kube-system" || n.Name == "monitoring" {
			delete(n.Labels, "ns")
		}
	}
	return topo
}

func blogStages(t *testing.T, topo *topology.Topology, upTo string) *policy.Set {
	t.Helper()
	s, err := scenario.Load(blog)
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range s.Stages {
		if st.Name == upTo {
			set, err := s.Policies(i, s.ValuesFor(topo))
			if err != nil {
				t.Fatal(err)
			}
			return set
		}
	}
	t.Fatalf("no stage %s", upTo)
	return nil
}

func find(findings []lint.Finding, check, object, field string) *lint.Finding {
	for i, f := range findings {
		if f.Check == check && f.Object == object && (field == "" || f.Field == field) {
			return &findings[i]
		}
	}
	return nil
}

func run(t *testing.T, topo *topology.Topology, set *policy.Set) []lint.Finding {
	t.Helper()
	findings, err := lint.Run(context.Background(), topo, set)
	if err != nil {
		t.Fatal(err)
	}
	return findings
}

// The seed's two pitfalls, on a stock cluster: a NotIn on ns spares no
// namespace that lacks ns (kube-system is then dropped, CoreDNS with it), and
// SecurityOps's env=test Allow decides Yelb's flows before any K8s
// NetworkPolicy is consulted (the blog's closing question).
func TestSeedPitfalls(t *testing.T) {
	topo := stockBlog(t)
	findings := run(t, topo, blogStages(t, topo, "yelb-microsegmentation"))

	notIn := find(findings, lint.CheckSelectorNoEffect, "ClusterNetworkPolicy/block-all-whitelist", "spec.appliedTo[0].namespaceSelector.matchExpressions[0]")
	if notIn == nil || notIn.Severity != lint.Warning || !strings.Contains(notIn.Message, "does not exclude namespace kube-system") ||
		!strings.Contains(notIn.Fix, "kubectl label namespace kube-system ns=kube-system") || !strings.Contains(notIn.Source, "block-all-whitelist.yaml") {
		t.Errorf("NotIn pitfall: %+v", notIn)
	}
	dns := find(findings, lint.CheckDNSCutOff, "ClusterNetworkPolicy/block-all-whitelist", "spec.ingress[0]")
	if dns == nil || dns.Severity != lint.Error || !strings.Contains(dns.Message, "ingress side") {
		t.Errorf("CoreDNS dropped by block-all's ingress rule: %+v", dns)
	}
	for _, knp := range []string{"yelb-middletier", "yelb-cache", "yelb-backend"} {
		f := find(findings, lint.CheckShadowedK8s, "K8sNetworkPolicy/yelb/"+knp, "spec.ingress[0]")
		if f == nil || !strings.Contains(f.Message, "ClusterNetworkPolicy/isolate-test-env ingress[1] (Allow, tier securityops)") {
			t.Errorf("%s shadowed by SecurityOps: %+v", knp, f)
		}
	}
	// yelb-frontend allows port 80 from anywhere: the load balancer's clients
	// reach the UI through it (no Antrea rule selects external sources there).
	if f := find(findings, lint.CheckShadowedK8s, "K8sNetworkPolicy/yelb/yelb-frontend", ""); f != nil {
		t.Errorf("yelb-frontend decides external flows: %+v", f)
	}
}

// With the namespaces labelled as the harness does, stages 1 to 5 are clean:
// the walkthrough up to Yelb's frontend does what it says.
func TestHarnessLabelledBlogIsClean(t *testing.T) {
	topo, err := fixtures.Topology("antrea-blog")
	if err != nil {
		t.Fatal(err)
	}
	if findings := run(t, topo, blogStages(t, topo, "allow-yelb-frontend")); len(findings) > 0 {
		t.Errorf("findings on a clean set: %+v", findings)
	}
}

// Block-all without the DNS allow of stage 2 cuts DNS off on the egress side.
func TestDNSCutOffByDropAll(t *testing.T) {
	topo, err := fixtures.Topology("antrea-blog")
	if err != nil {
		t.Fatal(err)
	}
	set, err := policy.Load(context.Background(), filepath.Join(blog, "03-block-all"))
	if err != nil {
		t.Fatal(err)
	}
	f := find(run(t, topo, set), lint.CheckDNSCutOff, "ClusterNetworkPolicy/block-all-whitelist", "spec.egress[0]")
	if f == nil || !strings.Contains(f.Message, "egress side") || !strings.Contains(f.Fix, "53") {
		t.Errorf("egress DNS finding: %+v", f)
	}
}

func catalogCase(t *testing.T, name string) (*topology.Topology, *policy.Set) {
	t.Helper()
	c, err := scenario.LoadCatalog("../../scenarios/conformance")
	if err != nil {
		t.Fatal(err)
	}
	topo, err := fixtures.Topology("conformance")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range c.Cases {
		if s.Name == name {
			set, err := s.Policies(len(s.Stages)-1, s.ValuesFor(topo))
			if err != nil {
				t.Fatal(err)
			}
			return topo, set
		}
	}
	t.Fatalf("no case %s", name)
	return nil, nil
}

func TestCatalogCasesBuiltOnShadowing(t *testing.T) {
	// Emergency decides x→y before SecurityOps's Allow can.
	topo, set := catalogCase(t, "emergency-before-securityops")
	f := find(run(t, topo, set), lint.CheckShadowedRule, "ClusterNetworkPolicy/securityops-allow-x-to-y", "spec.ingress[0]")
	if f == nil || !strings.Contains(f.Message, "ClusterNetworkPolicy/emergency-drop-x-to-y ingress[0] (Drop, tier emergency)") {
		t.Errorf("shadowed SecurityOps Allow: %+v", f)
	}
	// Baseline never runs for pods a K8s NetworkPolicy isolates.
	topo, set = catalogCase(t, "baseline-allow-cannot-undo-k8s-isolation")
	f = find(run(t, topo, set), lint.CheckBaselineIsolated, "ClusterNetworkPolicy/baseline-allow-x", "spec.ingress[0]")
	if f == nil || !strings.Contains(f.Message, "K8sNetworkPolicy/y/allow-from-z isolation") {
		t.Errorf("baseline Allow under K8s isolation: %+v", f)
	}
	topo, set = catalogCase(t, "applied-to-selects-nothing")
	if f := find(run(t, topo, set), lint.CheckAppliesToNothing, "ClusterNetworkPolicy/drop-into-nobody", ""); f == nil {
		t.Error("a policy selecting no pod is not reported")
	}
	// A case whose every rule decides something is clean.
	topo, set = catalogCase(t, "namespaces-match-self")
	if findings := run(t, topo, set); len(findings) > 0 {
		t.Errorf("findings on a clean case: %+v", findings)
	}
}

func TestMissingReferencesAndAbsentKeys(t *testing.T) {
	topo, set := conformanceWith(t, "refs.yaml", `apiVersion: crd.antrea.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: in-a-missing-tier}
spec:
  tier: nowhere
  priority: 1
  appliedTo: [{namespaceSelector: {}}]
  ingress: [{action: Drop}]
---
apiVersion: crd.antrea.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: missing-group}
spec:
  priority: 1
  appliedTo: [{podSelector: {matchExpressions: [{key: team, operator: DoesNotExist}]}}]
  ingress: [{action: Drop, from: [{group: ghosts}]}]
`)
	findings := run(t, topo, set)
	if f := find(findings, lint.CheckMissingTier, "ClusterNetworkPolicy/in-a-missing-tier", "spec.tier"); f == nil || f.Severity != lint.Error || !strings.Contains(f.Source, "refs.yaml (document 0)") {
		t.Errorf("missing tier: %+v", f)
	}
	if f := find(findings, lint.CheckMissingGroup, "ClusterNetworkPolicy/missing-group", "spec.ingress[0].from[0].group"); f == nil || !strings.Contains(f.Message, "ClusterGroup/ghosts") {
		t.Errorf("missing group: %+v", f)
	}
	if f := find(findings, lint.CheckSelectorNoEffect, "ClusterNetworkPolicy/missing-group", "spec.appliedTo[0].podSelector.matchExpressions[0]"); f == nil || !strings.Contains(f.Message, "no pod carries the label team") {
		t.Errorf("DoesNotExist on a key no pod carries: %+v", f)
	}
}

// Egress rules under policyTypes [Ingress] isolate egress on Antrea
// (networkpolicy_controller.go, processNetworkPolicy) and are ignored by the
// spec (NetworkPolicySpec.PolicyTypes); left-out policyTypes agree.
func TestRulesOutsidePolicyTypes(t *testing.T) {
	topo, set := conformanceWith(t, "types.yaml", `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ingress-typed, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress: [{from: [{podSelector: {}}]}]
  egress: [{to: [{podSelector: {}}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: untyped, namespace: z}
spec:
  podSelector: {}
  egress: [{to: [{podSelector: {}}]}]
`)
	findings := run(t, topo, set)
	f := find(findings, lint.CheckPolicyTypes, "K8sNetworkPolicy/x/ingress-typed", "spec.egress")
	if f == nil || f.Severity != lint.Warning || !strings.Contains(f.Message, "Antrea enforces them") || !strings.Contains(f.Fix, "add Egress") {
		t.Errorf("egress rules outside policyTypes: %+v", f)
	}
	if f := find(findings, lint.CheckPolicyTypes, "K8sNetworkPolicy/x/ingress-typed", "spec.ingress"); f != nil {
		t.Errorf("ingress is listed, no finding expected: %+v", f)
	}
	if f := find(findings, lint.CheckPolicyTypes, "K8sNetworkPolicy/z/untyped", ""); f != nil {
		t.Errorf("policyTypes left out: both readings agree, no finding expected: %+v", f)
	}
}

// conformanceWith is the conformance topology with manifests written to a
// file of that name, loaded as the CLI loads them.
func conformanceWith(t *testing.T, name, manifests string) (*topology.Topology, *policy.Set) {
	t.Helper()
	topo, err := fixtures.Topology("conformance")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(manifests), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := policy.Load(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return topo, set
}

// A group as appliedTo beside a `namespaces` peer is admitted by Antrea's
// webhook but its controller ignores the group for that rule
// (antreaclusternetworkpolicy.go, per-namespace createAppliedToGroup): lint
// flags it, and judges the rest of the input without that policy.
func TestGroupAppliedToWithANamespacesPeer(t *testing.T) {
	topo, set := conformanceWith(t, "per-ns.yaml", `apiVersion: crd.antrea.io/v1beta1
kind: ClusterGroup
metadata: {name: a-pods}
spec: {podSelector: {matchLabels: {pod: a}}}
---
apiVersion: crd.antrea.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: same-ns-only}
spec:
  priority: 1
  appliedTo: [{group: a-pods}]
  ingress: [{action: Allow, from: [{namespaces: {match: Self}}]}, {action: Drop}]
`)
	findings := run(t, topo, set)
	f := find(findings, lint.CheckGroupPerNS, "ClusterNetworkPolicy/same-ns-only", "spec.ingress[0].from[0].namespaces")
	if f == nil || f.Severity != lint.Error || !strings.Contains(f.Fix, "podSelector/namespaceSelector in appliedTo") {
		t.Fatalf("group appliedTo with a Self peer: %+v (all: %+v)", f, findings)
	}
}

// A rule after a Pass is skipped by the Pass (Antrea's docs, "Pass": the flow
// skips the remaining Antrea tiers), not by the K8s NetworkPolicy that then
// decides: lint names the Pass.
func TestARulePassSkipsIsBlamedOnThePass(t *testing.T) {
	topo, set := conformanceWith(t, "pass.yaml", `apiVersion: crd.antrea.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: hand-to-k8s}
spec:
  tier: securityops
  priority: 1
  appliedTo: [{namespaceSelector: {matchLabels: {ns: "y"}}}]
  ingress: [{action: Pass}]
---
apiVersion: crd.antrea.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: too-late}
spec:
  priority: 1
  appliedTo: [{namespaceSelector: {matchLabels: {ns: "y"}}}]
  ingress: [{action: Drop, from: [{namespaceSelector: {matchLabels: {ns: x}}}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: "y"}
spec: {podSelector: {}, policyTypes: [Ingress]}
`)
	f := find(run(t, topo, set), lint.CheckShadowedRule, "ClusterNetworkPolicy/too-late", "spec.ingress[0]")
	if f == nil || !strings.Contains(f.Message, "ClusterNetworkPolicy/hand-to-k8s") || !strings.Contains(f.Message, "passes them on") || strings.Contains(f.Message, "isolation") {
		t.Fatalf("a rule the Pass skips: %+v, want it blamed on the Pass", f)
	}
}

// Two rules tied on tier, priority and rule index that act differently:
// Antrea's order between them is undefined (its priority assigner gives equal
// priorities to both), so lint warns.
func TestTiedRulesThatDisagreeAreAWarning(t *testing.T) {
	topo, set := conformanceWith(t, "tie.yaml", `apiVersion: crd.antrea.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: allow-x}
spec:
  priority: 5
  appliedTo: [{namespaceSelector: {matchLabels: {ns: "y"}}}]
  ingress: [{action: Allow, from: [{namespaceSelector: {matchLabels: {ns: x}}}]}]
---
apiVersion: crd.antrea.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: drop-x}
spec:
  priority: 5
  appliedTo: [{namespaceSelector: {matchLabels: {ns: "y"}}}]
  ingress: [{action: Drop, from: [{namespaceSelector: {matchLabels: {ns: x}}}]}]
`)
	f := find(run(t, topo, set), lint.CheckTie, "ClusterNetworkPolicy/allow-x", "spec.ingress[0]")
	if f == nil || f.Severity != lint.Warning || !strings.Contains(f.Message, "ClusterNetworkPolicy/drop-x ingress[0]") || !strings.Contains(f.Message, "undefined") {
		t.Fatalf("a tie: %+v", f)
	}
}

// The ClusterNetworkPolicy checks, on the catalog's cases where Antrea's
// interleaving bites: a Platform-tier ACNP decides before the Admin tier, an
// Admin Pass skips the Application tier too, two CNPs of one tier and
// priority disagree, and a Tier sits at the Admin tier's priority.
func TestClusterNetworkPolicyChecks(t *testing.T) {
	topo, set := catalogCase(t, "platform-before-admin")
	f := find(run(t, topo, set), lint.CheckCNPShadowed, "CNP/admin-accept-x", "spec.ingress[0]")
	if f == nil || !strings.Contains(f.Message, "ClusterNetworkPolicy/platform-drop-x ingress[0] (Drop, tier platform)") {
		t.Errorf("a CNP shadowed by a Platform ACNP: %+v", f)
	}
	topo, set = catalogCase(t, "admin-pass-skips-application-tier")
	f = find(run(t, topo, set), lint.CheckCNPPassSkips, "CNP/admin-pass-x-a", "spec.ingress[0]")
	if f == nil || !strings.Contains(f.Message, "ClusterNetworkPolicy/application-drop-x ingress[0] (Drop, tier application) would have matched") {
		t.Errorf("an Admin Pass skipping the Application tier: %+v", f)
	}
	// An Admin Pass into K8s NetworkPolicies skips no Antrea tier: no finding.
	topo, set = catalogCase(t, "admin-pass-to-k8s-networkpolicy")
	if f := find(run(t, topo, set), lint.CheckCNPPassSkips, "CNP/admin-pass-all", ""); f != nil {
		t.Errorf("a Pass that skips nothing Antrea-native: %+v", f)
	}
	topo, set = conformanceWith(t, "tie.yaml", `apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: accept-x}
spec: {tier: Baseline, priority: 5, subject: {namespaces: {matchLabels: {ns: "y"}}}, ingress: [{action: Accept, from: [{namespaces: {matchLabels: {ns: x}}}]}]}
---
apiVersion: policy.networking.k8s.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: deny-all}
spec: {tier: Baseline, priority: 5, subject: {namespaces: {}}, ingress: [{action: Deny, from: [{namespaces: {}}]}]}
`)
	f = find(run(t, topo, set), lint.CheckTie, "CNP/accept-x", "spec.ingress[0]")
	if f == nil || !strings.Contains(f.Message, "CNP/deny-all ingress[0]") {
		t.Errorf("a tie within the Baseline tier: %+v", f)
	}
	topo, set = conformanceWith(t, "tier.yaml", "apiVersion: crd.antrea.io/v1beta1\nkind: Tier\nmetadata: {name: mine}\nspec: {priority: 220}\n")
	if f := find(run(t, topo, set), lint.CheckTierAtCNPAdmin, "Tier/mine", "spec.priority"); f == nil || f.Severity != lint.Warning {
		t.Errorf("a Tier at 220: %+v", f)
	}
	// On the spec's order there are no Antrea tiers to warn about.
	findings, err := lint.RunFor(context.Background(), topo, set, model.Spec)
	if err == nil || !strings.Contains(err.Error(), "Tier/mine") {
		t.Errorf("a Tier on the spec's order: %v, %+v", err, findings)
	}
}
