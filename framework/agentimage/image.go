// Package agentimage builds the tierproof-agent container image from a built
// agent binary with go-containerregistry: no Docker daemon is needed to build
// it. The cluster code loads the resulting archive into kind's nodes.
package agentimage

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// DefaultTag names the image in the archive and in pod specs.
const DefaultTag = "tierproof.local/agent:dev"

// BinaryPath is where the agent sits in the image.
const BinaryPath = "/tierproof-agent"

// Build makes a one-layer image holding the static agent binary; the image's
// entrypoint is the agent. The layer's timestamps are fixed so that the same
// binary always gives the same image digest.
func Build(agentBinary string) (v1.Image, error) {
	data, err := os.ReadFile(agentBinary)
	if err != nil {
		return nil, fmt.Errorf("reading the agent binary: %w", err)
	}
	var layerTar bytes.Buffer
	tw := tar.NewWriter(&layerTar)
	epoch := time.Unix(0, 0)
	if err := tw.WriteHeader(&tar.Header{Name: BinaryPath[1:], Mode: 0o755, Size: int64(len(data)), ModTime: epoch, Typeflag: tar.TypeReg}); err != nil {
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
	cfg.Architecture, cfg.OS = "amd64", "linux"
	cfg.Created = v1.Time{Time: epoch}
	cfg.Config.Entrypoint = []string{BinaryPath}
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
