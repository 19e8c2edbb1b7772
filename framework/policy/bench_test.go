package policy_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/policy"
)

// manyACNPs is one file of n ClusterNetworkPolicies, as a generated policy
// set or a large export is.
func manyACNPs(n int) []byte {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `---
apiVersion: crd.antrea.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: p%d}
spec:
  priority: %d
  appliedTo: [{podSelector: {matchLabels: {app: a%d}}}]
  ingress: [{action: Drop, from: [{namespaceSelector: {matchLabels: {ns: x}}}]}]
`, i, 1+i%10000, i%7)
	}
	return []byte(b.String())
}

// BenchmarkLoadPolicies decodes 10 000 ACNPs from one file and sorts them
// into a Set: loading is most of what simulate spends on a large policy set.
func BenchmarkLoadPolicies(b *testing.B) {
	data := manyACNPs(10000)
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
