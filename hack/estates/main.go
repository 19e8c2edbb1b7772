// Command estates writes the inputs of make bench-simulate into a directory:
// topology.yaml and policies.yaml of fixtures.KNPEstate.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tierproof/tierproof/fixtures"
)

func main() {
	namespaces := flag.Int("namespaces", 100, "namespaces of ten pods each")
	knps := flag.Int("knps", 300, "Kubernetes NetworkPolicies")
	acnps := flag.Int("acnps", 0, "ClusterNetworkPolicies after them")
	out := flag.String("out", "", "the directory to write topology.yaml and policies.yaml into")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "estates: -out is required")
		os.Exit(2)
	}
	topology, policies := fixtures.KNPEstate(*namespaces, *knps, *acnps)
	err := os.MkdirAll(*out, 0o755)
	if err == nil {
		err = os.WriteFile(filepath.Join(*out, "topology.yaml"), topology, 0o644)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(*out, "policies.yaml"), policies, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "estates:", err)
		os.Exit(1)
	}
}
