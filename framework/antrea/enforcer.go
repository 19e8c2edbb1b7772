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
	// ClusterNetworkPolicy enables Antrea's ClusterNetworkPolicy feature
	// gate and installs the network-policy-api's CRD: the scenarios hold
	// CNPs.
	ClusterNetworkPolicy bool
	manifest             []byte
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
	if a.ClusterNetworkPolicy {
		if manifest, err = EnableControllerGate(manifest, cnpGate); err != nil {
			return err
		}
		env.Logf("Antrea: the %s feature gate is enabled in antrea-controller.conf (the scenarios hold ClusterNetworkPolicies)", cnpGate)
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
	if a.ClusterNetworkPolicy {
		// Before Antrea: its controller watches ClusterNetworkPolicies from
		// the start once the gate is on.
		if err := kube.InstallManifest(ctx, in.Client, "the ClusterNetworkPolicy CRD (network-policy-api, the pinned module's)", fixtures.ClusterNetworkPolicyCRD); err != nil {
			return err
		}
		if err := kube.WaitReady(ctx, in.Getter, time.Second, time.Minute, kube.CRDEstablished(cnpCRD)); err != nil {
			return err
		}
	}
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
// generation, and computed every ClusterNetworkPolicy's (all it reports of
// one: see cnpStatus).
func (a *Enforcer) Enforced(ctx context.Context, policies *policy.Set) error {
	names := policies.AntreaPolicyNames()
	for _, p := range policies.UpstreamCNPs {
		names = append(names, "CNP/"+p.Object.Name)
	}
	return WaitRealized(ctx, a.Statuses, names, time.Second, 2*time.Minute)
}
