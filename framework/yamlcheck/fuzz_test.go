package yamlcheck

import (
	"os"
	"path/filepath"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
)

// FuzzChecks feeds both checks arbitrary bytes: never a panic, and the
// quick look that spares most documents a parse never spares one the full
// check would flag. Seeds: every YAML file of the scenarios and fixtures.
func FuzzChecks(f *testing.F) {
	for _, pattern := range []string{"../../scenarios/*/*/*.yaml", "../../scenarios/*/*.yaml", "../../fixtures/topologies/*.yaml"} {
		seeds, _ := filepath.Glob(pattern)
		for _, path := range seeds {
			data, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte("a: yes\nb: [On, 'off', N]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if At(1).booleans(data) != nil && !maybeBoolean(data) {
			t.Fatalf("the quick look passed over a document with a YAML 1.1 boolean: %q", data)
		}
		_ = At(3).Fields(data, &networkingv1.NetworkPolicy{})
	})
}
