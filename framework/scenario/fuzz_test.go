package scenario_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tierproof/tierproof/framework/golden"
	"github.com/tierproof/tierproof/framework/scenario"
)

// FuzzLoadCatalog feeds the scenario loader arbitrary catalog files (their
// cases, stages, inline objects, templates and relabels): an error or a
// catalog, never a panic or a hang. Seeds: the conformance catalog's files.
func FuzzLoadCatalog(f *testing.F) {
	golden.Seed(f, "../../scenarios/conformance/*.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "cases.yaml"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		catalog, err := scenario.LoadCatalog(dir)
		if err != nil {
			return
		}
		for _, s := range catalog.Cases {
			for i := range s.Stages {
				_, _ = s.Policies(i, s.ValuesFor(s.Topology))
			}
		}
	})
}
