package antrea

import (
	"context"
	"fmt"
	"time"

	"github.com/tierproof/tierproof/fixtures"
	"github.com/tierproof/tierproof/framework/cluster"
	"github.com/tierproof/tierproof/framework/kube"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/policy"
)

// Enforcer installs an Antrea release from its manifest on a kind cluster.
type Enforcer struct {
	Version string
	SHA256  string // overrides the recorded checksum
	// Manifests says where manifests and their checksums come from;
	// Checksums default to the recorded ones.
	Manifests Manifests
	// Statuses reads policies' realization; Install sets it from the cluster.
	Statuses StatusGetter
	manifest []byte
}

// Name is Antrea and its version, on kind.
func (a *Enforcer) Name() string { return "Antrea " + a.Version + " on kind" }

// Semantics are Antrea's own.
func (a *Enforcer) Semantics() model.Semantics { return model.Antrea }

// Prepare checks for the openvswitch module and fetches and verifies the
// release manifest.
func (a *Enforcer) Prepare(ctx context.Context, env cluster.PrepareEnv) error {
	if err := CheckOpenVSwitch(env.HostRoot, env.Logf); err != nil {
		return err
	}
	m := a.Manifests
	if m.Checksums == nil {
		sums, err := fixtures.AntreaChecksums()
		if err != nil {
			return err
		}
		m.Checksums = sums
	}
	m.Logf = env.Logf
	manifest, err := m.Fetch(ctx, a.Version, a.SHA256)
	if err != nil {
		return err
	}
	a.manifest = manifest
	return nil
}

// Install applies the manifest and waits until Antrea and CoreDNS are ready.
func (a *Enforcer) Install(ctx context.Context, in cluster.Installation) error {
	if a.manifest == nil {
		return fmt.Errorf("installing %s: Prepare did not run", a.Name())
	}
	in.Kind.Preload(ctx, kube.ManifestImages(a.manifest), in.Logf)
	if err := kube.InstallManifest(ctx, in.Client, "antrea.yml "+a.Version, a.manifest); err != nil {
		return err
	}
	if a.Statuses == nil {
		a.Statuses = PolicyStatuses(in.Client)
	}
	in.Logf("waiting for Antrea and CoreDNS")
	return kube.WaitReady(ctx, in.Getter, 2*time.Second, 5*time.Minute, readiness...)
}

// readiness lists what must run before policies can be applied: the
// admission webhooks fail closed until antrea-controller serves its API.
var readiness = []kube.Readiness{
	kube.DeploymentReady("kube-system", "antrea-controller"),
	kube.DaemonSetReady("kube-system", "antrea-agent"),
	kube.DeploymentReady("kube-system", "coredns"),
	kube.APIServiceAvailable("v1beta2.controlplane.antrea.io"),
}

// Enforced waits until Antrea has realized every Antrea policy's current
// generation.
func (a *Enforcer) Enforced(ctx context.Context, policies *policy.Set) error {
	return WaitRealized(ctx, a.Statuses, policies.AntreaPolicyNames(), time.Second, 2*time.Minute)
}
