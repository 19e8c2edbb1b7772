package topology_test

import (
	"testing"

	"github.com/tierproof/tierproof/framework/golden"
	"github.com/tierproof/tierproof/framework/topology"
)

// FuzzParse feeds the topology parser arbitrary bytes: an error or a
// topology that validates, never a panic. Seeds: the fixture topologies.
func FuzzParse(f *testing.F) {
	golden.Seed(f, "../../fixtures/topologies/*.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		topo, err := topology.Parse(data)
		if err != nil {
			return
		}
		_ = topo.Validate()
		_ = topo.Values()
	})
}
