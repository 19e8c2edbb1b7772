package cluster

import (
	"context"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/e2e-framework/klient/k8s"
)

// Getter reads one object; e2e-framework's *resources.Resources is one.
type Getter interface {
	Get(ctx context.Context, name, namespace string, obj k8s.Object) error
}

// readiness is one thing that must be ready, and how to tell.
type readiness struct {
	what  string
	check func(ctx context.Context, g Getter) (bool, string)
}

// antreaReadiness lists what must run before policies can be applied: the
// admission webhooks fail closed until antrea-controller serves its API.
var antreaReadiness = []readiness{
	{"deployment kube-system/antrea-controller", deploymentReady("kube-system", "antrea-controller")},
	{"daemonset kube-system/antrea-agent", daemonSetReady("kube-system", "antrea-agent")},
	{"deployment kube-system/coredns", deploymentReady("kube-system", "coredns")},
	{"apiservice v1beta2.controlplane.antrea.io", apiServiceAvailable("v1beta2.controlplane.antrea.io")},
}

// WaitAntreaReady polls until Antrea and CoreDNS are ready, or fails at timeout
// saying what is not ready and why.
func WaitAntreaReady(ctx context.Context, g Getter, interval, timeout time.Duration) error {
	return waitAll(ctx, g, antreaReadiness, interval, timeout)
}

func waitAll(ctx context.Context, g Getter, checks []readiness, interval, timeout time.Duration) error {
	notReady := map[string]string{}
	err := wait.PollUntilContextTimeout(ctx, interval, timeout, true, func(ctx context.Context) (bool, error) {
		clear(notReady)
		for _, c := range checks {
			if ok, why := c.check(ctx, g); !ok {
				notReady[c.what] = why
			}
		}
		return len(notReady) == 0, nil
	})
	if err == nil {
		return nil
	}
	var lines []string
	for _, c := range checks {
		if why, ok := notReady[c.what]; ok {
			lines = append(lines, c.what+": "+why)
		}
	}
	return fmt.Errorf("after %v, not ready: %s (kubectl -n kube-system get pods, and kubectl describe the ones not running, tell why)",
		timeout, strings.Join(lines, "; "))
}

func deploymentReady(namespace, name string) func(context.Context, Getter) (bool, string) {
	return func(ctx context.Context, g Getter) (bool, string) {
		var d appsv1.Deployment
		if err := g.Get(ctx, name, namespace, &d); err != nil {
			return false, err.Error()
		}
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		switch {
		case d.Status.ObservedGeneration < d.Generation:
			return false, "rollout not observed yet"
		case d.Status.UpdatedReplicas < want || d.Status.AvailableReplicas < want:
			return false, fmt.Sprintf("%d of %d replicas available", d.Status.AvailableReplicas, want)
		}
		return true, ""
	}
}

func daemonSetReady(namespace, name string) func(context.Context, Getter) (bool, string) {
	return func(ctx context.Context, g Getter) (bool, string) {
		var ds appsv1.DaemonSet
		if err := g.Get(ctx, name, namespace, &ds); err != nil {
			return false, err.Error()
		}
		s := ds.Status
		switch {
		case s.ObservedGeneration < ds.Generation:
			return false, "rollout not observed yet"
		case s.DesiredNumberScheduled == 0:
			return false, "scheduled on no node yet"
		case s.NumberReady < s.DesiredNumberScheduled || s.UpdatedNumberScheduled < s.DesiredNumberScheduled:
			return false, fmt.Sprintf("%d of %d pods ready", s.NumberReady, s.DesiredNumberScheduled)
		}
		return true, ""
	}
}

func apiServiceAvailable(name string) func(context.Context, Getter) (bool, string) {
	return func(ctx context.Context, g Getter) (bool, string) {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("apiregistration.k8s.io/v1")
		u.SetKind("APIService")
		if err := g.Get(ctx, name, "", u); err != nil {
			return false, err.Error()
		}
		conditions, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		for _, c := range conditions {
			m, ok := c.(map[string]any)
			if !ok || m["type"] != "Available" {
				continue
			}
			if m["status"] == "True" {
				return true, ""
			}
			return false, fmt.Sprintf("not available: %v", m["message"])
		}
		return false, "no Available condition yet"
	}
}

// Workload is a Deployment or DaemonSet that must be ready.
type Workload struct {
	DaemonSet bool // else a Deployment
	Namespace string
	Name      string
}

// WaitWorkloadsReady polls until every workload is ready, or fails at timeout
// saying which is not and why.
func WaitWorkloadsReady(ctx context.Context, g Getter, interval, timeout time.Duration, workloads ...Workload) error {
	var checks []readiness
	for _, w := range workloads {
		if w.DaemonSet {
			checks = append(checks, readiness{"daemonset " + w.Namespace + "/" + w.Name, daemonSetReady(w.Namespace, w.Name)})
		} else {
			checks = append(checks, readiness{"deployment " + w.Namespace + "/" + w.Name, deploymentReady(w.Namespace, w.Name)})
		}
	}
	return waitAll(ctx, g, checks, interval, timeout)
}
