package suite_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tierproof/tierproof/framework/antrea"
	"github.com/tierproof/tierproof/framework/cluster"
	"github.com/tierproof/tierproof/framework/dataplane"
	"github.com/tierproof/tierproof/framework/kind"
	"github.com/tierproof/tierproof/framework/kuberouter"
	"github.com/tierproof/tierproof/framework/nodeimage"
	"github.com/tierproof/tierproof/framework/suite"
)

func parse(t *testing.T, which suite.Suite, args ...string) (*suite.Options, *flag.FlagSet, error) {
	t.Helper()
	fs := flag.NewFlagSet("suite", flag.ContinueOnError)
	fs.SetOutput(&bytes.Buffer{})
	o := &suite.Options{}
	o.Register(fs, which)
	return o, fs, fs.Parse(args)
}

// The nightly workflow runs make e2e with suite flags: they must be real ones,
// its node images pinned by digest, and its timeouts nested so that Ginkgo
// stops first and writes its reports, then go test, then the job.
func TestNightlyWorkflowUsesRealFlagsAndNestedTimeouts(t *testing.T) {
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
	var o suite.Options
	o.Register(fs, suite.Walkthrough)
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
	job := regexp.MustCompile(`timeout-minutes: (\d+)`).FindSubmatch(data)
	makefile, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	e2eRecipe := regexp.MustCompile(`(?m)^e2e:.*\n\t.*-timeout (\d+)m.*-ginkgo\.timeout=(\d+)m`).FindSubmatch(makefile)
	if job == nil || e2eRecipe == nil {
		t.Fatalf("timeouts: job %q, make e2e %q: want the job's, go test's and Ginkgo's set", job, e2eRecipe)
	}
	jobMinutes, _ := strconv.Atoi(string(job[1]))
	goMinutes, _ := strconv.Atoi(string(e2eRecipe[1]))
	ginkgoMinutes, _ := strconv.Atoi(string(e2eRecipe[2]))
	if !(ginkgoMinutes < goMinutes && goMinutes < jobMinutes) {
		t.Errorf("timeouts: ginkgo %dm, go test %dm, job %dm: want ginkgo < go test < job", ginkgoMinutes, goMinutes, jobMinutes)
	}
	// Antrea v2.7.0 predates Kubernetes 1.37: 1.36 is the cell that must pass.
	cells := regexp.MustCompile(`(?m)- version: "([0-9.]+)"\n\s+image: \S+\n\s+required: (true|false)`).FindAllSubmatch(data, -1)
	required := map[string]string{}
	for _, c := range cells {
		required[string(c[1])] = string(c[2])
	}
	if required["1.36"] != "true" || required["1.37"] != "false" || !strings.Contains(string(data), "continue-on-error: ${{ !matrix.kubernetes.required }}") {
		t.Errorf("cells %v: want 1.36 required and 1.37 best effort (continue-on-error)", required)
	}
	if !strings.Contains(string(data), "v1.36") || !strings.Contains(kind.NodeImage, "v1.36") {
		t.Errorf("the default node image %s is not the required 1.36 cell's", kind.NodeImage)
	}
}

func TestCheckRefusesUnknownValues(t *testing.T) {
	for _, args := range [][]string{{"-tierproof.keep-cluster=sometimes", "-tierproof.data-plane=antrea"}, {"-tierproof.data-plane=vm"}, {"-tierproof.timeout=-1s"}} {
		o, fs, err := parse(t, suite.Walkthrough, args...)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(strings.Split(args[0], "=")[0], "-")
		if err := o.Check(fs); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: %v", args, err)
		}
	}
}

// A flag for the other data plane would be accepted and never read.
func TestCheckRefusesFlagsOfTheOtherDataPlane(t *testing.T) {
	for _, c := range []struct{ args []string }{
		{[]string{"-tierproof.node-image=kindest/node:v1.36.4"}},
		{[]string{"-tierproof.keep-cluster=never"}},
		{[]string{"-tierproof.kubeconfig=/tmp/k"}},
		{[]string{"-tierproof.data-plane=antrea", "-tierproof.lab-fault=a:b>c:tcp/80"}},
		{[]string{"-tierproof.data-plane=kube-router", "-tierproof.antrea-version=v2.7.0"}},
		{[]string{"-tierproof.data-plane=kube-router", "-tierproof.antrea-manifest-sha256=abc"}},
		{[]string{"-tierproof.out-of-band=no-policy:f.yaml"}},
	} {
		o, fs, err := parse(t, suite.Walkthrough, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		flagName := strings.Split(c.args[len(c.args)-1], "=")[0]
		if err := o.Check(fs); err == nil || !strings.Contains(err.Error(), flagName+" applies to -tierproof.data-plane=") {
			t.Errorf("%v: %v", c.args, err)
		}
	}
	o, fs, _ := parse(t, suite.Walkthrough, "-tierproof.data-plane=antrea", "-tierproof.keep-cluster=never")
	if err := o.Check(fs); err != nil {
		t.Errorf("kind flags on kind refused: %v", err)
	}
	o, fs, _ = parse(t, suite.Walkthrough, "-tierproof.data-plane=kube-router", "-tierproof.keep-cluster=never", "-tierproof.node-image=x", "-tierproof.out-of-band=s:f")
	if err := o.Check(fs); err != nil {
		t.Errorf("cluster flags on kube-router refused: %v", err)
	}
}

// bootOptions are what a run of the walkthrough suite with args would boot.
func bootOptions(t *testing.T, args ...string) (cluster.BootOptions, error) {
	t.Helper()
	o, fs, _ := parse(t, suite.Walkthrough, args...)
	if err := o.Check(fs); err != nil {
		t.Fatal(err)
	}
	d, err := o.DataPlaneOptions(cluster.EstateSpec{}, "tierproof", "agent", t.TempDir(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	return d.BootOptions()
}

// kube-router runs on the local node image, with stand-ins for the images
// no registry serves; Antrea on kindest/node, with its manifest.
func TestEachClusterPlaneBootsItsOwnEnforcer(t *testing.T) {
	b, err := bootOptions(t, "-tierproof.data-plane=kube-router")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Enforcer.(kuberouter.Enforcer); !ok || b.NodeImage != nodeimage.Tag || !b.StandIns {
		t.Errorf("kube-router: %T on %s, stand-ins %v", b.Enforcer, b.NodeImage, b.StandIns)
	}
	if b, err = bootOptions(t, "-tierproof.data-plane=antrea"); err != nil {
		t.Fatal(err)
	}
	if a, ok := b.Enforcer.(*antrea.Enforcer); !ok || a.Version != antrea.DefaultVersion || b.StandIns || b.NodeImage != "" {
		t.Errorf("antrea: %T on %q, stand-ins %v", b.Enforcer, b.NodeImage, b.StandIns)
	}
	if _, err := bootOptions(t); err == nil {
		t.Error("the lab booted a cluster")
	}
}

// "kind" was Antrea's name before kube-router ran on kind too: users' scripts
// pass it, so it is read as antrea, with a one-line note.
func TestKindIsADeprecatedNameForAntrea(t *testing.T) {
	o, fs, _ := parse(t, suite.Walkthrough, "-tierproof.data-plane=kind", "-tierproof.antrea-version=v2.7.0")
	var note bytes.Buffer
	fs.SetOutput(&note)
	if err := o.Check(fs); err != nil {
		t.Fatal(err)
	}
	if o.Plane() != dataplane.Antrea || strings.Count(note.String(), "\n") != 1 || !strings.Contains(note.String(), `"kind" is now called "antrea"`) {
		t.Errorf("-tierproof.data-plane=kind: plane %q, note %q", o.Plane(), note.String())
	}
}

// The conformance suite plays the catalog, not scenarios, and injects no
// lab fault: it has neither flag, so giving one is an error, not a no-op.
func TestTheConformanceSuiteHasOnlyTheFlagsItReads(t *testing.T) {
	for _, f := range []string{"-tierproof.scenarios=x", "-tierproof.lab-fault=a:b>c:tcp/80"} {
		if _, _, err := parse(t, suite.Conformance, f); err == nil || !strings.Contains(err.Error(), "flag provided but not defined") {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// Messages tell users what to type: every -tierproof.* they name is a flag.
func TestMessagesNameFlagsThatExist(t *testing.T) {
	_, fs, _ := parse(t, suite.Walkthrough, "-tierproof.data-plane=antrea")
	boot, err := bootOptions(t, "-tierproof.data-plane=antrea")
	if err != nil {
		t.Fatal(err)
	}
	antrea := boot.Enforcer.(*antrea.Enforcer)
	antrea.Manifests.API, antrea.Manifests.BaseURL, antrea.Manifests.CacheDir = "http://127.0.0.1:1", "http://127.0.0.1:1", t.TempDir()
	_, err = antrea.Manifests.Fetch(context.Background(), "v9.9.9", "")
	if err == nil {
		t.Fatal("a version with no checksum anywhere was fetched")
	}
	named := regexp.MustCompile(`-(tierproof\.[a-z0-9-]+)`).FindAllStringSubmatch(err.Error(), -1)
	if len(named) == 0 || !strings.Contains(err.Error(), `make e2e E2E_FLAGS="-tierproof.antrea-manifest-sha256=<sha256>"`) {
		t.Errorf("the missing-checksum error does not say what to type: %v", err)
	}
	for _, n := range named {
		if fs.Lookup(n[1]) == nil {
			t.Errorf("the message names -%s, which is no flag: %v", n[1], err)
		}
	}
}

func TestAMistypedFlagGetsOneLineNamingTheNearestFlag(t *testing.T) {
	fs := flag.NewFlagSet("suite", flag.ContinueOnError)
	var out bytes.Buffer
	fs.SetOutput(&out)
	var o suite.Options
	o.Register(fs, suite.Walkthrough)
	args := []string{"-tierproof.keep-clustr=never"}
	fs.Usage = suite.ShortUsage(fs, suite.Walkthrough, args)
	if err := fs.Parse(args); err == nil {
		t.Fatal("a mistyped flag parsed")
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) > 2 || !strings.Contains(out.String(), "did you mean -tierproof.keep-cluster?") {
		t.Errorf("%d lines:\n%s", len(lines), out.String())
	}
	out.Reset()
	fs.Usage = suite.ShortUsage(fs, suite.Walkthrough, []string{"-help"})
	_ = fs.Parse([]string{"-help"})
	if !strings.Contains(out.String(), "-tierproof.node-image") {
		t.Errorf("-help does not list the flags:\n%s", out.String())
	}
}

func TestDecisionFollowsWhatFailed(t *testing.T) {
	o, fs, _ := parse(t, suite.Walkthrough, "-tierproof.data-plane=antrea")
	if err := o.Check(fs); err != nil {
		t.Fatal(err)
	}
	var failed, passed suite.Outcome
	failed.Fail()
	if d := o.Decision(&failed); !strings.Contains(d, "failed; keeping") {
		t.Errorf("on-failure after a failure: %s", d)
	}
	if d := o.Decision(&passed); !strings.Contains(d, "passed; removing") {
		t.Errorf("on-failure after a pass: %s", d)
	}
}

// An interrupt that lands between two specs skips the rest without failing
// any: the signal itself must mark the run, or it would read as passed.
func TestAnInterruptBetweenSpecsIsNotAPass(t *testing.T) {
	o, fs, _ := parse(t, suite.Walkthrough, "-tierproof.data-plane=antrea", "-tierproof.keep-cluster=never")
	if err := o.Check(fs); err != nil {
		t.Fatal(err)
	}
	var outcome suite.Outcome
	stop := outcome.WatchInterrupts()
	defer stop()
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !outcome.Interrupted() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !outcome.Interrupted() || !outcome.Failed() {
		t.Fatalf("after SIGINT: interrupted %v, failed %v", outcome.Interrupted(), outcome.Failed())
	}
	if d := o.Decision(&outcome); !strings.Contains(d, "the run was interrupted; removing what it created") {
		t.Errorf("after an interrupt: %s", d)
	}
}

// Every push and pull request runs the README's test command, within a job
// timeout longer than its go test timeout.
func TestTheTestWorkflowRunsMakeTest(t *testing.T) {
	data, err := os.ReadFile("../../.github/workflows/test.yml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, want := range []string{"push:", "pull_request:", "make test\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("the test workflow lacks %q", want)
		}
	}
	job := regexp.MustCompile(`timeout-minutes: (\d+)`).FindStringSubmatch(text)
	makefile, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	goTimeout := regexp.MustCompile(`(?m)^test:.*\n(?:\t.*\n)*?\t.*-timeout (\d+)m`).FindStringSubmatch(string(makefile))
	if job == nil || goTimeout == nil {
		t.Fatalf("job timeout %v, make test's go test timeout %v", job, goTimeout)
	}
	if j, g := atoi(t, job[1]), atoi(t, goTimeout[1]); j <= g {
		t.Errorf("the job's %d min do not outlast go test's %d min", j, g)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// make clean removes what runs generate, never the tracked reports/README.md.
func TestMakeCleanKeepsTheReportsReadme(t *testing.T) {
	dir := t.TempDir()
	makefile, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	for path, data := range map[string]string{"Makefile": string(makefile), "reports/README.md": "tracked",
		"reports/antrea-blog/report.html": "old", "reports/ginkgo-junit.xml": "old", "bin/tierproof": "old"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, path), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("make", "-C", dir, "clean").CombinedOutput(); err != nil {
		t.Fatalf("make clean: %v\n%s", err, out)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "reports", "*"))
	if len(left) != 1 || filepath.Base(left[0]) != "README.md" {
		t.Errorf("reports/ after make clean: %v", left)
	}
	if _, err := os.Stat(filepath.Join(dir, "bin")); err == nil {
		t.Error("bin/ survived make clean")
	}
}

// Each run clears its reports directory, so a kubeconfig kept there by an
// earlier run would be deleted before the run could reach its cluster.
func TestAKubeconfigInsideTheReportsIsRefused(t *testing.T) {
	dir := t.TempDir()
	o, fs, _ := parse(t, suite.Walkthrough, "-tierproof.data-plane=antrea", "-tierproof.reports="+dir, "-tierproof.kubeconfig="+filepath.Join(dir, "kubeconfig"))
	if err := o.Check(fs); err == nil || !strings.Contains(err.Error(), "which this run clears first: copy it out") {
		t.Errorf("Check = %v, want a refusal that says to copy the kubeconfig out", err)
	}
	o, fs, _ = parse(t, suite.Walkthrough, "-tierproof.data-plane=antrea", "-tierproof.reports="+dir, "-tierproof.kubeconfig="+filepath.Join(t.TempDir(), "kubeconfig"))
	if err := o.Check(fs); err != nil {
		t.Errorf("a kubeconfig elsewhere: %v", err)
	}
}

// The check compares absolute paths: a relative reports directory, or a file
// whose name starts with "..", is judged by where it is.
func TestAKubeconfigInsideTheReportsIsFoundWhateverThePaths(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, c := range []struct {
		reports, kubeconfig string
		inside              bool
	}{
		{"reports", filepath.Join(dir, "reports", "kubeconfig"), true},
		{filepath.Join(dir, "reports"), "reports/kubeconfig", true},
		{"reports", "reports/..kubeconfig", true},
		{"reports", "reports-old/kubeconfig", false},
		{"reports", "kubeconfig", false},
	} {
		o, fs, _ := parse(t, suite.Walkthrough, "-tierproof.data-plane=antrea", "-tierproof.reports="+c.reports, "-tierproof.kubeconfig="+c.kubeconfig)
		err := o.Check(fs)
		if refused := err != nil && strings.Contains(err.Error(), "which this run clears first"); refused != c.inside {
			t.Errorf("reports %s, kubeconfig %s: %v", c.reports, c.kubeconfig, err)
		}
	}
}

// The workflows run their actions on the current majors (Node 24: Node 20
// actions are deprecated), and the nightly publishes Ginkgo's own JUnit as
// well as the scenarios', so that a failure before any scenario shows.
func TestWorkflowsUseCurrentActionsAndPublishGinkgosReport(t *testing.T) {
	current := map[string]string{"actions/checkout": "v6", "actions/setup-go": "v6", "actions/upload-artifact": "v7", "mikepenz/action-junit-report": "v6"}
	for _, file := range []string{"../../.github/workflows/test.yml", "../../.github/workflows/nightly.yml"} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`uses: ([^@\s]+)@(\S+)`).FindAllStringSubmatch(string(data), -1) {
			if want, ok := current[m[1]]; !ok || m[2] != want {
				t.Errorf("%s uses %s@%s, want %s@%s", file, m[1], m[2], m[1], want)
			}
		}
	}
	data, err := os.ReadFile("../../.github/workflows/nightly.yml")
	if err != nil {
		t.Fatal(err)
	}
	paths := regexp.MustCompile(`report_paths: (\S+)`).FindStringSubmatch(string(data))
	makefile, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	ginkgo := regexp.MustCompile(`(?m)^e2e:(?:.*\n)*?.*-ginkgo\.junit-report=\$\(CURDIR\)/(\S+)`).FindSubmatch(makefile)
	if paths == nil || ginkgo == nil {
		t.Fatalf("report paths %q, make e2e's Ginkgo report %q", paths, ginkgo)
	}
	for _, report := range []string{string(ginkgo[1]), "reports/e2e/antrea-blog/junit.xml"} {
		if ok, _ := path.Match(strings.Replace(paths[1], "**/", "", 1), report); !ok {
			if ok, _ := path.Match(strings.Replace(paths[1], "**/", "*/", 1), report); !ok {
				t.Errorf("the nightly publishes %s, which misses %s", paths[1], report)
			}
		}
	}
}

// -tierproof.until plays each scenario up to a stage: the stages a data
// plane can enforce; a stage the scenario lacks is refused.
func TestUntilPlaysUpToAStage(t *testing.T) {
	o, fs, err := parse(t, suite.Walkthrough, "-tierproof.scenarios=../../examples/shop", "-tierproof.until=app-rules")
	if err == nil {
		err = o.Check(fs)
	}
	if err != nil {
		t.Fatal(err)
	}
	scenarios, err := o.LoadScenarios()
	if err != nil || len(scenarios) != 1 || len(scenarios[0].Stages) != 2 || scenarios[0].Stages[1].Name != "app-rules" {
		t.Fatalf("%v %+v", err, scenarios)
	}
	o.Until = "no-such-stage"
	if _, err := o.LoadScenarios(); err == nil || !strings.Contains(err.Error(), "-tierproof.until no-such-stage: scenario shop has no such stage") {
		t.Errorf("an unknown stage: %v", err)
	}
}

// The suite runs in its own directory: a relative path that is not there is
// refused with how to give it.
func TestARelativeScenarioPathGetsAHint(t *testing.T) {
	o, fs, err := parse(t, suite.Walkthrough, "-tierproof.scenarios=examples/shop")
	if err == nil {
		err = o.Check(fs)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.LoadScenarios(); err == nil || !strings.Contains(err.Error(), "give an absolute path, e.g. $(pwd)/examples/shop") {
		t.Errorf("%v", err)
	}
}
