package policy_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	antreav1beta1 "github.com/tierproof/tierproof/apis/antrea/v1beta1"
	"github.com/tierproof/tierproof/framework/policy"
)

const tier = "apiVersion: crd.antrea.io/v1beta1\nkind: Tier\nmetadata: {name: t1}\nspec: {priority: 10}\n"

func TestDecodeSortsKindsAndKeepsSources(t *testing.T) {
	data := "# leading comment\n---\n" + tier + "---\n" +
		"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: x}\nspec: {podSelector: {}}\n---\n" +
		"apiVersion: crd.antrea.io/v1beta1\nkind: NetworkPolicy\nmetadata: {name: anp, namespace: x}\nspec: {priority: 1}\n"
	objects, err := policy.Decode("in.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	set, err := policy.NewSet(objects)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Tiers) != 1 || len(set.K8sNetworkPolicies) != 1 || len(set.NetworkPolicies) != 1 {
		t.Fatalf("kinds not sorted: %+v", set)
	}
	if got := set.K8sNetworkPolicies[0].Source.String(); got != "in.yaml (document 2)" {
		t.Errorf("source = %q, want in.yaml (document 2): the comment-only document still counts", got)
	}
	var _ *networkingv1.NetworkPolicy = set.K8sNetworkPolicies[0].Object
	var _ *antreav1beta1.NetworkPolicy = set.NetworkPolicies[0].Object
}

func TestBadInputNamesFileDocumentObjectAndField(t *testing.T) {
	cases := []struct {
		name, data string
		want       []string
	}{
		// Every unknown field, each on its own line naming file, document and
		// object, with its line counted from the file's start (the Tier takes
		// lines 1-4, the separator line 5).
		{"unknown fields", tier + "---\napiVersion: crd.antrea.io/v1beta1\nkind: ClusterNetworkPolicy\nmetadata: {name: p}\nspec:\n  priority: 1\n  prio: 2\n  ingress: [{action: Drop, fromm: []}]\n",
			[]string{"in.yaml (document 1): ClusterNetworkPolicy/p: line 11: spec.prio: unknown field",
				"\nin.yaml (document 1): ClusterNetworkPolicy/p: line 12: spec.ingress[0].fromm: unknown field"}},
		{"unknown kind", "apiVersion: crd.antrea.io/v1beta1\nkind: Foo\nmetadata: {name: x}\n",
			[]string{"in.yaml (document 0)", `unsupported kind "Foo"`}},
		{"kind of another API", "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n",
			[]string{`unsupported kind "Pod" in apiVersion "v1"`}},
		{"missing kind", "metadata: {name: x}\n", []string{"in.yaml (document 0)", "apiVersion and kind are required"}},
		{"broken YAML", "apiVersion: crd.antrea.io/v1beta1\nkind: Tier\nmetadata: {name: x\n", []string{"in.yaml (document 0)", "yaml"}},
		{"wrong type (bare y is a YAML 1.1 boolean)", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: y}\nspec: {podSelector: {}}\n",
			[]string{"in.yaml (document 0)", `line 3: unquoted y is read as a boolean (YAML 1.1); write "y"`}},
		{"a bare y in a later document", tier + "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: y}\nspec: {podSelector: {}}\n",
			[]string{"in.yaml (document 1): line 8: unquoted y"}},
		{"duplicate field", "apiVersion: crd.antrea.io/v1beta1\nkind: Tier\nmetadata: {name: x}\nspec: {priority: 1, priority: 2}\n",
			[]string{`Tier/x`, "priority"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := policy.Decode("in.yaml", []byte(tc.data))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestSetRefusesDuplicatesAndMissingNamespaces(t *testing.T) {
	for name, tc := range map[string]struct{ data, want string }{
		"duplicate": {tier + "---\n" + tier, "in.yaml (document 1): Tier/t1: duplicate of the object in in.yaml (document 0)"},
		"no namespace": {"apiVersion: crd.antrea.io/v1beta1\nkind: Group\nmetadata: {name: g}\nspec: {}\n",
			`metadata.namespace: Required value`},
		"namespace on a cluster-scoped kind": {"apiVersion: crd.antrea.io/v1beta1\nkind: Tier\nmetadata: {name: t, namespace: x}\nspec: {priority: 3}\n",
			"cluster-scoped"},
	} {
		t.Run(name, func(t *testing.T) {
			objects, err := policy.Decode("in.yaml", []byte(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := policy.NewSet(objects); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewSet error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestLoadReadsDirectoriesInLexicalOrder(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("b.yml", strings.Replace(tier, "t1", "second", 1))
	write("a.yaml", strings.Replace(tier, "t1", "first", 1))
	write("notes.txt", "not a manifest")
	set, err := policy.Load(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Tiers) != 2 || set.Tiers[0].Object.Name != "first" || set.Tiers[1].Object.Name != "second" {
		t.Fatalf("tiers = %v, want first then second", set.Tiers)
	}
	if _, err := policy.Load(context.Background(), filepath.Join(dir, "missing.yaml")); err == nil {
		t.Fatal("missing file accepted")
	}
}
