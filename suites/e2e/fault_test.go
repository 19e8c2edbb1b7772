package e2e_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/netlab"
)

// With one cell flipped in the lab, the suite must fail on exactly that cell:
// the block-all spec fails, the later stages are skipped, and the JUnit and
// the HTML report show that one cell. The test re-runs its own binary.
func TestTheSuiteFailsOnExactlyAnInjectedFault(t *testing.T) {
	if err := netlab.Available(); err != nil {
		t.Skip(err.Error())
	}
	reports := t.TempDir()
	out, err := rerunSuite(t, "-tierproof.reports="+reports, "-tierproof.lab-fault=block-all:prod-app/ubuntu-16-04>ssh-server:tcp/22")
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
	// The stages after the failed one are listed as not played, with why.
	for _, stage := range []string{"allow-prod-ssh", "allow-yelb-frontend", "yelb-microsegmentation"} {
		if !regexp.MustCompile(`<testcase name="` + stage + ` \(not played\)"[^>]*>\s*<skipped message="an earlier stage \(block-all\) failed"`).Match(junit) {
			t.Errorf("JUnit does not list %s as skipped after block-all", stage)
		}
	}
	page, err := os.ReadFile(filepath.Join(reports, "antrea-blog", "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(page), `mismatch" data-from`); n != 1 ||
		!strings.Contains(string(page), `class="drop mismatch" data-from="prod-app/ubuntu-16-04" data-to="ssh-server" data-probe="tcp/22"`) {
		t.Errorf("HTML report marks %d cells, want exactly the faulted one", n)
	}
	if n := strings.Count(string(page), `<tr class="not-played"`); n != 3 {
		t.Errorf("the HTML summary lists %d stages as not played, want 3", n)
	}
}
