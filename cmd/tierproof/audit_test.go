package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/testenv"
)

// The audit command on a real API server, not kind, as a dry run: it says
// what it audits and how, before anything else, and writes its reports.
func TestAuditCommandDryRun(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	dir := filepath.Join(t.TempDir(), "reports")
	out, err := run(t, "audit", "--kubeconfig", env.Kubeconfig, "--dry-run", "--reports", dir, "--semantics", "kube-router")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	first, _, _ := strings.Cut(out, "\n")
	if !strings.HasPrefix(first, "auditing https://") || !strings.Contains(first, "on kube-router semantics, read-only: the client refuses every request but a read and a pod's exec") {
		t.Errorf("first line: %q", first)
	}
	if !strings.Contains(out, "0 flows between pods that serve the port") {
		t.Errorf("output:\n%s", out)
	}
	for _, f := range []string{"junit.xml", "results.json", "truth-tables.txt", "report.html"} {
		if _, err := os.Stat(filepath.Join(dir, "audit", f)); err != nil {
			t.Errorf("report %s: %v", f, err)
		}
	}
	for _, c := range []struct{ args, want string }{
		{"--prober agent", "--prober agent needs --agent-image"},
		{"--agent-image tierproof.local/agent:dev", "--agent-image is for --prober agent"},
		{"--prober ping", `--prober "ping": want tools`},
	} {
		args := append([]string{"audit", "--kubeconfig", env.Kubeconfig}, strings.Fields(c.args)...)
		if _, err := run(t, args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.args, err, c.want)
		}
	}
}
