package kube

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

// Readiness is one thing that must be ready, and how to tell.
type Readiness struct {
	What  string
	Check func(ctx context.Context, g Getter) (bool, string)
}

// WaitReady polls until every check passes, or fails at timeout saying what
// is not ready and why.
func WaitReady(ctx context.Context, g Getter, interval, timeout time.Duration, checks ...Readiness) error {
	notReady := map[string]string{}
	err := wait.PollUntilContextTimeout(ctx, interval, timeout, true, func(ctx context.Context) (bool, error) {
		clear(notReady)
		for _, c := range checks {
			if ok, why := c.Check(ctx, g); !ok {
				notReady[c.What] = why
			}
		}
		return len(notReady) == 0, nil
	})
	if err == nil {
		return nil
	}
	var lines []string
	for _, c := range checks {
		if why, ok := notReady[c.What]; ok {
			lines = append(lines, c.What+": "+why)
		}
	}
	return fmt.Errorf("after %v, not ready: %s (kubectl -n kube-system get pods, and kubectl describe the ones not running, tell why)",
		timeout, strings.Join(lines, "; "))
}

// DeploymentReady is ready when the Deployment's replicas are updated and available.
func DeploymentReady(namespace, name string) Readiness {
	return Readiness{"deployment " + namespace + "/" + name, func(ctx context.Context, g Getter) (bool, string) {
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
	}}
}

// DaemonSetReady is ready when the DaemonSet runs, updated and ready, on every node it schedules to.
func DaemonSetReady(namespace, name string) Readiness {
	return Readiness{"daemonset " + namespace + "/" + name, func(ctx context.Context, g Getter) (bool, string) {
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
	}}
}

// APIServiceAvailable is ready when the aggregated API service is Available.
func APIServiceAvailable(name string) Readiness {
	return Readiness{"apiservice " + name, func(ctx context.Context, g Getter) (bool, string) {
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
	}}
}

// CRDEstablished is ready when the API server serves the CRD's kind.
func CRDEstablished(name string) Readiness {
	return Readiness{"crd " + name, func(ctx context.Context, g Getter) (bool, string) {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("apiextensions.k8s.io/v1")
		u.SetKind("CustomResourceDefinition")
		if err := g.Get(ctx, name, "", u); err != nil {
			return false, err.Error()
		}
		conditions, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		for _, c := range conditions {
			if m, ok := c.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
				return true, ""
			}
		}
		return false, "not established yet"
	}}
}

// StatefulSetReady is ready when the StatefulSet's replicas are updated and ready.
func StatefulSetReady(namespace, name string) Readiness {
	return Readiness{"statefulset " + namespace + "/" + name, func(ctx context.Context, g Getter) (bool, string) {
		var s appsv1.StatefulSet
		if err := g.Get(ctx, name, namespace, &s); err != nil {
			return false, err.Error()
		}
		return replicasReady(s.Generation, s.Status.ObservedGeneration, s.Spec.Replicas, s.Status.UpdatedReplicas, s.Status.ReadyReplicas)
	}}
}

// ReplicaSetReady is ready when the ReplicaSet's replicas are ready.
func ReplicaSetReady(namespace, name string) Readiness {
	return Readiness{"replicaset " + namespace + "/" + name, func(ctx context.Context, g Getter) (bool, string) {
		var s appsv1.ReplicaSet
		if err := g.Get(ctx, name, namespace, &s); err != nil {
			return false, err.Error()
		}
		// A ReplicaSet replaces no pods on a template change: its pods are current by construction.
		return replicasReady(s.Generation, s.Status.ObservedGeneration, s.Spec.Replicas, s.Status.ReadyReplicas, s.Status.ReadyReplicas)
	}}
}

// replicasReady compares a controller's status with its spec (nil replicas: 1).
func replicasReady(generation, observed int64, replicas *int32, updated, ready int32) (bool, string) {
	want := int32(1)
	if replicas != nil {
		want = *replicas
	}
	switch {
	case observed < generation:
		return false, "rollout not observed yet"
	case updated < want || ready < want:
		return false, fmt.Sprintf("%d of %d replicas ready", ready, want)
	}
	return true, ""
}
