package yamlcheck

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/tierproof/tierproof/framework/golden"
)

// FuzzChecks feeds both checks arbitrary bytes: never a panic, and the
// quick look that spares most documents a parse never spares one the full
// check would flag. Seeds: every YAML file of the scenarios and fixtures.
func FuzzChecks(f *testing.F) {
	golden.Seed(f, "../../scenarios/*/*/*.yaml", "../../scenarios/*/*.yaml", "../../fixtures/topologies/*.yaml")
	f.Add([]byte("a: yes\nb: [On, 'off', N]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if At(1).booleans(data) != nil && !maybeBoolean(data) {
			t.Fatalf("the quick look passed over a document with a YAML 1.1 boolean: %q", data)
		}
		_ = At(3).Fields(data, &networkingv1.NetworkPolicy{})
	})
}
