package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tierproof/tierproof/framework/agentimage"
	"github.com/tierproof/tierproof/framework/kube"
	"github.com/tierproof/tierproof/framework/toolsimage"
)

// blogNamespaces are the namespaces of the blog estate's pods.
var blogNamespaces = []string{"dev-app", "prod-app", "test-app", "yelb"}

// toolsAndAudit plays the K8s-only walkthrough with the pods' own tools,
// keeps the cluster, and audits it as a user would after changing it behind
// tierproof's back: with their own policies (no mismatch, with either
// prober), with kube-router v2.1.0's named-port leak (exactly the leaked
// cell), and with the enforcer taken off the nodes before a new policy
// (exactly that policy's cells). The cluster is removed at the end.
func toolsAndAudit(t *testing.T) {
	reports := keptReports(t, "tools")
	t.Cleanup(func() { removeKeptCluster(t) })
	out, err := rerunSuiteFor(t, 15*time.Minute, "-tierproof.data-plane=kube-router", "-tierproof.scenarios="+realClusterScenario,
		"-tierproof.prober=tools", "-tierproof.keep-cluster=always", "-ginkgo.v", "-tierproof.reports="+reports)
	t.Logf("%s", figures(out))
	if err != nil {
		t.Fatalf("the run failed: %v\n%s", err, out)
	}
	// The agent's run's 1 404 flows a stage, less the 10 pods' UDP 53 flows
	// to the 13 endpoints and the 2 CoreDNS replicas (150), which no tool
	// tells from silence; the 3 external hosts still probe with the agent.
	// One exec per source (13): a second round, for flows that failed or
	// disagreed at first, execs again in the sources it needs only.
	stages := regexp.MustCompile(`(?m)stage \S+: 1254 flows, (\d+) execs, (\d+) round\(s\), \S+, 0 mismatch\(es\)$`).FindAllSubmatch(out, -1)
	for _, m := range stages {
		execs, _ := strconv.Atoi(string(m[1]))
		rounds, _ := strconv.Atoi(string(m[2]))
		if execs < 13+min(rounds-1, 1) || execs > 13*rounds {
			t.Errorf("%s: not one exec per source a round", m[0])
		}
	}
	if len(stages) != 3 {
		t.Errorf("%d of 3 stages probed 1 254 flows with no mismatch:\n%s", len(stages), out)
	}
	for _, want := range []string{"3 Passed", "stage no-policy: 150 flow(s) not probed: the pod's own tools: no tool can tell a UDP drop from a server that does not answer",
		"Pod/yelb/yelb-ui: " + toolsimage.BusyBox, "Pod/yelb/yelb-appserver: " + toolsimage.Debian, "probed from the pods with their own ping, curl and nc"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the run does not say %q", want)
		}
	}
	// Every tool variant of both images judged flows, and each verdict came
	// from the tool's own words.
	used := map[string]bool{}
	for _, f := range resultFlows(t, filepath.Join(reports, "k8s-networkpolicy-blog", "results.json")) {
		if len(f.Attempts) > 0 {
			tool, _, _ := strings.Cut(f.Attempts[len(f.Attempts)-1].Detail, " ")
			used[tool+" "+f.Observed] = true
		}
	}
	for _, want := range []string{"nc-openbsd Allow", "nc-openbsd Reject", "busybox-nc Allow", "busybox-nc Reject", "ping-iputils Allow", "ping-iputils Reject", "busybox-ping Allow", "busybox-ping Denied"} {
		if !used[want] {
			t.Errorf("no flow was judged %q (judged: %v)", want, used)
		}
	}

	kubeconfig := regexp.MustCompile(`KUBECONFIG=(\S+)\)`).FindSubmatch(out)
	if kubeconfig == nil {
		t.Fatalf("the run does not say where its kept cluster's kubeconfig is:\n%s", out)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", string(kubeconfig[1]))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cli := filepath.Join(t.TempDir(), "tierproof")
	if out, err := exec.Command("go", "build", "-o", cli, "../../cmd/tierproof").CombinedOutput(); err != nil {
		t.Fatalf("building the CLI: %v\n%s", err, out)
	}
	audit := func(name string, args ...string) (string, error) {
		args = append([]string{"audit", "--kubeconfig", string(kubeconfig[1]), "--semantics", "kube-router", "--reports", filepath.Join(filepath.Dir(reports), "audit-"+name)}, args...)
		out, err := exec.Command(cli, args...).CombinedOutput()
		t.Logf("tierproof %s\n%s", strings.Join(args, " "), out)
		return string(out), err
	}
	blog := []string{}
	for _, ns := range blogNamespaces {
		blog = append(blog, "--namespace", ns)
	}

	// A user's own policies, applied with the API: the run's are removed and
	// the blog's applied again, not by tierproof.
	for _, ns := range blogNamespaces {
		if err := cs.NetworkingV1().NetworkPolicies(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, file := range []string{"../../scenarios/k8s-networkpolicy-blog/01-isolate-environments/isolate-dev-env.yaml", "../../scenarios/k8s-networkpolicy-blog/01-isolate-environments/isolate-prod-env.yaml",
		"../../scenarios/k8s-networkpolicy-blog/01-isolate-environments/isolate-test-env.yaml", "../../scenarios/antrea-blog/06-yelb-microsegmentation/yelb-networkpolicies.yaml"} {
		for _, np := range readNetworkPolicies(t, file) {
			if _, err := cs.NetworkingV1().NetworkPolicies(np.Namespace).Create(ctx, np, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	settle()
	// 10 pods: ICMP between every two (90), and the 4 Yelb pods' ports from
	// the 9 others (36).
	for _, prober := range [][]string{{"--prober", "tools"}, {"--prober", "agent", "--agent-image", agentimage.DefaultTag}} {
		out, err := audit("blog-"+prober[1], append(slices.Clone(blog), prober...)...)
		if err != nil || !strings.Contains(out, "126 flows between pods that serve the port; 126 chosen to probe; 126 probed in") || !strings.Contains(out, "; 0 not probed; 0 mismatch(es)") {
			t.Errorf("the audit of the user's policies with --prober %s: %v\n%s", prober[1], err, out)
		}
	}
	allowed := map[string]bool{} // what the cluster allowed, read from the first audit
	for _, f := range resultFlows(t, filepath.Join(filepath.Dir(reports), "audit-blog-tools", "audit", "results.json")) {
		if f.Observed == "Allow" {
			allowed[f.From+" → "+f.To+" "+strings.ToLower(f.Protocol)+portSuffix(f.Port)] = true
		}
	}

	// kube-router v2.1.0's egress named-port leak (policy.go,
	// grabNamedPortFromPod): the endpoints of every named port a pod declares
	// share one IP list, and a later pod that declares one of those names on
	// the same number appends its IP to that list — so to the first pod's
	// other names too. web-1 and web-2 both declare http:80 and swap the
	// names of 8080 and 9090: a rule allowing "metrics" also allows web-2's
	// 8080 when web-1 is read first, or web-1's 9090 when web-2 is (the
	// order of kube-router's pod lister).
	for _, o := range leakObjects() {
		if err := create(ctx, cs, o); err != nil {
			t.Fatal(err)
		}
	}
	if err := kube.WaitPodsReady(ctx, cs, []string{"audit-shop"}, time.Second, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	settle()
	out2, err := audit("named-port-leak", "--namespace", "audit-shop")
	if err == nil {
		t.Errorf("the audit of the leak passed")
	}
	leaked := mismatchLines(out2)
	one := []string{"audit-shop/client → audit-shop/web-2 tcp/8080"}
	other := []string{"audit-shop/client → audit-shop/web-1 tcp/9090"}
	if !slices.Equal(keys(leaked), one) && !slices.Equal(keys(leaked), other) {
		t.Errorf("the audit reports %v, want exactly %v or %v", keys(leaked), one, other)
	}
	for cell, line := range leaked {
		if !strings.Contains(line, "your policies say Reject, the cluster did Allow (egress: K8s NetworkPolicy K8sNetworkPolicy/audit-shop/client-to-metrics") {
			t.Errorf("%s: %q does not name the policy that should have decided it", cell, line)
		}
	}
	if !strings.Contains(out2, "not probed: 10 flow(s): no container of the source pod has a shell with ping, curl, wget, nc or bash (web: no /bin/sh in it)") {
		t.Errorf("the web pods (the agent alone, no shell) are not listed as not probed, with why")
	}
	if err := cs.CoreV1().Namespaces().Delete(ctx, "audit-shop", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	// The enforcer taken off every node, as a CI cluster that silently
	// enforces nothing: its rules stay as they were, and a policy applied
	// now is not enforced — every dev-app egress the cluster allowed before
	// is a mismatch, and nothing else.
	patch := []byte(`{"spec":{"template":{"spec":{"nodeSelector":{"tierproof.io/enforcer":"off"}}}}}`)
	if _, err := cs.AppsV1().DaemonSets("kube-system").Patch(ctx, "kube-router", types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, cs, "kube-system", "k8s-app=kube-router")
	deny := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "dev-no-egress", Namespace: "dev-app"},
		Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}}}
	if _, err := cs.NetworkingV1().NetworkPolicies("dev-app").Create(ctx, deny, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	settle()
	out3, err := audit("enforcer-off", blog...)
	if err == nil {
		t.Errorf("the audit of a cluster without its enforcer passed")
	}
	var want []string
	for cell := range allowed {
		if strings.HasPrefix(cell, "dev-app/") {
			want = append(want, cell)
		}
	}
	slices.Sort(want)
	got := mismatchLines(out3)
	if len(want) == 0 || !slices.Equal(keys(got), want) {
		t.Errorf("the audit reports %v, want the dev-app egress the cluster allowed before: %v", keys(got), want)
	}
	for cell, line := range got {
		if !strings.Contains(line, "egress: K8s NetworkPolicy K8sNetworkPolicy/dev-app/dev-no-egress isolation") {
			t.Errorf("%s: %q does not name the policy not enforced", cell, line)
		}
	}
}

type resultFlow struct {
	From, To, Protocol, Observed string
	Port                         int32
	Attempts                     []struct{ Detail string }
}

func resultFlows(t *testing.T, path string) []resultFlow {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r struct{ Flows []resultFlow }
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return r.Flows
}

// portSuffix is how a probe's port follows its protocol ("tcp/80", "icmp").
func portSuffix(port int32) string {
	if port == 0 {
		return ""
	}
	return "/" + strconv.Itoa(int(port))
}

// mismatchLines are the audit's mismatch lines by cell ("from → to probe").
func mismatchLines(out string) map[string]string {
	lines := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^  (\S+ → \S+ \S+): (your policies say .*)$`).FindAllStringSubmatch(out, -1) {
		lines[m[1]] = m[2]
	}
	return lines
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// settle gives kube-router time to program a change: NetworkPolicies report
// no status (as cluster.k8sPolicySettle).
func settle() { time.Sleep(5 * time.Second) }

func readNetworkPolicies(t *testing.T, file string) []*networkingv1.NetworkPolicy {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []*networkingv1.NetworkPolicy
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		np := &networkingv1.NetworkPolicy{}
		if err := dec.Decode(np); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if np.Name != "" {
			out = append(out, np)
		}
	}
}

// leakObjects are the named-port leak's namespace, pods and policy.
func leakObjects() []any {
	web := func(name string, ports map[string]int32) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "audit-shop", Labels: map[string]string{"app": "web"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: agentimage.DefaultTag, ImagePullPolicy: corev1.PullNever,
				Args: []string{"serve", "--tcp", "80,8080,9090"}}}}}
		for _, n := range []string{"http", "metrics", "admin"} {
			p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, corev1.ContainerPort{Name: n, ContainerPort: ports[n]})
		}
		return p
	}
	metrics := intstr.FromString("metrics")
	return []any{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "audit-shop"}},
		web("web-1", map[string]int32{"http": 80, "metrics": 8080, "admin": 9090}),
		web("web-2", map[string]int32{"http": 80, "metrics": 9090, "admin": 8080}),
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "client", Namespace: "audit-shop", Labels: map[string]string{"app": "client"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "shell", Image: toolsimage.Debian, ImagePullPolicy: corev1.PullNever}}}},
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "client-to-metrics", Namespace: "audit-shop"},
			Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "client"}},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
				Egress: []networkingv1.NetworkPolicyEgressRule{{
					To:    []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}},
					Ports: []networkingv1.NetworkPolicyPort{{Port: &metrics}}}}}},
	}
}

func create(ctx context.Context, cs kubernetes.Interface, o any) error {
	var err error
	switch o := o.(type) {
	case *corev1.Namespace:
		_, err = cs.CoreV1().Namespaces().Create(ctx, o, metav1.CreateOptions{})
	case *corev1.Pod:
		_, err = cs.CoreV1().Pods(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
	case *networkingv1.NetworkPolicy:
		_, err = cs.NetworkingV1().NetworkPolicies(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
	}
	return err
}

func waitGone(t *testing.T, cs kubernetes.Interface, ns, selector string) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		pods, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
		if err == nil && len(pods.Items) == 0 {
			return
		}
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
	}
	t.Fatalf("the pods %s of %s are still there after 2 minutes", selector, ns)
}
