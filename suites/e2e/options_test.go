package e2e_test

import (
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/suites/e2e"
)

// The nightly workflow runs make e2e with suite flags: they must be real ones,
// and its node images pinned by digest.
func TestNightlyWorkflowUsesRealFlags(t *testing.T) {
	data, err := os.ReadFile("../../.github/workflows/nightly.yml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)E2E_FLAGS="([^"]*)"`).FindSubmatch(data)
	if m == nil {
		t.Fatal("no E2E_FLAGS in the nightly workflow")
	}
	args := strings.Fields(regexp.MustCompile(`\$\{\{[^}]*\}\}`).ReplaceAllString(string(m[1]), "x"))
	fs := flag.NewFlagSet("suite", flag.ContinueOnError)
	var o e2e.Options
	o.Register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("the workflow's flags %q do not parse: %v", args, err)
	}
	if o.KeepCluster != "never" {
		t.Errorf("nightly keeps clusters (%q): a CI runner should not", o.KeepCluster)
	}
	for _, image := range regexp.MustCompile(`image: (\S+)`).FindAllSubmatch(data, -1) {
		if !strings.Contains(string(image[1]), "@sha256:") {
			t.Errorf("node image %s is not pinned by digest", image[1])
		}
	}
}

func TestCheckRefusesUnknownValues(t *testing.T) {
	for _, args := range [][]string{{"-tierproof.keep-cluster=sometimes"}, {"-tierproof.data-plane=vm"}} {
		fs := flag.NewFlagSet("suite", flag.ContinueOnError)
		var o e2e.Options
		o.Register(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		if err := o.Check(); err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(strings.Split(args[0], "=")[0], "-")) {
			t.Errorf("%v: %v", args, err)
		}
	}
}
