// Package toolsimage builds the images whose only purpose is the network
// tools users' pods have — iputils' ping, curl and OpenBSD's nc on Debian,
// and BusyBox alone — so that the walkthrough can probe with them as the
// blog does by hand (-tierproof.prober=tools) and the audit can be tried on
// a kind cluster. No registry is reachable here, so they are made as the
// node image is: from debootstrap's root file systems (root), cached as
// image archives keyed by their inputs, then loaded into kind's nodes.
package toolsimage

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tierproof/tierproof/framework/debian"
	"github.com/tierproof/tierproof/framework/imagebuild"
)

// The images, by tag.
const (
	Debian  = "tierproof.local/tools-debian:" + debian.Suite
	BusyBox = "tierproof.local/tools-busybox:" + debian.Suite
)

// revision changes whenever the way the images are made changes.
const revision = "1"

// debianPackages are the tools of the blog's Ubuntu pods.
var debianPackages = []string{"iputils-ping", "curl", "netcat-openbsd"}

// busyboxPackages give the static BusyBox the BusyBox image holds alone.
var busyboxPackages = []string{"busybox-static"}

// busyboxApplets are the BusyBox image's commands: the shell, the tools
// toolprobe detects, and what its scripts run.
var busyboxApplets = []string{"sh", "ping", "nc", "wget", "timeout", "sleep", "cat", "printf", "tr", "cut", "grep", "ls", "ip"}

// Idle is each image's command: it waits to be exec'd into and ends at
// once on SIGTERM (a shell as PID 1 ignores it otherwise).
var Idle = []string{"/bin/sh", "-c", "trap 'exit 0' TERM; while sleep 3600 & wait $!; do :; done"}

// DefaultMirror is the Debian mirror debootstrap installs from unless told.
const DefaultMirror = "http://deb.debian.org/debian"

// Options configure Build.
type Options struct {
	CacheDir string
	Mirror   string // Debian mirror for debootstrap
	Logf     func(format string, args ...any)
}

// Build returns each image's archive (`docker save` form), by tag: from the
// cache when there, else built (root: debootstrap).
func Build(ctx context.Context, o Options) (map[string]string, error) {
	h := sha256.Sum256([]byte(fmt.Sprintf("revision %s suite %s mirror %s debian %v busybox %v applets %v idle %q",
		revision, debian.Suite, o.Mirror, debianPackages, busyboxPackages, busyboxApplets, Idle)))
	key := hex.EncodeToString(h[:8])
	archives := map[string]string{
		Debian:  filepath.Join(o.CacheDir, "tools-debian-"+key+".tar"),
		BusyBox: filepath.Join(o.CacheDir, "tools-busybox-"+key+".tar"),
	}
	cached := true
	for _, a := range archives {
		if _, err := os.Stat(a); err != nil {
			cached = false
		}
	}
	if cached {
		return archives, nil
	}
	if err := os.MkdirAll(o.CacheDir, 0o755); err != nil {
		return nil, err
	}
	debianRoot, err := debian.Rootfs(ctx, o.CacheDir, o.Mirror, "tools", debianPackages, o.Logf)
	if err != nil {
		return nil, fmt.Errorf("tools images: %w (build them once as root: make tools-images)", err)
	}
	busyboxRoot, err := debian.Rootfs(ctx, o.CacheDir, o.Mirror, "busybox", busyboxPackages, o.Logf)
	if err != nil {
		return nil, fmt.Errorf("tools images: %w (build them once as root: make tools-images)", err)
	}
	busybox := filepath.Join(o.CacheDir, "busybox-"+key)
	if err := extract(busyboxRoot, "usr/bin/busybox", busybox); err != nil {
		return nil, err
	}
	defer os.Remove(busybox)
	arch, err := imagebuild.Architecture(busybox)
	if err != nil {
		return nil, err
	}
	root, err := imagebuild.TarLayer(debianRoot)
	if err != nil {
		return nil, err
	}
	files := []imagebuild.File{{Path: "/bin/busybox", Mode: 0o755, Source: busybox}}
	for _, applet := range busyboxApplets {
		files = append(files, imagebuild.File{Path: "/bin/" + applet, Link: "busybox"})
	}
	alone, err := imagebuild.Layer(files)
	if err != nil {
		return nil, err
	}
	for tag, layer := range map[string]v1.Layer{Debian: root, BusyBox: alone} {
		env := "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
		img, err := imagebuild.Image(arch, v1.Config{Env: []string{env}, Cmd: Idle}, layer)
		if err != nil {
			return nil, err
		}
		if err := imagebuild.WriteArchive(img, tag, archives[tag]+".tmp"); err != nil {
			return nil, err
		}
		if err := os.Rename(archives[tag]+".tmp", archives[tag]); err != nil {
			return nil, err
		}
		o.Logf("tools image %s: %s", tag, archives[tag])
	}
	return archives, nil
}

// extract copies the regular file at name (relative, as debootstrap's tar
// holds it) out of archive to dest.
func extract(archive, name, dest string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return fmt.Errorf("%s holds no %s", archive, name)
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", archive, err)
		}
		if strings.TrimPrefix(h.Name, "./") != name || h.Typeflag != tar.TypeReg {
			continue
		}
		out, err := os.OpenFile(dest, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, tr); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	}
}
