package cluster_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/cluster"
	"github.com/tierproof/tierproof/framework/kind"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/testenv"
)

// preparedEnforcer answers Prepare with err and must never be installed.
type preparedEnforcer struct {
	err      error
	prepared *cluster.PrepareEnv
}

func (e *preparedEnforcer) Name() string               { return "test enforcer" }
func (e *preparedEnforcer) Semantics() model.Semantics { return model.Antrea }
func (e *preparedEnforcer) Prepare(_ context.Context, env cluster.PrepareEnv) error {
	e.prepared = &env
	return e.err
}
func (e *preparedEnforcer) Install(context.Context, cluster.Installation) error {
	return errors.New("installed on a cluster that must not exist")
}
func (e *preparedEnforcer) Enforced(context.Context, *policy.Set) error { return nil }

// Everything that can refuse a run without a cluster is checked before one
// is created: a refused run must leave nothing behind (a failed run keeps
// its cluster by default). Docker answers; then the enforcer refuses (a
// tampered Antrea manifest, a missing node image) or the agent binary is
// wrong, and Boot must stop having asked Docker nothing but whether it runs.
func TestBootRefusesBeforeCreatingAnything(t *testing.T) {
	agent := filepath.Join(t.TempDir(), "tierproof-agent")
	if err := os.WriteFile(agent, []byte("not an executable"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		enforcer *preparedEnforcer
		want     string
	}{
		{"the enforcer refuses", &preparedEnforcer{err: errors.New("refusing to install it")}, "refusing to install it"},
		{"agent binary is no executable", &preparedEnforcer{}, "is not a Linux executable"},
	} {
		t.Run(c.name, func(t *testing.T) {
			calls := testenv.FakeDocker(t, testenv.DockerInfo)
			work := filepath.Join(t.TempDir(), "reports")
			e, err := cluster.Boot(context.Background(), cluster.BootOptions{ClusterName: "tierproof-test", WorkDir: work, HostRoot: "/host",
				AgentBinary: agent, Logf: t.Logf, Enforcer: c.enforcer})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Boot: %v, want %q", err, c.want)
			}
			if p := c.enforcer.prepared; p == nil || p.HostRoot != "/host" || p.NodeImage != kind.NodeImage {
				t.Errorf("the enforcer was prepared with %+v, want the host root and the default node image", p)
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
