package cluster_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/tierproof/tierproof/framework/agentimage"
	"github.com/tierproof/tierproof/framework/cluster"
	"github.com/tierproof/tierproof/framework/live"
	"github.com/tierproof/tierproof/framework/scenario"
	"github.com/tierproof/tierproof/framework/topology"
)

const (
	blog        = "../../scenarios/antrea-blog"
	conformance = "../../scenarios/conformance"
	shop        = "../../examples/shop"
)

// estateWithAgent is what a cluster run deploys for the scenarios in dir.
func estateWithAgent(t *testing.T, dir string, standIns bool) (cluster.EstateSpec, []runtime.Object, []string) {
	t.Helper()
	var scenarios []*scenario.Scenario
	if dir == conformance {
		c, err := scenario.LoadCatalog(dir)
		if err != nil {
			t.Fatal(err)
		}
		scenarios = c.Cases
	} else {
		s, err := scenario.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		scenarios = append(scenarios, s)
	}
	spec, err := cluster.EstateFor(scenarios...)
	if err != nil {
		t.Fatal(err)
	}
	objects, lines := cluster.WithAgent(spec.Objects, spec.Probed, standIns)
	return spec, objects, lines
}

func podSpecs(objects []runtime.Object) map[string]corev1.PodSpec {
	out := map[string]corev1.PodSpec{}
	for _, o := range objects {
		switch w := o.(type) {
		case *corev1.Pod:
			out[w.Namespace+"/"+w.Name] = w.Spec
		case *appsv1.Deployment:
			out[w.Namespace+"/"+w.Name] = w.Spec.Template.Spec
		case *appsv1.StatefulSet:
			out[w.Namespace+"/"+w.Name] = w.Spec.Template.Spec
		}
	}
	return out
}

// serveFlags reads the ports of an agent's serve arguments by flag.
func serveFlags(c corev1.Container) map[string][]int {
	out := map[string][]int{}
	for i := 0; i+1 < len(c.Args); i++ {
		for _, field := range strings.Split(c.Args[i+1], ",") {
			if p, err := strconv.Atoi(field); err == nil {
				out[c.Args[i]] = append(out[c.Args[i]], p)
			}
		}
	}
	return out
}

// Every pod of the estate answers every probed port — the application where
// it declares the port, the agent elsewhere, never both — and runs the agent
// the probes exec into.
func TestEveryPodAnswersEveryProbedPort(t *testing.T) {
	for _, dir := range []string{blog, shop} {
		for _, standIns := range []bool{false, true} {
			spec, objects, lines := estateWithAgent(t, dir, standIns)
			pods := podSpecs(objects)
			if len(lines) != len(pods) {
				t.Errorf("%s: %d log lines for %d workloads: %q", dir, len(lines), len(pods), lines)
			}
			for name, p := range pods {
				i := slices.IndexFunc(p.Containers, func(c corev1.Container) bool { return c.Name == cluster.AgentContainer })
				if i < 0 {
					t.Errorf("%s: %s has no %s container", dir, name, cluster.AgentContainer)
					continue
				}
				agent := p.Containers[i]
				if agent.Image != agentimage.DefaultTag || agent.ImagePullPolicy != corev1.PullNever || agent.Args[0] != "serve" {
					t.Errorf("%s: agent: image %s, pull %s, args %v", name, agent.Image, agent.ImagePullPolicy, agent.Args)
				}
				served := map[string][]int{}
				for _, c := range p.Containers {
					for flag, ports := range serveFlags(c) {
						for _, port := range ports {
							if slices.Contains(served[flag], port) {
								t.Errorf("%s: %s %d served twice", name, flag, port)
							}
							served[flag] = append(served[flag], port)
						}
					}
					if c.Name == cluster.AgentContainer || (standIns && c.Image == agentimage.DefaultTag) {
						continue
					}
					for _, port := range c.Ports {
						flag := "--" + strings.ToLower(string(port.Protocol))
						if port.Protocol == "" {
							flag = "--tcp"
						}
						served[flag] = append(served[flag], int(port.ContainerPort))
					}
				}
				for flag, ports := range map[string][]int{"--tcp": spec.Probed.TCP, "--udp": spec.Probed.UDP, "--sctp": spec.Probed.SCTP} {
					for _, port := range ports {
						if !slices.Contains(served[flag], port) {
							t.Errorf("%s (stand-ins %v): %s: nothing serves probed %s %d", dir, standIns, name, flag, port)
						}
					}
				}
				for _, c := range p.Containers {
					if standIns && c.Image != agentimage.DefaultTag {
						t.Errorf("%s: %s: container %s still pulls %s with stand-ins", dir, name, c.Name, c.Image)
					}
				}
			}
		}
	}
}

// A pod is Ready only when what it serves listens: the probes of the first
// stage must not race Postgres' initdb or Sinatra's start (they would read as
// Reject), nor the agent's own listeners. Every container that serves TCP has
// a TCP readiness probe on a port it serves; a stand-in's HTTP probe becomes
// a TCP probe of the same port.
func TestEveryServingContainerIsReadyOnlyWhenItListens(t *testing.T) {
	for _, dir := range []string{blog, conformance} {
		for _, standIns := range []bool{false, true} {
			_, objects, _ := estateWithAgent(t, dir, standIns)
			for name, p := range podSpecs(objects) {
				for _, c := range p.Containers {
					served := map[string]bool{}
					for _, port := range c.Ports {
						if port.Protocol == "" || port.Protocol == corev1.ProtocolTCP {
							served[strconv.Itoa(int(port.ContainerPort))] = true
							served[port.Name] = true
						}
					}
					for _, port := range serveFlags(c)["--tcp"] {
						served[strconv.Itoa(port)] = true
					}
					if len(served) == 0 {
						continue
					}
					r := c.ReadinessProbe
					if r == nil || r.TCPSocket == nil {
						t.Errorf("%s: %s container %s serves TCP but has no TCP readiness probe", dir, name, c.Name)
						continue
					}
					if port := r.TCPSocket.Port.String(); !served[port] || port == "" {
						t.Errorf("%s: %s container %s is probed on %s, which it does not serve", dir, name, c.Name, port)
					}
				}
			}
		}
	}
	_, objects, _ := estateWithAgent(t, shop, true)
	frontend := podSpecs(objects)["shop/frontend"].Containers[0]
	if r := frontend.ReadinessProbe; r == nil || r.TCPSocket == nil || r.TCPSocket.Port.String() != "http" || r.HTTPGet != nil {
		t.Errorf("the frontend's stand-in: readiness %+v, want TCP on http", r)
	}
}

// An offline topology must describe what the cluster boots: a snapshot of
// the estate as deployed (pods running at the topology's addresses) has the
// same namespaces, labels and ports as the topology derived from it.
func TestTheDerivedTopologyIsWhatTheClusterRuns(t *testing.T) {
	for _, dir := range []string{blog, conformance} {
		var offline *topology.Topology
		if dir == conformance {
			c, err := scenario.LoadCatalog(dir)
			if err != nil {
				t.Fatal(err)
			}
			offline = c.Cases[0].Topology
		} else {
			s, err := scenario.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			offline = s.Topology
		}
		ips := map[string]string{}
		for _, p := range offline.Pods {
			ips[p.EndpointName()] = p.IP
		}
		spec, objects, _ := estateWithAgent(t, dir, false)
		client := fake.NewSimpleClientset()
		ctx := context.Background()
		for _, o := range objects {
			var err error
			switch obj := o.(type) {
			case *corev1.Namespace:
				_, err = client.CoreV1().Namespaces().Create(ctx, obj, metav1.CreateOptions{})
			case *corev1.Pod:
				obj.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ips[obj.Namespace+"/"+obj.Name]}
				_, err = client.CoreV1().Pods(obj.Namespace).Create(ctx, obj, metav1.CreateOptions{})
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if spec.CoreDNS {
			addCoreDNS(t, client, ips["kube-system/coredns"])
		}
		snap, err := live.Topology(ctx, client, offline.Externals, nil)
		if err != nil {
			t.Fatal(err)
		}
		nsLabels := func(ns []topology.Namespace) map[string]map[string]string {
			out := map[string]map[string]string{}
			for _, n := range ns {
				out[n.Name] = n.Labels
			}
			return out
		}
		if got, want := nsLabels(snap.Namespaces), nsLabels(offline.Namespaces); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: namespaces:\n live    %v\n offline %v", dir, got, want)
		}
		livePods := map[string]string{}
		for _, p := range snap.Pods {
			livePods[p.EndpointName()] = describePod(p)
		}
		for _, p := range offline.Pods {
			if got, want := livePods[p.EndpointName()], describePod(p); got != want {
				t.Errorf("%s: %s: live %q, offline %q", dir, p.EndpointName(), got, want)
			}
		}
		if len(snap.Pods) != len(offline.Pods) {
			t.Errorf("%s: %d live pods, %d offline", dir, len(snap.Pods), len(offline.Pods))
		}
	}
}

func describePod(p topology.Pod) string { return fmtMap(p.Labels) + " " + portsString(p.Ports) }

func portsString(ports []topology.ContainerPort) string {
	var s []string
	for _, p := range ports {
		s = append(s, p.Name+":"+strconv.Itoa(int(p.Port))+"/"+string(p.Protocol))
	}
	return strings.Join(s, ",")
}

func fmtMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var s []string
	for _, k := range keys {
		s = append(s, k+"="+m[k])
	}
	return strings.Join(s, ",")
}

// addCoreDNS adds what a kind cluster brings: kube-system (labelled by the
// harness) and CoreDNS.
func addCoreDNS(t *testing.T, client *fake.Clientset, ip string) {
	ctx := context.Background()
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-system", Labels: map[string]string{"ns": "kube-system"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	coredns := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "coredns", Labels: map[string]string{"k8s-app": "kube-dns"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "coredns", Ports: []corev1.ContainerPort{
			{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP}, {Name: "dns-tcp", ContainerPort: 53, Protocol: corev1.ProtocolTCP}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip}}
	if _, err := client.CoreV1().Pods("kube-system").Create(ctx, coredns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// One run boots one estate: its scenarios must share it, and a scenario of
// a topology file has none to boot. The agents serve every port any of them
// probes.
func TestEstateForOneRun(t *testing.T) {
	load := func(dir string) *scenario.Scenario {
		s, err := scenario.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	blogScenario, k8sOnly, shopScenario := load(blog), load("../../scenarios/k8s-networkpolicy-blog"), load(shop)
	spec, err := cluster.EstateFor(blogScenario, k8sOnly)
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Namespaces) != 4 || !spec.CoreDNS || len(spec.Externals) != 2 || !slices.Equal(spec.Probed.UDP, []int{53}) {
		t.Errorf("the blog's estate: %+v", spec)
	}
	if _, err := cluster.EstateFor(blogScenario, shopScenario); err == nil || !strings.Contains(err.Error(), "scenarios antrea-blog and shop play on different estates") {
		t.Errorf("two estates: %v", err)
	}
	c, err := scenario.LoadCatalog(conformance)
	if err != nil {
		t.Fatal(err)
	}
	spec, err = cluster.EstateFor(c.Cases...)
	if err != nil || !slices.Contains(spec.Probed.SCTP, 80) {
		t.Errorf("the catalog's estate: %v %+v", err, spec.Probed)
	}
	xyz := copyWithTopology(t)
	if _, err := cluster.EstateFor(xyz); err == nil || !strings.Contains(err.Error(), "has a topology file and no estate") {
		t.Errorf("a topology-only scenario: %v", err)
	}
}

func copyWithTopology(t *testing.T) *scenario.Scenario {
	t.Helper()
	dir := t.TempDir()
	topo, err := os.ReadFile("../../fixtures/topologies/xyz.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"xyz.yaml": string(topo), "scenario.yaml": "name: offline\ntopology: xyz.yaml\nprobes: [tcp/80]\nstages: [{name: no-policy}]\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := scenario.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
