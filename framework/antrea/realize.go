package antrea

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	antreav1beta1 "github.com/tierproof/tierproof/apis/antrea/v1beta1"
)

// PolicyStatus is what realization waiting reads of an Antrea policy.
type PolicyStatus struct {
	Generation int64
	Status     antreav1beta1.NetworkPolicyStatus
}

// Realized says whether Antrea enforces a policy's current generation on every
// node it applies to, and if not, why: the phase must be Realized and the
// status must be about this generation (an older Realized is stale).
func Realized(s PolicyStatus) (bool, string) {
	switch {
	case s.Status.ObservedGeneration != s.Generation:
		return false, fmt.Sprintf("status is about generation %d, the policy is at %d", s.Status.ObservedGeneration, s.Generation)
	case s.Status.Phase == antreav1beta1.NetworkPolicyFailed:
		return false, fmt.Sprintf("Failed on %d of %d nodes%s", s.Status.DesiredNodesRealized-s.Status.CurrentNodesRealized,
			s.Status.DesiredNodesRealized, conditionMessages(s.Status.Conditions))
	case s.Status.Phase != antreav1beta1.NetworkPolicyRealized:
		phase := string(s.Status.Phase)
		if phase == "" {
			phase = "no phase yet"
		}
		return false, fmt.Sprintf("%s (%d of %d nodes realized)%s", phase, s.Status.CurrentNodesRealized, s.Status.DesiredNodesRealized,
			conditionMessages(s.Status.Conditions))
	}
	return true, ""
}

func conditionMessages(conditions []antreav1beta1.NetworkPolicyCondition) string {
	var msgs []string
	for _, c := range conditions {
		if c.Status != "True" && c.Message != "" {
			msgs = append(msgs, c.Type+": "+c.Message)
		}
	}
	if len(msgs) == 0 {
		return ""
	}
	return "; " + strings.Join(msgs, "; ")
}

// StatusGetter reads a policy's generation and status; name is
// "ClusterNetworkPolicy/<name>", "NetworkPolicy/<ns>/<name>" or, for the
// network-policy-api's ClusterNetworkPolicy, "CNP/<name>" (see cnpStatus).
type StatusGetter func(ctx context.Context, name string) (PolicyStatus, error)

// WaitRealized polls until every named policy is realized, or fails at timeout
// naming each policy that is not and why. A Failed policy ends the wait at once.
// K8s NetworkPolicies have no status and are not waited for here.
func WaitRealized(ctx context.Context, get StatusGetter, names []string, interval, timeout time.Duration) error {
	pending := map[string]string{}
	for _, n := range names {
		pending[n] = "not read yet"
	}
	statusReason := map[string]string{}
	var failed error
	err := wait.PollUntilContextTimeout(ctx, interval, timeout, true, func(ctx context.Context) (bool, error) {
		for name := range pending {
			s, err := get(ctx, name)
			if err != nil {
				// Keep what the status said last: a read that fails at the
				// deadline (the client's rate limiter refuses to wait past
				// it) must not hide why the policy was not realized.
				if last, ok := statusReason[name]; ok {
					pending[name] = last + "; then reading it failed: " + err.Error()
				} else {
					pending[name] = err.Error()
				}
				continue
			}
			ok, why := Realized(s)
			if ok {
				delete(pending, name)
				continue
			}
			pending[name], statusReason[name] = why, why
			if s.Status.Phase == antreav1beta1.NetworkPolicyFailed && s.Status.ObservedGeneration == s.Generation {
				failed = fmt.Errorf("%s: %s", name, why)
				return false, failed
			}
		}
		return len(pending) == 0, nil
	})
	if failed != nil {
		return fmt.Errorf("Antrea could not realize a policy: %w", failed)
	}
	if err != nil {
		var lines []string
		for name, why := range pending {
			lines = append(lines, name+": "+why)
		}
		sort.Strings(lines)
		reason := "timed out"
		if errors.Is(err, context.Canceled) {
			reason = "interrupted"
		}
		return fmt.Errorf("%s after %v waiting for Antrea to realize %d policies: %s", reason, timeout, len(lines), strings.Join(lines, "; "))
	}
	return nil
}

// PolicyStatuses reads Antrea policies' status through c: names are
// "ClusterNetworkPolicy/<name>" or "NetworkPolicy/<ns>/<name>", as the model
// names them.
func PolicyStatuses(c client.Reader) StatusGetter {
	return func(ctx context.Context, name string) (PolicyStatus, error) {
		kind, rest, _ := strings.Cut(name, "/")
		switch kind {
		case "ClusterNetworkPolicy":
			var p antreav1beta1.ClusterNetworkPolicy
			if err := c.Get(ctx, client.ObjectKey{Name: rest}, &p); err != nil {
				return PolicyStatus{}, err
			}
			return PolicyStatus{Generation: p.Generation, Status: p.Status}, nil
		case "NetworkPolicy":
			namespace, policy, ok := strings.Cut(rest, "/")
			if !ok {
				return PolicyStatus{}, fmt.Errorf("%q: want NetworkPolicy/<namespace>/<name>", name)
			}
			var p antreav1beta1.NetworkPolicy
			if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: policy}, &p); err != nil {
				return PolicyStatus{}, err
			}
			return PolicyStatus{Generation: p.Generation, Status: p.Status}, nil
		case "CNP":
			return cnpStatus(ctx, c, rest)
		}
		return PolicyStatus{}, fmt.Errorf("%q is not an Antrea policy (K8s NetworkPolicies have no status to wait for)", name)
	}
}
