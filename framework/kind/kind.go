package kind

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/client-go/tools/clientcmd"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	kindcluster "sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cluster/nodes"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"
	"sigs.k8s.io/kind/pkg/log"
)

// Cluster creates, reuses and deletes tierproof's kind cluster through the
// kind library. Its kubeconfig goes to its own file: without an explicit path kind
// would write into the user's ~/.kube/config.
type Cluster struct {
	Name           string
	KubeconfigPath string
	NodeImage      string // empty: NodeImage
	// Labels are set on the nodes of a cluster Up creates (the run and the
	// data plane that made it); a kept cluster is reused only when its
	// nodes carry them and run NodeImage.
	Labels   map[string]string
	Network  Network // the nodes' Docker network, known after Up
	provider *kindcluster.Provider
}

// New prepares a kind cluster handle; logger receives kind's progress.
func New(name, kubeconfigPath string, logger log.Logger) (*Cluster, error) {
	if name == "" || kubeconfigPath == "" {
		return nil, errors.New("a kind cluster needs a name and its own kubeconfig path")
	}
	return &Cluster{Name: name, KubeconfigPath: kubeconfigPath,
		provider: kindcluster.NewProvider(kindcluster.ProviderWithDocker(), kindcluster.ProviderWithLogger(logger))}, nil
}

// Up creates the cluster, or reuses one of the same name that has the
// walkthrough's three nodes, made by tierproof for the same labels (data
// plane) and node image; another is refused, never reused or deleted.
// created says which; only a created cluster is the harness's to delete. kind's own wait for readiness is off: with no CNI
// the nodes cannot become Ready until Antrea runs, and kind would wait out its
// timeout and return nil anyway; readiness is waited for after Antrea is installed.
func (k *Cluster) Up(ctx context.Context) (created bool, err error) {
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
		if len(nodes) != len(Config("", false).Nodes) {
			return false, fmt.Errorf("kind cluster %q exists with %d nodes, not the walkthrough's 3: delete it (kind delete cluster --name %s) and run again: tierproof then creates it",
				k.Name, len(nodes), k.Name)
		}
		refuse := func(why string) error {
			return fmt.Errorf("kind cluster %q exists, but %s: it is neither reused nor deleted; delete it (kind delete cluster --name %s) and run again: tierproof then creates it", k.Name, why, k.Name)
		}
		want := Config(k.NodeImage, false).Nodes[0].Image
		for _, n := range nodes {
			out, err := RunDocker(ctx, nil, "inspect", "--format", "{{.Config.Image}}", n.String())
			if err != nil {
				return false, err
			}
			if got := strings.TrimSpace(string(out)); got != want {
				return false, refuse(fmt.Sprintf("its node %s runs %s, and this run asks for %s", n.String(), got, want))
			}
		}
		if err := k.provider.ExportKubeConfig(k.Name, k.KubeconfigPath, false); err != nil {
			return false, fmt.Errorf("kind cluster %q: writing its kubeconfig: %w", k.Name, err)
		}
		cfg, err := clientcmd.BuildConfigFromFlags("", k.KubeconfigPath)
		if err != nil {
			return false, err
		}
		client, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return false, err
		}
		if why, err := NodeLabelsMismatch(ctx, client, k.Labels); err != nil || why != "" {
			return false, cmp.Or(err, refuse(why))
		}
		return false, k.findNetwork(ctx)
	}
	if k.Network, err = EnsureNetwork(ctx, NetworkName(k.Name), k.Name); err != nil {
		return false, err
	}
	cfg := Config(k.NodeImage, CgroupV1(""))
	for i := range cfg.Nodes {
		cfg.Nodes[i].Labels = k.Labels
	}
	err = withEnv("KIND_EXPERIMENTAL_DOCKER_NETWORK", k.Network.Name, func() error {
		return k.provider.Create(k.Name,
			kindcluster.CreateWithV1Alpha4Config(cfg),
			kindcluster.CreateWithKubeconfigPath(k.KubeconfigPath),
			kindcluster.CreateWithWaitForReady(0),
			kindcluster.CreateWithDisplayUsage(false),
			kindcluster.CreateWithDisplaySalutation(false))
	})
	if err != nil {
		return false, fmt.Errorf("creating kind cluster %q (node image %s; is it pullable?): %w", k.Name, Config(k.NodeImage, false).Nodes[0].Image, err)
	}
	return true, nil
}

// Down deletes the cluster, its kubeconfig entry and the network tierproof
// made for it.
func (k *Cluster) Down(ctx context.Context) error {
	if err := k.provider.Delete(k.Name, k.KubeconfigPath); err != nil {
		return fmt.Errorf("deleting kind cluster %q: %w", k.Name, err)
	}
	return RemoveNetwork(ctx, k.Network)
}

// findNetwork reads the network an existing cluster's nodes are on: the
// external hosts must join that one, whatever made it.
func (k *Cluster) findNetwork(ctx context.Context) error {
	nodes, err := k.provider.ListNodes(k.Name)
	if err != nil || len(nodes) == 0 {
		return fmt.Errorf("kind cluster %q: listing its nodes: %w", k.Name, err)
	}
	name, err := ContainerNetwork(ctx, nodes[0].String())
	if err != nil {
		return err
	}
	k.Network, err = InspectNetwork(ctx, name)
	return err
}

// withEnv runs fn with an environment variable set, then restores it. kind's
// Docker provider reads its network only from the environment.
func withEnv(key, value string, fn func() error) error {
	old, had := os.LookupEnv(key)
	os.Setenv(key, value)
	defer func() {
		if had {
			os.Setenv(key, old)
		} else {
			os.Unsetenv(key)
		}
	}()
	return fn()
}

// LoadImageArchive loads a `docker save`-style archive into every node. kind's
// `load docker-image` is not a library call; this is its core, with a fresh
// reader per node because each load consumes the stream.
func (k *Cluster) LoadImageArchive(open func() (io.ReadCloser, error)) error {
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

// Nodes are the cluster's node containers, to run commands on.
func (k *Cluster) Nodes() ([]nodes.Node, error) {
	list, err := k.provider.ListNodes(k.Name)
	if err != nil {
		return nil, fmt.Errorf("kind cluster %q: listing its nodes: %w", k.Name, err)
	}
	return list, nil
}

// Preload copies images the local Docker daemon already has into the nodes,
// sparing the nodes a pull; images it lacks are pulled by the nodes.
func (k *Cluster) Preload(ctx context.Context, images []string, logf func(string, ...any)) {
	for _, img := range images {
		if _, err := RunDocker(ctx, nil, "image", "inspect", img); err != nil {
			continue
		}
		archive := filepath.Join(os.TempDir(), "tierproof-preload-"+strings.NewReplacer("/", "_", ":", "_", "@", "_").Replace(img)+".tar")
		if _, err := RunDocker(ctx, nil, "save", "-o", archive, img); err != nil {
			logf("preloading %s: %v (the nodes will pull it)", img, err)
			continue
		}
		err := k.LoadImageArchive(func() (io.ReadCloser, error) { return os.Open(archive) })
		os.Remove(archive)
		if err != nil {
			logf("preloading %s: %v (the nodes will pull it)", img, err)
		}
	}
}

// Attach is the handle of an existing cluster given by its kubeconfig,
// whose API server is server (the kubeconfig's). It must be a kind cluster
// on this host's Docker: every node's providerID is
// kind://docker/<cluster>/<node> (kind sets it), and — since an API server
// can say anything of itself — this is proven locally: every node is a
// container of that cluster here, and server is the address Docker publishes
// for its control plane's port 6443. The harness applies drop-all policies,
// and only kind's nodes can be given the agent image and its Docker network
// the external hosts, so any other cluster is refused.
func Attach(ctx context.Context, client kubernetes.Interface, kubeconfig, server string) (*Cluster, error) {
	name, why, err := ClusterName(ctx, client)
	if err != nil {
		return nil, err
	}
	refuse := func(why string) error {
		return fmt.Errorf("refusing the cluster of %s: %s. tierproof applies drop-all policies and runs only on kind clusters on this host, "+
			"whose nodes it can load its agent image into and whose Docker network its external hosts join", kubeconfig, why)
	}
	if why != "" {
		return nil, refuse(why)
	}
	k, err := New(name, kubeconfig, log.NoopLogger{})
	if err != nil {
		return nil, err
	}
	if why, err := k.provenLocal(ctx, client, server); err != nil || why != "" {
		return nil, cmp.Or(err, refuse(why))
	}
	return k, k.findNetwork(ctx)
}

// provenLocal says why the cluster behind client and server is not kind
// cluster k.Name on this host's Docker, or "" when it is.
func (k *Cluster) provenLocal(ctx context.Context, client kubernetes.Interface, server string) (why string, err error) {
	containers, err := k.provider.ListNodes(k.Name)
	if err != nil {
		return "", fmt.Errorf("kind cluster %q: listing its node containers: %w", k.Name, err)
	}
	local := map[string]nodes.Node{}
	for _, c := range containers {
		local[c.String()] = c
	}
	apiNodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", fmt.Errorf("listing nodes: %w", err)
	}
	for _, n := range apiNodes.Items {
		if _, ok := local[n.Name]; !ok || !strings.HasSuffix(n.Spec.ProviderID, "/"+n.Name) {
			return fmt.Sprintf("node %s is no container of kind cluster %s on this host", n.Name, k.Name), nil
		}
	}
	var published []string
	for _, c := range containers {
		role, err := c.Role()
		if err != nil {
			return "", fmt.Errorf("kind node %s: %w", c.String(), err)
		}
		if role != "control-plane" {
			continue
		}
		out, err := RunDocker(ctx, nil, "port", c.String(), "6443/tcp")
		if err != nil {
			return "", err
		}
		published = append(published, c.String()+":6443") // kind's --internal kubeconfig
		for _, addr := range strings.Fields(string(out)) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				continue
			}
			switch host {
			case "0.0.0.0", "127.0.0.1":
				published = append(published, net.JoinHostPort("127.0.0.1", port), net.JoinHostPort("localhost", port))
			case "::", "::1":
				published = append(published, net.JoinHostPort("::1", port), net.JoinHostPort("localhost", port))
			default:
				published = append(published, addr)
			}
		}
	}
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return fmt.Sprintf("its server %q is no URL", server), nil
	}
	hostPort := u.Host
	if u.Port() == "" {
		hostPort = net.JoinHostPort(u.Hostname(), "443")
	}
	if !slices.Contains(published, hostPort) {
		return fmt.Sprintf("its server %s is not the API server of kind cluster %s on this host (Docker publishes it at %s)", server, k.Name, strings.Join(published, ", ")), nil
	}
	return "", nil
}

// NodeLabelsMismatch says which of want a node of the cluster lacks, or ""
// when every node carries them all: what a kept cluster must show to be
// reused.
func NodeLabelsMismatch(ctx context.Context, client kubernetes.Interface, want map[string]string) (string, error) {
	list, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", fmt.Errorf("listing nodes: %w", err)
	}
	keys := slices.Sorted(maps.Keys(want))
	for _, n := range list.Items {
		for _, key := range keys {
			if got, ok := n.Labels[key]; !ok || got != want[key] {
				return fmt.Sprintf("its node %s has %s=%q, and this run needs %q (it was made by another run or for another data plane)", n.Name, key, got, want[key]), nil
			}
		}
	}
	return "", nil
}

// ClusterName reads the kind cluster's name from its nodes' providerIDs;
// why says what makes it no kind cluster on Docker.
func ClusterName(ctx context.Context, client kubernetes.Interface) (name, why string, err error) {
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", "", fmt.Errorf("listing nodes: %w", err)
	}
	if len(nodes.Items) == 0 {
		return "", "the cluster has no nodes", nil
	}
	for _, n := range nodes.Items {
		parts := strings.Split(strings.TrimPrefix(n.Spec.ProviderID, "kind://"), "/")
		switch {
		case !strings.HasPrefix(n.Spec.ProviderID, "kind://") || len(parts) != 3:
			return "", fmt.Sprintf("node %s has providerID %q, not kind's", n.Name, providerID(n)), nil
		case parts[0] != "docker":
			return "", fmt.Sprintf("node %s is a kind node on %s, and tierproof drives Docker only", n.Name, parts[0]), nil
		case parts[1] == "" || parts[2] == "":
			return "", fmt.Sprintf("node %s has providerID %q, with no cluster or node name", n.Name, n.Spec.ProviderID), nil
		case name != "" && parts[1] != name:
			return "", fmt.Sprintf("its nodes belong to kind clusters %s and %s", name, parts[1]), nil
		}
		name = parts[1]
	}
	return name, "", nil
}

func providerID(n corev1.Node) string {
	if n.Spec.ProviderID == "" {
		return "(none)"
	}
	return n.Spec.ProviderID
}
