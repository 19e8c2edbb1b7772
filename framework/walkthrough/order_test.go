package walkthrough_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/agent"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/policy"
	"github.com/tierproof/tierproof/framework/probe"
	"github.com/tierproof/tierproof/framework/scenario"
	"github.com/tierproof/tierproof/framework/topology"
	"github.com/tierproof/tierproof/framework/walkthrough"
)

// livePlane records the order of calls; its estate changes when a stage is
// applied (a pod is relabelled), and every probe connects.
type livePlane struct {
	calls []string
	topo  *topology.Topology
}

func (p *livePlane) Name() string               { return "scripted" }
func (p *livePlane) Semantics() model.Semantics { return model.Antrea }
func (p *livePlane) IP(string) string           { return "10.0.0.1" }
func (p *livePlane) Probeable(probe.Flow) error { return nil }
func (p *livePlane) Apply(context.Context, int, *policy.Set) error {
	p.calls = append(p.calls, "apply")
	p.topo.Pods[1].Labels = map[string]string{"role": "denied"} // the stage relabels x/b
	return nil
}
func (p *livePlane) Snapshot(context.Context) (*topology.Topology, error) {
	p.calls = append(p.calls, "snapshot")
	return p.topo, nil
}
func (p *livePlane) Exec(_ context.Context, _ string, _ []string, stdin []byte) ([]byte, []byte, error) {
	p.calls = append(p.calls, "probe")
	var b agent.Batch
	if err := json.Unmarshal(stdin, &b); err != nil {
		return nil, nil, err
	}
	var out strings.Builder
	for _, r := range b.Requests {
		line, _ := json.Marshal(agent.Result{ID: r.ID, Outcome: agent.Connected})
		out.Write(line)
		out.WriteByte('\n')
	}
	return []byte(out.String()), nil, nil
}

func TestTheModelSeesTheEstateAsReadAfterApplying(t *testing.T) {
	s, topo := twoPodScenario(t, map[string]string{
		"scenario.yaml": "name: relabel\ntopology: xyz.yaml\nprobes: [tcp/80]\nstages:\n  - name: deny-role\n    manifests: deny\n",
		"deny/p.yaml": `apiVersion: crd.antrea.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: deny-role}
spec:
  priority: 1
  appliedTo: [{podSelector: {matchLabels: {role: denied}}}]
  ingress: [{action: Drop}]
`})
	plane := &livePlane{topo: topo}
	stage, err := walkthrough.Runner{Plane: plane}.PlayStage(context.Background(), s, 0, topo, nil)
	if got := strings.Join(plane.calls[:2], ","); got != "apply,snapshot" {
		t.Fatalf("calls %v: want apply, then snapshot, then probes", plane.calls)
	}
	// x/b was relabelled by the stage: the model must expect its ingress dropped,
	// so the scripted plane's "connected" is a mismatch on exactly x/a → x/b.
	if err == nil {
		t.Fatal("no mismatch: the model did not see the relabelled pod")
	}
	mismatches := stage.Matrix.Mismatches()
	if len(mismatches) != 1 || mismatches[0].From != "x/a" || mismatches[0].To != "x/b" || mismatches[0].Expected.Verdict != model.Drop {
		t.Errorf("mismatches %v, want only x/a → x/b expected Drop", mismatches)
	}
}

// blindPlane probes nothing: every flow is unprobeable on it.
type blindPlane struct{ livePlane }

func (p *blindPlane) Probeable(probe.Flow) error { return errors.New("blind") }

// A stage that probed no flow fails, and an interrupted stage is reported as
// interrupted, never as flows that differ.
func TestAStageThatCheckedNothingOrWasInterruptedHasNoVerdict(t *testing.T) {
	s, topo := twoPodScenario(t, map[string]string{"scenario.yaml": "name: empty\ntopology: xyz.yaml\nprobes: [tcp/80]\nstages:\n  - name: no-policy\n"})
	_, err := walkthrough.Runner{Plane: &blindPlane{livePlane{topo: topo}}}.PlayStage(context.Background(), s, 0, topo, nil)
	if !errors.Is(err, walkthrough.ErrNothingProbed) || !strings.Contains(err.Error(), "nothing was checked: scripted can probe none of its 4 flows") {
		t.Errorf("a stage that probed nothing: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	stage, err := walkthrough.Runner{Plane: &livePlane{topo: topo}}.PlayStage(ctx, s, 0, topo, nil)
	if err == nil || !strings.Contains(err.Error(), "interrupted at stage no-policy") || strings.Contains(err.Error(), "differ") || stage.Matrix != nil {
		t.Errorf("an interrupted stage: %v (matrix %v)", err, stage.Matrix != nil)
	}
}

// twoPodScenario loads a scenario written from files, on a topology of two
// pods, x/a and x/b.
func twoPodScenario(t *testing.T, files map[string]string) (*scenario.Scenario, *topology.Topology) {
	t.Helper()
	dir := t.TempDir()
	xyz, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "topologies", "xyz.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	files["xyz.yaml"] = string(xyz)
	for name, data := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := scenario.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	topo, err := topology.Parse([]byte("namespaces: [{name: x}]\npods: [{namespace: x, name: a, ip: 10.0.0.1}, {namespace: x, name: b, ip: 10.0.0.2}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	return s, topo
}

// interruptedApply is cancelled while it applies, as Ctrl-C does mid-stage.
type interruptedApply struct {
	livePlane
	cancel context.CancelFunc
}

func (p *interruptedApply) Apply(ctx context.Context, _ int, _ *policy.Set) error {
	p.cancel()
	return fmt.Errorf("waiting for the policies: %w", ctx.Err())
}

// Interrupted while applying, a stage says so, not what the cancelled wait said.
func TestAStageInterruptedWhileApplyingSaysInterrupted(t *testing.T) {
	s, topo := twoPodScenario(t, map[string]string{"scenario.yaml": "name: empty\ntopology: xyz.yaml\nprobes: [tcp/80]\nstages:\n  - name: no-policy\n"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := walkthrough.Runner{Plane: &interruptedApply{livePlane{topo: topo}, cancel}}.PlayStage(ctx, s, 0, topo, nil)
	if err == nil || !strings.Contains(err.Error(), "interrupted at stage no-policy") || strings.Contains(err.Error(), "waiting for the policies") {
		t.Errorf("interrupted while applying: %v", err)
	}
}

// k8sOnlyPlane enforces Kubernetes NetworkPolicies only.
type k8sOnlyPlane struct{ livePlane }

func (*k8sOnlyPlane) Semantics() model.Semantics { return model.KubeRouter }

// A plane that enforces K8s NetworkPolicies only refuses a stage holding an
// Antrea-native policy before applying anything, naming the object and file.
func TestAK8sOnlyPlaneRefusesAntreaNativePolicies(t *testing.T) {
	s, topo := twoPodScenario(t, map[string]string{
		"scenario.yaml": "name: native\ntopology: xyz.yaml\nprobes: [tcp/80]\nstages:\n  - name: acnp\n    manifests: acnp\n",
		"acnp/p.yaml": `apiVersion: crd.antrea.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: drop-all}
spec:
  priority: 1
  appliedTo: [{namespaceSelector: {}}]
  ingress: [{action: Drop}]
`})
	plane := &k8sOnlyPlane{livePlane{topo: topo}}
	runner := walkthrough.Runner{Plane: plane}
	if err := runner.CheckScenario(s, nil); err == nil || !strings.Contains(err.Error(), "ClusterNetworkPolicy/drop-all (") || !strings.Contains(err.Error(), "p.yaml") {
		t.Errorf("CheckScenario: %v", err)
	}
	_, err := runner.PlayStage(context.Background(), s, 0, topo, nil)
	if err == nil || !strings.Contains(err.Error(), "enforces Kubernetes NetworkPolicies only") || len(plane.calls) != 0 {
		t.Errorf("PlayStage: %v, calls %v", err, plane.calls)
	}
}

// kube-router does not enforce the network-policy-api's ClusterNetworkPolicy
// either: a stage holding one is refused up front too, not read as no policy.
func TestAK8sOnlyPlaneRefusesClusterNetworkPolicies(t *testing.T) {
	s, topo := twoPodScenario(t, map[string]string{
		"scenario.yaml": "name: cnp\ntopology: xyz.yaml\nprobes: [tcp/80]\nstages:\n  - name: cnp\n    manifests: cnp\n",
		"cnp/p.yaml": `apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: deny-all}
spec:
  tier: Admin
  priority: 1
  subject: {namespaces: {}}
  ingress: [{action: Deny, from: [{namespaces: {}}]}]
`})
	plane := &k8sOnlyPlane{livePlane{topo: topo}}
	runner := walkthrough.Runner{Plane: plane}
	if err := runner.CheckScenario(s, nil); err == nil || !strings.Contains(err.Error(), "network-policy-api object(s): CNP/deny-all (") || !strings.Contains(err.Error(), "p.yaml") {
		t.Errorf("CheckScenario: %v", err)
	}
	_, err := runner.PlayStage(context.Background(), s, 0, topo, nil)
	if err == nil || !strings.Contains(err.Error(), "enforces Kubernetes NetworkPolicies only") || len(plane.calls) != 0 {
		t.Errorf("PlayStage: %v, calls %v", err, plane.calls)
	}
}
