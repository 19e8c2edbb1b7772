package nodeimage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tierproof/tierproof/framework/debian"
	"github.com/tierproof/tierproof/framework/imagebuild"
)

// builderRevision changes whenever the way the image is made changes, so
// that a cached image from an older builder is not reused.
const builderRevision = "1"

// Options configure Build.
type Options struct {
	Binaries Binaries
	// CacheDir keeps the root file systems and the built image's archive,
	// keyed by their inputs.
	CacheDir string
	Mirror   string // Debian mirror for debootstrap
	Logf     func(format string, args ...any)
}

// Build makes Tag in the local Docker engine, unless Docker has it from the
// same inputs already, or the cache holds its archive (then it is loaded).
// It needs root (debootstrap) and a Docker engine.
func Build(ctx context.Context, o Options) (string, error) {
	binaries, err := o.Binaries.files()
	if err != nil {
		return "", err
	}
	images, err := componentImages(ctx, binaries)
	if err != nil {
		return "", err
	}
	key, err := inputsKey(binaries)
	if err != nil {
		return "", err
	}
	if have, _ := run(ctx, nil, "docker", "image", "inspect", "--format", "{{ index .Config.Labels \""+KeyLabel+"\" }}", Tag); strings.TrimSpace(string(have)) == key {
		o.Logf("node image %s is up to date (inputs %s)", Tag, key[:12])
		return Tag, nil
	}
	archive := filepath.Join(o.CacheDir, "kind-node-"+key[:16]+".tar.zst")
	if _, err := os.Stat(archive); err == nil {
		o.Logf("loading node image %s from %s", Tag, archive)
		return Tag, shell(ctx, fmt.Sprintf("zstd -dc %q | docker load", archive))
	}
	if os.Geteuid() != 0 {
		return "", errors.New("node image: building it needs root (debootstrap makes its root file systems)")
	}
	for _, tool := range []string{"debootstrap", "zstd", "tar", "docker"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("node image: %s is needed (apt-get install debootstrap zstd)", tool)
		}
	}
	start := time.Now()
	work, err := os.MkdirTemp(o.CacheDir, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)

	nodeRoot, err := debian.Rootfs(ctx, o.CacheDir, o.Mirror, "node", nodePackages, o.Logf)
	if err != nil {
		return "", err
	}
	netRoot, err := debian.Rootfs(ctx, o.CacheDir, o.Mirror, "net", netPackages, o.Logf)
	if err != nil {
		return "", err
	}
	base, err := baseImage(nodeRoot, binaries)
	if err != nil {
		return "", err
	}
	baseTag := "tierproof.local/kind-node-base:" + key[:16]
	o.Logf("loading the node's root file system into Docker")
	if err := loadImage(ctx, base, baseTag, filepath.Join(work, "base.tar")); err != nil {
		return "", err
	}
	defer run(context.WithoutCancel(ctx), nil, "docker", "image", "rm", baseTag)

	var archives []string
	for _, img := range images {
		built, err := img.build(binaries, netRoot)
		if err != nil {
			return "", fmt.Errorf("image %s: %w", img.tag, err)
		}
		path := filepath.Join(work, fmt.Sprintf("image-%d.tar", len(archives)))
		if err := imagebuild.WriteArchive(built, img.tag, path); err != nil {
			return "", err
		}
		archives = append(archives, path)
	}
	o.Logf("importing %d images into the node's containerd", len(archives))
	if err := importImages(ctx, baseTag, archives, key); err != nil {
		return "", err
	}
	o.Logf("built node image %s in %s; caching it as %s", Tag, time.Since(start).Round(time.Second), archive)
	if err := shell(ctx, fmt.Sprintf("docker save %s | zstd -q -T0 -3 -o %q.tmp && mv %q.tmp %q", Tag, archive, archive, archive)); err != nil {
		return "", err
	}
	// Archives of earlier inputs are of no more use: the cache keeps one.
	older, _ := filepath.Glob(filepath.Join(o.CacheDir, "kind-node-*.tar.zst"))
	for _, a := range older {
		if a != archive {
			os.Remove(a)
		}
	}
	return Tag, nil
}

// baseImage is the node before its images are imported: the root file system,
// then tierproof's files and the binaries.
func baseImage(rootfs string, binaries map[string]string) (v1.Image, error) {
	root, err := imagebuild.TarLayer(rootfs)
	if err != nil {
		return nil, err
	}
	overlayed, err := overlayFiles()
	if err != nil {
		return nil, err
	}
	var files []imagebuild.File
	for path, data := range overlayed {
		mode := int64(0o644)
		if strings.HasPrefix(path, "/usr/local/bin/") {
			mode = 0o755
		}
		files = append(files, imagebuild.File{Path: path, Mode: mode, Data: data})
	}
	for _, n := range []string{"kubelet", "kubeadm", "kubectl"} {
		files = append(files, imagebuild.File{Path: "/usr/bin/" + n, Mode: 0o755, Source: binaries[n]})
	}
	for _, n := range cniPlugins {
		files = append(files, imagebuild.File{Path: "/opt/cni/bin/" + n, Mode: 0o755, Source: binaries["cni/"+n]})
	}
	files = append(files,
		imagebuild.File{Path: "/kind/version", Mode: 0o644, Data: []byte(KubernetesVersion + "\n")},
		// kubelet.service enabled, as `systemctl enable` would.
		imagebuild.File{Path: "/etc/systemd/system/multi-user.target.wants/kubelet.service", Link: "/etc/systemd/system/kubelet.service"},
		imagebuild.File{Path: "/usr/local/bin/tierproof-runtime", Mode: 0o755, Source: binaries["runtime"]},
	)
	overlay, err := imagebuild.Layer(files)
	if err != nil {
		return nil, err
	}
	arch, err := imagebuild.Architecture(binaries["kubelet"])
	if err != nil {
		return nil, err
	}
	return imagebuild.Image(arch, v1.Config{
		Env:        []string{"container=docker", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		Entrypoint: nodeEntrypoint,
		StopSignal: "SIGRTMIN+3", // systemd's signal to shut down
	}, root, overlay)
}

var nodeEntrypoint = []string{"/usr/local/bin/entrypoint", "/sbin/init"}

// importImages runs the base image with containerd alone, imports the image
// archives into its k8s.io namespace unpacked (the CRI plugin unpacks an
// image when a container first uses it) and commits the result as Tag.
func importImages(ctx context.Context, baseTag string, archives []string, key string) error {
	name := fmt.Sprintf("tierproof-node-build-%d", os.Getpid())
	if out, err := run(ctx, nil, "docker", "run", "-d", "--name", name, "--entrypoint", "sleep", baseTag, "infinity"); err != nil {
		return fmt.Errorf("starting the build container: %w\n%s", err, debian.Tail(out))
	}
	defer run(context.WithoutCancel(ctx), nil, "docker", "rm", "-f", name)
	if out, err := run(ctx, nil, "docker", "exec", "-d", name, "containerd"); err != nil {
		return fmt.Errorf("starting containerd in the build container: %w\n%s", err, debian.Tail(out))
	}
	ready := false
	for i := 0; i < 60 && !ready; i++ {
		_, err := run(ctx, nil, "docker", "exec", name, "ctr", "version")
		ready = err == nil
		if !ready {
			time.Sleep(500 * time.Millisecond)
		}
	}
	if !ready {
		out, _ := run(ctx, nil, "docker", "logs", name)
		return fmt.Errorf("containerd did not start in the build container\n%s", debian.Tail(out))
	}
	for _, a := range archives {
		f, err := os.Open(a)
		if err != nil {
			return err
		}
		out, err := run(ctx, f, "docker", "exec", "-i", name, "ctr", "--namespace=k8s.io", "images", "import", "--no-unpack", "--digests", "-")
		f.Close()
		if err != nil {
			return fmt.Errorf("importing %s into the node's containerd: %w\n%s", a, err, debian.Tail(out))
		}
	}
	if out, err := run(ctx, nil, "docker", "exec", name, "sh", "-c", "kill $(pidof containerd) && while pidof containerd >/dev/null; do sleep 0.2; done"); err != nil {
		return fmt.Errorf("stopping containerd in the build container: %w\n%s", err, debian.Tail(out))
	}
	previous, err := run(ctx, nil, "docker", "image", "inspect", "--format", "{{.Id}}", Tag)
	if err != nil {
		previous = nil // no image had the tag
	}
	entrypoint := `ENTRYPOINT ["` + strings.Join(nodeEntrypoint, `", "`) + `"]`
	if out, err := run(ctx, nil, "docker", "commit", "--change", entrypoint, "--change", "CMD []",
		"--change", "LABEL "+KeyLabel+"="+key, name, Tag); err != nil {
		return fmt.Errorf("committing the node image: %w\n%s", err, debian.Tail(out))
	}
	// The image Tag named before is left untagged: remove it, unless a
	// cluster's nodes still run it (then Docker refuses, and it stays).
	if old := strings.TrimSpace(string(previous)); old != "" {
		run(context.WithoutCancel(ctx), nil, "docker", "image", "rm", old)
	}
	return nil
}

// loadImage writes img as an archive and loads it into Docker as tag.
func loadImage(ctx context.Context, img v1.Image, tag, archive string) error {
	if err := imagebuild.WriteArchive(img, tag, archive); err != nil {
		return err
	}
	defer os.Remove(archive)
	if out, err := run(ctx, nil, "docker", "load", "-i", archive); err != nil {
		return fmt.Errorf("docker load %s: %w\n%s", tag, err, debian.Tail(out))
	}
	return nil
}

// inputsKey hashes everything the image is made of: the binaries, the
// embedded files, the package lists and the builder's revision.
func inputsKey(binaries map[string]string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "revision %s suite %s node %v net %v\n", builderRevision, debian.Suite, nodePackages, netPackages)
	names := make([]string, 0, len(binaries))
	for n := range binaries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f, err := os.Open(binaries[n])
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "binary %s\n", n)
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
	}
	files, err := overlayFiles()
	if err != nil {
		return "", err
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		fmt.Fprintf(h, "file %s %d\n", p, len(files[p]))
		h.Write(files[p])
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func run(ctx context.Context, stdin io.Reader, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = stdin
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

func shell(ctx context.Context, script string) error {
	if out, err := run(ctx, nil, "bash", "-o", "pipefail", "-c", script); err != nil {
		return fmt.Errorf("%s: %w\n%s", script, err, debian.Tail(out))
	}
	return nil
}
