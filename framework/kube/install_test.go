package kube_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/tierproof/tierproof/framework/kube"
)

const twoDocs = `apiVersion: v1
kind: ServiceAccount
metadata: {name: antrea-agent, namespace: kube-system}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: antrea-controller, namespace: kube-system}
spec:
  selector: {matchLabels: {app: antrea}}
  template:
    metadata: {labels: {app: antrea}}
    spec:
      containers:
        - name: antrea-controller
          image: antrea/antrea-controller-ubuntu:v2.7.0
        - name: sidecar
          image: "antrea/antrea-agent-ubuntu:v2.7.0"
`

func TestInstallManifestAppliesEveryDocumentAndListsImages(t *testing.T) {
	c := fake.NewClientBuilder().WithScheme(testScheme(t)).Build()
	if err := kube.InstallManifest(context.Background(), c, "antrea.yml", []byte(twoDocs)); err != nil {
		t.Fatal(err)
	}
	if !exists(t, c, schema.GroupVersionKind{Version: "v1", Kind: "ServiceAccount"}, "kube-system", "antrea-agent") ||
		!exists(t, c, schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, "kube-system", "antrea-controller") {
		t.Fatal("a document was not applied")
	}
	if got := strings.Join(kube.ManifestImages([]byte(twoDocs)), ","); got != "antrea/antrea-agent-ubuntu:v2.7.0,antrea/antrea-controller-ubuntu:v2.7.0" {
		t.Errorf("images %s", got)
	}
}

func TestWaitPodsReadyNamesImagePullFailures(t *testing.T) {
	cs := k8sfake.NewSimpleClientset(
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "yelb", Name: "yelb-ui"}, Status: corev1.PodStatus{Phase: corev1.PodPending,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "yelb-ui", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
				Reason: "ErrImagePull", Message: "pull access denied for mreferre/yelb-ui"}}}}}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "yelb", Name: "redis-server"}, Status: corev1.PodStatus{Phase: corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}},
	)
	err := kube.WaitPodsReady(context.Background(), cs, []string{"yelb", "dev-app"}, 5*time.Millisecond, 30*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "yelb/yelb-ui: container yelb-ui: ErrImagePull: pull access denied") ||
		!strings.Contains(err.Error(), "dev-app: no pods yet") || strings.Contains(err.Error(), "redis-server") {
		t.Fatalf("error %v", err)
	}
}

// A read that fails late (the rate limiter at the deadline, as a real run
// showed) keeps the reason the last good read gave.
func TestWaitPodsReadyKeepsTheLastReasonWhenReadsFail(t *testing.T) {
	cs := k8sfake.NewSimpleClientset(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "yelb", Name: "yelb-ui"}, Status: corev1.PodStatus{Phase: corev1.PodPending,
		ContainerStatuses: []corev1.ContainerStatus{{Name: "yelb-ui", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
			Reason: "ImagePullBackOff", Message: "no registry"}}}}}})
	lists := 0
	cs.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		lists++
		if lists > 1 {
			return true, nil, errors.New("client rate limiter Wait returned an error")
		}
		return false, nil, nil
	})
	err := kube.WaitPodsReady(context.Background(), cs, []string{"yelb"}, 5*time.Millisecond, 40*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "yelb/yelb-ui: container yelb-ui: ImagePullBackOff") || strings.Contains(err.Error(), "rate limiter") || lists < 2 {
		t.Fatalf("after %d lists: %v", lists, err)
	}
}
