package diff_test

import (
	"context"
	"io"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	antreav1beta1 "github.com/tierproof/tierproof/apis/antrea/v1beta1"
	"github.com/tierproof/tierproof/fixtures"
	"github.com/tierproof/tierproof/framework/diff"
	"github.com/tierproof/tierproof/framework/matrix"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/report"
)

// BenchmarkDiff compares the large estate (1 000 pods, 500 policies: 10⁶
// tcp/80 flows) before and after a change that isolates a whole namespace
// (an ANP dropping every flow into ns-0), with the JSON output; "simulate"
// is one simulate of the same estate with its JSON output, the baseline.
// Target: the diff within 2× of simulate in time and peak memory (run one
// sub-benchmark per process under /usr/bin/time -v for the peaks).
func BenchmarkDiff(b *testing.B) {
	topo, before := fixtures.LargeEstate()
	after := &policy.Set{}
	*after = *before
	drop := antreav1beta1.RuleActionDrop
	isolate := &antreav1beta1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "isolate", Namespace: "ns-0"},
		Spec: antreav1beta1.NetworkPolicySpec{Tier: "securityops", Priority: 1,
			AppliedTo: []antreav1beta1.NamespacedAppliedTo{{RuleAppliedTo: antreav1beta1.RuleAppliedTo{PodSelector: &metav1.LabelSelector{}}}},
			Ingress:   []antreav1beta1.IngressRule{{RuleFields: antreav1beta1.RuleFields{Action: &drop}}}}}
	after.NetworkPolicies = append(append([]policy.Located[*antreav1beta1.NetworkPolicy]{}, before.NetworkPolicies...), policy.Located[*antreav1beta1.NetworkPolicy]{Object: isolate})
	probes := []model.Probe{{Protocol: model.TCP, Port: 80}}
	mb, err := model.Compile(topo, before)
	if err != nil {
		b.Fatal(err)
	}
	ma, err := model.Compile(topo, after)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("simulate", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			x, err := matrix.Expected(mb, probes)
			if err != nil {
				b.Fatal(err)
			}
			if err := report.WriteJSON(io.Discard, x); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("diff", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			d, err := diff.Compute(context.Background(), mb, ma, probes, model.Antrea)
			if err != nil {
				b.Fatal(err)
			}
			if len(d.Changes) == 0 {
				b.Fatal("the change changes nothing")
			}
			if err := diff.WriteJSON(io.Discard, diff.Review{Diff: d}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
