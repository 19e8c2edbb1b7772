package antrea_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	crfake "sigs.k8s.io/controller-runtime/pkg/client/fake"

	antreav1beta1 "github.com/tierproof/tierproof/apis/antrea/v1beta1"
	"github.com/tierproof/tierproof/framework/antrea"
)

func status(gen, observed int64, phase antreav1beta1.NetworkPolicyPhase, current, desired int32) antrea.PolicyStatus {
	return antrea.PolicyStatus{Generation: gen, Status: antreav1beta1.NetworkPolicyStatus{Phase: phase, ObservedGeneration: observed,
		CurrentNodesRealized: current, DesiredNodesRealized: desired}}
}

func TestRealized(t *testing.T) {
	cases := []struct {
		name string
		s    antrea.PolicyStatus
		ok   bool
		why  string
	}{
		{"realized", status(2, 2, antreav1beta1.NetworkPolicyRealized, 3, 3), true, ""},
		{"realized at 0 of 0 nodes (selects no pod)", status(1, 1, antreav1beta1.NetworkPolicyRealized, 0, 0), true, ""},
		{"stale generation", status(3, 2, antreav1beta1.NetworkPolicyRealized, 3, 3), false, "generation 2, the policy is at 3"},
		{"realizing", status(1, 1, antreav1beta1.NetworkPolicyRealizing, 1, 3), false, "Realizing (1 of 3 nodes realized)"},
		{"no status yet", status(1, 0, "", 0, 0), false, "generation 0"},
		{"failed", status(1, 1, antreav1beta1.NetworkPolicyFailed, 2, 3), false, "Failed on 1 of 3 nodes"},
	}
	for _, tc := range cases {
		ok, why := antrea.Realized(tc.s)
		if ok != tc.ok || !strings.Contains(why, tc.why) {
			t.Errorf("%s: Realized = %v %q, want %v %q", tc.name, ok, why, tc.ok, tc.why)
		}
	}
}

// controller plays Antrea's controller: it moves each policy's status along a
// script, one step per read.
type controller struct {
	mu    sync.Mutex
	steps map[string][]antrea.PolicyStatus
	reads map[string]int
}

func (c *controller) get(_ context.Context, name string) (antrea.PolicyStatus, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	steps := c.steps[name]
	i := min(c.reads[name], len(steps)-1)
	c.reads[name]++
	return steps[i], nil
}

func TestWaitRealizedReturnsWhenEveryPolicyIsRealized(t *testing.T) {
	c := &controller{reads: map[string]int{}, steps: map[string][]antrea.PolicyStatus{
		"ClusterNetworkPolicy/a": {status(1, 0, "", 0, 0), status(1, 1, antreav1beta1.NetworkPolicyRealizing, 1, 2), status(1, 1, antreav1beta1.NetworkPolicyRealized, 2, 2)},
		"NetworkPolicy/x/b":      {status(1, 1, antreav1beta1.NetworkPolicyRealized, 1, 1)},
	}}
	if err := antrea.WaitRealized(context.Background(), c.get, []string{"ClusterNetworkPolicy/a", "NetworkPolicy/x/b"}, time.Millisecond, time.Second); err != nil {
		t.Fatal(err)
	}
	if c.reads["ClusterNetworkPolicy/a"] != 3 || c.reads["NetworkPolicy/x/b"] != 1 {
		t.Errorf("reads %v: want a read until realized (3) and b once", c.reads)
	}
}

func TestWaitRealizedTimesOutNamingWhatIsNotReady(t *testing.T) {
	c := &controller{reads: map[string]int{}, steps: map[string][]antrea.PolicyStatus{
		"ClusterNetworkPolicy/stale": {status(2, 1, antreav1beta1.NetworkPolicyRealized, 3, 3)},
		"ClusterNetworkPolicy/ok":    {status(1, 1, antreav1beta1.NetworkPolicyRealized, 3, 3)},
	}}
	start := time.Now()
	err := antrea.WaitRealized(context.Background(), c.get, []string{"ClusterNetworkPolicy/stale", "ClusterNetworkPolicy/ok"}, 10*time.Millisecond, 100*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "timed out") || !strings.Contains(err.Error(), "ClusterNetworkPolicy/stale: status is about generation 1, the policy is at 2") ||
		strings.Contains(err.Error(), "ClusterNetworkPolicy/ok") {
		t.Fatalf("error %v: want a timeout naming only the stale policy and why", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("took %v for a 100ms timeout", took)
	}
}

func TestWaitRealizedStopsAtOnceOnFailure(t *testing.T) {
	c := &controller{reads: map[string]int{}, steps: map[string][]antrea.PolicyStatus{
		"ClusterNetworkPolicy/broken": {status(1, 1, antreav1beta1.NetworkPolicyFailed, 1, 2)},
	}}
	err := antrea.WaitRealized(context.Background(), c.get, []string{"ClusterNetworkPolicy/broken"}, time.Millisecond, time.Minute)
	if err == nil || !strings.Contains(err.Error(), "could not realize") || !strings.Contains(err.Error(), "Failed on 1 of 2 nodes") {
		t.Fatalf("error %v", err)
	}
}

func TestPolicyStatusesReadsTypedPolicies(t *testing.T) {
	acnp := &antreav1beta1.ClusterNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "p", Generation: 3},
		Status: antreav1beta1.NetworkPolicyStatus{Phase: antreav1beta1.NetworkPolicyRealized, ObservedGeneration: 3}}
	anp := &antreav1beta1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "q", Namespace: "x", Generation: 2},
		Status: antreav1beta1.NetworkPolicyStatus{Phase: antreav1beta1.NetworkPolicyRealizing, ObservedGeneration: 2}}
	c := crfake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(acnp, anp).WithStatusSubresource(acnp, anp).Build()
	get := antrea.PolicyStatuses(c)
	if s, err := get(context.Background(), "ClusterNetworkPolicy/p"); err != nil || s.Generation != 3 || s.Status.Phase != antreav1beta1.NetworkPolicyRealized {
		t.Errorf("acnp: %+v %v", s, err)
	}
	if s, err := get(context.Background(), "NetworkPolicy/x/q"); err != nil || s.Status.Phase != antreav1beta1.NetworkPolicyRealizing {
		t.Errorf("anp: %+v %v", s, err)
	}
	if _, err := get(context.Background(), "K8sNetworkPolicy/x/k"); err == nil || !strings.Contains(err.Error(), "no status") {
		t.Errorf("K8s policy: %v", err)
	}
}
