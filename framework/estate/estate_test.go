package estate_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/estate"
	"github.com/tierproof/tierproof/framework/golden"
	"github.com/tierproof/tierproof/framework/topology"
)

// The example shop's estate derives a topology with a pod per replica, named
// by its workload, with the template's labels, service account and ports,
// spread over kind's two workers; the golden file pins it.
func TestTheShopsTopology(t *testing.T) {
	e, err := estate.Load(context.Background(), filepath.Join("..", "..", "examples", "shop", "estate"))
	if err != nil {
		t.Fatal(err)
	}
	topo, err := e.Topology(estate.Layout{Externals: []topology.External{{Name: "gateway", IP: "172.18.0.100"}}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range topo.Pods {
		names = append(names, p.EndpointName()+"@"+p.Node)
	}
	want := "shop/frontend-0@kind-worker shop/frontend-1@kind-worker2 shop/cart-0@kind-worker shop/redis-0@kind-worker shop/checkout-0@kind-worker payments/payments-0@kind-worker payments/payments-1@kind-worker2 payments/fraud-check-0@kind-worker"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("pods:\n got %s\nwant %s", got, want)
	}
	cart := topo.Pods[2]
	if cart.ServiceAccount != "cart" || cart.Labels["tier"] != "api" || len(cart.Ports) != 1 || cart.Ports[0].Name != "grpc" || cart.Ports[0].Port != 7070 {
		t.Errorf("cart: %+v", cart)
	}
	if got := strings.Join(e.Summary(), "\n"); !strings.Contains(got, "2 namespaces, 6 workloads, 5 Services") || !strings.Contains(got, "passed over (not workloads tierproof deploys and probes): 1 ConfigMap") {
		t.Errorf("summary:\n%s", got)
	}
	data, err := topo.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "shop-topology.yaml"), data)
	// The derived topology is a topology file like any other.
	if _, err := topology.Parse(data); err != nil {
		t.Errorf("the derived topology does not parse back: %v", err)
	}
}

// A DaemonSet has a pod on each worker; a bare Pod keeps its name and node;
// a namespace no Namespace object declares is implied, and said so.
func TestDaemonSetsPodsAndImpliedNamespaces(t *testing.T) {
	dir := write(t, map[string]string{"a.yaml": `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: ops}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: a, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: ops, labels: {app: debug}}
spec: {nodeName: w3, containers: [{name: a, image: x, ports: [{containerPort: 53, protocol: UDP}]}]}
`})
	e, err := estate.Load(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	topo, err := e.Topology(estate.Layout{Workers: []string{"w1", "w2", "w3"}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range topo.Pods {
		names = append(names, p.EndpointName()+"@"+p.Node+"="+p.IP)
	}
	if got, want := strings.Join(names, " "), "ops/agent-0@w1=10.10.1.2 ops/agent-1@w2=10.10.2.2 ops/agent-2@w3=10.10.3.2 ops/debug@w3=10.10.3.3"; got != want {
		t.Errorf("pods:\n got %s\nwant %s", got, want)
	}
	if len(topo.Namespaces) != 1 || topo.Namespaces[0].Name != "ops" || !strings.Contains(strings.Join(e.Summary(), "\n"), "namespace ops (no Namespace object declares it") {
		t.Errorf("namespaces %+v, summary %q", topo.Namespaces, e.Summary())
	}
}

// Bad input: one line per problem naming file, object and field.
func TestBadEstates(t *testing.T) {
	deployment := func(name, labels, ports string) string {
		return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name + ", namespace: ns}\nspec:\n  selector: {matchLabels: {app: " + name + "}}\n" +
			"  template:\n    metadata: {labels: " + labels + "}\n    spec: {containers: [{name: c, image: x, ports: " + ports + "}]}\n"
	}
	for name, c := range map[string]struct {
		files map[string]string
		want  []string
	}{
		"no labels": {map[string]string{"a.yaml": deployment("web", "{}", "[]")},
			[]string{"a.yaml (document 0): Deployment/ns/web: spec.template.metadata.labels: Required value: a workload without labels"}},
		"selector that misses the template": {map[string]string{"a.yaml": deployment("web", "{app: other}", "[]")},
			[]string{"Deployment/ns/web: spec.template.metadata.labels: Invalid value: {\"app\":\"other\"}: `selector` does not match template `labels`"}},
		"port twice": {map[string]string{"a.yaml": deployment("web", "{app: web}", "[{name: http, containerPort: 80}, {name: http, containerPort: 80}]")},
			[]string{"Deployment/ns/web: spec.template.spec.containers[0].ports[1].containerPort: Duplicate value: \"80/TCP, also at spec.template.spec.containers[0].ports[0]\"",
				"Deployment/ns/web: spec.template.spec.containers[0].ports[1].name: Duplicate value: \"http, also at spec.template.spec.containers[0].ports[0]\""}},
		"a Service that selects nothing": {map[string]string{"a.yaml": deployment("web", "{app: web}", "[]") +
			"---\napiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: ns}\nspec: {selector: {app: api}, ports: [{port: 80}]}\n"},
			[]string{"a.yaml (document 1): Service/ns/api: spec.selector: Invalid value: map[app:api]: selects no pod of the estate in namespace ns"}},
		"no workload": {map[string]string{"a.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns}\n"},
			[]string{"no workload (Deployment, StatefulSet, DaemonSet, ReplicaSet or Pod): nothing to probe"}},
		"a policy in the estate": {map[string]string{"a.yaml": deployment("web", "{app: web}", "[]") +
			"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: ns}\nspec: {podSelector: {}}\n" +
			"---\napiVersion: crd.antrea.io/v1beta1\nkind: ClusterNetworkPolicy\nmetadata: {name: q}\nspec: {priority: 1}\n"},
			[]string{"a.yaml (document 1): K8sNetworkPolicy/ns/p: a policy in the estate: the estate holds the workloads, and policies go in a stage's manifests"}},
		"pod names that collide": {map[string]string{"a.yaml": deployment("web", "{app: web}", "[]") +
			"---\napiVersion: v1\nkind: Pod\nmetadata: {name: web-0, namespace: ns, labels: {app: web}}\nspec: {containers: [{name: c, image: x}]}\n"},
			[]string{"a.yaml (document 1): Pod/ns/web-0: its pod ns/web-0 has the name of one of Deployment/ns/web's: rename one of them"}},
	} {
		t.Run(name, func(t *testing.T) {
			e, err := estate.Load(context.Background(), write(t, c.files))
			if err == nil {
				_, err = e.Topology(estate.Layout{})
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error:\n%v\nwant it to contain %q", err, w)
				}
			}
			if lines := strings.Count(err.Error(), "\n") + 1; lines != len(c.want) {
				t.Errorf("%d lines, want %d:\n%v", lines, len(c.want), err)
			}
		})
	}
}

// An external named as a namespace would be ambiguous in every report.
func TestAnExternalNamedAsANamespace(t *testing.T) {
	e, err := estate.Load(context.Background(), filepath.Join("..", "..", "examples", "shop", "estate"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Topology(estate.Layout{Externals: []topology.External{{Name: "payments", IP: "172.18.0.100"}}})
	if err == nil || !strings.Contains(err.Error(), "external payments has the name of a namespace of the estate") {
		t.Errorf("got %v", err)
	}
}

func write(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
