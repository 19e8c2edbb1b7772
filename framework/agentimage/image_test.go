package agentimage_test

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/tierproof/tierproof/framework/agentimage"
)

func TestBuildWritesALoadableArchiveWithTheAgentAsEntrypoint(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "tierproof-agent")
	payload := []byte("#!not really a binary\n")
	if err := os.WriteFile(bin, payload, 0o755); err != nil {
		t.Fatal(err)
	}
	img, err := agentimage.Build(bin)
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "agent.tar")
	if err := agentimage.WriteArchive(img, agentimage.DefaultTag, archive); err != nil {
		t.Fatal(err)
	}

	tag, _ := name.NewTag(agentimage.DefaultTag)
	loaded, err := tarball.ImageFromPath(archive, &tag)
	if err != nil {
		t.Fatalf("reading the archive back: %v", err)
	}
	cfg, err := loaded.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Config.Entrypoint) != 1 || cfg.Config.Entrypoint[0] != agentimage.BinaryPath || cfg.OS != "linux" {
		t.Errorf("config: entrypoint %v, os %q", cfg.Config.Entrypoint, cfg.OS)
	}
	layers, err := loaded.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %d, %v", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	hdr, err := tr.Next()
	if err != nil {
		t.Fatal(err)
	}
	content, _ := io.ReadAll(tr)
	if hdr.Name != "tierproof-agent" || hdr.Mode != 0o755 || !bytes.Equal(content, payload) {
		t.Errorf("layer holds %q mode %o (%d bytes), want the agent, executable", hdr.Name, hdr.Mode, len(content))
	}

	again, err := agentimage.Build(bin)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := img.Digest()
	d2, _ := again.Digest()
	if d1 != d2 {
		t.Errorf("same binary, different digests: %s %s", d1, d2)
	}
}
