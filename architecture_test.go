// Package tierproof_test guards the layering of the code base (see the
// README's layout section): a package imports only from its own layer or a
// lower one, and the packages that compute and report verdicts talk to no
// cluster.
package tierproof_test

import (
	"bufio"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/tierproof/tierproof/"

// layers lists every package of the module, bottom to top. A package may
// import packages of its own layer and of the layers below.
var layers = []struct {
	name     string
	packages []string
}{
	{"APIs and leaves", []string{"apis/antrea/v1beta1", "framework/yamlcheck", "framework/agent", "framework/imagebuild", "framework/golden", "framework/kind", "framework/printable"}},
	{"inputs", []string{"framework/manifest", "framework/topology"}},
	{"policies and estates", []string{"framework/policy", "framework/estate"}},
	{"fixtures", []string{"fixtures"}},
	{"model and scenarios", []string{"framework/model", "framework/scenario", "framework/lint", "framework/diff"}},
	{"probes, comparison and reports", []string{"framework/probe", "framework/toolprobe", "framework/matrix", "framework/report"}},
	{"data-plane parts", []string{"framework/kube", "framework/live", "framework/hostload", "framework/netlab", "framework/agentimage", "framework/debian", "framework/nodeimage", "framework/toolsimage", "framework/testenv"}},
	{"data planes", []string{"framework/cluster", "framework/antrea", "framework/kuberouter"}},
	{"the data-plane layer", []string{"framework/dataplane"}},
	{"the runner", []string{"framework/walkthrough", "framework/audit"}},
	{"the suite library", []string{"framework/suite"}},
	{"commands and suites", []string{"cmd/tierproof", "cmd/tierproof-agent", "cmd/tierproof-pause", "hack/docker/runtime", "hack/estates", "suites/e2e", "suites/conformance", "suites/upstream", ""}},
}

// pure are the packages that decide and report verdicts: they read what
// they are handed and talk to no cluster, kind or Docker.
var pure = []string{"framework/model", "framework/policy", "framework/estate", "framework/diff", "framework/topology", "framework/scenario", "framework/lint", "framework/probe", "framework/toolprobe", "framework/matrix", "framework/report"}

var clusterClients = []string{"k8s.io/client-go", "sigs.k8s.io/controller-runtime", "sigs.k8s.io/kind", "sigs.k8s.io/e2e-framework"}

// imports reads every package of the module and its imports (not its tests').
func imports(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...").Output()
	if exit, ok := err.(*exec.ExitError); ok {
		// An import cycle is the first sign of a wrong import: go list names it.
		t.Fatalf("go list: %v\n%s", err, exit.Stderr)
	}
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string][]string{}
	scanner := bufio.NewScanner(strings.NewReader(string(out)))
	scanner.Buffer(nil, 1<<20)
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) > 0 && strings.HasPrefix(fields[0]+"/", module) {
			pkgs[strings.TrimPrefix(fields[0]+"/", module)] = fields[1:]
		}
	}
	return pkgs
}

// violations lists the imports that break the layering, one line each.
func violations(pkgs map[string][]string) []string {
	layerOf := map[string]int{}
	for i, l := range layers {
		for _, p := range l.packages {
			layerOf[p] = i
		}
	}
	var bad []string
	for pkg, deps := range pkgs {
		pkg = strings.TrimSuffix(pkg, "/")
		from, known := layerOf[pkg]
		if !known {
			bad = append(bad, fmt.Sprintf("%s is in no layer: add it to the table in architecture_test.go", pkg))
			continue
		}
		for _, dep := range deps {
			if !strings.HasPrefix(dep, module) {
				continue
			}
			dep = strings.TrimPrefix(dep, module)
			if to, ok := layerOf[dep]; ok && to > from {
				bad = append(bad, fmt.Sprintf("%s (%s) imports %s (%s), a higher layer", pkg, layers[from].name, dep, layers[to].name))
			}
		}
	}
	return bad
}

// talksToClusters lists the cluster clients the pure packages import.
func talksToClusters(pkgs map[string][]string) []string {
	var bad []string
	for _, pkg := range pure {
		for _, dep := range pkgs[pkg+"/"] {
			for _, client := range clusterClients {
				if dep == client || strings.HasPrefix(dep, client+"/") {
					bad = append(bad, fmt.Sprintf("%s imports %s: it must decide from what it is handed, not from a cluster", pkg, dep))
				}
			}
		}
	}
	return bad
}

func TestPackagesImportOnlyTheirLayerOrBelow(t *testing.T) {
	pkgs := imports(t)
	if len(pkgs) < len(layers) {
		t.Fatalf("go list found %d packages of the module", len(pkgs))
	}
	for _, line := range append(violations(pkgs), talksToClusters(pkgs)...) {
		t.Error(line)
	}
}

// The guard itself fails on a wrong import, naming it.
func TestTheGuardNamesAWrongImport(t *testing.T) {
	pkgs := imports(t)
	pkgs["framework/model/"] = append(pkgs["framework/model/"], module+"framework/cluster", "k8s.io/client-go/kubernetes")
	got := strings.Join(append(violations(pkgs), talksToClusters(pkgs)...), "\n")
	for _, want := range []string{
		"framework/model (model and scenarios) imports framework/cluster (data planes), a higher layer",
		"framework/model imports k8s.io/client-go/kubernetes",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("violations %q lack %q", got, want)
		}
	}
}
