package policy_test

import (
	"testing"

	"github.com/tierproof/tierproof/fixtures"
	"github.com/tierproof/tierproof/framework/golden"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/policy"
)

// FuzzDecodeAndCompile feeds the policy decoder (and, what decodes, the
// model) arbitrary bytes: every input is an error or a model, never a panic
// or a hang. Seeds: every policy file of the scenarios. make test runs the
// seeds; make fuzz searches further.
func FuzzDecodeAndCompile(f *testing.F) {
	golden.Seed(f, "../../scenarios/*/*/*.yaml")
	f.Add([]byte("---\n...\n---\nkind: List\n"))
	topo, err := fixtures.Topology("xyz")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		objects, err := policy.Decode("fuzz.yaml", data)
		if err != nil {
			return
		}
		set, err := policy.NewSet(objects)
		if err != nil {
			return
		}
		_, _ = model.Compile(topo, set)
	})
}
