package kube_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/e2e-framework/klient/k8s"

	"github.com/tierproof/tierproof/framework/kube"
)

// store is a Getter over objects the test changes while the wait polls.
type store struct {
	mu      sync.Mutex
	objects map[string]k8s.Object
}

func (s *store) Get(_ context.Context, name, namespace string, obj k8s.Object) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[namespace+"/"+name]
	if !ok {
		return apierrors.NewNotFound(schema.GroupResource{}, name)
	}
	switch dst := obj.(type) {
	case *appsv1.Deployment:
		*dst = *o.(*appsv1.Deployment)
	case *appsv1.DaemonSet:
		*dst = *o.(*appsv1.DaemonSet)
	case *unstructured.Unstructured:
		*dst = *o.(*unstructured.Unstructured)
	default:
		return fmt.Errorf("unexpected %T", obj)
	}
	return nil
}

func (s *store) put(key string, o k8s.Object) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[key] = o
}

func deployment(available int32) *appsv1.Deployment {
	one := int32(1)
	return &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: &one},
		Status: appsv1.DeploymentStatus{UpdatedReplicas: available, AvailableReplicas: available}}
}

func apiService(status string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{
		"conditions": []any{map[string]any{"type": "Available", "status": status, "message": "endpoints not ready"}}}}}
}

// antreaLike are checks of each kind, on the objects Antrea's install waits for.
var antreaLike = []kube.Readiness{
	kube.DeploymentReady("kube-system", "antrea-controller"),
	kube.DaemonSetReady("kube-system", "antrea-agent"),
	kube.DeploymentReady("kube-system", "coredns"),
	kube.APIServiceAvailable("v1beta2.controlplane.antrea.io"),
}

func TestWaitReadyNamesWhatIsNotReady(t *testing.T) {
	s := &store{objects: map[string]k8s.Object{
		"kube-system/antrea-controller":   deployment(0),
		"kube-system/antrea-agent":        &appsv1.DaemonSet{Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, NumberReady: 2, UpdatedNumberScheduled: 3}},
		"kube-system/coredns":             deployment(1),
		"/v1beta2.controlplane.antrea.io": apiService("False"),
	}}
	err := kube.WaitReady(context.Background(), s, 5*time.Millisecond, 50*time.Millisecond, antreaLike...)
	if err == nil {
		t.Fatal("ready with nothing ready")
	}
	for _, want := range []string{"deployment kube-system/antrea-controller: 0 of 1 replicas available", "daemonset kube-system/antrea-agent: 2 of 3 pods ready",
		"apiservice v1beta2.controlplane.antrea.io: not available: endpoints not ready"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "coredns") {
		t.Errorf("a ready CoreDNS is named: %v", err)
	}
}

func TestWaitReadyReturnsOnceAllAreReady(t *testing.T) {
	s := &store{objects: map[string]k8s.Object{
		"kube-system/antrea-controller": deployment(0),
		"kube-system/antrea-agent":      &appsv1.DaemonSet{Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, NumberReady: 3, UpdatedNumberScheduled: 3}},
		"kube-system/coredns":           deployment(1),
	}}
	go func() {
		time.Sleep(30 * time.Millisecond)
		s.put("kube-system/antrea-controller", deployment(1))
		s.put("/v1beta2.controlplane.antrea.io", apiService("True"))
	}()
	start := time.Now()
	if err := kube.WaitReady(context.Background(), s, 5*time.Millisecond, 5*time.Second, antreaLike...); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 30*time.Millisecond || took > 2*time.Second {
		t.Errorf("returned after %v: want just after the objects became ready", took)
	}
}
