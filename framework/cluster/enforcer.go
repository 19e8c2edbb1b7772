package cluster

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tierproof/tierproof/fixtures"
	"github.com/tierproof/tierproof/framework/model"
)

// Enforcer is the NetworkPolicy implementation Boot installs on the cluster:
// Antrea, or, where Antrea cannot run, kube-router (framework/kuberouter).
type Enforcer interface {
	// Name says what enforces the policies, in every report.
	Name() string
	// Semantics are the model's reading of K8s NetworkPolicies on this
	// enforcer, and whether it enforces Antrea-native policies.
	Semantics() model.Semantics
	// Prepare runs before any cluster exists: whatever can refuse the run
	// (host modules, manifests, node image) refuses it here.
	Prepare(ctx context.Context, env PrepareEnv) error
	// Install runs on the cluster's nodes and returns once it enforces.
	Install(ctx context.Context, in Installation) error
}

// PrepareEnv is what an Enforcer checks before the cluster exists.
type PrepareEnv struct {
	HostRoot  string // where the host's /sys and /lib/modules are read; "" is "/"
	NodeImage string // the kind node image the cluster runs
	Logf      func(format string, args ...any)
}

// Installation is the cluster an Enforcer installs onto.
type Installation struct {
	Client    client.Client
	Clientset kubernetes.Interface
	Getter    Getter
	Kind      *Kind
	Logf      func(format string, args ...any)
}

// Antrea installs an Antrea release from its manifest.
type Antrea struct {
	Version string
	SHA256  string // overrides the recorded checksum
	// Manifests says where manifests and their checksums come from;
	// Checksums default to the recorded ones.
	Manifests AntreaManifests
	manifest  []byte
}

// Name is Antrea and its version, on kind.
func (a *Antrea) Name() string { return "Antrea " + a.Version + " on kind" }

// Semantics are Antrea's own.
func (a *Antrea) Semantics() model.Semantics { return model.Antrea }

// Prepare checks for the openvswitch module and fetches and verifies the
// release manifest.
func (a *Antrea) Prepare(ctx context.Context, env PrepareEnv) error {
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
func (a *Antrea) Install(ctx context.Context, in Installation) error {
	if a.manifest == nil {
		return fmt.Errorf("installing %s: Prepare did not run", a.Name())
	}
	in.Kind.Preload(ctx, ManifestImages(a.manifest), in.Logf)
	if err := InstallManifest(ctx, in.Client, "antrea.yml "+a.Version, a.manifest); err != nil {
		return err
	}
	in.Logf("waiting for Antrea and CoreDNS")
	return WaitAntreaReady(ctx, in.Getter, 2*time.Second, 5*time.Minute)
}
