package antrea

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	antreav1beta1 "github.com/tierproof/tierproof/apis/antrea/v1beta1"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/probe"
)

// traceflowTimeout is what Antrea is given to trace one packet (its default is 20 s).
const traceflowTimeout = 15

// traceflowWait is how long a trace is waited for: Antrea's controller
// looks for timed-out traces every 10 s, so a trace that cannot finish is
// declared failed up to 10 s after its timeout — with Antrea's own reason,
// which is worth the wait.
const traceflowWait = (traceflowTimeout + 10 + 5) * time.Second

// sctpNotTraced is the summary of an SCTP flow: Antrea's Traceflow takes
// no SCTP header, and a bare protocol-132 packet matches no port rule, so a
// trace would show a path that SCTP traffic does not take.
const sctpNotTraced = "traceflow: not run: Antrea's Traceflow does not support SCTP (a bare protocol-132 packet matches no port rule)"

// Trace asks Antrea to trace one flow's packet and summarises what each node
// observed — above all which NetworkPolicy rule forwarded or dropped it. The
// source must be a pod (Antrea injects the packet there); the Traceflow is
// deleted afterwards.
func Trace(ctx context.Context, c client.Client, f probe.Flow) (string, error) {
	if f.Probe.Protocol == model.SCTP {
		return sctpNotTraced, nil
	}
	namespace, pod, ok := strings.Cut(f.From, "/")
	if !ok {
		return "", fmt.Errorf("traceflow from %s: Antrea traces packets injected at a pod only", f.From)
	}
	sum := sha256.Sum256([]byte(f.String() + time.Now().String()))
	tf := &antreav1beta1.Traceflow{
		ObjectMeta: metav1.ObjectMeta{Name: "tierproof-" + hex.EncodeToString(sum[:6])},
		Spec: antreav1beta1.TraceflowSpec{
			Source:      antreav1beta1.TraceflowSource{Namespace: namespace, Pod: pod},
			Destination: antreav1beta1.TraceflowDestination{IP: f.ToIP},
			Packet:      tracedPacket(f.Probe),
			Timeout:     traceflowTimeout,
		},
	}
	if err := c.Create(ctx, tf); err != nil {
		return "", fmt.Errorf("creating traceflow for %s: %w", f, err)
	}
	defer func() { _ = c.Delete(context.WithoutCancel(ctx), tf) }()
	var got antreav1beta1.Traceflow
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, traceflowWait, true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(tf), &got); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		return got.Status.Phase == antreav1beta1.TraceflowSucceeded || got.Status.Phase == antreav1beta1.TraceflowFailed, nil
	})
	if err != nil {
		return "", fmt.Errorf("traceflow for %s did not finish: %w", f, err)
	}
	if got.Status.Phase == antreav1beta1.TraceflowFailed {
		return "traceflow failed, Antrea says: " + got.Status.Reason, nil
	}
	return summarize(got.Status.Results), nil
}

func tracedPacket(p model.Probe) antreav1beta1.TraceflowPacket {
	switch p.Protocol {
	case model.TCP:
		syn := int32(2)
		return antreav1beta1.TraceflowPacket{IPHeader: &antreav1beta1.TraceflowIPHeader{Protocol: 6},
			TransportHeader: antreav1beta1.TraceflowTransportHeader{TCP: &antreav1beta1.TraceflowTCPHeader{DstPort: p.Port, Flags: &syn}}}
	case model.UDP:
		return antreav1beta1.TraceflowPacket{IPHeader: &antreav1beta1.TraceflowIPHeader{Protocol: 17},
			TransportHeader: antreav1beta1.TraceflowTransportHeader{UDP: &antreav1beta1.TraceflowUDPHeader{DstPort: p.Port}}}
	}
	return antreav1beta1.TraceflowPacket{IPHeader: &antreav1beta1.TraceflowIPHeader{Protocol: 1},
		TransportHeader: antreav1beta1.TraceflowTransportHeader{ICMP: &antreav1beta1.TraceflowICMPEchoHeader{ID: 1, Sequence: 1}}}
}

// summarize renders the observations node by node:
// "kind-worker: NetworkPolicy Dropped AntreaClusterNetworkPolicy:block-all (rule egress-drop-1a2b3c4)".
func summarize(results []antreav1beta1.TraceflowNodeResult) string {
	var nodes []string
	for _, r := range results {
		var steps []string
		for _, o := range r.Observations {
			s := o.Component + " " + o.Action
			if o.NetworkPolicy != "" {
				s += " " + o.NetworkPolicy
			}
			if o.NetworkPolicyRule != "" {
				s += " (rule " + o.NetworkPolicyRule + ")"
			}
			steps = append(steps, s)
		}
		nodes = append(nodes, r.Node+": "+strings.Join(steps, " → "))
	}
	if len(nodes) == 0 {
		return "traceflow: no observations"
	}
	return "traceflow: " + strings.Join(nodes, "; ")
}
