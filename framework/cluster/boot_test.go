package cluster_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/cluster"
)

// Everything that can refuse a run without a cluster is checked before one
// is created: a refused run must leave nothing behind (a failed run keeps
// its cluster by default). Docker answers, the host has openvswitch; then the
// manifest's checksum or the agent binary is wrong, and Boot must stop having
// asked Docker nothing but whether it runs.
func TestBootRefusesBeforeCreatingAnything(t *testing.T) {
	srv, _ := release(t, manifest)
	tampered, _ := release(t, manifest+"# injected\n")
	apiSrv, _ := api(t, "sha256:"+sha(manifest))
	root := host(t, map[string]string{"sys/module/openvswitch/refcnt": "1"})
	agent := filepath.Join(t.TempDir(), "tierproof-agent")
	if err := os.WriteFile(agent, []byte("not an executable"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, releases, want string
	}{
		{"tampered manifest", tampered.URL, "refusing to install it"},
		{"agent binary is no executable", srv.URL, "is not a Linux executable"},
	} {
		t.Run(c.name, func(t *testing.T) {
			calls := fakeDocker(t, dockerInfo)
			work := filepath.Join(t.TempDir(), "reports")
			e, err := cluster.Boot(context.Background(), cluster.BootOptions{ClusterName: "tierproof-test", WorkDir: work, HostRoot: root,
				AgentBinary: agent, Estate: cluster.BlogEstate, Logf: t.Logf,
				Enforcer: &cluster.Antrea{Version: "v9.9.9",
					Manifests: cluster.AntreaManifests{BaseURL: c.releases, API: apiSrv.URL + "/releases/tags", CacheDir: t.TempDir(), Checksums: map[string]string{}}}})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Boot: %v, want %q", err, c.want)
			}
			if got := calls(); len(got) != 1 || !strings.HasPrefix(got[0], "info") {
				t.Errorf("Docker was asked %q before the run was refused: want only the engine check", got)
			}
			if e.Kind != nil || e.Created {
				t.Errorf("a refused Boot has a cluster: %+v", e.Kind)
			}
			if _, err := os.Stat(filepath.Join(work, "kubeconfig")); err == nil {
				t.Error("a refused Boot wrote a kubeconfig")
			}
		})
	}
}
