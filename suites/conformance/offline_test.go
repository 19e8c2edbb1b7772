package conformance_test

import (
	"context"
	"testing"

	"github.com/tierproof/tierproof/fixtures"
	"github.com/tierproof/tierproof/framework/scenario"
)

// minCases is the catalog's promised size (one small scenario per case).
const minCases = 80

// TestCatalogOffline holds every case's hand-written assertions, taken from
// Antrea's documentation, against the model: the catalog checks the model
// here, and the model computes every other cell on the data planes.
func TestCatalogOffline(t *testing.T) {
	catalog, err := scenario.LoadCatalog(catalogDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(catalog.Cases) < minCases {
		t.Errorf("%d cases, want at least %d", len(catalog.Cases), minCases)
	}
	base, err := fixtures.Topology("conformance")
	if err != nil {
		t.Fatal(err)
	}
	perFeature := map[string]int{}
	for _, s := range catalog.Cases {
		perFeature[s.Feature]++
		asserted := 0
		for i, st := range s.Stages {
			m, err := s.Model(context.Background(), i, base)
			if err != nil {
				t.Errorf("%s/%s: %v", s.Name, st.Name, err)
				continue
			}
			results, err := st.Check(m)
			if err != nil {
				t.Errorf("%s: %v", s.Name, err)
				continue
			}
			for _, r := range results {
				asserted++
				if !r.Holds {
					t.Errorf("%s/%s: %s → %s %s: the model says %s, Antrea's documentation %s (%s)", s.Name, st.Name, r.From, r.To, r.Probe, r.Model, r.Verdict, r.Why)
				}
			}
		}
		if asserted == 0 {
			t.Errorf("case %s has no hand-written assertion", s.Name)
		}
	}
	t.Logf("%d cases in %d features: %v", len(catalog.Cases), len(perFeature), perFeature)
}
