package model_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/scenario"
)

// The seed walkthrough (scenarios/antrea-blog), stage by stage, each stage on
// top of the ones before. Expectations restate the blog's observations and
// Antrea's documented semantics.

// blogModel is the model once the first stages stages (after no-policy) are applied.
func blogModel(t *testing.T, stages int) *model.Model {
	t.Helper()
	s, err := scenario.Load(filepath.Join("..", "..", "scenarios", "antrea-blog"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := s.Policies(stages, s.ValuesFor(s.Topology))
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Compile(loadTopology(t, "antrea-blog"), set)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The assertions kept in scenario.yaml (the blog's observations) hold in the model.
func TestBlogScenarioAssertionsHoldInTheModel(t *testing.T) {
	s, err := scenario.Load(filepath.Join("..", "..", "scenarios", "antrea-blog"))
	if err != nil {
		t.Fatal(err)
	}
	for i, stage := range s.Stages {
		m := blogModel(t, i)
		for _, a := range stage.Assertions {
			pairs := 0
			for _, from := range m.Endpoints() {
				for _, to := range m.Endpoints() {
					if !scenario.MatchesEndpoint(a.From, from) || !scenario.MatchesEndpoint(a.To, to) {
						continue
					}
					pairs++
					if r := evaluate(t, m, from, to, a.Probe.String()); r.Verdict != a.Verdict {
						t.Errorf("stage %s: %s → %s %s = %s, want %s (%s)", stage.Name, from, to, a.Probe, r.Verdict, a.Verdict, a.Why)
					}
				}
			}
			if pairs == 0 {
				t.Errorf("stage %s: assertion %s → %s names no endpoint pair", stage.Name, a.From, a.To)
			}
		}
	}
}

const (
	dev1, dev2   = "dev-app/ubuntu-16-04", "dev-app/ubuntu-20-04"
	prod1, prod2 = "prod-app/ubuntu-16-04", "prod-app/ubuntu-20-04"
	test1        = "test-app/ubuntu-16-04"
	yelbUI       = "yelb/yelb-ui"
	yelbApp      = "yelb/yelb-appserver"
	yelbRedis    = "yelb/redis-server"
	coredns      = "kube-system/coredns"
)

func TestBlogStage0NoPolicyAllowsEverything(t *testing.T) {
	m := blogModel(t, 0)
	names := m.Endpoints()
	for _, probe := range []string{"icmp", "tcp/22", "udp/53", "tcp/80", "tcp/4567"} {
		for _, from := range names {
			for _, to := range names {
				if r := evaluate(t, m, from, to, probe); r.Verdict != model.Allow {
					t.Errorf("%s → %s %s = %s, want Allow with no policy", from, to, probe, r.Verdict)
				}
			}
		}
	}
}

func TestBlogStage1IsolateEnvironments(t *testing.T) {
	checkFlows(t, blogModel(t, 1), []flow{
		// The blog: a dev pod pings the other dev pod, but no longer a prod pod.
		{from: dev1, to: dev2, probe: "icmp", verdict: allow,
			egress: "ClusterNetworkPolicy/isolate-dev-env egress[0]", ingress: "ClusterNetworkPolicy/isolate-dev-env ingress[1]"},
		{from: dev1, to: prod2, probe: "icmp", verdict: drop, egress: "default", ingress: "ClusterNetworkPolicy/isolate-prod-env ingress[0]"},
		// yelb is env=test too: test-app and yelb are one environment.
		{from: test1, to: yelbRedis, probe: "tcp/6379", verdict: allow},
		// kube-system has no env label: NotIn [dev] matches it, so CoreDNS cannot reach dev pods...
		{from: coredns, to: dev1, probe: "udp/53", verdict: drop, ingress: "ClusterNetworkPolicy/isolate-dev-env ingress[0]"},
		// ...while nothing applies to CoreDNS itself, and dev's egress has no Drop.
		{from: dev1, to: coredns, probe: "udp/53", verdict: allow, egress: "default", ingress: "default"},
		// A namespaceSelector never matches an external host: nothing blocks it yet.
		{from: "ssh-server", to: prod1, probe: "tcp/22", verdict: allow, ingress: "default"},
		{from: prod1, to: "ssh-server", probe: "tcp/22", verdict: allow},
	})
}

func TestBlogStage2AllowCoreDNS(t *testing.T) {
	checkFlows(t, blogModel(t, 2), []flow{
		{from: dev1, to: coredns, probe: "udp/53", verdict: allow, egress: "ClusterNetworkPolicy/allow-core-dns egress[0]"},
		{from: yelbUI, to: coredns, probe: "tcp/53", verdict: allow, egress: "ClusterNetworkPolicy/allow-core-dns egress[0]"},
		{from: dev1, to: coredns, probe: "tcp/80", verdict: allow, egress: "default"},
		{from: dev1, to: prod1, probe: "udp/53", verdict: drop, ingress: "ClusterNetworkPolicy/isolate-prod-env ingress[0]"},
	})
}

func TestBlogStage3BlockAll(t *testing.T) {
	checkFlows(t, blogModel(t, 3), []flow{
		// The blog: pods still reach pods of their own environment...
		{from: dev1, to: dev2, probe: "tcp/80", verdict: allow, egress: "ClusterNetworkPolicy/isolate-dev-env egress[0]"},
		{from: test1, to: yelbUI, probe: "tcp/80", verdict: allow},
		// ...and DNS, allowed in NetworkOps before the baseline tier; kube-system is spared by its ns label.
		{from: prod2, to: coredns, probe: "udp/53", verdict: allow, egress: "ClusterNetworkPolicy/allow-core-dns egress[0]", ingress: "default"},
		{from: prod2, to: coredns, probe: "tcp/80", verdict: drop, egress: "ClusterNetworkPolicy/block-all-whitelist egress[0]"},
		// The blog: the prod pod's SSH to the remote server times out (Drop, not Reject).
		{from: prod1, to: "ssh-server", probe: "tcp/22", verdict: drop, egress: "ClusterNetworkPolicy/block-all-whitelist egress[0]"},
		// The load balancer's pool is down.
		{from: "lb-client-1", to: yelbUI, probe: "tcp/80", verdict: drop, ingress: "ClusterNetworkPolicy/block-all-whitelist ingress[0]"},
		// Cross-environment traffic is still dropped by SecurityOps, before the baseline.
		{from: dev1, to: prod1, probe: "tcp/80", verdict: drop, egress: "ClusterNetworkPolicy/block-all-whitelist egress[0]", ingress: "ClusterNetworkPolicy/isolate-prod-env ingress[0]"},
	})
}

func TestBlogStage4AllowProdSSH(t *testing.T) {
	checkFlows(t, blogModel(t, 4), []flow{
		// The blog: SSH from prod to the remote server now connects.
		{from: prod1, to: "ssh-server", probe: "tcp/22", verdict: allow, egress: "NetworkPolicy/prod-app/allow-prod-env-ssh egress[0]", ingress: "no-side"},
		{from: prod2, to: "ssh-server", probe: "tcp/22", verdict: allow},
		{from: prod1, to: "ssh-server", probe: "tcp/80", verdict: drop},
		{from: dev1, to: "ssh-server", probe: "tcp/22", verdict: drop, egress: "ClusterNetworkPolicy/block-all-whitelist egress[0]"},
	})
}

func TestBlogStage5AllowYelbFrontend(t *testing.T) {
	checkFlows(t, blogModel(t, 5), []flow{
		// The blog: the UI answers through the load balancer.
		{from: "lb-client-1", to: yelbUI, probe: "tcp/80", verdict: allow, ingress: "NetworkPolicy/yelb/allow-yelb-frontend ingress[0]"},
		{from: "lb-client-2", to: yelbUI, probe: "tcp/80", verdict: allow},
		{from: "lb-client-1", to: yelbUI, probe: "tcp/22", verdict: drop, ingress: "ClusterNetworkPolicy/block-all-whitelist ingress[0]"},
		{from: "ssh-server", to: yelbUI, probe: "tcp/80", verdict: drop}, // outside the pool
		{from: "lb-client-1", to: yelbApp, probe: "tcp/4567", verdict: drop},
		{from: yelbUI, to: "lb-client-2", probe: "tcp/8080", verdict: allow, egress: "NetworkPolicy/yelb/allow-yelb-frontend egress[0]"},
	})
}

func TestBlogStage6YelbMicrosegmentation(t *testing.T) {
	checkFlows(t, blogModel(t, 6), []flow{
		// The blog's closing question: frontend → appserver on 53 instead of 4567.
		// SecurityOps allows env=test ↔ env=test on both sides before any K8s
		// NetworkPolicy is consulted, so the micro-segmentation does not apply.
		{from: yelbUI, to: yelbApp, probe: "tcp/53", verdict: allow,
			egress: "ClusterNetworkPolicy/isolate-test-env egress[0]", ingress: "ClusterNetworkPolicy/isolate-test-env ingress[1]"},
		{from: yelbUI, to: yelbRedis, probe: "tcp/6379", verdict: allow},
		{from: test1, to: "yelb/yelb-db", probe: "tcp/5432", verdict: allow},
		// Where SecurityOps does not match (sources outside the cluster), the K8s
		// policies now decide, and their isolation replaces the baseline tier.
		{from: "lb-client-1", to: yelbApp, probe: "tcp/4567", verdict: drop, ingress: "K8sNetworkPolicy/yelb/yelb-middletier isolation"},
		{from: "lb-client-1", to: yelbUI, probe: "tcp/80", verdict: allow, ingress: "NetworkPolicy/yelb/allow-yelb-frontend ingress[0]"},
		{from: "ssh-server", to: yelbUI, probe: "tcp/80", verdict: allow, ingress: "K8sNetworkPolicy/yelb/yelb-frontend ingress[0]"},
		{from: yelbUI, to: "ssh-server", probe: "tcp/30567", verdict: allow, egress: "K8sNetworkPolicy/yelb/yelb-frontend egress[0]"},
		{from: yelbUI, to: "ssh-server", probe: "tcp/22", verdict: drop, egress: "K8sNetworkPolicy/yelb/yelb-frontend isolation"},
	})
}

func TestBlogFinalQuestionIsExplained(t *testing.T) {
	m := blogModel(t, 6)
	from, _ := m.Endpoint(yelbUI)
	to, _ := m.Endpoint(yelbApp)
	e := m.Explain(from, to, model.Probe{Protocol: model.TCP, Port: 53})
	var out bytes.Buffer
	if err := e.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"Verdict: Allow",
		"ClusterNetworkPolicy/isolate-test-env  priority 7 ingress[1]  Allow  MATCH",
		"not consulted: K8s NetworkPolicies K8sNetworkPolicy/yelb/yelb-frontend (an Antrea Allow in an earlier tier is final)",
		"not consulted: K8s NetworkPolicies K8sNetworkPolicy/yelb/yelb-middletier",
		"⇒ Allow: securityops ClusterNetworkPolicy/isolate-test-env egress[0]",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("explanation lacks %q:\n%s", want, text)
		}
	}
}
