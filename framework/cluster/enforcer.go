package cluster

import (
	"context"

	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tierproof/tierproof/framework/kind"
	"github.com/tierproof/tierproof/framework/kube"
	"github.com/tierproof/tierproof/framework/model"
	"github.com/tierproof/tierproof/framework/policy"
)

// Enforcer is the NetworkPolicy implementation Boot installs on the cluster:
// Antrea (framework/antrea), or, where Antrea cannot run, kube-router
// (framework/kuberouter).
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
	// Enforced returns once the policies just applied are in force, as far
	// as the enforcer tells (Antrea reports each policy's realization).
	Enforced(ctx context.Context, policies *policy.Set) error
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
	Getter    kube.Getter
	Kind      *kind.Cluster
	Logf      func(format string, args ...any)
}
