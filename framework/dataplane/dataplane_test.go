package dataplane_test

import (
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/dataplane"
)

// "kind" named Antrea before kube-router ran on kind too; users' scripts
// still pass it.
func TestParseIDReadsKindAsAntreaWithANote(t *testing.T) {
	for _, c := range []struct {
		in         string
		want       dataplane.ID
		deprecated bool
	}{
		{"antrea", dataplane.Antrea, false},
		{"kube-router", dataplane.KubeRouter, false},
		{"lab", dataplane.Lab, false},
		{"kind", dataplane.Antrea, true},
	} {
		id, note, err := dataplane.ParseID(c.in)
		if err != nil || id != c.want || (note != "") != c.deprecated {
			t.Errorf("ParseID(%q) = %q, %q, %v", c.in, id, note, err)
		}
	}
	if _, _, err := dataplane.ParseID("calico"); err == nil || !strings.Contains(err.Error(), "want lab, antrea or kube-router") {
		t.Errorf("ParseID(calico): %v", err)
	}
}

func TestOnlyTheClusterPlanesBootAnything(t *testing.T) {
	if !dataplane.Antrea.OnCluster() || !dataplane.KubeRouter.OnCluster() || dataplane.Lab.OnCluster() {
		t.Error("OnCluster: want antrea and kube-router only")
	}
	if _, err := (dataplane.Options{Plane: dataplane.Lab}).BootOptions(); err == nil {
		t.Error("the lab has boot options")
	}
}
