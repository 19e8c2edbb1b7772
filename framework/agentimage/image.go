// Package agentimage builds the tierproof-agent container image from a built
// agent binary with go-containerregistry: no Docker daemon is needed to build
// it. The cluster code loads the resulting archive into kind's nodes.
package agentimage

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tierproof/tierproof/framework/agent"
	"github.com/tierproof/tierproof/framework/imagebuild"
)

// DefaultTag names the image in the archive and in pod specs.
const DefaultTag = "tierproof.local/agent:dev"

// SearchPath is the image's PATH: the agent's directory and the usual ones,
// so that `kubectl exec POD -c tierproof-agent -- tierproof-agent …` works too.
var SearchPath = agent.Dir + ":/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"

// Build makes a one-layer image holding the static agent binary at agent.Path;
// the image's entrypoint is the agent and its architecture the binary's. The
// same binary always gives the same image digest.
func Build(agentBinary string) (v1.Image, error) {
	data, err := os.ReadFile(agentBinary)
	if err != nil {
		return nil, fmt.Errorf("reading the agent binary: %w", err)
	}
	arch, err := Architecture(agentBinary)
	if err != nil {
		return nil, err
	}
	layer, err := imagebuild.Layer([]imagebuild.File{{Path: agent.Path, Mode: 0o755, Data: data}})
	if err != nil {
		return nil, fmt.Errorf("agent layer: %w", err)
	}
	return imagebuild.Image(arch, v1.Config{Env: []string{"PATH=" + SearchPath}, Entrypoint: []string{agent.Path}, Cmd: []string{"serve"}}, layer)
}

// WriteArchive writes img as a `docker save`-style archive tagged tag, the
// format kind's image loading takes.
func WriteArchive(img v1.Image, tag, path string) error {
	return imagebuild.WriteArchive(img, tag, path)
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
