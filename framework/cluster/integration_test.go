package cluster_test

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	antreav1beta1 "github.com/tierproof/tierproof/apis/antrea/v1beta1"
	"github.com/tierproof/tierproof/framework/antrea"
	"github.com/tierproof/tierproof/framework/cluster"
	"github.com/tierproof/tierproof/framework/kube"
	"github.com/tierproof/tierproof/framework/live"
	"github.com/tierproof/tierproof/framework/testenv"
	"github.com/tierproof/tierproof/framework/topology"
)

// These tests run the cluster code against a real kube-apiserver and etcd
// (make tools builds them), with kwok's fake nodes for pods and exec. kwok
// runs exec'd commands on this host, so they check the plumbing, never
// verdicts. One control plane serves every subtest.
func TestAgainstARealAPIServer(t *testing.T) {
	env := testenv.Start(t, testenv.Options{KwokNodes: []string{"kwok-worker", "kwok-worker2"}})
	t.Run("apply in order, roll back a refused stage, clean up", func(t *testing.T) { applyStages(t, env) })
	t.Run("wait for realization", func(t *testing.T) { waitRealization(t, env) })
	t.Run("snapshot kwok pods", func(t *testing.T) { snapshotPods(t, env) })
	t.Run("exec through the API server", func(t *testing.T) { execPods(t, env) })
	t.Run("relabel and reset", func(t *testing.T) { relabelAndReset(t, env) })
	t.Run("remove what an earlier run left", func(t *testing.T) { removeLeftovers(t, env) })
	t.Run("the CRDs refuse what Antrea's refuse", func(t *testing.T) { crdValidation(t, env) })
}

// The CRDs generated from the type mirror refuse what Antrea v2.7.0's own
// refuse (build/charts/antrea/crds/clusternetworkpolicy.yaml and
// networkpolicy.yaml): an action other than Allow, Drop, Reject and Pass, a
// priority outside 1 to 10000, and a field out of its place (fqdn in an
// ingress peer, externalEntitySelector in an ACNP, serviceAccount in an ANP),
// so that a stage the model would refuse is refused here too, never applied
// without the field. Server-side apply, as the Applier does it.
func crdValidation(t *testing.T, env *testenv.Env) {
	ctx := context.Background()
	const acnp = "apiVersion: crd.antrea.io/v1beta1\nkind: ClusterNetworkPolicy\nmetadata: {name: crd-check}\nspec:\n"
	const anp = "apiVersion: crd.antrea.io/v1beta1\nkind: NetworkPolicy\nmetadata: {name: crd-check, namespace: default}\nspec:\n  priority: 1\n"
	apply := func(doc string) error {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatal(err)
		}
		err := env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("crd-check"))
		if err == nil {
			_ = env.Client.Delete(ctx, u)
		}
		return err
	}
	for _, c := range []struct{ doc, want string }{
		{acnp + "  priority: 1\n  appliedTo: [{podSelector: {}}]\n  ingress: [{action: Deny}]\n", `spec.ingress[0].action: Unsupported value: "Deny"`},
		{acnp + "  priority: 0\n  appliedTo: [{podSelector: {}}]\n", "spec.priority: Invalid value: 0: spec.priority in body should be greater than or equal to 1"},
		{acnp + "  priority: 10001\n  appliedTo: [{podSelector: {}}]\n", "spec.priority: Invalid value: 10001: spec.priority in body should be less than or equal to 10000"},
		{acnp + "  priority: 1\n  appliedTo: [{podSelector: {}}]\n  ingress: [{action: Drop, from: [{fqdn: example.com}]}]\n", ".spec.ingress[0].from[0].fqdn: field not declared in schema"},
		{acnp + "  priority: 1\n  appliedTo: [{podSelector: {}}]\n  egress: [{action: Drop, to: [{externalEntitySelector: {}}]}]\n", ".spec.egress[0].to[0].externalEntitySelector: field not declared in schema"},
		{acnp + "  priority: 1\n  appliedTo: [{podSelector: {}}]\n  egress: [{action: Drop, to: [{podSelector: {}, scope: Cluster}]}]\n", ".spec.egress[0].to[0].scope: field not declared in schema"},
		{acnp + "  priority: 1\n  appliedTo: [{podSelector: {}}]\n  ingress: [{action: Drop, ports: [{protocol: ICMP}]}]\n", `spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP"`},
		{acnp + "  priority: 1\n  appliedTo: [{podSelector: {}}]\n  egress: [{action: Drop, protocols: [{icmp: {icmpType: 256}}]}]\n", "spec.egress[0].protocols[0].icmp.icmpType: Invalid value: 256"},
		{acnp + "  priority: 1\n  appliedTo: [{serviceAccount: {name: robot}}]\n", "spec.appliedTo[0].serviceAccount.namespace: Required value"},
		{anp + "  appliedTo: [{podSelector: {}}]\n  ingress: [{action: Drop, from: [{serviceAccount: {name: robot, namespace: default}}]}]\n", ".spec.ingress[0].from[0].serviceAccount: field not declared in schema"},
		{anp + "  appliedTo: [{namespaceSelector: {}}]\n", ".spec.appliedTo[0].namespaceSelector: field not declared in schema"},
		{anp + "  appliedTo: [{podSelector: {}}]\n  ingress: [{action: Drop, from: [{namespaces: {match: Self}}]}]\n", ".spec.ingress[0].from[0].namespaces: field not declared in schema"},
	} {
		err := apply(c.doc)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s\n: %v, want refused with %q", c.doc, err, c.want)
		}
	}
	// What Antrea's CRDs do accept in those places.
	for _, doc := range []string{
		acnp + "  priority: 10000\n  appliedTo: [{podSelector: {}}]\n  ingress: [{action: Pass, from: [{namespaces: {match: Self}, scope: Cluster}]}]\n  egress: [{action: Allow, to: [{fqdn: example.com}, {serviceAccount: {name: robot, namespace: default}}]}]\n",
		anp + "  appliedTo: [{externalEntitySelector: {}}]\n  ingress: [{action: Drop, from: [{externalEntitySelector: {}, scope: Cluster}]}]\n  egress: [{action: Drop, to: [{fqdn: example.com}], toServices: [{name: svc}]}]\n",
	} {
		if err := apply(doc); err != nil {
			t.Errorf("a valid policy was refused: %v\n%s", err, doc)
		}
	}
}

// A kept cluster still holds the policies of the run that failed on it; the
// next run starts by removing exactly those (labelled), and nothing else.
func removeLeftovers(t *testing.T, env *testenv.Env) {
	ctx := context.Background()
	createNamespace(t, env, "leftover", nil)
	earlier := []runtime.Object{
		&antreav1beta1.Tier{TypeMeta: metav1.TypeMeta{APIVersion: "crd.antrea.io/v1beta1", Kind: "Tier"},
			ObjectMeta: metav1.ObjectMeta{Name: "left-tier"}, Spec: antreav1beta1.TierSpec{Priority: 130}},
		&antreav1beta1.ClusterGroup{TypeMeta: metav1.TypeMeta{APIVersion: "crd.antrea.io/v1beta1", Kind: "ClusterGroup"},
			ObjectMeta: metav1.ObjectMeta{Name: "left-group"}, Spec: antreav1beta1.GroupSpec{PodSelector: &metav1.LabelSelector{}}},
		&antreav1beta1.ClusterNetworkPolicy{TypeMeta: metav1.TypeMeta{APIVersion: "crd.antrea.io/v1beta1", Kind: "ClusterNetworkPolicy"},
			ObjectMeta: metav1.ObjectMeta{Name: "left-acnp"},
			Spec: antreav1beta1.ClusterNetworkPolicySpec{Tier: "left-tier", Priority: 1,
				AppliedTo: []antreav1beta1.ClusterAppliedTo{acnpGroup("left-group")},
				Ingress:   []antreav1beta1.ClusterIngressRule{{RuleFields: antreav1beta1.RuleFields{Action: ptr(antreav1beta1.RuleActionDrop)}}}}},
		&antreav1beta1.NetworkPolicy{TypeMeta: metav1.TypeMeta{APIVersion: "crd.antrea.io/v1beta1", Kind: "NetworkPolicy"},
			ObjectMeta: metav1.ObjectMeta{Name: "left-anp", Namespace: "leftover"},
			Spec:       antreav1beta1.NetworkPolicySpec{Priority: 5, AppliedTo: anpEveryPod()}},
		&networkingv1.NetworkPolicy{TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
			ObjectMeta: metav1.ObjectMeta{Name: "left-knp", Namespace: "leftover"}},
	}
	if err := kube.NewApplier(env.Client, "earlier-run").ApplyStage(ctx, "kept", earlier); err != nil {
		t.Fatal(err)
	}
	// Someone else's policies in the same cluster.
	theirs := []client.Object{
		&antreav1beta1.ClusterNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "their-acnp"},
			Spec: antreav1beta1.ClusterNetworkPolicySpec{Tier: "application", Priority: 1, AppliedTo: acnpEveryPod()}},
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "their-knp", Namespace: "leftover"}},
	}
	for _, o := range theirs {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := cluster.RemoveLeftoverPolicies(ctx, env.Client)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range removed {
		names = append(names, r.String())
	}
	if got, want := strings.Join(names, ", "), "ClusterNetworkPolicy left-acnp, NetworkPolicy leftover/left-anp, NetworkPolicy leftover/left-knp, ClusterGroup left-group, Tier left-tier"; got != want {
		t.Errorf("removed %s, want %s (policies before what they name)", got, want)
	}
	for _, o := range theirs {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(o), o); err != nil {
			t.Errorf("%s, not tierproof's, is gone: %v", o.GetName(), err)
		}
	}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: "left-tier"}, &antreav1beta1.Tier{}); !apierrors.IsNotFound(err) {
		t.Errorf("the earlier run's Tier is still there: %v", err)
	}
}

func createNamespace(t *testing.T, env *testenv.Env, name string, labels map[string]string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if err := env.Client.Create(context.Background(), ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// resourceVersionOf reads an object's resourceVersion as the etcd revision it
// is: creation order across kinds.
func resourceVersionOf(t *testing.T, env *testenv.Env, obj client.Object) int {
	t.Helper()
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
		t.Fatal(err)
	}
	rv, err := strconv.Atoi(obj.GetResourceVersion())
	if err != nil {
		t.Fatal(err)
	}
	return rv
}

func applyStages(t *testing.T, env *testenv.Env) {
	ctx := context.Background()
	createNamespace(t, env, "prod-app", map[string]string{"env": "prod"})
	applier := kube.NewApplier(env.Client, "it-apply")
	// A stage as the walkthrough writes it: a policy before the Tier and the
	// ClusterGroup it refers to. Server-side apply must create them first.
	stage := []runtime.Object{
		&antreav1beta1.ClusterNetworkPolicy{TypeMeta: metav1.TypeMeta{APIVersion: "crd.antrea.io/v1beta1", Kind: "ClusterNetworkPolicy"},
			ObjectMeta: metav1.ObjectMeta{Name: "drop-from-group"},
			Spec: antreav1beta1.ClusterNetworkPolicySpec{Tier: "it-tier", Priority: 1,
				AppliedTo: acnpEveryPod(),
				Ingress: []antreav1beta1.ClusterIngressRule{{RuleFields: antreav1beta1.RuleFields{Action: ptr(antreav1beta1.RuleActionDrop)},
					From: []antreav1beta1.ClusterIngressPeer{{PeerSelectors: antreav1beta1.PeerSelectors{Group: "it-group"}}}}}}},
		&antreav1beta1.ClusterGroup{TypeMeta: metav1.TypeMeta{APIVersion: "crd.antrea.io/v1beta1", Kind: "ClusterGroup"},
			ObjectMeta: metav1.ObjectMeta{Name: "it-group"},
			Spec:       antreav1beta1.GroupSpec{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}}},
		&antreav1beta1.Tier{TypeMeta: metav1.TypeMeta{APIVersion: "crd.antrea.io/v1beta1", Kind: "Tier"},
			ObjectMeta: metav1.ObjectMeta{Name: "it-tier"}, Spec: antreav1beta1.TierSpec{Priority: 120}},
	}
	if err := applier.ApplyStage(ctx, "first", stage); err != nil {
		t.Fatal(err)
	}
	tier := resourceVersionOf(t, env, &antreav1beta1.Tier{ObjectMeta: metav1.ObjectMeta{Name: "it-tier"}})
	group := resourceVersionOf(t, env, &antreav1beta1.ClusterGroup{ObjectMeta: metav1.ObjectMeta{Name: "it-group"}})
	acnp := &antreav1beta1.ClusterNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "drop-from-group"}}
	policyRV := resourceVersionOf(t, env, acnp)
	if !(tier < group && group < policyRV) {
		t.Errorf("creation order (etcd revisions): Tier %d, ClusterGroup %d, ClusterNetworkPolicy %d; want Tier, then group, then policy", tier, group, policyRV)
	}
	if acnp.Labels[kube.OwnerLabel] != "it-apply" || len(acnp.ManagedFields) == 0 || acnp.ManagedFields[0].Manager != kube.FieldManager ||
		acnp.ManagedFields[0].Operation != metav1.ManagedFieldsOperationApply {
		t.Errorf("the policy is not owned and server-side applied: labels %v, managed fields %+v", acnp.Labels, acnp.ManagedFields)
	}

	// The second stage changes the group, adds a policy, and brings a K8s
	// NetworkPolicy the API server's validation refuses: nothing of it stays.
	badPort := intstr.FromInt32(70000)
	second := []runtime.Object{
		&antreav1beta1.ClusterGroup{TypeMeta: metav1.TypeMeta{APIVersion: "crd.antrea.io/v1beta1", Kind: "ClusterGroup"},
			ObjectMeta: metav1.ObjectMeta{Name: "it-group"},
			Spec:       antreav1beta1.GroupSpec{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "dev"}}}},
		&antreav1beta1.NetworkPolicy{TypeMeta: metav1.TypeMeta{APIVersion: "crd.antrea.io/v1beta1", Kind: "NetworkPolicy"},
			ObjectMeta: metav1.ObjectMeta{Name: "new-anp", Namespace: "prod-app"},
			Spec:       antreav1beta1.NetworkPolicySpec{Priority: 5, AppliedTo: anpEveryPod()}},
		&networkingv1.NetworkPolicy{TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
			ObjectMeta: metav1.ObjectMeta{Name: "bad-port", Namespace: "prod-app"},
			Spec: networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{
				Ports: []networkingv1.NetworkPolicyPort{{Port: &badPort}}}}}},
	}
	err := applier.ApplyStage(ctx, "second", second)
	if err == nil || !strings.Contains(err.Error(), "stage second not applied") || !strings.Contains(err.Error(), "NetworkPolicy prod-app/bad-port was refused") ||
		!strings.Contains(err.Error(), "rolled back 1 created and 1 changed") {
		t.Fatalf("refused stage: %v", err)
	}
	var g antreav1beta1.ClusterGroup
	if err := env.Client.Get(ctx, client.ObjectKey{Name: "it-group"}, &g); err != nil || g.Spec.NamespaceSelector.MatchLabels["env"] != "prod" {
		t.Errorf("the changed group was not put back: %v %+v", err, g.Spec.NamespaceSelector)
	}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "prod-app", Name: "new-anp"}, &antreav1beta1.NetworkPolicy{}); !apierrors.IsNotFound(err) {
		t.Errorf("the stage's new policy survived the rollback: %v", err)
	}

	if err := applier.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	for _, obj := range []client.Object{&antreav1beta1.Tier{ObjectMeta: metav1.ObjectMeta{Name: "it-tier"}},
		&antreav1beta1.ClusterGroup{ObjectMeta: metav1.ObjectMeta{Name: "it-group"}}, acnp} {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); !apierrors.IsNotFound(err) {
			t.Errorf("cleanup left %s behind: %v", obj.GetName(), err)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// acnpEveryPod is an ACNP's appliedTo of every pod in every namespace.
func acnpEveryPod() []antreav1beta1.ClusterAppliedTo {
	var a antreav1beta1.ClusterAppliedTo
	a.NamespaceSelector = &metav1.LabelSelector{}
	return []antreav1beta1.ClusterAppliedTo{a}
}

// acnpGroup is an ACNP's appliedTo entry of a ClusterGroup.
func acnpGroup(name string) antreav1beta1.ClusterAppliedTo {
	var a antreav1beta1.ClusterAppliedTo
	a.Group = name
	return a
}

// anpEveryPod is an ANP's appliedTo of every pod in its namespace.
func anpEveryPod() []antreav1beta1.NamespacedAppliedTo {
	return []antreav1beta1.NamespacedAppliedTo{{RuleAppliedTo: antreav1beta1.RuleAppliedTo{PodSelector: &metav1.LabelSelector{}}}}
}

// waitRealization plays Antrea's controller: it writes the status
// subresource, and the waiter must return exactly when the current generation
// is Realized.
func waitRealization(t *testing.T, env *testenv.Env) {
	ctx := context.Background()
	p := &antreav1beta1.ClusterNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "realize-me"},
		Spec: antreav1beta1.ClusterNetworkPolicySpec{Priority: 1, AppliedTo: acnpEveryPod()}}
	if err := env.Client.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), p) })
	setStatus := func(phase antreav1beta1.NetworkPolicyPhase, observed int64) {
		t.Helper()
		current := &antreav1beta1.ClusterNetworkPolicy{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(p), current); err != nil {
			t.Fatal(err)
		}
		current.Status = antreav1beta1.NetworkPolicyStatus{Phase: phase, ObservedGeneration: observed}
		if err := env.Client.Status().Update(ctx, current); err != nil {
			t.Fatal(err)
		}
	}
	names := []string{"ClusterNetworkPolicy/realize-me"}
	statuses := antrea.PolicyStatuses(env.Client)

	// Never realized: a timeout that names the policy and its state.
	setStatus(antreav1beta1.NetworkPolicyRealizing, 1)
	err := antrea.WaitRealized(ctx, statuses, names, 50*time.Millisecond, 500*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "timed out") || !strings.Contains(err.Error(), "ClusterNetworkPolicy/realize-me") {
		t.Fatalf("never realized: %v", err)
	}

	// Realized 700 ms from now: the wait returns then, not before.
	realizedAt := make(chan time.Time, 1)
	go func() {
		time.Sleep(700 * time.Millisecond)
		setStatus(antreav1beta1.NetworkPolicyRealized, 1)
		realizedAt <- time.Now()
	}()
	if err := antrea.WaitRealized(ctx, statuses, names, 20*time.Millisecond, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	done := time.Now()
	at := <-realizedAt
	if done.Before(at.Add(-50*time.Millisecond)) || done.After(at.Add(500*time.Millisecond)) {
		t.Errorf("wait returned %v after the status was written; want right after it", done.Sub(at))
	}

	// A spec change bumps the generation: the Realized status is stale now.
	current := &antreav1beta1.ClusterNetworkPolicy{}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(p), current); err != nil {
		t.Fatal(err)
	}
	current.Spec.Priority = 2
	if err := env.Client.Update(ctx, current); err != nil {
		t.Fatal(err)
	}
	err = antrea.WaitRealized(ctx, statuses, names, 50*time.Millisecond, 400*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "status is about generation 1, the policy is at 2") {
		t.Errorf("stale generation: %v", err)
	}
}

// kwokPod is a pod on a kwok node with the agent's container name.
func kwokPod(namespace, name, node string, labels map[string]string, ports ...corev1.ContainerPort) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: cluster.AgentContainer, Image: "tierproof.local/agent:dev", Ports: ports}}}}
}

func createRunningPods(t *testing.T, env *testenv.Env, pods ...*corev1.Pod) {
	t.Helper()
	ctx := context.Background()
	var namespaces []string
	for _, p := range pods {
		if err := env.Client.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		namespaces = append(namespaces, p.Namespace)
	}
	if err := kube.WaitPodsReady(ctx, env.Clientset, namespaces, 100*time.Millisecond, 30*time.Second); err != nil {
		t.Fatal(err)
	}
}

func snapshotPods(t *testing.T, env *testenv.Env) {
	createNamespace(t, env, "snap", map[string]string{"ns": "snap", "env": "test"})
	createRunningPods(t, env,
		kwokPod("snap", "web", "kwok-worker", map[string]string{"app": "web", "tier": "frontend"},
			corev1.ContainerPort{Name: "http", ContainerPort: 8080}, corev1.ContainerPort{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP}),
		kwokPod("snap", "db", "kwok-worker2", map[string]string{"app": "db"}))
	topo, err := live.Topology(context.Background(), env.Clientset, nil, func(p corev1.Pod) bool { return p.Namespace == "snap" })
	if err != nil {
		t.Fatal(err)
	}
	cidr := netip.MustParsePrefix(testenv.PodCIDR)
	got := map[string]string{}
	for _, p := range topo.Pods {
		ip, err := netip.ParseAddr(p.IP)
		if err != nil || !cidr.Contains(ip) {
			t.Errorf("%s: IP %q outside kwok's %s", p.EndpointName(), p.IP, cidr)
		}
		got[p.EndpointName()] = fmt.Sprintf("node=%s labels=%v ports=%v", p.Node, p.Labels, p.Ports)
	}
	want := map[string]string{
		"snap/web": "node=kwok-worker labels=map[app:web tier:frontend] ports=[{http 8080 TCP} {dns 53 UDP}]",
		"snap/db":  "node=kwok-worker2 labels=map[app:db] ports=[]",
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s:\n got  %s\n want %s", name, got[name], w)
		}
	}
	for _, n := range topo.Namespaces {
		if n.Name == "snap" && (n.Labels["env"] != "test" || n.Labels["ns"] != "snap") {
			t.Errorf("namespace snap labels %v", n.Labels)
		}
	}
	if len(topo.Nodes) != 2 {
		t.Errorf("nodes %+v", topo.Nodes)
	}
}

func execPods(t *testing.T, env *testenv.Env) {
	createNamespace(t, env, "exec", nil)
	createRunningPods(t, env, kwokPod("exec", "a", "kwok-worker", nil), kwokPod("exec", "b", "kwok-worker2", nil))
	pods := kube.NewPodExecutor(kube.WithProbingRateLimits(env.Config), env.Clientset, cluster.AgentContainer)
	ctx := context.Background()

	// kwok's exec speaks remotecommand v4, which cannot close stdin: the
	// commands read exactly what they are sent instead of waiting for EOF.
	stdout, stderr, err := pods.Exec(ctx, "exec/a", []string{"sh", "-c", "head -c 12 | tr a-z A-Z; echo to-stderr >&2; exit 3"}, []byte("probe batch\n"))
	if string(stdout) != "PROBE BATCH\n" || string(stderr) != "to-stderr\n" {
		t.Errorf("stdin → stdout %q, stderr %q", stdout, stderr)
	}
	// A kubelet reports "command terminated with exit code 3"; kwok's v4
	// server reports the status in an internal error. Either way it is an error
	// that carries the code, and the output is kept.
	if err == nil || !strings.Contains(err.Error(), "exec in exec/a") ||
		!(strings.Contains(err.Error(), "exit code 3") || strings.Contains(err.Error(), "exit status 3")) {
		t.Errorf("exit status: %v", err)
	}
	if _, _, err := pods.Exec(ctx, "exec/a", []string{"true"}, nil); err != nil {
		t.Errorf("exit 0: %v", err)
	}

	// A command that outlives its context is cut off in time.
	short, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	start := time.Now()
	if _, _, err := pods.Exec(short, "exec/b", []string{"sleep", "30"}, nil); err == nil {
		t.Error("a 30 s sleep under a 1 s deadline returned no error")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the deadline was honoured after %v", took)
	}

	// Many execs at once, each with its own output, none lost or mixed.
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pod := []string{"exec/a", "exec/b"}[i%2]
			line := fmt.Sprintf("exec %d %s", i, strings.Repeat("x", 2000))
			out, _, err := pods.Exec(ctx, pod, []string{"head", "-c", strconv.Itoa(len(line))}, []byte(line))
			if err != nil || string(out) != line {
				errs <- fmt.Sprintf("exec %d: %d bytes back, err %v", i, len(out), err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// relabelAndReset checks the cluster data plane's label changes, which the
// conformance catalog's stages make, and that Reset restores the estate.
func relabelAndReset(t *testing.T, env *testenv.Env) {
	ctx := context.Background()
	createNamespace(t, env, "relabel", map[string]string{"ns": "relabel", "env": "dev"})
	createRunningPods(t, env, kwokPod("relabel", "a", "kwok-worker", map[string]string{"pod": "a", "keep": "yes"}))
	plane := &cluster.ClusterPlane{Client: env.Client, Applier: kube.NewApplier(env.Client, "it-relabel")}
	err := plane.Relabel(ctx, []topology.LabelChange{
		{Namespace: "relabel", Set: map[string]string{"env": "prod", "team": "blue"}, Remove: []string{"ns"}},
		{Namespace: "relabel", Pod: "a", Set: map[string]string{"pod": "b"}, Remove: []string{"keep"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	labels := func() (map[string]string, map[string]string) {
		var ns corev1.Namespace
		var pod corev1.Pod
		if err := env.Client.Get(ctx, client.ObjectKey{Name: "relabel"}, &ns); err != nil {
			t.Fatal(err)
		}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "relabel", Name: "a"}, &pod); err != nil {
			t.Fatal(err)
		}
		return ns.Labels, pod.Labels
	}
	ns, pod := labels()
	if ns["env"] != "prod" || ns["team"] != "blue" || ns["ns"] != "" || pod["pod"] != "b" || pod["keep"] != "" {
		t.Errorf("after relabel: namespace %v, pod %v", ns, pod)
	}
	// A second change to the same label must still restore the first value.
	if err := plane.Relabel(ctx, []topology.LabelChange{{Namespace: "relabel", Set: map[string]string{"env": "test"}}}); err != nil {
		t.Fatal(err)
	}
	if err := plane.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	ns, pod = labels()
	if ns["env"] != "dev" || ns["ns"] != "relabel" || ns["team"] != "" || pod["pod"] != "a" || pod["keep"] != "yes" {
		t.Errorf("after reset: namespace %v, pod %v", ns, pod)
	}
	if err := plane.Relabel(ctx, []topology.LabelChange{{Namespace: "nowhere", Set: map[string]string{"a": "b"}}}); err == nil ||
		!strings.Contains(err.Error(), "relabel namespace nowhere") {
		t.Errorf("relabelling a missing namespace: %v", err)
	}
}
