package kube_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	antreav1beta1 "github.com/tierproof/tierproof/apis/antrea/v1beta1"
	"github.com/tierproof/tierproof/framework/kube"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/testenv"
)

func testScheme(t *testing.T) *runtime.Scheme { return testenv.MustScheme(t) }

func stageObjects(t *testing.T, dir string) []runtime.Object {
	t.Helper()
	decoded, err := policy.ReadPath(context.Background(), filepath.Join("..", "..", "scenarios", "antrea-blog", dir))
	if err != nil {
		t.Fatal(err)
	}
	var out []runtime.Object
	for _, o := range decoded {
		out = append(out, o.Object)
	}
	return out
}

func exists(t *testing.T, c client.Client, gvk schema.GroupVersionKind, namespace, name string) bool {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	err := c.Get(context.Background(), client.ObjectKey{Namespace: namespace, Name: name}, u)
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

var acnpGVK = antreav1beta1.SchemeGroupVersion.WithKind("ClusterNetworkPolicy")

func TestApplyStagesAndCleanUp(t *testing.T) {
	c := fake.NewClientBuilder().WithScheme(testScheme(t)).Build()
	a := kube.NewApplier(c, "run-7")
	ctx := context.Background()
	if err := a.ApplyStage(ctx, "01", stageObjects(t, "01-isolate-environments")); err != nil {
		t.Fatal(err)
	}
	if err := a.ApplyStage(ctx, "03", stageObjects(t, "03-block-all")); err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(acnpGVK)
	if err := c.Get(ctx, client.ObjectKey{Name: "block-all-whitelist"}, u); err != nil {
		t.Fatal(err)
	}
	if u.GetLabels()[kube.OwnerLabel] != "run-7" {
		t.Errorf("applied object not labelled: %v", u.GetLabels())
	}
	if tier, _, _ := unstructured.NestedString(u.Object, "spec", "tier"); tier != "baseline" {
		t.Errorf("spec.tier = %q", tier)
	}
	if got := len(a.Created()); got != 4 {
		t.Errorf("%d objects created, want 4", got)
	}
	if err := a.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"isolate-dev-env", "isolate-prod-env", "isolate-test-env", "block-all-whitelist"} {
		if exists(t, c, acnpGVK, "", name) {
			t.Errorf("%s left behind after cleanup", name)
		}
	}
}

// Antrea's admission webhook refuses the second policy of a stage: the first,
// already applied, must go, and an object the stage changed must be put back.
func TestARefusedObjectRollsTheStageBack(t *testing.T) {
	refuse := func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
		if u, ok := obj.(interface{ GetName() string }); ok && u.GetName() == "isolate-test-env" {
			return apierrors.NewForbidden(schema.GroupResource{Group: "crd.antrea.io", Resource: "clusternetworkpolicies"}, "isolate-test-env",
				errorString("admission webhook \"acnpvalidator.antrea.io\" denied the request: tier SecurityOps does not exist"))
		}
		return c.Apply(ctx, obj, opts...)
	}
	c := fake.NewClientBuilder().WithScheme(testScheme(t)).WithInterceptorFuncs(interceptor.Funcs{Apply: refuse}).Build()
	a := kube.NewApplier(c, "run-8")
	ctx := context.Background()

	// An earlier stage created isolate-dev-env with priority 5; this stage changes it.
	first := stageObjects(t, "01-isolate-environments")[:1]
	if err := a.ApplyStage(ctx, "00", first); err != nil {
		t.Fatal(err)
	}
	stage := stageObjects(t, "01-isolate-environments")
	changed := stage[0].(*antreav1beta1.ClusterNetworkPolicy)
	changed.Spec.Priority = 42
	err := a.ApplyStage(ctx, "01", stage)
	if err == nil || !strings.Contains(err.Error(), "stage 01 not applied: ClusterNetworkPolicy isolate-test-env was refused") ||
		!strings.Contains(err.Error(), "denied the request") || !strings.Contains(err.Error(), "rolled back 1 created and 1 changed") {
		t.Fatalf("error %v", err)
	}
	if exists(t, c, acnpGVK, "", "isolate-prod-env") {
		t.Error("isolate-prod-env, created by the refused stage, was left behind")
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(acnpGVK)
	if err := c.Get(ctx, client.ObjectKey{Name: "isolate-dev-env"}, u); err != nil {
		t.Fatal(err)
	}
	// JSON numbers come back as int64 or float64; compare their text.
	if prio, _, _ := unstructured.NestedFieldNoCopy(u.Object, "spec", "priority"); fmt.Sprint(prio) != "5" {
		t.Errorf("isolate-dev-env priority %v after rollback, want the earlier 5", prio)
	}
	if got := len(a.Created()); got != 1 {
		t.Errorf("the run owns %d objects after the failed stage, want 1 (isolate-dev-env)", got)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }
