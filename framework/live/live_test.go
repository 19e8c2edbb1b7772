package live_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/tierproof/tierproof/framework/kube"
	"github.com/tierproof/tierproof/framework/live"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/testenv"
	"github.com/tierproof/tierproof/framework/topology"
)

// What runs on the cluster: two namespaces with running pods (kwok's), and
// a policy of each kind.
const cluster = `
apiVersion: v1
kind: Namespace
metadata: {name: front, labels: {team: web}}
---
apiVersion: v1
kind: Namespace
metadata: {name: back, labels: {team: data}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: front, labels: {app: web}}
spec: {nodeName: kwok-worker, containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: back, labels: {app: db}}
spec: {nodeName: kwok-worker2, containers: [{name: c, image: x, ports: [{name: pg, containerPort: 5432}]}]}
---
apiVersion: crd.antrea.io/v1beta1
kind: Tier
metadata: {name: team-rules}
spec: {priority: 120}
---
apiVersion: crd.antrea.io/v1beta1
kind: ClusterGroup
metadata: {name: web-pods}
spec: {podSelector: {matchLabels: {app: web}}}
---
apiVersion: crd.antrea.io/v1beta1
kind: ClusterNetworkPolicy
metadata:
  name: db-only-from-web
  annotations: {kubectl.kubernetes.io/last-applied-configuration: "{}", owner: data-team}
spec:
  tier: team-rules
  priority: 5
  appliedTo: [{namespaceSelector: {matchLabels: {team: data}}}]
  ingress:
    - {action: Allow, from: [{group: web-pods}], ports: [{port: pg}]}
    - {action: Drop}
---
apiVersion: crd.antrea.io/v1beta1
kind: Group
metadata: {name: db-pods, namespace: back}
spec: {podSelector: {matchLabels: {app: db}}}
---
apiVersion: crd.antrea.io/v1beta1
kind: NetworkPolicy
metadata: {name: db-egress, namespace: back}
spec:
  priority: 3
  appliedTo: [{group: db-pods}]
  egress: [{action: Drop, to: [{ipBlock: {cidr: 8.8.8.8/32}}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-in, namespace: front}
spec: {podSelector: {}, ingress: [{ports: [{port: 8080}]}]}
`

// snapshot reads a real API server through a client that can only read, and
// what it writes is a topology and a policy file the model takes as they
// are, with the verdicts the live policies give.
func TestSnapshotOfARealAPIServer(t *testing.T) {
	env := testenv.Start(t, testenv.Options{KwokNodes: []string{"kwok-worker", "kwok-worker2"}})
	ctx := context.Background()
	env.Create(t, cluster)

	snap, dir, topo, set := snapshotAndLoad(t, env)
	text, err := os.ReadFile(filepath.Join(dir, live.PoliciesFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{"status:", "managedFields", "resourceVersion", "uid:", "creationTimestamp", "last-applied-configuration"} {
		if strings.Contains(string(text), absent) {
			t.Errorf("policies.yaml holds %s:\n%s", absent, text)
		}
	}
	if !strings.Contains(string(text), "owner: data-team") {
		t.Errorf("policies.yaml lost an annotation of the user's:\n%s", text)
	}
	if len(set.ClusterNetworkPolicies) != 1 || len(set.NetworkPolicies) != 1 || len(set.Tiers) != 1 || len(set.ClusterGroups) != 1 ||
		len(set.Groups) != 1 || len(set.K8sNetworkPolicies) != 1 {
		t.Fatalf("policies read back: %d ACNP, %d ANP, %d Tier, %d ClusterGroup, %d Group, %d K8s NetworkPolicy; want one of each",
			len(set.ClusterNetworkPolicies), len(set.NetworkPolicies), len(set.Tiers), len(set.ClusterGroups), len(set.Groups), len(set.K8sNetworkPolicies))
	}
	m, err := model.Compile(topo, set)
	if err != nil {
		t.Fatal(err)
	}
	web, _ := m.Endpoint("front/web")
	db, _ := m.Endpoint("back/db")
	for _, c := range []struct {
		from, to int
		probe    string
		want     model.Verdict
	}{{web, db, "tcp/5432", model.Allow}, {web, db, "tcp/80", model.Drop}, {db, web, "tcp/8080", model.Allow}, {db, web, "tcp/80", model.Drop}} {
		probe, _ := model.ParseProbe(c.probe)
		if got := m.Evaluate(c.from, c.to, probe).Verdict; got != c.want {
			t.Errorf("%d → %d %s: %v, want %v", c.from, c.to, c.probe, got, c.want)
		}
	}
	if !slices.ContainsFunc(topo.Pods, func(p topology.Pod) bool {
		return p.EndpointName() == "back/db" && p.Node == "kwok-worker2" && len(p.Ports) == 1
	}) {
		t.Errorf("pods: %+v", topo.Pods)
	}

	// Only the namespaces asked for: their pods and namespaced policies.
	front, err := live.Read(ctx, env.Config, []string{"front"})
	if err != nil {
		t.Fatal(err)
	}
	if len(front.Topology.Pods) != 1 || len(front.Policies) != 4 { // the Tier, ClusterGroup, ACNP and front's K8s NetworkPolicy
		t.Errorf("--namespace front: %d pods, %d policies", len(front.Topology.Pods), len(front.Policies))
	}
	if err := snap.Write(dir); err == nil || !strings.Contains(err.Error(), "is not empty") {
		t.Errorf("a second snapshot into the same directory: %v", err)
	}
}

// snapshotAndLoad snapshots env's cluster into a directory and reads the
// topology and policies back from the files, as a user's next command would.
func snapshotAndLoad(t *testing.T, env *testenv.Env) (*live.Snapshot, string, *topology.Topology, *policy.Set) {
	t.Helper()
	ctx := context.Background()
	snap, err := live.Read(ctx, env.Config, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "snapshot")
	if err := snap.Write(dir); err != nil {
		t.Fatal(err)
	}
	topo, err := topology.Load(filepath.Join(dir, live.TopologyFile))
	if err != nil {
		t.Fatal(err)
	}
	set, err := policy.Load(ctx, filepath.Join(dir, live.PoliciesFile))
	if err != nil {
		t.Fatal(err)
	}
	return snap, dir, topo, set
}

// The client a snapshot reads through refuses every write before it is
// sent: creating, updating, patching and deleting all fail, and the cluster
// is as it was.
func TestTheSnapshotClientCannotWrite(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := context.Background()
	cs, err := kubernetes.NewForConfig(live.ReadOnly(env.Config))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("a read was refused: %v", err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "written"}}
	_, err = cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	if err == nil || !strings.Contains(err.Error(), "read-only: refused POST /api/v1/namespaces") {
		t.Errorf("create: %v", err)
	}
	if _, err := env.Clientset.CoreV1().Namespaces().Get(ctx, "written", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the namespace exists after a refused create: %v", err)
	}
	c, err := client.New(live.ReadOnly(env.Config), client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	def := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	for name, write := range map[string]func() error{
		"update": func() error { return c.Update(ctx, def) },
		"patch": func() error {
			return c.Patch(ctx, def, client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"labels":{"x":"y"}}}`)))
		},
		"delete": func() error { return c.Delete(ctx, def) },
	} {
		if err := write(); err == nil || !strings.Contains(err.Error(), "read-only: refused") {
			t.Errorf("%s: %v", name, err)
		}
	}
	got, err := env.Clientset.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{})
	if err != nil || got.Labels["x"] != "" || got.DeletionTimestamp != nil {
		t.Errorf("default after refused writes: %v %+v", err, got)
	}
}

// ClusterNetworkPolicies on a real API server with the network-policy-api's
// own CRD (v0.3.0, as Antrea's docs have users install it): the harness's
// applier creates them — one written at v1alpha2, one at v1beta1 — the API
// server serves both at either version, its CEL rules refuse what the model
// refuses too, and the snapshot reads them back into the same verdicts.
func TestClusterNetworkPoliciesOnARealAPIServer(t *testing.T) {
	env := testenv.Start(t, testenv.Options{KwokNodes: []string{"kwok-worker", "kwok-worker2"}})
	ctx := context.Background()
	env.Create(t, strings.Join(strings.Split(cluster, "\n---\n")[:4], "\n---\n")) // the namespaces and pods
	file := filepath.Join(t.TempDir(), "cnps.yaml")
	if err := os.WriteFile(file, []byte(`apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: admin-deny-into-back}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {matchLabels: {team: data}}}
  ingress:
  - {name: pg-from-web, action: Accept, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}], protocols: [{destinationNamedPort: pg}]}
  - {name: deny-rest, action: Deny, from: [{namespaces: {}}]}
---
apiVersion: policy.networking.k8s.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: baseline-deny}
spec:
  tier: Baseline
  priority: 0
  subject: {namespaces: {}}
  ingress: [{action: Deny, from: [{namespaces: {}}]}]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := policy.Load(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	applier := kube.NewApplier(env.Client, "cnp-test")
	if err := applier.ApplyStage(ctx, "cnp", set.Objects()); err != nil {
		t.Fatal(err)
	}
	for _, version := range []string{"v1alpha2", "v1beta1"} {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("policy.networking.k8s.io/" + version)
		u.SetKind("ClusterNetworkPolicy")
		if err := env.Client.Get(ctx, client.ObjectKey{Name: "baseline-deny"}, u); err != nil {
			t.Fatalf("reading the CNP at %s: %v", version, err)
		}
		if tier, _, _ := unstructured.NestedString(u.Object, "spec", "tier"); tier != "Baseline" || u.GetLabels()[kube.OwnerLabel] != "cnp-test" {
			t.Errorf("at %s: tier %q, labels %v", version, tier, u.GetLabels())
		}
	}
	bad := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(`{apiVersion: policy.networking.k8s.io/v1alpha2, kind: ClusterNetworkPolicy, metadata: {name: bad-range},
spec: {tier: Admin, priority: 1, subject: {namespaces: {}}, ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {range: {start: 90, end: 80}}}}]}]}}`), &bad.Object); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Create(ctx, bad); err == nil || !strings.Contains(err.Error(), "Start port must be less than End port") {
		t.Errorf("the CRD's CEL rule did not refuse a reversed range: %v", err)
	}

	_, _, topo, back := snapshotAndLoad(t, env)
	if len(back.UpstreamCNPs) != 2 {
		t.Fatalf("%d CNPs read back, want 2", len(back.UpstreamCNPs))
	}
	m, err := model.Compile(topo, back)
	if err != nil {
		t.Fatal(err)
	}
	web, _ := m.Endpoint("front/web")
	db, _ := m.Endpoint("back/db")
	for _, c := range []struct {
		from, to int
		probe    string
		want     model.Verdict
	}{{web, db, "tcp/5432", model.Allow}, {web, db, "tcp/80", model.Drop}, {db, web, "tcp/8080", model.Drop}} {
		probe, _ := model.ParseProbe(c.probe)
		if got := m.Evaluate(c.from, c.to, probe).Verdict; got != c.want {
			t.Errorf("%d → %d %s: %v, want %v", c.from, c.to, c.probe, got, c.want)
		}
	}
	if err := applier.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	list := &unstructured.UnstructuredList{}
	list.SetAPIVersion("policy.networking.k8s.io/v1alpha2")
	list.SetKind("ClusterNetworkPolicyList")
	if err := env.Client.List(ctx, list); err != nil || len(list.Items) != 0 {
		t.Errorf("after cleanup: %v, %d CNPs left", err, len(list.Items))
	}
}

// An exec is no read, though its WebSocket form is a GET: the snapshot's
// client refuses it before it is sent; the audit's, which holds the
// pods/exec permit, runs it (kwok runs the command on this host), and still
// refuses every other write.
func TestExecNeedsItsPermit(t *testing.T) {
	env := testenv.Start(t, testenv.Options{KwokNodes: []string{"kwok-worker"}})
	ctx := context.Background()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"},
		Spec: corev1.PodSpec{NodeName: "kwok-worker", Containers: []corev1.Container{{Name: "c", Image: "x"}}}}
	if _, err := env.Clientset.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := kube.WaitPodsReady(ctx, env.Clientset, []string{"default"}, 100*time.Millisecond, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	execIn := func(cfg *rest.Config) (string, error) {
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		out, _, err := kube.NewPodExecutor(cfg, cs, "c").Exec(ctx, "default/p", []string{"echo", "ran"}, nil)
		return string(out), err
	}
	if out, err := execIn(live.ReadOnly(env.Config)); err == nil || !strings.Contains(err.Error(), "read-only: refused GET /api/v1/namespaces/default/pods/p/exec") {
		t.Errorf("exec through the snapshot's client: %q, %v", out, err)
	}
	audit := live.ReadOnly(env.Config, live.PodsExec)
	if out, err := execIn(audit); err != nil || strings.TrimSpace(out) != "ran" {
		t.Errorf("exec through the audit's client: %q, %v", out, err)
	}
	cs, err := kubernetes.NewForConfig(audit)
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().Pods("default").Delete(ctx, "p", metav1.DeleteOptions{}); err == nil || !strings.Contains(err.Error(), "read-only: refused DELETE") {
		t.Errorf("a delete through the audit's client: %v", err)
	}
	if _, err := cs.CoreV1().Pods("default").Get(ctx, "p", metav1.GetOptions{}); err != nil {
		t.Errorf("the pod after a refused delete: %v", err)
	}
}
