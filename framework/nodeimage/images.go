package nodeimage

import (
	"context"
	"fmt"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tierproof/tierproof/framework/debian"
	"github.com/tierproof/tierproof/framework/imagebuild"
)

// component is one image imported into the node: a binary, on the network
// tools' root file system where it runs iptables or ipset.
type component struct {
	tag        string
	binary     string // a key of Binaries.files
	entrypoint bool   // the binary is the entrypoint; else kubeadm's command names it
	netTools   bool
}

// componentImages are the images the cluster runs, under the names kubeadm
// asks for (kubeadm config images list), each checked to be the version that
// name says; the pause image and kube-router carry tierproof's names.
func componentImages(ctx context.Context, binaries map[string]string) ([]component, error) {
	kubeadm := binaries["kubeadm"]
	out, err := run(ctx, nil, kubeadm, "version", "-o", "short")
	if err != nil {
		return nil, fmt.Errorf("node image: %s version: %w", kubeadm, err)
	}
	if got := strings.TrimSpace(string(out)); got != KubernetesVersion {
		return nil, fmt.Errorf("node image: the Kubernetes binaries are %s, the node image is for %s (KUBERNETES_VERSION and nodeimage.KubernetesVersion must agree)", got, KubernetesVersion)
	}
	out, err = run(ctx, nil, kubeadm, "config", "images", "list", "--kubernetes-version", KubernetesVersion)
	if err != nil {
		return nil, fmt.Errorf("node image: kubeadm config images list: %w\n%s", err, debian.Tail(out))
	}
	var images []component
	for _, tag := range strings.Fields(string(out)) {
		repo, version, _ := strings.Cut(path.Base(tag), ":")
		c := component{tag: tag, binary: repo}
		switch repo {
		case "kube-apiserver", "kube-controller-manager", "kube-scheduler":
		case "kube-proxy":
			c.netTools = true
		case "etcd":
			if err := checkVersion(ctx, binaries["etcd"], "etcd Version: "+strings.TrimSuffix(version, "-0")+"\n", "--version"); err != nil {
				return nil, err
			}
		case "coredns":
			c.entrypoint = true
			if err := checkVersion(ctx, binaries["coredns"], "CoreDNS-"+strings.TrimPrefix(version, "v")+"\n", "-version"); err != nil {
				return nil, err
			}
		case "pause":
			c.tag, c.entrypoint = PauseImage, true
		default:
			return nil, fmt.Errorf("node image: kubeadm %s asks for %s, which the builder does not make", KubernetesVersion, tag)
		}
		images = append(images, c)
	}
	if err := checkVersion(ctx, binaries["kube-router"], KubeRouterVersion, "--version"); err != nil {
		return nil, err
	}
	return append(images, component{tag: KubeRouterImage, binary: "kube-router", entrypoint: true, netTools: true}), nil
}

// checkVersion runs binary with flag and requires want in what it prints, so
// that an image's tag never names another version than its content.
func checkVersion(ctx context.Context, binary, want, flag string) error {
	out, err := run(ctx, nil, binary, flag)
	if err != nil {
		return fmt.Errorf("node image: %s %s: %w\n%s", binary, flag, err, debian.Tail(out))
	}
	if !strings.Contains(string(out), want) {
		return fmt.Errorf("node image: %s is not %q (it says %q): rebuild it with make node-binaries", binary, strings.TrimSpace(want), debian.Tail(out))
	}
	return nil
}

// build makes the component's image: its binary in /usr/local/bin, on the
// network tools' root file system (netRoot) where it needs them.
func (c component) build(binaries map[string]string, netRoot string) (v1.Image, error) {
	src := binaries[c.binary]
	dest := "/usr/local/bin/" + c.binary
	arch, err := imagebuild.Architecture(src)
	if err != nil {
		return nil, err
	}
	var layers []v1.Layer
	if c.netTools {
		root, err := imagebuild.TarLayer(netRoot)
		if err != nil {
			return nil, err
		}
		layers = append(layers, root)
	}
	bin, err := imagebuild.Layer([]imagebuild.File{{Path: dest, Mode: 0o755, Source: src}})
	if err != nil {
		return nil, err
	}
	cfg := v1.Config{Env: []string{"PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}}
	if c.entrypoint {
		cfg.Entrypoint = []string{dest}
	}
	return imagebuild.Image(arch, cfg, append(layers, bin)...)
}
