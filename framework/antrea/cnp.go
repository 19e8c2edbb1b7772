package antrea

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	npav1alpha2 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
	"sigs.k8s.io/yaml"

	antreav1beta1 "github.com/tierproof/tierproof/apis/antrea/v1beta1"
)

// cnpGate is the antrea-controller feature gate that makes Antrea 2.7
// enforce the network-policy-api's ClusterNetworkPolicy (alpha, off by
// default: docs/cluster-network-policy.md, Prerequisites).
const cnpGate = "ClusterNetworkPolicy"

// cnpCRD is the name of the ClusterNetworkPolicy CRD.
const cnpCRD = "clusternetworkpolicies.policy.networking.k8s.io"

// EnableControllerGate turns gate on in the release manifest's
// antrea-controller.conf (the antrea-config ConfigMap), leaving every other
// document as it is. The manifest's comments in that file are not kept.
func EnableControllerGate(manifest []byte, gate string) ([]byte, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(manifest)))
	var out bytes.Buffer
	found := false
	for i := 0; ; i++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("antrea.yml: document %d: %w", i, err)
		}
		var head struct {
			Kind     string
			Metadata struct{ Name, Namespace string }
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			return nil, fmt.Errorf("antrea.yml: document %d: %w", i, err)
		}
		if head.Kind == "ConfigMap" && head.Metadata.Name == "antrea-config" && head.Metadata.Namespace == "kube-system" {
			if doc, err = enableGate(doc, gate); err != nil {
				return nil, fmt.Errorf("antrea.yml: ConfigMap kube-system/antrea-config: %w", err)
			}
			found = true
		}
		if out.Len() > 0 {
			out.WriteString("---\n")
		}
		out.Write(doc)
	}
	if !found {
		return nil, errors.New("antrea.yml has no ConfigMap kube-system/antrea-config to enable " + gate + " in")
	}
	return out.Bytes(), nil
}

func enableGate(doc []byte, gate string) ([]byte, error) {
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(doc, &u.Object); err != nil {
		return nil, err
	}
	conf, found, err := unstructured.NestedString(u.Object, "data", "antrea-controller.conf")
	if err != nil || !found {
		return nil, fmt.Errorf("data.antrea-controller.conf: not found (%v)", err)
	}
	settings := map[string]any{}
	if err := yaml.Unmarshal([]byte(conf), &settings); err != nil {
		return nil, fmt.Errorf("data.antrea-controller.conf: %w", err)
	}
	gates, _ := settings["featureGates"].(map[string]any)
	if gates == nil {
		gates = map[string]any{}
	}
	gates[gate] = true
	settings["featureGates"] = gates
	updated, err := yaml.Marshal(settings)
	if err != nil {
		return nil, err
	}
	if err := unstructured.SetNestedField(u.Object, string(updated), "data", "antrea-controller.conf"); err != nil {
		return nil, err
	}
	return yaml.Marshal(u.Object)
}

// cnpStatus reads how far Antrea 2.7 has taken a ClusterNetworkPolicy. It
// writes no status for one: its status controller updates Antrea's own
// policies only (UpdateAntreaClusterNetworkPolicyStatus,
// pkg/controller/networkpolicy/status_controller.go:290, finds no ACNP of that
// name), and its agents report realization for Antrea-native sources only
// (IsSourceAntreaNativePolicy, pkg/agent/controller/networkpolicy/
// networkpolicy_controller.go:335). What it does publish is the internal
// NetworkPolicy its controller computed, in its controlplane API, named by
// the CNP's UID with the CNP's generation (internalNetworkPolicyKeyFunc,
// networkpolicy_controller.go:1882; processClusterNetworkPolicy,
// clusternetworkpolicy.go:397): that is what is waited for. Its agents take
// it from there unreported; the probe rounds' retries cover that lag as they
// do for K8s NetworkPolicies, which have no status either.
func cnpStatus(ctx context.Context, c client.Reader, name string) (PolicyStatus, error) {
	var p npav1alpha2.ClusterNetworkPolicy
	if err := c.Get(ctx, client.ObjectKey{Name: name}, &p); err != nil {
		return PolicyStatus{}, err
	}
	internal := &unstructured.Unstructured{}
	internal.SetAPIVersion("controlplane.antrea.io/v1beta2")
	internal.SetKind("NetworkPolicy")
	err := c.Get(ctx, client.ObjectKey{Name: string(p.UID)}, internal)
	switch {
	case apierrors.IsNotFound(err):
		return PolicyStatus{Generation: p.Generation, Status: antreav1beta1.NetworkPolicyStatus{ObservedGeneration: p.Generation,
			Phase: antreav1beta1.NetworkPolicyPending, Conditions: []antreav1beta1.NetworkPolicyCondition{{Type: "Computed", Status: "False",
				Message: fmt.Sprintf("antrea-controller has not computed it (no controlplane NetworkPolicy %s; is the %s feature gate on?)", p.UID, cnpGate)}}}}, nil
	case err != nil:
		return PolicyStatus{}, err
	}
	// Computed is all Antrea reports for a CNP: it stands for Realized here.
	return PolicyStatus{Generation: p.Generation, Status: antreav1beta1.NetworkPolicyStatus{ObservedGeneration: internal.GetGeneration(),
		Phase: antreav1beta1.NetworkPolicyRealized}}, nil
}
