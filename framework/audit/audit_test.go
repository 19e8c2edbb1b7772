package audit_test

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tierproof/tierproof/framework/audit"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/testenv"
)

// A cluster that is not kind: two namespaces of kwok pods and a policy of
// each API the model reads.
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
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web, namespace: back}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress: [{from: [{namespaceSelector: {matchLabels: {team: web}}}], ports: [{port: 5432}]}]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: no-ping-into-front}
spec:
  tier: Admin
  priority: 1
  subject: {namespaces: {matchLabels: {team: web}}}
  ingress: [{action: Deny, from: [{namespaces: {}}]}]
`

// The audit of a real API server (not kind, no probes: a dry run) reads the
// cluster, models its policies and lists the flows it would probe; it sends
// no write, so the cluster's objects are as they were.
func TestADryRunAuditOfARealAPIServer(t *testing.T) {
	env := testenv.Start(t, testenv.Options{KwokNodes: []string{"kwok-worker", "kwok-worker2"}})
	ctx := context.Background()
	env.Create(t, cluster)
	versions := func() string {
		pods, err := env.Clientset.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var v []string
		for _, p := range pods.Items {
			v = append(v, p.Name+"@"+p.ResourceVersion)
		}
		return strings.Join(v, ",")
	}
	before := versions()
	r, err := audit.Run(ctx, audit.Options{Config: env.Config, Semantics: model.Antrea})
	if err != nil {
		t.Fatal(err)
	}
	// icmp both ways, tcp/5432 into db, tcp/8080 into web: 4 flows.
	if r.Flows != 4 || r.Sampled != 4 || len(r.Probed) != 0 || r.Execs != 0 || len(r.NotProbed) != 4 {
		t.Fatalf("flows %d, sampled %d, probed %d, execs %d, not probed %d", r.Flows, r.Sampled, len(r.Probed), r.Execs, len(r.NotProbed))
	}
	for _, n := range r.NotProbed {
		if n.Why != "a dry run: nothing probed" {
			t.Errorf("%s: %s", n.Flow, n.Why)
		}
	}
	web, _ := indexOf(r.Matrix.Endpoints, "front/web")
	db, _ := indexOf(r.Matrix.Endpoints, "back/db")
	for _, c := range []struct {
		probe    string
		from, to int
		want     model.Verdict
	}{{"tcp/5432", web, db, model.Allow}, {"icmp", web, db, model.Drop}, {"icmp", db, web, model.Drop}, {"tcp/8080", db, web, model.Drop}} {
		p, _ := model.ParseProbe(c.probe)
		pi, _ := indexOf(r.Matrix.Probes, p)
		if got := r.Matrix.Expected(pi, c.from, c.to).Verdict; got != c.want {
			t.Errorf("%d → %d %s: %s, want %s", c.from, c.to, c.probe, got, c.want)
		}
	}
	if after := versions(); after != before {
		t.Errorf("the pods changed during a read-only audit: %s → %s", before, after)
	}
}

// Sampling keeps a flow of every deciding rule before filling up.
func TestMaxFlowsKeepsEveryDecidingRule(t *testing.T) {
	env := testenv.Start(t, testenv.Options{KwokNodes: []string{"kwok-worker", "kwok-worker2"}})
	ctx := context.Background()
	env.Create(t, cluster)
	r, err := audit.Run(ctx, audit.Options{Config: env.Config, Semantics: model.Antrea, MaxFlows: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Three rules decide some flow: the K8s allow, the K8s isolation and the
	// CNP's Deny; a sample of one still holds a flow of each.
	if r.Flows != 4 || r.Sampled != 3 {
		t.Errorf("flows %d, sampled %d; want 4 and 3", r.Flows, r.Sampled)
	}
}

func indexOf[T comparable](s []T, v T) (int, bool) {
	for i, x := range s {
		if x == v {
			return i, true
		}
	}
	return -1, false
}
