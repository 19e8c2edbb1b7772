package e2e_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tierproof/tierproof/framework/antrea"
	"github.com/tierproof/tierproof/framework/kind"
)

// make e2e runs this suite on kind. Where no Docker engine answers (as on the
// machines tierproof is developed on) it must stop at once, say so and what to
// do, and create nothing. The test re-runs its own binary in kind mode.
func TestKindModeFailsFastWithoutDocker(t *testing.T) {
	if kind.CheckDocker(context.Background()) == nil {
		t.Skip("a Docker engine answers here: kind mode would boot a real cluster")
	}
	reports := filepath.Join(t.TempDir(), "reports")
	out, err := rerunSuite(t, "-tierproof.data-plane=kind", "-tierproof.reports="+reports)
	if err == nil {
		t.Fatalf("the kind-mode suite passed without Docker:\n%s", out)
	}
	if !strings.Contains(string(out), "Docker is not available: ") || !strings.Contains(string(out), "make e2e again") {
		t.Errorf("the kind-mode suite does not say that Docker is not available and what to do:\n%s", out)
	}
	if _, err := os.Stat(reports); err == nil {
		t.Error("the kind-mode suite created its reports directory before the host checks passed")
	}
}

// With Docker but without openvswitch (these machines, with Docker started by
// .ci/run), kind mode stops at the host check, before any container, network
// or cluster exists, and says what to run.
func TestKindModeStopsAtTheOpenVSwitchCheckAndCreatesNothing(t *testing.T) {
	ctx := context.Background()
	if kind.CheckDocker(ctx) != nil {
		t.Skip("no Docker engine answers: TestKindModeFailsFastWithoutDocker covers this host")
	}
	if antrea.CheckOpenVSwitch("", t.Logf) == nil {
		t.Skip("this host can run Antrea on kind: kind mode would boot a real cluster (make e2e)")
	}
	before := dockerObjects(t)
	out, err := rerunSuite(t, "-tierproof.data-plane=antrea", "-tierproof.reports="+t.TempDir())
	if err == nil {
		t.Fatalf("the kind-mode suite passed without openvswitch:\n%s", out)
	}
	if !strings.Contains(string(out), "the openvswitch kernel module is not loaded") || !strings.Contains(string(out), "modprobe openvswitch") {
		t.Errorf("the kind-mode suite does not say openvswitch is missing and what to run:\n%s", out)
	}
	if after := dockerObjects(t); after != before {
		t.Errorf("Docker before the run: %q, after: %q", before, after)
	}
}

// dockerObjects lists every container and network.
func dockerObjects(t *testing.T) string {
	t.Helper()
	containers, err := exec.Command("docker", "ps", "-aq").Output()
	if err != nil {
		t.Fatal(err)
	}
	networks, err := exec.Command("docker", "network", "ls", "-q").Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(containers) + "|" + string(networks)
}

// rerunSuite runs this test binary's Ginkgo suite in a child process with
// extra flags, and returns what it printed. Tests that re-run the suite skip
// themselves inside the child.
func rerunSuite(t *testing.T, flags ...string) ([]byte, error) {
	t.Helper()
	if os.Getenv("TIERPROOF_CHILD") != "" {
		t.Skip("inside a child run of the suite")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := append([]string{"-test.run=^TestE2E$", "-ginkgo.no-color", "-tierproof.scenarios=" + opts.Scenarios}, flags...)
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), "TIERPROOF_CHILD=1")
	return cmd.CombinedOutput()
}
