package estate

import (
	"fmt"
	"strings"
)

// Shape is the size of a generated estate: namespaces of workloads, each
// workload a Deployment of replicas pods.
type Shape struct {
	Namespaces, Workloads, Replicas int
}

// Pods is how many pods the shape has.
func (s Shape) Pods() int { return s.Namespaces * s.Workloads * s.Replicas }

// Check refuses a shape that cannot run on kind's two workers.
func (s Shape) Check() error {
	switch {
	case s.Namespaces < 1 || s.Workloads < 1 || s.Replicas < 1:
		return fmt.Errorf("namespaces %d, workloads %d, replicas %d: want 1 or more of each", s.Namespaces, s.Workloads, s.Replicas)
	case s.Pods() > 2*100:
		// The kubelet runs 110 pods a node; kind's system pods take some.
		return fmt.Errorf("%d pods: kind's two workers run 200 at most", s.Pods())
	}
	return nil
}

// Generate writes a synthetic estate of shape s and a stage of Kubernetes
// NetworkPolicies over it that decides a mix of verdicts: in every
// namespace, ingress is isolated; a workload takes its own namespace's
// traffic on its port, and the next namespace's on the first workload's
// port; the last workload of each namespace takes nothing. Both are
// manifests, as a user's would be.
func Generate(s Shape) (estate, policies string) {
	var e, p strings.Builder
	for n := 0; n < s.Namespaces; n++ {
		ns := fmt.Sprintf("team-%d", n)
		next := fmt.Sprintf("team-%d", (n+1)%s.Namespaces)
		fmt.Fprintf(&e, "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n  labels: {team: %q}\n", ns, ns)
		fmt.Fprintf(&p, "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: default-deny, namespace: %s}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n", ns)
		for w := 0; w < s.Workloads; w++ {
			app := fmt.Sprintf("svc-%d", w)
			port := 8000 + w
			fmt.Fprintf(&e, `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: %[1]s, namespace: %[2]s}
spec:
  replicas: %[3]d
  selector: {matchLabels: {app: %[1]s}}
  template:
    metadata: {labels: {app: %[1]s, tier: %[4]q}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: %[1]s
          image: registry.example.com/scale/%[1]s:1.0
          ports: [{name: http, containerPort: %[5]d}]
          readinessProbe: {tcpSocket: {port: http}, periodSeconds: 2}
`, app, ns, s.Replicas, map[bool]string{true: "front", false: "back"}[w == 0], port)
			if w == s.Workloads-1 && s.Workloads > 1 {
				continue
			}
			from := fmt.Sprintf("    - from: [{podSelector: {}}]\n      ports: [{port: %d}]\n", port)
			if w == 0 {
				from += fmt.Sprintf("    - from: [{namespaceSelector: {matchLabels: {team: %q}}}]\n      ports: [{port: http}]\n", next)
			}
			fmt.Fprintf(&p, "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: %s-in, namespace: %s}\nspec:\n  podSelector: {matchLabels: {app: %s}}\n  ingress:\n%s", app, ns, app, from)
		}
	}
	return e.String(), p.String()
}
