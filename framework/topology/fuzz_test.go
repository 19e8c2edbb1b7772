package topology_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tierproof/tierproof/framework/topology"
)

// FuzzParse feeds the topology parser arbitrary bytes: an error or a
// topology that validates, never a panic. Seeds: the fixture topologies.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("../../fixtures/topologies/*.yaml")
	for _, path := range seeds {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		topo, err := topology.Parse(data)
		if err != nil {
			return
		}
		_ = topo.Validate()
		_ = topo.Values()
	})
}
