package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tierproof/tierproof/framework/golden"
	"github.com/tierproof/tierproof/framework/netlab"
	"github.com/tierproof/tierproof/framework/report"
)

const (
	xyzTopology  = "../../fixtures/topologies/xyz.yaml"
	blogTopology = "../../fixtures/topologies/antrea-blog.yaml"
	blogStages   = "../../scenarios/antrea-blog"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func writeFile(t *testing.T, name, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const denyXFromY = `apiVersion: crd.antrea.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: deny-x-from-y}
spec:
  tier: securityops
  priority: 1
  appliedTo: [{namespaceSelector: {matchLabels: {ns: x}}}]
  ingress: [{action: Drop, from: [{namespaceSelector: {matchLabels: {ns: "y"}}}]}]
`

// The JSON contract: one object {"flows": [...]}, every ordered pair (self
// included) per probe, verdict Allow|Drop|Reject, icmp port 0, both sides.
func TestSimulateJSONContract(t *testing.T) {
	policies := writeFile(t, "p.yaml", denyXFromY)
	out, err := run(t, "simulate", "--topology", xyzTopology, "--policies", policies, "--probe", "tcp/80", "--probe", "icmp", "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Flows []struct {
			From, To, Protocol, Verdict string
			Port                        int
			Ingress, Egress             map[string]string
		}
	}
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	if want := 2 * 10 * 10; len(doc.Flows) != want {
		t.Fatalf("%d flows, want %d (10 endpoints × 10 × 2 probes)", len(doc.Flows), want)
	}
	found := false
	for _, f := range doc.Flows {
		switch f.Verdict {
		case "Allow", "Drop", "Reject":
		default:
			t.Fatalf("verdict %q", f.Verdict)
		}
		if f.Protocol == "ICMP" && f.Port != 0 {
			t.Fatalf("icmp port %d", f.Port)
		}
		for _, side := range []map[string]string{f.Ingress, f.Egress} {
			for _, key := range []string{"verdict", "tier", "policy", "rule"} {
				if _, ok := side[key]; !ok {
					t.Fatalf("side lacks %q: %v", key, side)
				}
			}
		}
		if f.From == "y/b" && f.To == "x/a" && f.Protocol == "TCP" {
			found = true
			if f.Verdict != "Drop" || f.Ingress["tier"] != "securityops" || f.Ingress["policy"] != "ClusterNetworkPolicy/deny-x-from-y" ||
				f.Ingress["rule"] != "ingress[0]" || f.Egress["rule"] != "default" || f.Egress["verdict"] != "Allow" {
				t.Errorf("y/b → x/a tcp/80 = %+v", f)
			}
		}
		if f.From == "x/a" && f.To == "y/b" && f.Verdict != "Allow" {
			t.Errorf("x/a → y/b %s = %s, want Allow", f.Protocol, f.Verdict)
		}
	}
	if !found {
		t.Fatal("no y/b → x/a tcp/80 flow")
	}
}

func TestSimulateTextTable(t *testing.T) {
	out, err := run(t, "simulate", "--topology", blogTopology,
		"--policies", blogStages+"/01-isolate-environments", "--policies", blogStages+"/03-block-all", "--probe", "icmp")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "icmp — expected (model, Antrea semantics)") || !strings.Contains(lines[0], "X Drop") {
		t.Fatalf("header: %q", lines[0])
	}
	// Row 1 is dev-app/ubuntu-16-04: its own environment (columns 1, 2) only.
	row := strings.Fields(lines[2])
	if row[1] != "dev-app/ubuntu-16-04" {
		t.Fatalf("row 1: %q", lines[2])
	}
	if got := strings.Join(row[2:6], " "); got != ". . X X" {
		t.Errorf("dev-app/ubuntu-16-04 → dev, dev, prod, prod = %q, want \". . X X\"", got)
	}
}

func TestExplainNamesTheDecidingRules(t *testing.T) {
	out, err := run(t, "explain", "--scenario", blogStages, "--from", "lb-client-1", "--to", "yelb/yelb-appserver", "--probe", "tcp/4567")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Verdict: Drop (decided on the ingress side)",
		"not evaluated: an external endpoint has no policies of its own",
		"k8s isolation K8sNetworkPolicy/yelb/yelb-middletier isolation Drop MATCH",
		"⇒ Drop: K8s NetworkPolicy K8sNetworkPolicy/yelb/yelb-middletier isolation",
		"not consulted: 1 baseline rule(s) (K8s NetworkPolicies select this pod",
	} {
		if !strings.Contains(squeezeSpaces(out), want) {
			t.Errorf("explain output lacks %q:\n%s", want, out)
		}
	}
}

func TestBadInputExitsWithAMessage(t *testing.T) {
	policies := writeFile(t, "p.yaml", strings.Replace(denyXFromY, "tier: securityops", "tier: nosuch", 1))
	cases := map[string]struct {
		args []string
		want string
	}{
		"unknown tier":     {[]string{"simulate", "--topology", xyzTopology, "--policies", policies}, `p.yaml (document 0): ClusterNetworkPolicy/deny-x-from-y: spec.tier: Invalid value: "nosuch": no such Tier (tiers: emergency, securityops, networkops, platform, application, baseline; a Tier of your own must be in the input)`},
		"missing topology": {[]string{"simulate", "--policies", policies}, "--topology is required (or give a --scenario)"},
		"bad probe":        {[]string{"simulate", "--topology", xyzTopology, "--probe", "tcp/http"}, `probe "tcp/http": port "http" is not a number`},
		"bad output":       {[]string{"simulate", "--topology", xyzTopology, "--output", "yaml"}, "want text or json"},
		"unknown endpoint": {[]string{"explain", "--topology", xyzTopology, "--from", "x/q", "--to", "x/a"}, `--from "x/q": no such endpoint`},
		"missing file":     {[]string{"simulate", "--topology", "nope.yaml"}, "nope.yaml"},
		// Checked before the scenario is read or any lab exists.
		"a stage's template": {[]string{"simulate", "--topology", "../../fixtures/topologies/antrea-blog.yaml", "--policies", "../../scenarios/antrea-blog/04-allow-prod-ssh"},
			"run simulate --scenario DIR [--stage NAME], which fills in {{ value … }}"},
		"negative retries": {[]string{"lab", "--scenario", "nowhere", "--retries", "-1"}, "--retries -1: want 0 or more"},
		"zero timeout":     {[]string{"lab", "--scenario", "nowhere", "--timeout", "0s"}, "--timeout 0s: want a positive duration"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := run(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// squeezeSpaces folds the column padding of tables.
func squeezeSpaces(s string) string {
	var lines []string
	for _, line := range strings.Split(s, "\n") {
		lines = append(lines, strings.Join(strings.Fields(line), " "))
	}
	return strings.Join(lines, "\n")
}

func TestSimulateScenarioChecksItsAssertions(t *testing.T) {
	out, err := run(t, "simulate", "--scenario", blogStages)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(out, ": holds"); got != 9 {
		t.Errorf("%d assertions hold, want all 9", got)
	}
	if !strings.Contains(out, "== stage 3/6 block-all:") {
		t.Errorf("no stage heading for block-all")
	}

	// A stage explained at an earlier point of the walkthrough.
	out, err = run(t, "explain", "--scenario", blogStages, "--stage", "block-all", "--from", "prod-app/ubuntu-16-04", "--to", "ssh-server", "--probe", "tcp/22")
	if err != nil || !strings.Contains(out, "Verdict: Drop") || !strings.Contains(out, "block-all-whitelist") {
		t.Errorf("explain at block-all: %v\n%s", err, out)
	}
	if _, err := run(t, "explain", "--scenario", blogStages, "--stage", "nope", "--from", "x", "--to", "y"); err == nil || !strings.Contains(err.Error(), "stages: no-policy, isolate-environments") {
		t.Errorf("unknown stage: %v", err)
	}
}

func TestSimulateScenarioFailsWhenAnAssertionDoesNotHold(t *testing.T) {
	dir := t.TempDir()
	xyz, err := filepath.Abs(filepath.Join("..", "..", "fixtures", "topologies", "xyz.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "scenario.yaml"), []byte(`name: wrong
topology: `+xyz+`
probes: [tcp/80]
stages:
  - name: deny
    manifests: deny
    assertions:
      - {from: y/a, to: x/a, probe: tcp/80, verdict: Allow}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "deny"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "deny", "p.yaml"), []byte(denyXFromY), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "simulate", "--scenario", dir)
	if err == nil || !strings.Contains(err.Error(), "1 assertions of scenario wrong do not hold") ||
		!strings.Contains(out, "y/a → x/a tcp/80 Allow: DOES NOT HOLD: the model says Drop") {
		t.Fatalf("error %v\n%s", err, out)
	}
}

const catalog = "../../scenarios/conformance"

func TestSimulateCatalogChecksEveryCase(t *testing.T) {
	out, err := run(t, "simulate", "--catalog", catalog, "--output", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var cases []struct {
		Scenario string `json:"scenario"`
		Feature  string `json:"feature"`
		Stages   []struct {
			Assertions []struct {
				Holds bool `json:"holds"`
			} `json:"assertions"`
		} `json:"stages"`
	}
	if err := json.Unmarshal([]byte(out), &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 80 {
		t.Fatalf("%d cases", len(cases))
	}
	named := cases[0]
	if named.Scenario == "" || named.Feature == "" || len(named.Stages) == 0 || len(named.Stages[0].Assertions) == 0 || !named.Stages[0].Assertions[0].Holds {
		t.Errorf("first case: %+v", named)
	}
}

func TestCatalogCaseSelection(t *testing.T) {
	out, err := run(t, "explain", "--catalog", catalog, "--case", "namespaces-match-self", "--from", "y/a", "--to", "x/b")
	if err != nil || !strings.Contains(out, "namespaces-keep-to-themselves") {
		t.Errorf("explain one case: %v\n%s", err, out)
	}
	if _, err := run(t, "explain", "--catalog", catalog, "--from", "y/a", "--to", "x/b"); err == nil || !strings.Contains(err.Error(), "name it with --case") {
		t.Errorf("explain a whole catalog: %v", err)
	}
	if _, err := run(t, "simulate", "--catalog", catalog, "--case", "no-such-case"); err == nil || !strings.Contains(err.Error(), `--case "no-such-case"`) {
		t.Errorf("unknown case: %v", err)
	}
	if _, err := run(t, "simulate", "--case", "x", "--topology", "t.yaml"); err == nil || !strings.Contains(err.Error(), "--case needs --catalog") {
		t.Errorf("--case alone: %v", err)
	}
}

func lintExit(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, err := run(t, append([]string{"lint"}, args...)...)
	if err == nil {
		return out, 0
	}
	var exit *exitError
	if !errors.As(err, &exit) {
		t.Fatalf("lint %v: %v without an exit status", args, err)
	}
	return out + exit.Error(), exit.code
}

func TestLintExitStatuses(t *testing.T) {
	blog := "../../scenarios/antrea-blog"
	if out, code := lintExit(t, "--scenario", blog, "--stage", "allow-yelb-frontend"); code != 0 || !strings.Contains(out, "no findings") {
		t.Errorf("clean stage: exit %d\n%s", code, out)
	}
	// Stage 6 brings K8s NetworkPolicies that SecurityOps shadows: warnings.
	out, code := lintExit(t, "--scenario", blog)
	if code != 1 || !strings.Contains(out, "[shadowed-k8s-networkpolicy]") || !strings.Contains(out, "findings at or above warning") {
		t.Errorf("warnings with --fail-on warning: exit %d\n%s", code, out)
	}
	if _, code := lintExit(t, "--scenario", blog, "--fail-on", "error"); code != 0 {
		t.Errorf("warnings only, --fail-on error: exit %d", code)
	}
	out, code = lintExit(t, "--scenario", blog, "--output", "json", "--fail-on", "none")
	out = out[strings.Index(out, "{"):] // after the notes on stderr: what the estate gave
	var doc struct {
		Findings []struct{ Check, Severity, Object string } `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil || len(doc.Findings) != 3 || doc.Findings[0].Severity != "warning" {
		t.Errorf("json: exit %d, %v: %s", code, err, out)
	}
	for _, bad := range [][]string{
		{"--scenario", "no/such/dir"},
		{"--scenario", blog, "--fail-on", "loud"},
		{"--topology", writeFile(t, "t.yaml", "namespaces: [{name: x}]\npods: [{namespace: x, name: a, ip: nope}]\n")},
	} {
		if _, code := lintExit(t, bad...); code != 2 {
			t.Errorf("bad input %v: exit %d, want 2", bad, code)
		}
	}
}

func TestVersionAndDuplicateProbes(t *testing.T) {
	out, err := run(t, "--version")
	if err != nil || !strings.HasPrefix(out, "tierproof version ") {
		t.Errorf("--version: %q, %v", out, err)
	}
	once, err := run(t, "simulate", "--topology", xyzTopology, "--probe", "tcp/80")
	if err != nil {
		t.Fatal(err)
	}
	twice, err := run(t, "simulate", "--topology", xyzTopology, "--probe", "tcp/80", "--probe", "tcp/80")
	if err != nil || twice != once {
		t.Errorf("a probe given twice changes the output:\n%s\nvs\n%s (%v)", twice, once, err)
	}
}

// A --policies directory with no manifest is refused, like a scenario stage's;
// an empty file is a valid "no policy" question, said on stderr.
func TestPoliciesThatHoldNothing(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "nested"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeAt := func(path, data string) {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeAt(filepath.Join(dir, "notes.txt"), "not a manifest")
	writeAt(filepath.Join(dir, "nested", "p.yaml"), denyXFromY)
	if _, err := run(t, "simulate", "--topology", xyzTopology, "--policies", dir); err == nil || !strings.Contains(err.Error(), "holds no *.yaml or *.yml files") {
		t.Errorf("a directory without manifests: %v", err)
	}
	empty := writeFile(t, "empty.yaml", "")
	if errOut := stderrOf(t, "simulate", "--topology", xyzTopology, "--policies", empty); !strings.Contains(errOut, "hold(s) no policies: every flow is allowed") {
		t.Errorf("stderr %q does not say the file holds no policies", errOut)
	}
}

func TestTheLabFindsItsAgentBesideTierproof(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "tierproof")
	if _, err := findAgent("", exe); err == nil || !strings.Contains(err.Error(), "--agent-binary") || !strings.Contains(err.Error(), filepath.Join(dir, "tierproof-agent")) {
		t.Errorf("no agent anywhere: %v", err)
	}
	beside := filepath.Join(dir, "tierproof-agent")
	if err := os.WriteFile(beside, []byte("agent"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := findAgent("", exe); err != nil || got != beside {
		t.Errorf("found %q, %v; want %s", got, err, beside)
	}
	if _, err := findAgent(filepath.Join(dir, "nope"), exe); err == nil || !strings.Contains(err.Error(), "--agent-binary") {
		t.Errorf("a given agent that does not exist: %v", err)
	}
}

// Real manifests mix kinds: the others are passed over with a count on
// stderr, or refused with --strict.
func TestMixedManifestsPassOverOtherKinds(t *testing.T) {
	mixed := writeFile(t, "mixed.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n---\n"+denyXFromY)
	if errOut := stderrOf(t, "simulate", "--topology", xyzTopology, "--policies", mixed); !strings.Contains(errOut, "passed over 1 object(s) of other kinds (--strict refuses them): ConfigMap settings (") {
		t.Errorf("stderr %q", errOut)
	}
	strict, _ := run(t, "simulate", "--topology", xyzTopology, "--policies", mixed)
	if !strings.Contains(strict, "X") {
		t.Errorf("the policy beside the ConfigMap was not evaluated:\n%s", strict)
	}
	if _, err := run(t, "simulate", "--topology", xyzTopology, "--policies", mixed, "--strict"); err == nil || !strings.Contains(err.Error(), `unsupported kind "ConfigMap"`) {
		t.Errorf("--strict: %v", err)
	}
}

// stderrOf runs a command that must succeed and returns what it wrote to stderr.
func stderrOf(t *testing.T, args ...string) string {
	t.Helper()
	cmd := newRootCommand()
	var out, errOut strings.Builder
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	return errOut.String()
}

// lab refuses a reports directory it did not write, before building a lab,
// and leaves it as it was.
func TestTheLabRefusesSomeoneElsesReportsDirectory(t *testing.T) {
	dir := t.TempDir()
	notes := writeFile(t, "notes.txt", "mine")
	if err := os.Rename(notes, filepath.Join(dir, "notes.txt")); err != nil {
		t.Fatal(err)
	}
	agent := writeFile(t, "tierproof-agent", "not run: the directory is refused first")
	_, err := run(t, "lab", "--scenario", blogStages, "--reports", dir, "--agent-binary", agent)
	if err == nil || !strings.Contains(err.Error(), "holds files tierproof did not write there (notes.txt") {
		t.Fatalf("lab with a foreign reports directory: %v", err)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "notes.txt")); err != nil || string(data) != "mine" {
		t.Errorf("the directory was touched: %q, %v", data, err)
	}
}

// A run that cannot start (a mistyped --scenario) leaves the previous run's
// reports where they are: they are cleared only once everything has loaded.
func TestAMistypedScenarioKeepsThePreviousReports(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "reports")
	if err := report.PrepareDir(dir); err != nil {
		t.Fatal(err)
	}
	previous := filepath.Join(dir, "junit.xml")
	if err := os.WriteFile(previous, []byte("the previous run"), 0o644); err != nil {
		t.Fatal(err)
	}
	agent := writeFile(t, "tierproof-agent", "not run")
	if _, err := run(t, "lab", "--scenario", blogStages+"-typo", "--reports", dir, "--agent-binary", agent); err == nil {
		t.Fatal("a mistyped scenario ran")
	}
	if data, err := os.ReadFile(previous); err != nil || string(data) != "the previous run" {
		t.Errorf("the previous reports were cleared: %q, %v", data, err)
	}
}

// Inputs that are not files, or far too large, are refused before any is
// read: a FIFO would block through SIGTERM, /dev/zero would be read until
// memory runs out.
func TestInputsThatAreNotFilesOrTooLargeAreRefused(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "policies.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := writeFile(t, "big.yaml", "# "+strings.Repeat("x", 2<<20)+"\n")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--policies", fifo}, "is not a regular file"},
		{[]string{"--policies", "/dev/zero"}, "/dev/zero is not a regular file"},
		{[]string{"--policies", filepath.Dir(fifo)}, "is not a regular file"},
		{[]string{"--policies", big, "--max-input-mib", "1"}, "is 2.0 MiB, over the 1 MiB cap on an input file: --max-input-mib raises it"},
	} {
		done := make(chan error, 1)
		go func() {
			_, err := run(t, append([]string{"simulate", "--topology", xyzTopology}, c.args...)...)
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%v: %v, want %q", c.args, err, c.want)
			}
		case <-time.After(time.Minute):
			t.Fatalf("%v: still reading after a minute", c.args)
		}
	}
	if _, err := run(t, "simulate", "--topology", xyzTopology, "--policies", big, "--max-input-mib", "3"); err != nil {
		t.Errorf("a raised cap: %v", err)
	}
}

// An interrupted offline command stops with the interrupt as its error: it
// never finishes its output and exits 0.
func TestAnInterruptStopsTheOfflineCommands(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, args := range [][]string{
		{"simulate", "--topology", blogTopology, "--policies", blogStages + "/01-isolate-environments"},
		{"simulate", "--scenario", blogStages},
		{"explain", "--scenario", blogStages, "--from", "test-app/ubuntu-16-04", "--to", "prod-app/ubuntu-16-04"},
		{"lint", "--scenario", blogStages},
	} {
		cmd := newRootCommand()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs(args)
		err := cmd.ExecuteContext(ctx)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%v: %v, want the interrupt as the error", args, err)
		}
		if strings.Contains(out.String(), "== stage") || strings.Contains(out.String(), "Verdict:") {
			t.Errorf("%v wrote its output after the interrupt:\n%.300s", args, out.String())
		}
	}
}

// What reaches a terminal cannot forge output: a name Kubernetes refuses is
// refused, and a rule name, which Antrea does not restrict, is printed
// escaped.
func TestNamesCannotBendTheTerminal(t *testing.T) {
	forged := writeFile(t, "p.yaml", `apiVersion: crd.antrea.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: deny-x}
spec:
  priority: 1
  appliedTo: [{namespaceSelector: {matchLabels: {ns: x}}}]
  ingress: [{action: Drop, name: "r\n  ⇒ Allow: forged\u001b[2J"}]
`)
	out, err := run(t, "explain", "--topology", xyzTopology, "--policies", forged, "--from", "y/a", "--to", "x/a")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "\x1b") || strings.Contains(out, "\n  ⇒ Allow: forged") || !strings.Contains(out, `"r\n  ⇒ Allow: forged\x1b[2J"`) {
		t.Errorf("the rule name reached the output raw:\n%s", out)
	}
	badName := writeFile(t, "n.yaml", strings.Replace(denyXFromY, "name: deny-x-from-y", `name: "deny\u001b[31m"`, 1))
	if _, err := run(t, "explain", "--topology", xyzTopology, "--policies", badName, "--from", "y/a", "--to", "x/a"); err == nil || !strings.Contains(err.Error(), "metadata.name: Invalid value") {
		t.Errorf("a policy name the API server refuses: %v", err)
	}
	topo, err := os.ReadFile(xyzTopology)
	if err != nil {
		t.Fatal(err)
	}
	badExternal := writeFile(t, "t.yaml", strings.Replace(string(topo), "name: ext", `name: "ext\u001b]0;pwned\u0007"`, 1))
	if _, err := run(t, "simulate", "--topology", badExternal); err == nil || !strings.Contains(err.Error(), "externals[0].name") {
		t.Errorf("an external host's name with an escape sequence: %v", err)
	}
}

// Real users' files give a verdict or a refusal, never a silent all-Allow:
// kubectl's List export is unwrapped; a v1alpha1 ACNP (the seed blog's era)
// and the network-policy-api's ClusterNetworkPolicy are refused with what to
// do, even where other kinds are passed over.
func TestRealUsersFilesAreReadOrRefused(t *testing.T) {
	list := writeFile(t, "export.yaml", `apiVersion: v1
kind: List
items:
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: deny-x, namespace: x}
  spec: {podSelector: {}, policyTypes: [Ingress]}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: settings, namespace: x}
`)
	out, err := run(t, "explain", "--topology", xyzTopology, "--policies", list, "--from", "y/a", "--to", "x/a")
	if err != nil || !strings.Contains(out, "Verdict: Drop") || !strings.Contains(out, "K8sNetworkPolicy/x/deny-x") {
		t.Errorf("a List export: %v\n%s", err, out)
	}
	if !strings.Contains(out, "ConfigMap settings ("+list+" (document 0, item 2))") {
		t.Errorf("the List's other kinds are not named as passed over:\n%s", out)
	}
	for _, c := range []struct{ doc, want string }{
		{strings.Replace(denyXFromY, "crd.antrea.io/v1beta1", "crd.antrea.io/v1alpha1", 1),
			"apiVersion crd.antrea.io/v1alpha1 is not read: Antrea 2.0 removed its alpha policy APIs; write apiVersion: crd.antrea.io/v1beta1"},
		{`apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: admin-deny}
spec: {priority: 10, subject: {namespaces: {}}, ingress: [{action: Deny, from: [{namespaces: {}}]}]}
`, "AdminNetworkPolicy (policy.networking.k8s.io/v1alpha1) is not read: the network-policy-api replaced AdminNetworkPolicy and BaselineAdminNetworkPolicy with ClusterNetworkPolicy"},
		{`apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: admin-deny-nodes}
spec: {tier: Admin, priority: 10, subject: {namespaces: {}}, egress: [{action: Deny, to: [{nodes: {}}]}]}
`, "CNP/admin-deny-nodes: spec.egress[0].to[0].nodes: Forbidden: tierproof's model does not evaluate nodes peers yet"},
		{strings.Replace(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: d, namespace: x}
spec: {podSelector: {}}
`, "networking.k8s.io/v1", "extensions/v1beta1", 1), "write apiVersion: networking.k8s.io/v1"},
	} {
		file := writeFile(t, "p.yaml", c.doc)
		_, err := run(t, "simulate", "--topology", xyzTopology, "--policies", file)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("simulate: %v, want a refusal saying %q", err, c.want)
		}
		if out, code := lintExit(t, "--topology", xyzTopology, "--policies", file); code != lintBadInput {
			t.Errorf("lint exited %d, want %d (bad input):\n%s", code, lintBadInput, out)
		}
	}
}

// A quoted number is no port name: the API server refuses it in a K8s
// NetworkPolicy (IANA_SVC_NAME needs a letter; Kubernetes'
// pkg/apis/networking/validation ValidateNetworkPolicyPort), so tierproof
// refuses it too, instead of a rule that silently matches no port; in an
// Antrea policy, which Antrea's webhook does not check, lint points at it.
func TestAQuotedPortNumberIsNoPortName(t *testing.T) {
	k8s := writeFile(t, "np.yaml", `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: redis, namespace: x}
spec:
  podSelector: {}
  ingress: [{ports: [{port: "6379"}]}]
`)
	if _, err := run(t, "simulate", "--topology", xyzTopology, "--policies", k8s); err == nil ||
		!strings.Contains(err.Error(), `spec.ingress[0].ports[0].port: Invalid value: "6379": must contain at least one letter`) {
		t.Errorf("a quoted port in a K8s NetworkPolicy: %v", err)
	}
	acnp := writeFile(t, "acnp.yaml", strings.Replace(denyXFromY, `ingress: [{action: Drop, from:`, `ingress: [{action: Drop, ports: [{port: "6379"}], from:`, 1))
	out, code := lintExit(t, "--topology", xyzTopology, "--policies", acnp)
	if code != lintFindings || !strings.Contains(out, "quoted-port-number") || !strings.Contains(out, `port "6379" is read as a port name`) {
		t.Errorf("lint on a quoted port in an ACNP: exit %d\n%s", code, out)
	}
}

// A namespaced object that names no namespace is read in --namespace
// (default "default"), as kubectl apply would, and stderr says which.
func TestANamespacedObjectWithoutNamespaceTakesTheFlagsNamespace(t *testing.T) {
	np := writeFile(t, "np.yaml", `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all}
spec: {podSelector: {}, policyTypes: [Ingress]}
`)
	out, err := run(t, "explain", "--topology", xyzTopology, "--policies", np, "--namespace", "x", "--from", "y/a", "--to", "x/a")
	if err != nil || !strings.Contains(out, "1 object(s) name no namespace and are read in x (--namespace), as kubectl would: K8sNetworkPolicy/x/deny-all") ||
		!strings.Contains(out, "K8sNetworkPolicy/x/deny-all") || !strings.Contains(out, "Verdict: Drop") {
		t.Errorf("--namespace x: %v\n%s", err, out)
	}
	if _, err := run(t, "simulate", "--topology", xyzTopology, "--policies", np); err == nil || !strings.Contains(err.Error(), `metadata.namespace: Not found: "default"`) {
		t.Errorf("the default namespace, which the topology lacks: %v", err)
	}
}

// Parser errors a user can act on: the file's line and a hint, for the
// mistakes people make by hand.
func TestParserErrorsGiveTheLineAndAHint(t *testing.T) {
	for name, c := range map[string]struct{ doc, want string }{
		"a lost spec: line": {"apiVersion: crd.antrea.io/v1beta1\nkind: ClusterNetworkPolicy\nmetadata:\n  name: p\n  priority: 1\n  tier: securityops\nappliedTo: x: y\n",
			"line 7: mapping values are not allowed in this context (the usual cause: a lost metadata: or spec: line, or a key indented under a value)"},
		"a quoted priority": {strings.Replace(denyXFromY, "priority: 1", `priority: "5"`, 1),
			`line 6: spec.priority: "5" is quoted text where a number is expected: write 5 without quotes`},
		"a missing ---": {"# two objects\n" + denyXFromY + strings.Replace(denyXFromY, "deny-x-from-y", "second", 1),
			"line 10: a second apiVersion in one document (the first is at line 2): is a --- missing between two objects?"},
	} {
		file := writeFile(t, "p.yaml", c.doc)
		_, err := run(t, "simulate", "--topology", xyzTopology, "--policies", file)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Count(err.Error(), "\n") > 0 {
			t.Errorf("%s: %v\nwant one line with %q", name, err, c.want)
		}
	}
}

// On input with only K8s NetworkPolicies, lint's DNS advice speaks of what
// the user wrote: the isolating policy's policyTypes and an egress rule, not
// Antrea tiers or a spec.isolation that does not exist.
func TestDNSAdviceSpeaksOfTheKindOfPolicyWritten(t *testing.T) {
	np := writeFile(t, "np.yaml", `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: lockdown, namespace: test-app}
spec: {podSelector: {}, policyTypes: [Egress]}
`)
	out, code := lintExit(t, "--topology", blogTopology, "--policies", np, "--output", "json", "--fail-on", "none")
	if code != 0 {
		t.Fatalf("lint exited %d:\n%s", code, out)
	}
	var doc struct {
		Findings []struct{ Check, Field, Fix string }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range doc.Findings {
		if f.Check != "dns-cut-off" {
			continue
		}
		found = true
		if f.Field != "spec.policyTypes" || strings.Contains(f.Fix, "tier") || !strings.Contains(f.Fix, "add an egress rule allowing TCP and UDP 53") {
			t.Errorf("dns-cut-off on a K8s NetworkPolicy: field %q, fix %q", f.Field, f.Fix)
		}
	}
	if !found {
		t.Errorf("no dns-cut-off finding:\n%s", out)
	}
}

// An external endpoint has no side of its own: explain says which side
// allowed, not "both sides".
func TestExplainForAnExternalSourceNamesTheOneSide(t *testing.T) {
	out, err := run(t, "explain", "--topology", xyzTopology, "--from", "ext", "--to", "x/a")
	if err != nil || strings.Contains(out, "both sides") || !strings.Contains(out, "Verdict: Allow (the ingress side allows; an external source has no side of its own)") {
		t.Errorf("explain from an external host: %v\n%s", err, out)
	}
	out, err = run(t, "explain", "--topology", xyzTopology, "--from", "x/a", "--to", "ext")
	if err != nil || !strings.Contains(out, "Verdict: Allow (the egress side allows; an external destination has no side of its own)") {
		t.Errorf("explain to an external host: %v\n%s", err, out)
	}
}

// The cookbook's trap: a policy naming the Service's port (80) where the
// container listens on 4567 allows nothing; lint says so, and is quiet for
// the container's port and for a name the pods declare.
func TestLintFindsAPortNoSelectedPodExposes(t *testing.T) {
	np := func(port string) string {
		return writeFile(t, "np.yaml", `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: appserver, namespace: yelb}
spec:
  podSelector: {matchLabels: {app: yelb-appserver}}
  ingress: [{from: [{podSelector: {matchLabels: {app: yelb-ui}}}], ports: [{port: `+port+`}]}]
`)
	}
	out, code := lintExit(t, "--topology", blogTopology, "--policies", np("80"))
	if code != lintFindings || !strings.Contains(out, "port-not-exposed") || !strings.Contains(out, "port TCP/80 is declared by none of the pods it applies to") {
		t.Errorf("the Service's port: exit %d\n%s", code, out)
	}
	out, code = lintExit(t, "--topology", blogTopology, "--policies", np("api"))
	if code != lintFindings || !strings.Contains(out, "no container of the pods it applies to has a port named api") {
		t.Errorf("a name the pods lack: exit %d\n%s", code, out)
	}
	for _, port := range []string{"4567", "http"} {
		if out, _ := lintExit(t, "--topology", blogTopology, "--policies", np(port)); strings.Contains(out, "port-not-exposed") {
			t.Errorf("port %s, which the pod declares:\n%s", port, out)
		}
	}
}

// The example shop plays in the lab as a user would run it: its estate's
// pods, derived from its Deployments and StatefulSet, probed stage by stage.
func TestTheShopPlaysInTheLab(t *testing.T) {
	if err := netlab.Available(); err != nil {
		t.Skip(err)
	}
	agent, err := netlab.BuildAgent(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reports := filepath.Join(t.TempDir(), "reports")
	out, err := run(t, "lab", "--scenario", "../../examples/shop", "--reports", reports, "--agent-binary", agent)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"topology: 8 pods on 3 nodes, 3 hosts outside the cluster",
		"stage baseline-drop-all: 968 flows", "shop on lab data plane", "5 stage(s) played, 0 not played; 4840 flows probed, 0 mismatch(es)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// init turns a team's manifests into a scenario that simulate and the lab
// take as they are: the second estate is Deployments with replicas only.
func TestInitThenSimulateThenTheLab(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "guestbook")
	out, err := run(t, "init", dir, "--estate", "../../examples/raw-manifests/estate", "--policies", "../../examples/raw-manifests/policies", "--external", "mail=tcp/25")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	golden.Check(t, filepath.Join("testdata", "init-guestbook.txt"), []byte(strings.ReplaceAll(out, dir, "DIR")))
	written, err := os.ReadFile(filepath.Join(dir, "scenario.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "init-guestbook-scenario.yaml"), written)
	if out, err := run(t, "simulate", "--scenario", dir); err != nil || !strings.Contains(out, "== stage 2/2 20-allow-tiers") {
		t.Fatalf("simulate after init: %v\n%s", err, out)
	}
	if err := netlab.Available(); err != nil {
		t.Skip(err)
	}
	agent, err := netlab.BuildAgent(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out, err = run(t, "lab", "--scenario", dir, "--reports", filepath.Join(t.TempDir(), "reports"), "--agent-binary", agent)
	if err != nil || !strings.Contains(out, "3 stage(s) played, 0 not played; 735 flows probed, 0 mismatch(es)") {
		t.Errorf("lab after init: %v\n%s", err, out)
	}
}

// init writes nothing when its input does not load, and never into a
// directory that holds something.
func TestInitRefusesAndWritesNothing(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "new")
	bad := writeFile(t, "estate.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {}}\n    spec: {containers: [{name: c, image: x}]}\n")
	_, err := run(t, "init", dir, "--estate", bad, "--policies", "../../examples/raw-manifests/policies")
	if err == nil || !strings.Contains(err.Error(), "Deployment/default/web: spec.template.metadata.labels: Required value") {
		t.Errorf("a bad estate: %v", err)
	}
	_, err = run(t, "init", dir, "--estate", "../../examples/raw-manifests/estate", "--policies", "../../examples/shop/02-isolate-payments", "--external", "guestbook=tcp/25")
	if err == nil || !strings.Contains(err.Error(), "external guestbook has the name of a namespace of the estate") {
		t.Errorf("an external named as a namespace: %v", err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("init left %d entries behind", len(entries))
	}
	if err := os.MkdirAll(filepath.Join(dir, "mine"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = run(t, "init", dir, "--estate", "../../examples/raw-manifests/estate", "--policies", "../../examples/raw-manifests/policies")
	if err == nil || !strings.Contains(err.Error(), "is not empty") {
		t.Errorf("a directory that holds something: %v", err)
	}
}

// diff exits 0 whatever the change, 1 with --fail-on-change when a flow
// changes, 2 on bad input (one line naming the problem).
func TestDiffExitStatuses(t *testing.T) {
	blog := "../../scenarios/antrea-blog"
	exit := func(args ...string) (string, int) {
		out, err := run(t, append([]string{"diff"}, args...)...)
		var e *exitError
		switch {
		case err == nil:
			return out, 0
		case errors.As(err, &e):
			return out + e.Error(), e.code
		}
		t.Fatalf("diff %v: %v without an exit status", args, err)
		return "", -1
	}
	if out, code := exit("--scenario", blog, "--stage", "block-all"); code != 0 || !strings.Contains(out, "540 changed") {
		t.Errorf("a change: exit %d\n%s", code, out)
	}
	if out, code := exit("--scenario", blog, "--stage", "block-all", "--fail-on-change"); code != 1 || !strings.Contains(out, "540 flow(s) change (--fail-on-change)") {
		t.Errorf("--fail-on-change: exit %d\n%s", code, out)
	}
	same := blog + "/01-isolate-environments"
	if out, code := exit("--topology", blogTopology, "--before", same, "--after", same, "--fail-on-change"); code != 0 || !strings.Contains(out, "0 changed") {
		t.Errorf("no change: exit %d\n%s", code, out)
	}
	for _, bad := range [][]string{
		{"--scenario", blog, "--before", same},
		{"--topology", blogTopology, "--before", same, "--after", "no/such/dir"},
		{"--scenario", blog, "--stage", "no-policy"},
		{"--scenario", blog, "--output", "html"},
		{"--before", same, "--after", same},
	} {
		if out, code := exit(bad...); code != 2 || strings.Count(strings.TrimSpace(out), "\n") > 3 {
			t.Errorf("%v: exit %d\n%s", bad, code, out)
		}
	}
}

// generate writes a scenario of the shape asked for, whose policies decide
// a mix of verdicts; it loads and simulates as any other.
func TestGenerateWritesAScenarioAtScale(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "scale")
	out, err := run(t, "generate", dir, "--namespaces", "3", "--workloads", "2", "--replicas", "2")
	if err != nil || !strings.Contains(out, "wrote scenario scale in "+dir+": 12 pods in 3 namespaces") {
		t.Fatalf("%v\n%s", err, out)
	}
	out, err = run(t, "simulate", "--scenario", dir, "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	out = out[strings.Index(out, "{"):]
	var doc struct {
		Stages []struct {
			Flows []struct{ Verdict string } `json:"flows"`
		} `json:"stages"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Stages) != 2 {
		t.Fatalf("%v: %d stages", err, len(doc.Stages))
	}
	verdicts := map[string]int{}
	for _, f := range doc.Stages[1].Flows {
		verdicts[f.Verdict]++
	}
	// 12 pods, probes icmp and tcp/8000-8001: 12 × 12 × 3 flows.
	if len(doc.Stages[1].Flows) != 432 || verdicts["Allow"] == 0 || verdicts["Drop"] == 0 {
		t.Errorf("the policy stage: %d flows, %v", len(doc.Stages[1].Flows), verdicts)
	}
	if _, err := run(t, "generate", filepath.Join(t.TempDir(), "big"), "--namespaces", "30", "--workloads", "5", "--replicas", "3"); err == nil || !strings.Contains(err.Error(), "450 pods: kind's two workers run 200 at most") {
		t.Errorf("too big: %v", err)
	}
}
