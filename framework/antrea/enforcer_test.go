package antrea_test

import (
	"context"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	antreav1beta1 "github.com/tierproof/tierproof/apis/antrea/v1beta1"
	"github.com/tierproof/tierproof/framework/antrea"
	"github.com/tierproof/tierproof/framework/cluster"
	"github.com/tierproof/tierproof/framework/kube"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/testenv"
)

func testScheme(t *testing.T) *runtime.Scheme { return testenv.MustScheme(t) }

// The cluster plane applies a stage and waits for Antrea's realization of it.
func TestClusterPlaneAppliesAndWaitsForRealization(t *testing.T) {
	c := fake.NewClientBuilder().WithScheme(testScheme(t)).Build()
	var asked []string
	statuses := func(_ context.Context, name string) (antrea.PolicyStatus, error) {
		asked = append(asked, name)
		return antrea.PolicyStatus{Generation: 1, Status: antreav1beta1.NetworkPolicyStatus{Phase: antreav1beta1.NetworkPolicyRealized, ObservedGeneration: 1}}, nil
	}
	plane := &cluster.ClusterPlane{Enforcer: &antrea.Enforcer{Version: "v2.7.0", Statuses: statuses}, Applier: kube.NewApplier(c, "run-9")}
	set, err := policy.Load(context.Background(), filepath.Join("..", "..", "scenarios", "antrea-blog", "01-isolate-environments"), filepath.Join("..", "..", "scenarios", "antrea-blog", "03-block-all"))
	if err != nil {
		t.Fatal(err)
	}
	if err := plane.Apply(context.Background(), 3, set); err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(antreav1beta1.SchemeGroupVersion.WithKind("ClusterNetworkPolicy"))
	if err := c.Get(context.Background(), client.ObjectKey{Name: "block-all-whitelist"}, u); err != nil {
		t.Errorf("the stage's policy was not applied: %v", err)
	}
	sort.Strings(asked)
	if got := strings.Join(asked, ","); got != "ClusterNetworkPolicy/block-all-whitelist,ClusterNetworkPolicy/isolate-dev-env,ClusterNetworkPolicy/isolate-prod-env,ClusterNetworkPolicy/isolate-test-env" {
		t.Errorf("realization asked for %s, want the 4 ACNPs once each", got)
	}
	if plane.Name() != "Antrea v2.7.0 on kind" {
		t.Errorf("name %q", plane.Name())
	}
}
