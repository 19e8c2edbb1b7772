package cluster_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/tierproof/tierproof/framework/agent"
	"github.com/tierproof/tierproof/framework/cluster"
	"github.com/tierproof/tierproof/framework/kube"
	"github.com/tierproof/tierproof/framework/model"
)

// enforcingPods plays a data plane for the canary: while a NetworkPolicy
// exists in the fake cluster, probes end in denied (nil: the plane
// enforces nothing); otherwise they connect.
type enforcingPods struct {
	c      client.Client
	denied *agent.Outcome
	mu     sync.Mutex
	probes int
}

func (p *enforcingPods) Exec(ctx context.Context, _ string, _ []string, stdin []byte) ([]byte, []byte, error) {
	var b agent.Batch
	if err := json.Unmarshal(stdin, &b); err != nil {
		return nil, nil, err
	}
	var policies networkingv1.NetworkPolicyList
	if err := p.c.List(ctx, &policies); err != nil {
		return nil, nil, err
	}
	outcome := agent.Connected
	if len(policies.Items) > 0 && p.denied != nil {
		outcome = *p.denied
	}
	p.mu.Lock()
	p.probes += len(b.Requests)
	p.mu.Unlock()
	var out strings.Builder
	for _, r := range b.Requests {
		line, _ := json.Marshal(agent.Result{ID: r.ID, Outcome: outcome})
		out.Write(append(line, '\n'))
	}
	return []byte(out.String()), nil, nil
}

// createOnApply creates what is applied: the fake client's server-side apply
// refuses built-in kinds built from unstructured objects.
func createOnApply(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, _ ...client.ApplyOption) error {
	data, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		return err
	}
	return c.Create(ctx, u)
}

func canaryPods() (*corev1.Pod, *corev1.Pod) {
	pod := func(name string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "x", Name: name, Labels: map[string]string{"pod": name}},
			Status: corev1.PodStatus{PodIP: "10.10.1." + map[string]string{"a": "1", "b": "2"}[name]}}
	}
	return pod("b"), pod("a")
}

// The canary fails a data plane that enforces nothing, or denies otherwise
// than the model expects of it, and passes one that enforces; its policy is
// gone afterwards either way.
func TestTheCanaryCatchesAnEnforcerThatEnforcesNothing(t *testing.T) {
	rejected, dropped := agent.Rejected, agent.Dropped
	for _, c := range []struct {
		name   string
		denied *agent.Outcome
		want   string // "" passes
	}{
		{"enforces nothing", nil, "the data plane enforces nothing"},
		{"drops where the model expects rejects", &dropped, "denied x/b → x/a tcp/80 with Drop, and the model expects Reject"},
		{"enforces", &rejected, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			kc := fake.NewClientBuilder().WithScheme(testScheme(t)).WithInterceptorFuncs(interceptor.Funcs{Apply: createOnApply}).Build()
			pods := &enforcingPods{c: kc, denied: c.denied}
			var logged []string
			canary := cluster.Canary{Exec: pods, Applier: kube.NewApplier(kc, "run-1"), Denial: model.Reject, Wait: time.Second,
				Logf: func(f string, a ...any) { logged = append(logged, f) }}
			from, to := canaryPods()
			err := canary.Check(context.Background(), from, to, 80)
			if c.want == "" && (err != nil || len(logged) != 1) {
				t.Fatalf("an enforcing plane: %v (logged %v)", err, logged)
			}
			if c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Fatalf("%v, want %q", err, c.want)
			}
			var left networkingv1.NetworkPolicyList
			if err := kc.List(context.Background(), &left); err != nil || len(left.Items) != 0 {
				t.Errorf("the canary left %d policies (%v)", len(left.Items), err)
			}
			if want := map[bool]int{true: 3, false: 2}[c.want == ""]; pods.probes < want {
				t.Errorf("%d probes: the canary probes before its policy, under it and (when it passes) after it", pods.probes)
			}
		})
	}
}
