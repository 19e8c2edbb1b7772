package e2e_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tierproof/tierproof/framework/netlab"
)

// With one cell flipped in the lab, the suite must fail on exactly that cell:
// the block-all spec fails, the later stages are skipped, and the JUnit and
// the HTML report show that one cell. The test re-runs its own binary.
func TestTheSuiteFailsOnExactlyAnInjectedFault(t *testing.T) {
	if os.Getenv("TIERPROOF_CHILD") != "" {
		t.Skip("inside the child run")
	}
	if err := netlab.Available(); err != nil {
		t.Skip(err.Error())
	}
	reports := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestE2E$", "-ginkgo.no-color", "-tierproof.reports="+reports,
		"-tierproof.scenarios="+opts.Scenarios, "-tierproof.lab-fault=block-all:prod-app/ubuntu-16-04>ssh-server:tcp/22")
	cmd.Env = append(os.Environ(), "TIERPROOF_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the suite passed with a fault injected:\n%s", out)
	}
	for _, want := range []string{"Ran 4 of 7 Specs", "3 Passed | 1 Failed", "3 Skipped",
		"block-all/prod-app/ubuntu-16-04→ssh-server/tcp/22: expected Drop, observed Allow"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("suite output lacks %q", want)
		}
	}
	junit, err := os.ReadFile(filepath.Join(reports, "antrea-blog", "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := regexp.MustCompile(`<failure `).FindAll(junit, -1); len(got) != 1 ||
		!strings.Contains(string(junit), `name="block-all/prod-app/ubuntu-16-04→ssh-server/tcp/22"`) {
		t.Errorf("JUnit: %d failures, want exactly the faulted cell", len(got))
	}
	page, err := os.ReadFile(filepath.Join(reports, "antrea-blog", "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(page), `mismatch" data-from`); n != 1 ||
		!strings.Contains(string(page), `class="drop mismatch" data-from="prod-app/ubuntu-16-04" data-to="ssh-server" data-probe="tcp/22"`) {
		t.Errorf("HTML report marks %d cells, want exactly the faulted one", n)
	}
}
