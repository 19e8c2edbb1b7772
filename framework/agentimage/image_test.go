package agentimage_test

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/tierproof/tierproof/framework/agent"
	"github.com/tierproof/tierproof/framework/agentimage"
	"github.com/tierproof/tierproof/framework/imagebuild"
)

// buildAgent cross-compiles the real agent for goarch.
func buildAgent(t *testing.T, goarch string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tierproof-agent")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/tierproof/tierproof/cmd/tierproof-agent")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the agent for %s: %v\n%s", goarch, err, out)
	}
	return bin
}

// layerFiles reads the image's single layer: path → mode and content.
func layerFiles(t *testing.T, img v1.Image) map[string]*tar.Header {
	t.Helper()
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %d, %v", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		files["/"+strings.TrimSuffix(hdr.Name, "/")] = hdr
	}
}

// containerdDefaultPath is the PATH containerd's runtime spec sets when the
// image sets none (containerd pkg/oci/spec.go, defaultUnixEnv).
const containerdDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// resolve finds argv0 in the image the way runc does (libcontainer's
// exec.LookPath over the process's PATH): a name with a slash as it is, a bare
// name through PATH, from the image's Env or containerd's default.
func resolve(cfg *v1.ConfigFile, files map[string]*tar.Header, argv0 string) (string, bool) {
	executable := func(p string) bool {
		h, ok := files[p]
		return ok && h.Typeflag == tar.TypeReg && h.Mode&0o111 != 0
	}
	if strings.Contains(argv0, "/") {
		return argv0, executable(argv0)
	}
	searchPath := containerdDefaultPath
	for _, e := range cfg.Config.Env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			searchPath = v
		}
	}
	for _, dir := range strings.Split(searchPath, ":") {
		if p := path.Join(dir, argv0); executable(p) {
			return p, true
		}
	}
	return "", false
}

func TestTheCommandEveryExecutorRunsResolvesInTheImage(t *testing.T) {
	bin := buildAgent(t, "amd64")
	img, err := agentimage.Build(bin)
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "agent.tar")
	if err := imagebuild.WriteArchive(img, agentimage.DefaultTag, archive); err != nil {
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
	files := layerFiles(t, loaded)
	// The probe engine, the external hosts' routes and the pods' entrypoint
	// all run agent.Path; a user's kubectl exec runs the bare name.
	for _, argv0 := range []string{agent.Path, cfg.Config.Entrypoint[0], "tierproof-agent"} {
		if p, ok := resolve(cfg, files, argv0); !ok {
			t.Errorf("%q does not resolve to an executable in the image (layer: %v, env %v)", argv0, keys(files), cfg.Config.Env)
		} else if p != agent.Path {
			t.Errorf("%q resolves to %s, want %s", argv0, p, agent.Path)
		}
	}
	want, _ := os.ReadFile(bin)
	rc, _ := loaded.Layers()
	if got := contentOf(t, rc[0], agent.Path); !bytes.Equal(got, want) {
		t.Errorf("the layer's %s is %d bytes, want the agent's %d", agent.Path, len(got), len(want))
	}
	if cfg.OS != "linux" || cfg.Architecture != "amd64" {
		t.Errorf("config says %s/%s, want linux/amd64", cfg.OS, cfg.Architecture)
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

func TestTheImageNamesTheArchitectureItHolds(t *testing.T) {
	img, err := agentimage.Build(buildAgent(t, "arm64"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Architecture != "arm64" {
		t.Errorf("an arm64 agent's image says %q", cfg.Architecture)
	}
}

func TestANonExecutableIsRefused(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "tierproof-agent")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := agentimage.Build(bin); err == nil || !strings.Contains(err.Error(), "not a Linux executable") || !strings.Contains(err.Error(), bin) {
		t.Errorf("a shell script as the agent: %v", err)
	}
}

func contentOf(t *testing.T, layer v1.Layer, p string) []byte {
	t.Helper()
	rc, err := layer.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err != nil {
			return nil
		}
		if "/"+hdr.Name == p {
			data, _ := io.ReadAll(tr)
			return data
		}
	}
}

func keys(m map[string]*tar.Header) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
