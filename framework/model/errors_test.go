package model_test

import (
	"strconv"
	"strings"
	"testing"
)

// Manifests Antrea's admission would refuse, or that the model cannot judge,
// are errors naming the document, the policy and the field — never a guess.
func TestCompileRefusesWhatAntreaRefusesOrTheModelCannotJudge(t *testing.T) {
	topo := loadTopology(t, "xyz")
	tierDoc := func(name string, prio int) string {
		return "apiVersion: crd.antrea.io/v1beta1\nkind: Tier\nmetadata: {name: " + name + "}\nspec: {priority: " + strconv.Itoa(prio) + "}"
	}
	cases := map[string]struct{ manifests, want string }{
		"unknown tier": {acnp("p", "  tier: nosuch\n  priority: 1\n"+toXA+"  ingress: [{action: Drop}]\n"),
			`test.yaml (document 0): ClusterNetworkPolicy/p: spec.tier: Invalid value: "nosuch": no such Tier (tiers: emergency, securityops, networkops, platform, application, baseline; a Tier of your own must be in the input)`},
		"lowercase alias of a custom name is not a static tier": {acnp("p", "  tier: SECURITYOPS\n  priority: 1\n"+toXA+"  ingress: [{action: Drop}]\n"),
			`spec.tier: Invalid value: "SECURITYOPS": no such Tier`},
		"priority missing": {acnp("p", toXA+"  ingress: [{action: Drop}]\n"), "spec.priority: Invalid value: 0: is required and must be from 1 to 10000"},
		"action missing":   {acnp("p", "  priority: 1\n"+toXA+"  ingress: [{from: [{podSelector: {}}]}]\n"), "spec.ingress[0].action: Required value"},
		"Deny is not an action": {acnp("p", "  priority: 1\n"+toXA+"  ingress: [{action: Deny}]\n"),
			`spec.ingress[0].action: Unsupported value: "Deny"`},
		"Pass in baseline": {acnp("p", "  tier: baseline\n  priority: 1\n"+toXA+"  ingress: [{action: Pass}]\n"),
			"Pass is not allowed in the baseline tier"},
		"appliedTo in spec and rule": {acnp("p", "  priority: 1\n"+toXA+"  ingress: [{action: Drop, appliedTo: [{podSelector: {}}]}]\n"),
			"spec.ingress[0].appliedTo: Forbidden"},
		"appliedTo nowhere": {acnp("p", "  priority: 1\n  ingress: [{action: Drop}]\n"), "spec.ingress[0].appliedTo: Required value"},
		"bad CIDR": {acnp("p", "  priority: 1\n"+toXA+"  ingress: [{action: Drop, from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]\n"),
			`spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "10.0.0.0/33"`},
		"except outside the CIDR": {acnp("p", "  priority: 1\n"+toXA+"  ingress: [{action: Drop, from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.1.0.0/24]}}]}]\n"),
			"spec.ingress[0].from[0].ipBlock.except[0]"},
		"bad selector operator": {acnp("p", "  priority: 1\n"+toXA+"  ingress: [{action: Drop, from: [{namespaceSelector: {matchExpressions: [{key: a, operator: Near}]}}]}]\n"),
			"spec.ingress[0].from[0].namespaceSelector"},
		"fqdn":         {acnp("p", "  priority: 1\n"+toXA+"  egress: [{action: Drop, to: [{fqdn: example.com}]}]\n"), "spec.egress[0].to[0].fqdn: Forbidden: tierproof's model does not evaluate FQDN peers"},
		"toServices":   {acnp("p", "  priority: 1\n"+toXA+"  egress: [{action: Drop, toServices: [{name: s, namespace: x}]}]\n"), "spec.egress[0].toServices: Forbidden"},
		"l7":           {acnp("p", "  priority: 1\n"+toXA+"  ingress: [{action: Allow, l7Protocols: [{http: {path: /}}]}]\n"), "spec.ingress[0].l7Protocols: Forbidden"},
		"nodeSelector": {acnp("p", "  priority: 1\n"+toXA+"  egress: [{action: Drop, to: [{nodeSelector: {}}]}]\n"), "spec.egress[0].to[0].nodeSelector: Forbidden"},
		"to in an ingress rule": {acnp("p", "  priority: 1\n"+toXA+"  ingress: [{action: Drop, to: [{podSelector: {}}]}]\n"),
			"spec.ingress[0].to: unknown field"},
		"fqdn in an ingress rule": {acnp("p", "  priority: 1\n"+toXA+"  ingress: [{action: Drop, from: [{fqdn: example.com}]}]\n"),
			"spec.ingress[0].from[0].fqdn: unknown field"},
		"externalEntitySelector in an ACNP": {acnp("p", "  priority: 1\n"+toXA+"  egress: [{action: Drop, to: [{externalEntitySelector: {}}]}]\n"),
			"spec.egress[0].to[0].externalEntitySelector: unknown field"},
		"namespaces in an ANP": {anp("x", "p", "  priority: 1\n  appliedTo: [{podSelector: {}}]\n  ingress: [{action: Drop, from: [{namespaces: {match: Self}}]}]\n"),
			"spec.ingress[0].from[0].namespaces: unknown field"},
		"namespaceSelector in an ANP appliedTo": {anp("x", "p", "  priority: 1\n  appliedTo: [{namespaceSelector: {}}]\n  ingress: [{action: Drop}]\n"),
			"spec.appliedTo[0].namespaceSelector: unknown field (known: externalEntitySelector, group, podSelector)"},
		"ANP in a namespace the topology lacks": {anp("nowhere", "p", "  priority: 1\n  appliedTo: [{podSelector: {}}]\n  ingress: [{action: Drop}]\n"),
			`NetworkPolicy/nowhere/p: metadata.namespace: Not found: "nowhere"`},
		"duplicate rule names": {acnp("p", "  priority: 1\n"+toXA+"  ingress: [{name: r, action: Drop}]\n  egress: [{name: r, action: Drop}]\n"),
			"spec.egress[0].name: Duplicate value"},
		"endPort with a named port": {acnp("p", "  priority: 1\n"+toXA+"  ingress: [{action: Drop, ports: [{port: http, endPort: 90}]}]\n"),
			"spec.ingress[0].ports[0].endPort"},
		"custom tier on a reserved priority": {docs(tierDoc("t", 251), acnp("p", "  tier: t\n  priority: 1\n"+toXA+"  ingress: [{action: Drop}]\n")),
			"Tier/t: spec.priority: Invalid value: 251: is reserved by Antrea"},
		"custom tier on a used priority": {docs(tierDoc("t", 100)), "is already the priority of Tier securityops"},
		"group with two ways": {"apiVersion: crd.antrea.io/v1beta1\nkind: ClusterGroup\nmetadata: {name: g}\nspec: {podSelector: {}, ipBlocks: [{cidr: 10.0.0.0/8}]}",
			"ClusterGroup/g: spec: Invalid value"},
		"service-backed group": {"apiVersion: crd.antrea.io/v1beta1\nkind: ClusterGroup\nmetadata: {name: g}\nspec: {serviceReference: {name: s, namespace: x}}",
			"spec.serviceReference: Forbidden"},
		"K8s peer with ipBlock and selector": {knp("x", "p", "  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]\n"),
			"K8sNetworkPolicy/x/p: spec.ingress[0].from[0].ipBlock: Forbidden"},
		"K8s bad policyType": {knp("x", "p", "  podSelector: {}\n  policyTypes: [Sideways]\n"), `spec.policyTypes[0]: Unsupported value: "Sideways"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			m, err := compileYAML(t, topo, tc.manifests)
			if err == nil {
				t.Fatalf("compiled (%d endpoints), want an error containing %q", len(m.Endpoints()), tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n%v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

// An Antrea NetworkPolicy has no serviceAccount field: Antrea v2.7.0's CRD
// (build/charts/antrea/crds/networkpolicy.yaml) lists podSelector,
// externalEntitySelector and group in appliedTo, and no serviceAccount among
// the peers either; the API server would refuse the field (kubectl's strict
// field validation) or drop it and select something else. A
// ClusterNetworkPolicy keeps it.
func TestAnAntreaNetworkPolicyHasNoServiceAccount(t *testing.T) {
	topo := loadTopology(t, "xyz")
	for _, c := range []struct{ spec, field string }{
		{"  appliedTo: [{serviceAccount: {name: default, namespace: x}}]\n  ingress: [{action: Drop}]\n", "spec.appliedTo[0].serviceAccount"},
		{"  appliedTo: [{podSelector: {}}]\n  ingress: [{action: Drop, from: [{serviceAccount: {name: default, namespace: z}}]}]\n", "spec.ingress[0].from[0].serviceAccount"},
	} {
		anp := "apiVersion: crd.antrea.io/v1beta1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: x}\nspec:\n  priority: 1\n" + c.spec
		_, err := compileYAML(t, topo, anp)
		if err == nil || !strings.Contains(err.Error(), c.field+": unknown field") {
			t.Errorf("%s: %v", c.field, err)
		}
		acnp := strings.Replace(strings.Replace(anp, "kind: NetworkPolicy", "kind: ClusterNetworkPolicy", 1), ", namespace: x}", "}", 1)
		if _, err := compileYAML(t, topo, acnp); err != nil {
			t.Errorf("the same in a ClusterNetworkPolicy: %v", err)
		}
	}
}
