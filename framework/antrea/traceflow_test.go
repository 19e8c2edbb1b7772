package antrea_test

import (
	"context"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	antreav1beta1 "github.com/tierproof/tierproof/apis/antrea/v1beta1"
	"github.com/tierproof/tierproof/framework/antrea"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/probe"
)

// The interceptor plays Antrea's controller: a Traceflow read back has finished
// with a NetworkPolicy drop at the source node.
func TestTraceSummarisesWhatAntreaObserved(t *testing.T) {
	var created *antreav1beta1.Traceflow
	c := fake.NewClientBuilder().WithScheme(testScheme(t)).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if tf, ok := obj.(*antreav1beta1.Traceflow); ok {
				created = tf.DeepCopy()
			}
			return c.Create(ctx, obj, opts...)
		},
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if err := c.Get(ctx, key, obj, opts...); err != nil {
				return err
			}
			if tf, ok := obj.(*antreav1beta1.Traceflow); ok {
				tf.Status = antreav1beta1.TraceflowStatus{Phase: antreav1beta1.TraceflowSucceeded, Results: []antreav1beta1.TraceflowNodeResult{{
					Node: "kind-worker", Observations: []antreav1beta1.TraceflowObservation{
						{Component: "SpoofGuard", Action: "Forwarded"},
						{Component: "NetworkPolicy", ComponentInfo: "EgressMetric", Action: "Dropped",
							NetworkPolicy: "AntreaClusterNetworkPolicy:block-all-whitelist", NetworkPolicyRule: "egress-drop-1a2b3c4"},
					}}}}
			}
			return nil
		},
	}).Build()
	f := probe.Flow{From: "prod-app/ubuntu-16-04", To: "ssh-server", ToIP: "172.18.255.225", Probe: model.Probe{Protocol: model.TCP, Port: 22}}
	got, err := antrea.Trace(context.Background(), c, f)
	if err != nil {
		t.Fatal(err)
	}
	want := "traceflow: kind-worker: SpoofGuard Forwarded → NetworkPolicy Dropped AntreaClusterNetworkPolicy:block-all-whitelist (rule egress-drop-1a2b3c4)"
	if got != want {
		t.Errorf("summary\n %q\nwant\n %q", got, want)
	}
	if created == nil || created.Spec.Source.Pod != "ubuntu-16-04" || created.Spec.Destination.IP != "172.18.255.225" ||
		created.Spec.Packet.IPHeader.Protocol != 6 || created.Spec.Packet.TransportHeader.TCP.DstPort != 22 {
		t.Errorf("traceflow asked: %+v", created)
	}
	var left antreav1beta1.TraceflowList
	if err := c.List(context.Background(), &left); err != nil || len(left.Items) != 0 {
		t.Errorf("%d traceflows left behind (%v)", len(left.Items), err)
	}
	if _, err := antrea.Trace(context.Background(), c, probe.Flow{From: "ssh-server", To: "x/a"}); err == nil || !strings.Contains(err.Error(), "pod only") {
		t.Errorf("external source: %v", err)
	}
}

// An SCTP flow is not traced: Antrea's Traceflow has no SCTP header, and a
// bare protocol-132 packet would match no port rule. The report says why.
func TestSCTPIsNotTracedAndTheReportSaysWhy(t *testing.T) {
	created := 0
	c := fake.NewClientBuilder().WithScheme(testScheme(t)).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			created++
			return c.Create(ctx, obj, opts...)
		},
	}).Build()
	f := probe.Flow{From: "x/a", To: "y/b", ToIP: "10.10.1.3", Probe: model.Probe{Protocol: model.SCTP, Port: 80}}
	got, err := antrea.Trace(context.Background(), c, f)
	if err != nil || created != 0 || !strings.Contains(got, "not run: Antrea's Traceflow does not support SCTP") {
		t.Errorf("SCTP: %q, %v, %d traceflows created", got, err, created)
	}
}

// A trace Antrea declares failed reports Antrea's own reason.
func TestAFailedTraceReportsAntreasReason(t *testing.T) {
	c := fake.NewClientBuilder().WithScheme(testScheme(t)).WithInterceptorFuncs(interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if err := c.Get(ctx, key, obj, opts...); err != nil {
				return err
			}
			if tf, ok := obj.(*antreav1beta1.Traceflow); ok {
				tf.Status = antreav1beta1.TraceflowStatus{Phase: antreav1beta1.TraceflowFailed, Reason: "Traceflow timeout"}
			}
			return nil
		},
	}).Build()
	f := probe.Flow{From: "x/a", To: "y/b", ToIP: "10.10.1.3", Probe: model.Probe{Protocol: model.UDP, Port: 53}}
	got, err := antrea.Trace(context.Background(), c, f)
	if err != nil || got != "traceflow failed, Antrea says: Traceflow timeout" {
		t.Errorf("a failed trace: %q, %v", got, err)
	}
}
