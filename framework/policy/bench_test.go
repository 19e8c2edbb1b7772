package policy_test

import (
	"testing"

	"github.com/tierproof/tierproof/fixtures"
	"github.com/tierproof/tierproof/framework/policy"
)

// BenchmarkLoadPolicies decodes 10 000 ACNPs from one file and sorts them
// into a Set: loading is most of what simulate spends on a large policy set.
func BenchmarkLoadPolicies(b *testing.B) {
	_, data := fixtures.KNPEstate(1, 0, 10000) // one file of 10 000 ClusterNetworkPolicies, as a large export is
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		objects, err := policy.Decode("many.yaml", data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := policy.NewSet(objects); err != nil {
			b.Fatal(err)
		}
	}
}
