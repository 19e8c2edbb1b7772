package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	kindcluster "sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"
	"sigs.k8s.io/kind/pkg/log"
)

// Kind creates, reuses and deletes tierproof's kind cluster through the kind
// library. Its kubeconfig goes to its own file: without an explicit path kind
// would write into the user's ~/.kube/config.
type Kind struct {
	Name           string
	KubeconfigPath string
	NodeImage      string // empty: NodeImage
	provider       *kindcluster.Provider
}

// NewKind prepares a kind cluster handle; logger receives kind's progress.
func NewKind(name, kubeconfigPath string, logger log.Logger) (*Kind, error) {
	if name == "" || kubeconfigPath == "" {
		return nil, errors.New("a kind cluster needs a name and its own kubeconfig path")
	}
	return &Kind{Name: name, KubeconfigPath: kubeconfigPath,
		provider: kindcluster.NewProvider(kindcluster.ProviderWithDocker(), kindcluster.ProviderWithLogger(logger))}, nil
}

// Up creates the cluster, or reuses one of the same name that has the
// walkthrough's three nodes. created says which; only a created cluster is
// the harness's to delete. kind's own wait for readiness is off: with no CNI
// the nodes cannot become Ready until Antrea runs, and kind would wait out its
// timeout and return nil anyway; readiness is waited for after Antrea is installed.
func (k *Kind) Up(ctx context.Context) (created bool, err error) {
	if err := CheckDocker(ctx); err != nil {
		return false, err
	}
	existing, err := k.provider.List()
	if err != nil {
		return false, fmt.Errorf("listing kind clusters: %w", err)
	}
	if slices.Contains(existing, k.Name) {
		nodes, err := k.provider.ListNodes(k.Name)
		if err != nil {
			return false, fmt.Errorf("kind cluster %q: listing its nodes: %w", k.Name, err)
		}
		if len(nodes) != len(KindConfig("").Nodes) {
			return false, fmt.Errorf("kind cluster %q exists with %d nodes, not the walkthrough's 3: delete it (kind delete cluster --name %s) or pick another --cluster-name",
				k.Name, len(nodes), k.Name)
		}
		if err := k.provider.ExportKubeConfig(k.Name, k.KubeconfigPath, false); err != nil {
			return false, fmt.Errorf("kind cluster %q: writing its kubeconfig: %w", k.Name, err)
		}
		return false, nil
	}
	err = k.provider.Create(k.Name,
		kindcluster.CreateWithV1Alpha4Config(KindConfig(k.NodeImage)),
		kindcluster.CreateWithKubeconfigPath(k.KubeconfigPath),
		kindcluster.CreateWithWaitForReady(0),
		kindcluster.CreateWithDisplayUsage(false),
		kindcluster.CreateWithDisplaySalutation(false))
	if err != nil {
		return false, fmt.Errorf("creating kind cluster %q (node image %s; is it pullable?): %w", k.Name, KindConfig(k.NodeImage).Nodes[0].Image, err)
	}
	return true, nil
}

// Down deletes the cluster and its kubeconfig entry.
func (k *Kind) Down() error {
	if err := k.provider.Delete(k.Name, k.KubeconfigPath); err != nil {
		return fmt.Errorf("deleting kind cluster %q: %w", k.Name, err)
	}
	return nil
}

// LoadImageArchive loads a `docker save`-style archive into every node. kind's
// `load docker-image` is not a library call; this is its core, with a fresh
// reader per node because each load consumes the stream.
func (k *Kind) LoadImageArchive(open func() (io.ReadCloser, error)) error {
	nodes, err := k.provider.ListNodes(k.Name)
	if err != nil {
		return fmt.Errorf("kind cluster %q: listing its nodes: %w", k.Name, err)
	}
	for _, n := range nodes {
		rc, err := open()
		if err != nil {
			return err
		}
		err = nodeutils.LoadImageArchive(n, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("loading the image into node %s: %w", n.String(), err)
		}
	}
	return nil
}

// IsKindCluster says whether every node of the cluster behind client was made
// by kind (kind sets providerID kind://<provider>/<cluster>/<node>). The
// harness applies drop-all policies, so it refuses any other cluster unless
// the user explicitly allows it.
func IsKindCluster(ctx context.Context, client kubernetes.Interface) (bool, string, error) {
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return false, "", fmt.Errorf("listing nodes: %w", err)
	}
	if len(nodes.Items) == 0 {
		return false, "the cluster has no nodes", nil
	}
	for _, n := range nodes.Items {
		if !strings.HasPrefix(n.Spec.ProviderID, "kind://") {
			return false, fmt.Sprintf("node %s has providerID %q, not kind's", n.Name, providerID(n)), nil
		}
	}
	return true, "", nil
}

func providerID(n corev1.Node) string {
	if n.Spec.ProviderID == "" {
		return "(none)"
	}
	return n.Spec.ProviderID
}
