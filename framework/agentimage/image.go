// Package agentimage builds the tierproof-agent container image from a built
// agent binary with go-containerregistry: no Docker daemon is needed to build
// it. The cluster code loads the resulting archive into kind's nodes.
package agentimage

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/tierproof/tierproof/framework/agent"
)

// DefaultTag names the image in the archive and in pod specs.
const DefaultTag = "tierproof.local/agent:dev"

// SearchPath is the image's PATH: the agent's directory and the usual ones,
// so that `kubectl exec POD -c tierproof-agent -- tierproof-agent …` works too.
var SearchPath = agent.Dir + ":/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"

// Build makes a one-layer image holding the static agent binary at agent.Path;
// the image's entrypoint is the agent and its architecture the binary's. The
// layer's timestamps are fixed so that the same binary always gives the same
// image digest.
func Build(agentBinary string) (v1.Image, error) {
	data, err := os.ReadFile(agentBinary)
	if err != nil {
		return nil, fmt.Errorf("reading the agent binary: %w", err)
	}
	arch, err := Architecture(agentBinary)
	if err != nil {
		return nil, err
	}
	var layerTar bytes.Buffer
	tw := tar.NewWriter(&layerTar)
	epoch := time.Unix(0, 0)
	// The directories first, as an unpacker creating them itself would
	// otherwise give them its own modes.
	var dirs []string
	for d := path.Dir(agent.Path); d != "/"; d = path.Dir(d) {
		dirs = append([]string{d[1:] + "/"}, dirs...)
	}
	for _, d := range dirs {
		if err := tw.WriteHeader(&tar.Header{Name: d, Mode: 0o755, ModTime: epoch, Typeflag: tar.TypeDir}); err != nil {
			return nil, err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: agent.Path[1:], Mode: 0o755, Size: int64(len(data)), ModTime: epoch, Typeflag: tar.TypeReg}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	layerBytes := layerTar.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerBytes)), nil
	})
	if err != nil {
		return nil, fmt.Errorf("agent layer: %w", err)
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: layer, History: v1.History{CreatedBy: "tierproof agentimage.Build", Created: v1.Time{Time: epoch}}})
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.Architecture, cfg.OS = arch, "linux"
	cfg.Created = v1.Time{Time: epoch}
	cfg.Config.Env = []string{"PATH=" + SearchPath}
	cfg.Config.Entrypoint = []string{agent.Path}
	cfg.Config.Cmd = []string{"serve"}
	return mutate.ConfigFile(img, cfg)
}

// WriteArchive writes img as a `docker save`-style archive tagged tag, the
// format kind's image loading takes.
func WriteArchive(img v1.Image, tag, path string) error {
	ref, err := name.NewTag(tag)
	if err != nil {
		return fmt.Errorf("image tag %q: %w", tag, err)
	}
	if err := tarball.WriteToFile(path, ref, img); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// goarchOf maps ELF machines to the GOARCH names images use.
var goarchOf = map[elf.Machine]string{
	elf.EM_X86_64:  "amd64",
	elf.EM_AARCH64: "arm64",
	elf.EM_386:     "386",
	elf.EM_ARM:     "arm",
	elf.EM_PPC64:   "ppc64le",
	elf.EM_S390:    "s390x",
	elf.EM_RISCV:   "riscv64",
}

// Architecture is the architecture a Linux ELF binary was built for, as an
// image's config names it; anything else is refused, as no node could run it.
func Architecture(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", fmt.Errorf("the agent binary %s is not a Linux executable (%v): build it with make agent", path, err)
	}
	defer f.Close()
	arch, ok := goarchOf[f.Machine]
	if f.Machine == elf.EM_PPC64 && f.ByteOrder == binary.BigEndian {
		arch = "ppc64"
	}
	if !ok {
		return "", fmt.Errorf("the agent binary %s is built for %s, which tierproof cannot name as an image architecture", path, f.Machine)
	}
	return arch, nil
}
