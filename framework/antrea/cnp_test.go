package antrea_test

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	crfake "sigs.k8s.io/controller-runtime/pkg/client/fake"
	npav1alpha2 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
	"sigs.k8s.io/yaml"

	"github.com/tierproof/tierproof/framework/antrea"
)

// The release manifest's ConfigMap as Antrea v2.7.0's build/yamls/antrea.yml
// shapes it: featureGates with every gate commented out, so YAML reads it as
// empty.
const releaseShape = `apiVersion: v1
kind: ServiceAccount
metadata: {name: antrea-agent, namespace: kube-system}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: antrea-config, namespace: kube-system}
data:
  antrea-agent.conf: |
    featureGates:
    #  AntreaProxy: true
  antrea-controller.conf: |
    # FeatureGates is a map of feature names to bools that enable or disable experimental features.
    featureGates:
    # Enable the ClusterNetworkPolicy API from the network-policy-api project
    #  ClusterNetworkPolicy: false

    # The port for the antrea-controller APIServer to serve on.
    apiPort: 10349
---
apiVersion: v1
kind: ConfigMap
metadata: {name: antrea-ca, namespace: kube-system}
`

func TestEnableControllerGate(t *testing.T) {
	out, err := antrea.EnableControllerGate([]byte(releaseShape), "ClusterNetworkPolicy")
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(out), "---\n")
	if len(docs) != 3 || docs[0] != "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: antrea-agent, namespace: kube-system}\n" {
		t.Fatalf("the other documents changed:\n%s", out)
	}
	var cm struct{ Data map[string]string }
	if err := yaml.Unmarshal([]byte(docs[1]), &cm); err != nil {
		t.Fatal(err)
	}
	var conf struct {
		FeatureGates map[string]bool `json:"featureGates"`
		APIPort      int             `json:"apiPort"`
	}
	if err := yaml.UnmarshalStrict([]byte(cm.Data["antrea-controller.conf"]), &conf); err != nil {
		t.Fatal(err)
	}
	if !conf.FeatureGates["ClusterNetworkPolicy"] || conf.APIPort != 10349 || !strings.Contains(cm.Data["antrea-agent.conf"], "AntreaProxy") {
		t.Errorf("antrea-controller.conf: %+v; agent conf %q", conf, cm.Data["antrea-agent.conf"])
	}
	if _, err := antrea.EnableControllerGate([]byte("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: x}\n"), "ClusterNetworkPolicy"); err == nil || !strings.Contains(err.Error(), "no ConfigMap kube-system/antrea-config") {
		t.Errorf("a manifest without the ConfigMap: %v", err)
	}
}

// Antrea writes no status for a ClusterNetworkPolicy; what it publishes is
// the internal NetworkPolicy its controller computed, named by the CNP's UID,
// at the CNP's generation. The wait reads that.
func TestCNPStatusIsTheComputedInternalPolicy(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := npav1alpha2.Install(scheme); err != nil {
		t.Fatal(err)
	}
	cnp := &npav1alpha2.ClusterNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "deny", UID: types.UID("0b6c"), Generation: 2}}
	internal := &unstructured.Unstructured{}
	internal.SetAPIVersion("controlplane.antrea.io/v1beta2")
	internal.SetKind("NetworkPolicy")
	internal.SetName("0b6c")
	internal.SetGeneration(1)
	c := crfake.NewClientBuilder().WithScheme(scheme).WithObjects(cnp).Build()
	get := antrea.PolicyStatuses(c)
	ctx := context.Background()

	s, err := get(ctx, "CNP/deny")
	if err != nil {
		t.Fatal(err)
	}
	if ok, why := antrea.Realized(s); ok || !strings.Contains(why, "antrea-controller has not computed it (no controlplane NetworkPolicy 0b6c") {
		t.Errorf("not computed yet: %v %q", ok, why)
	}
	if err := c.Create(ctx, internal); err != nil {
		t.Fatal(err)
	}
	if s, err = get(ctx, "CNP/deny"); err != nil {
		t.Fatal(err)
	}
	if ok, why := antrea.Realized(s); ok || !strings.Contains(why, "status is about generation 1, the policy is at 2") {
		t.Errorf("computed at an older generation: %v %q", ok, why)
	}
	internal.SetGeneration(2)
	if err := c.Update(ctx, internal); err != nil {
		t.Fatal(err)
	}
	if s, err = get(ctx, "CNP/deny"); err != nil {
		t.Fatal(err)
	}
	if ok, why := antrea.Realized(s); !ok {
		t.Errorf("computed at its generation: %q", why)
	}
}
