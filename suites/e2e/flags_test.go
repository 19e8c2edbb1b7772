package e2e_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/report"
)

// Bad flags stop the suite before it builds anything, each with one line
// that says what is wrong: no Gomega dump, no 200 lines of usage.
func TestBadFlagsStopTheSuiteWithOneLine(t *testing.T) {
	for _, c := range []struct {
		flag, want string
	}{
		{"-tierproof.keep-cluster=sometimes", `-tierproof.keep-cluster "sometimes": want on-failure, always or never`},
		{"-tierproof.keep-clustr=never", "did you mean -tierproof.keep-cluster?"},
		{"-tierproof.node-image=kindest/node:v1.36.4", "-tierproof.node-image applies to -tierproof.data-plane=antrea or kube-router only"},
		{"-tierproof.antrea-version=v2.7.0", "-tierproof.antrea-version applies to -tierproof.data-plane=antrea only, and this run uses lab"},
		{"-tierproof.lab-fault=no-such-stage:prod-app/ubuntu-16-04>ssh-server:tcp/22", `scenario antrea-blog has no stage "no-such-stage"`},
		{"-tierproof.lab-fault=block-all:prod-app/ubuntu-99>ssh-server:tcp/22", `scenario antrea-blog has no endpoint "prod-app/ubuntu-99"`},
		{"-tierproof.lab-fault=block-all:prod-app/ubuntu-16-04>ssh-server:tcp/9999", "scenario antrea-blog does not probe tcp/9999"},
	} {
		t.Run(c.flag, func(t *testing.T) {
			out, err := rerunSuite(t, c.flag)
			if err == nil {
				t.Fatalf("the suite passed:\n%s", out)
			}
			text := string(out)
			if !strings.Contains(text, c.want) {
				t.Errorf("output lacks %q:\n%s", c.want, text)
			}
			if lines := strings.Count(text, "\n"); lines > 6 || strings.Contains(text, "<*") || strings.Contains(text, "Ran ") {
				t.Errorf("%d lines, or a Gomega dump, or specs that ran:\n%s", lines, text)
			}
		})
	}
}

// A scenario that does not load stops the run before anything is cleared
// or built: the previous reports stay, and the error names the file.
func TestAScenarioThatDoesNotLoadStopsTheRunFirst(t *testing.T) {
	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, "scenario.yaml"), []byte("name: broken\nstages: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	reports := filepath.Join(t.TempDir(), "reports")
	if err := report.PrepareDir(reports); err != nil {
		t.Fatal(err)
	}
	previous := filepath.Join(reports, "antrea-blog")
	if err := os.Mkdir(previous, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := rerunSuite(t, "-ginkgo.v", "-tierproof.scenarios="+broken, "-tierproof.reports="+reports)
	if err == nil {
		t.Fatalf("the suite passed with a scenario that does not load:\n%s", out)
	}
	if !strings.Contains(string(out), filepath.Join(broken, "scenario.yaml")) || strings.Contains(string(out), "Ran ") {
		t.Errorf("the suite ran specs, or did not name the scenario file:\n%s", out)
	}
	if _, err := os.Stat(previous); err != nil {
		t.Errorf("the previous run's reports were cleared: %v", err)
	}
}

// A run that filters out every stage checked nothing: it fails.
func TestARunThatCheckedNothingFails(t *testing.T) {
	out, err := rerunSuite(t, "-ginkgo.label-filter=stage:no-such-stage")
	if err == nil || !strings.Contains(string(out), "nothing was checked: no stage passed out of 7 specs") {
		t.Fatalf("a run that played no stage: %v\n%s", err, out)
	}
}
