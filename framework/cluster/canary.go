package cluster

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tierproof/tierproof/framework/kube"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/probe"
)

// canaryWait is how long the canary waits, unless told otherwise, for a
// deny to take effect, and to be lifted again.
const canaryWait = 30 * time.Second

// Canary is the check that the enforcer enforces at all, before any stage is
// played: a probe between two estate pods must connect, be denied once a
// deny-all-ingress NetworkPolicy selects its target — with the denial the
// model expects of this enforcer — and connect again once the policy is gone.
// An enforcer that installed nothing (as kube-network-policies does on a
// kernel without nftables' queue, saying so only in its log) fails the run
// here instead of letting stages pass for the wrong reason.
type Canary struct {
	Exec    probe.Executor
	Applier *kube.Applier
	Denial  model.Verdict
	// Wait bounds how long a deny, and its lifting, may take; 0: 30 s.
	Wait time.Duration
	Logf func(format string, args ...any)
}

// Check probes from → to (pods of the estate, live) on TCP port.
func (c Canary) Check(ctx context.Context, from, to *corev1.Pod, port int32) error {
	flow := probe.Flow{From: from.Namespace + "/" + from.Name, To: to.Namespace + "/" + to.Name, ToIP: to.Status.PodIP,
		Probe: model.Probe{Protocol: model.TCP, Port: port}}
	engine := probe.NewEngine(c.Exec, probe.Config{Timeout: time.Second})
	wait := c.Wait
	if wait == 0 {
		wait = canaryWait
	}
	observe := func() probe.Verdict {
		obs, _ := engine.Run(ctx, []probe.Flow{flow}, nil)
		return obs[0].Verdict()
	}
	awaitVerdict := func(want func(probe.Verdict) bool) (probe.Verdict, time.Duration) {
		start := time.Now()
		for {
			v := observe()
			if want(v) || time.Since(start) > wait {
				return v, time.Since(start)
			}
			select {
			case <-ctx.Done():
				return v, time.Since(start)
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	allowed := func(v probe.Verdict) bool { return v == probe.Allow }
	if v, _ := awaitVerdict(allowed); v != probe.Allow {
		return fmt.Errorf("canary: %s is %s before any policy: the pod network does not carry traffic", flow, v)
	}
	deny := &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: "tierproof-canary", Namespace: to.Namespace},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: to.Labels},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}},
	}
	if err := c.Applier.ApplyStage(ctx, "canary", []runtime.Object{deny}); err != nil {
		return fmt.Errorf("canary: %w", err)
	}
	v, took := awaitVerdict(func(v probe.Verdict) bool { return v == probe.Drop || v == probe.Reject })
	cleanup := c.Applier.Cleanup(context.WithoutCancel(ctx))
	switch {
	case v == probe.Allow:
		return fmt.Errorf("canary: a deny-all-ingress NetworkPolicy on %s left %s allowed for %v: the data plane enforces nothing (read its pods' logs in kube-system)", flow.To, flow, wait)
	case v != probe.FromModel(c.Denial):
		return fmt.Errorf("canary: the data plane denied %s with %s, and the model expects %s of it", flow, v, c.Denial)
	case cleanup != nil:
		return fmt.Errorf("canary: removing its policy: %w", cleanup)
	}
	lifted, liftTook := awaitVerdict(allowed)
	if lifted != probe.Allow {
		return fmt.Errorf("canary: %s is still %s %v after its deny policy was deleted", flow, lifted, wait)
	}
	c.Logf("canary: %s denied (%s) %v after a deny-all policy, allowed again %v after its removal", flow, v, took.Round(100*time.Millisecond), liftTook.Round(100*time.Millisecond))
	return nil
}

// canaryPair picks the canary's pods among the estate's: a target whose agent
// container has a TCP readiness probe (the port it is known to serve), and
// another pod as the source.
func canaryPair(pods []corev1.Pod) (from, to *corev1.Pod, port int32, err error) {
	for i := range pods {
		for _, c := range pods[i].Spec.Containers {
			if c.Name == AgentContainer && c.ReadinessProbe != nil && c.ReadinessProbe.TCPSocket != nil {
				to, port = &pods[i], c.ReadinessProbe.TCPSocket.Port.IntVal
				break
			}
		}
		if to != nil {
			break
		}
	}
	for i := range pods {
		if to != nil && &pods[i] != to && pods[i].Namespace == to.Namespace {
			return &pods[i], to, port, nil
		}
	}
	return nil, nil, 0, fmt.Errorf("canary: the estate has no two pods in one namespace, one with a TCP readiness probe on its %s container", AgentContainer)
}
