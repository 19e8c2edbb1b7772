package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tierproof/tierproof/fixtures"
	"github.com/tierproof/tierproof/framework/kind"
	"github.com/tierproof/tierproof/framework/kube"
	"github.com/tierproof/tierproof/framework/live"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/nodeimage"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/topology"
)

// realClusterScenario is the walkthrough kube-router can enforce;
// shopScenario a user's estate, whose first two stages it can.
const (
	realClusterScenario = "../../scenarios/k8s-networkpolicy-blog"
	shopScenario        = "../../examples/shop"
)

// TestRealCluster plays the walkthrough on real kind clusters booted from
// nothing, with kube-router enforcing (make cluster-test, which .ci/run runs
// after make test): a run that passes, a run that an out-of-band policy must
// fail on exactly its cells, and a run interrupted mid-stage. Each creates
// its own cluster and must leave no container or network behind.
func TestRealCluster(t *testing.T) {
	if os.Getenv("TIERPROOF_REAL_CLUSTER") == "" {
		t.Skip("real kind clusters: make cluster-test (Docker and make node-image)")
	}
	if os.Getenv("TIERPROOF_CHILD") != "" {
		t.Skip("inside a child run of the suite")
	}
	if err := kind.CheckDocker(context.Background()); err != nil {
		t.Skip("no Docker engine answers (bash hack/docker/start starts one): " + strings.SplitN(err.Error(), "\n", 2)[0])
	}
	if out, err := exec.Command("docker", "image", "inspect", nodeimage.Tag).CombinedOutput(); err != nil {
		t.Fatalf("the node image %s: %v: %s (make node-image)", nodeimage.Tag, err, out)
	}
	if left := leftovers(t); left != "" {
		t.Fatalf("before the runs, Docker already holds tierproof's: %s (delete them: kind delete cluster --name tierproof)", left)
	}
	base := []string{"-tierproof.data-plane=kube-router", "-tierproof.scenarios=" + realClusterScenario, "-tierproof.keep-cluster=never", "-ginkgo.v"}

	t.Run("every probed cell matches the model", func(t *testing.T) {
		reports := keptReports(t, "walkthrough")
		out, err := rerunSuiteFor(t, 15*time.Minute, append(base, "-tierproof.reports="+reports)...)
		t.Logf("%s", figures(out))
		if err != nil {
			t.Fatalf("the run failed: %v\n%s", err, out)
		}
		for _, want := range []string{"canary: ", "denied (Reject)", "3 Passed", "0 mismatch(es)"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("the run does not say %q:\n%s", want, out)
			}
		}
		// 13 agent endpoints (10 pods, 3 external hosts) probe 10 pods and 3
		// hosts on 8 probes and the 2 CoreDNS replicas on TCP and UDP 53:
		// 13 × (13 × 8 + 2 × 2) = 1 404 flows per stage.
		if n := len(regexp.MustCompile(`(?m)stage \S+: 1404 flows, \d+ execs, \d+ round\(s\), \S+, 0 mismatch\(es\)$`).FindAll(out, -1)); n != 3 {
			t.Errorf("%d of 3 stages probed all 1 404 flows with no mismatch", n)
		}
		for _, file := range []string{"junit.xml", "report.html", "results.json", "truth-tables.txt"} {
			data, err := os.ReadFile(filepath.Join(reports, "k8s-networkpolicy-blog", file))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), "kube-router v2.1.0 on kind") {
				t.Errorf("%s does not name the data plane", file)
			}
		}
		reportsOnly(t, reports)
		noLeftovers(t)
	})

	t.Run("an out-of-band NetworkPolicy fails exactly the cells it changes", func(t *testing.T) {
		reports := keptReports(t, "out-of-band")
		fault, err := filepath.Abs("testdata/out-of-band-deny-prod-ubuntu-16-04.yaml")
		if err != nil {
			t.Fatal(err)
		}
		out, err := rerunSuiteFor(t, 15*time.Minute, append(base, "-tierproof.reports="+reports, "-tierproof.out-of-band=no-policy:"+fault)...)
		t.Logf("%s", figures(out))
		if err == nil {
			t.Fatalf("the run passed with a policy the model does not know:\n%s", out)
		}
		// Written from the fault's own text: at no-policy every other endpoint
		// that runs the agent (the estate's pods, the external hosts) reached
		// prod-app/ubuntu-16-04 on each of the 8 probes, and now none does.
		topo, err := fixtures.Topology("antrea-blog")
		if err != nil {
			t.Fatal(err)
		}
		var sources []string
		for _, p := range topo.Pods {
			if p.Namespace != "kube-system" && p.EndpointName() != "prod-app/ubuntu-16-04" {
				sources = append(sources, p.EndpointName())
			}
		}
		for _, e := range topo.Externals {
			sources = append(sources, e.Name)
		}
		probes := []string{"icmp", "tcp/22", "tcp/53", "udp/53", "tcp/80", "tcp/4567", "tcp/5432", "tcp/6379"}
		var want []string
		for _, from := range sources {
			for _, p := range probes {
				want = append(want, "no-policy/"+from+"→prod-app/ubuntu-16-04/"+p)
			}
		}
		slices.Sort(want)
		if !strings.Contains(string(out), fmt.Sprintf("stage no-policy: %d flows differ from the model", len(want))) {
			t.Errorf("the console does not say %d flows differ:\n%s", len(want), out)
		}
		console := regexp.MustCompile(`(no-policy/\S+→\S+): expected Allow, observed (\w+)`).FindAllStringSubmatch(string(out), -1)
		for _, m := range console {
			if !slices.Contains(want, m[1]) || m[2] != "Reject" {
				t.Errorf("the console lists %s observed %s, which the fault does not explain", m[1], m[2])
			}
		}
		if len(console) == 0 {
			t.Errorf("the console lists no mismatched cell:\n%s", out)
		}
		junit, err := os.ReadFile(filepath.Join(reports, "k8s-networkpolicy-blog", "junit.xml"))
		if err != nil {
			t.Fatal(err)
		}
		failed := regexp.MustCompile(`<testcase name="([^"]+)"[^>]*>\s*<failure`).FindAllStringSubmatch(string(junit), -1)
		if got := uniq(failed); !slices.Equal(got, want) {
			t.Errorf("JUnit fails %v, want %v", got, want)
		}
		html, err := os.ReadFile(filepath.Join(reports, "k8s-networkpolicy-blog", "report.html"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(html), fmt.Sprintf(`<td class="mismatches">%d</td>`, len(want))) {
			t.Errorf("the HTML report's summary does not show %d mismatches", len(want))
		}
		cells := regexp.MustCompile(`class="[^"]*mismatch" data-from="([^"]+)" data-to="([^"]+)" data-probe="([^"]+)"`).FindAllStringSubmatch(string(html), -1)
		var marked []string
		for _, c := range cells {
			marked = append(marked, "no-policy/"+c[1]+"→"+c[2]+"/"+c[3])
		}
		slices.Sort(marked)
		if marked = slices.Compact(marked); !slices.Equal(marked, want) {
			t.Errorf("the HTML report marks %v, want %v", marked, want)
		}
		noLeftovers(t)
	})

	t.Run("a user's estate: the shop's K8s NetworkPolicy stages, and a snapshot of the cluster", func(t *testing.T) {
		reports := keptReports(t, "shop")
		// Kept, to take a snapshot of it; removed below as a user would.
		t.Cleanup(func() { removeKeptCluster(t) })
		out, err := rerunSuiteFor(t, 15*time.Minute, "-tierproof.data-plane=kube-router", "-tierproof.scenarios="+shopScenario,
			"-tierproof.until=app-rules", "-tierproof.keep-cluster=always", "-ginkgo.v", "-tierproof.reports="+reports)
		t.Logf("%s", figures(out))
		if err != nil {
			t.Fatalf("the run failed: %v\n%s", err, out)
		}
		// 8 pods (frontend's 2 replicas, cart, redis, checkout, payments'
		// 2, fraud-check) and 3 hosts outside the cluster, on 8 probes.
		if n := len(regexp.MustCompile(`(?m)stage \S+: 968 flows, \d+ execs, \d+ round\(s\), \S+, 0 mismatch\(es\)$`).FindAll(out, -1)); n != 2 {
			t.Errorf("%d of 2 stages probed all 968 flows with no mismatch:\n%s", n, out)
		}
		for _, want := range []string{"Deployment/shop/frontend: the agent stands in for registry.example.com/shop/frontend:1.4.2", "2 Passed"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("the run does not say %q", want)
			}
		}
		run, err := os.ReadFile(filepath.Join(reports, "shop", "results.json"))
		if err != nil {
			t.Fatal(err)
		}
		var results struct {
			Flows []struct {
				From, To, Protocol, Stage, Verdict string
				Port                               int32
			} `json:"flows"`
		}
		if err := json.Unmarshal(run, &results); err != nil {
			t.Fatal(err)
		}
		runTopo, err := topology.Load(filepath.Join(reports, "topology.yaml"))
		if err != nil {
			t.Fatal(err)
		}

		// The snapshot of the cluster as the run left it (app-rules applied),
		// with the run's hosts outside the cluster added, as a user adds
		// externals: its model gives every cell the run's model gave.
		cacheDir, err := os.UserCacheDir()
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(cacheDir, "tierproof", "work", "tierproof", "kubeconfig"))
		if err != nil {
			t.Fatal(err)
		}
		snap, err := live.Read(context.Background(), cfg, []string{"shop", "payments"})
		if err != nil {
			t.Fatal(err)
		}
		snap.Topology.Externals = runTopo.Externals
		set := &policy.Set{}
		for _, p := range snap.Policies {
			np := &networkingv1.NetworkPolicy{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(p.Object, np); err != nil {
				t.Fatal(err)
			}
			set.K8sNetworkPolicies = append(set.K8sNetworkPolicies, policy.Located[*networkingv1.NetworkPolicy]{Object: np})
		}
		m, err := model.CompileFor(snap.Topology, set, model.KubeRouter)
		if err != nil {
			t.Fatal(err)
		}
		compared := 0
		for _, f := range results.Flows {
			if f.Stage != "app-rules" {
				continue
			}
			from, ok1 := m.Endpoint(f.From)
			to, ok2 := m.Endpoint(f.To)
			probe, err := model.ParseProbe(strings.ToLower(f.Protocol) + "/" + strconv.Itoa(int(f.Port)))
			if f.Protocol == "ICMP" {
				probe, err = model.ParseProbe("icmp")
			}
			if !ok1 || !ok2 || err != nil {
				t.Fatalf("the snapshot lacks %s → %s (%v)", f.From, f.To, err)
			}
			if got := m.Evaluate(from, to, probe).Verdict.String(); got != f.Verdict {
				t.Errorf("%s → %s %s: the snapshot's model says %s, the run's %s", f.From, f.To, probe, got, f.Verdict)
			}
			compared++
		}
		if compared != 968 || len(set.K8sNetworkPolicies) != 6 {
			t.Errorf("compared %d cells (want 968) on %d NetworkPolicies (want 6)", compared, len(set.K8sNetworkPolicies))
		}
	})

	t.Run("the pods' own tools probe the walkthrough, and audit checks the cluster changed behind tierproof's back", toolsAndAudit)

	t.Run("SIGINT during a stage stops the run, says interrupted and cleans up", func(t *testing.T) {
		// The second stage's spec is running: it has begun applying.
		out, err := interruptSuite(t, "stage isolate-environments: applying", append(base, "-tierproof.reports="+t.TempDir())...)
		if err == nil {
			t.Fatalf("the interrupted run passed:\n%s", out)
		}
		if !strings.Contains(out, "interrupted at stage isolate-environments") || strings.Contains(out, "flows differ") {
			t.Errorf("the run does not say interrupted (or reports differing flows):\n%s", out)
		}
		if !strings.Contains(out, "removing what it created") {
			t.Errorf("the run does not say it removes what it created:\n%s", out)
		}
		noLeftovers(t)
	})
}

// removeKeptCluster removes what a run kept, as a user would: the kind
// cluster's nodes with their volumes (kind gives each node an anonymous
// /var, about 1 GB of images: without -v every run left them, 53 GB here),
// the external hosts and the run's network.
func removeKeptCluster(t *testing.T) {
	for _, filter := range []string{"label=io.x-k8s.kind.cluster=tierproof", "label=" + kube.OwnerLabel} {
		out, err := exec.Command("docker", "ps", "-aq", "--filter", filter).Output()
		if ids := strings.Fields(string(out)); err == nil && len(ids) > 0 {
			if out, err := exec.Command("docker", append([]string{"rm", "-f", "-v"}, ids...)...).CombinedOutput(); err != nil {
				t.Errorf("docker rm: %v: %s", err, out)
			}
		}
	}
	out, err := exec.Command("docker", "network", "ls", "-q", "--filter", "label="+kube.OwnerLabel).Output()
	if ids := strings.Fields(string(out)); err == nil && len(ids) > 0 {
		if out, err := exec.Command("docker", append([]string{"network", "rm"}, ids...)...).CombinedOutput(); err != nil {
			t.Errorf("docker network rm: %v: %s", err, out)
		}
	}
	noLeftovers(t)
}

// keptReports is a fresh reports/cluster-test/<name> of the repository, kept
// after the test for people (and CI artifacts) to read.
func keptReports(t *testing.T, name string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "reports", "cluster-test", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// rerunSuiteFor is rerunSuite with a deadline of its own.
func rerunSuiteFor(t *testing.T, timeout time.Duration, flags ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], append([]string{"-test.run=^TestE2E$", "-test.v", "-ginkgo.no-color"}, flags...)...)
	cmd.Env = append(os.Environ(), "TIERPROOF_CHILD=1")
	return cmd.CombinedOutput()
}

// interruptSuite starts the suite and sends it SIGINT once its output shows
// after (a line the running stage prints), then waits.
func interruptSuite(t *testing.T, after string, flags ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestE2E$", "-test.v", "-ginkgo.no-color"}, flags...)...)
	cmd.Env = append(os.Environ(), "TIERPROOF_CHILD=1")
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		sent := false
		scanner := bufio.NewScanner(pipe)
		for scanner.Scan() {
			mu.Lock()
			out.WriteString(scanner.Text() + "\n")
			mu.Unlock()
			if !sent && strings.Contains(scanner.Text(), after) {
				sent = true
				cmd.Process.Signal(syscall.SIGINT)
			}
		}
		io.Copy(io.Discard, pipe)
	}()
	timer := time.AfterFunc(15*time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	<-done
	err = cmd.Wait()
	mu.Lock()
	defer mu.Unlock()
	return out.String(), err
}

// leftovers lists tierproof's containers and networks still in Docker.
func leftovers(t *testing.T) string {
	t.Helper()
	var left []string
	for _, args := range [][]string{
		{"ps", "-a", "--format", "{{.Names}}", "--filter", "label=io.x-k8s.kind.cluster=tierproof"},
		{"ps", "-a", "--format", "{{.Names}}", "--filter", "label=" + kube.OwnerLabel},
		{"network", "ls", "--format", "{{.Name}}", "--filter", "label=" + kube.OwnerLabel},
	} {
		out, err := exec.Command("docker", args...).Output()
		if err != nil {
			t.Fatal(err)
		}
		left = append(left, strings.Fields(string(out))...)
	}
	return strings.Join(left, ", ")
}

func noLeftovers(t *testing.T) {
	t.Helper()
	if left := leftovers(t); left != "" {
		t.Errorf("after the run, Docker still holds: %s", left)
	}
}

// figureLine is a line of a run that says what it did and how long it took.
var figureLine = regexp.MustCompile(`canary:|stage \S+: \d+ flows|kind cluster|Ran \d+ of|no registry|pod network`)

// figures are a run's figure lines.
func figures(out []byte) string {
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if figureLine.MatchString(l) {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	return strings.Join(lines, "\n")
}

func uniq(matches [][]string) []string {
	var out []string
	for _, m := range matches {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	slices.Sort(out)
	return out
}

// reportsOnly fails when a reports directory, which CI publishes, holds a
// credential or a build output: the kubeconfig and the agent image archive
// belong to the run's working directory.
func reportsOnly(t *testing.T, dir string) {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files = append(files, rel)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.HasSuffix(path, ".tar") || bytes.Contains(data, []byte("client-key-data")) || bytes.Contains(data, []byte("BEGIN RSA PRIVATE KEY")) {
			t.Errorf("the reports directory holds %s, a credential or build output", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the reports directory holds: %s", strings.Join(files, ", "))
}
