// Package debian makes Debian root file systems with debootstrap (root) and
// caches each as a tar archive keyed by its suite, mirror and packages: the
// base of the local kind node image and of the tools images.
package debian

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Suite is the Debian release of every root file system; its containerd
// (1.6) runs Kubernetes 1.36 but not 1.37.
const Suite = "bookworm"

// Rootfs is a Debian root file system with packages, as an uncompressed
// tar archive in cacheDir, made by debootstrap once per package list.
func Rootfs(ctx context.Context, cacheDir, mirror, name string, packages []string, logf func(string, ...any)) (string, error) {
	sum := sha256.Sum256([]byte(Suite + " " + mirror + " " + strings.Join(packages, ",")))
	archive := filepath.Join(cacheDir, fmt.Sprintf("rootfs-%s-%s-%s.tar", name, Suite, hex.EncodeToString(sum[:6])))
	if _, err := os.Stat(archive); err == nil {
		return archive, nil
	}
	if os.Geteuid() != 0 {
		return "", fmt.Errorf("the %s root file system: debootstrap needs root", name)
	}
	dir, err := os.MkdirTemp(cacheDir, "rootfs-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	logf("debootstrap %s (%s root file system: %s), a few minutes", Suite, name, strings.Join(packages, " "))
	if out, err := exec.CommandContext(ctx, "debootstrap", "--variant=minbase", "--include="+strings.Join(packages, ","), Suite, dir, mirror).CombinedOutput(); err != nil {
		return "", fmt.Errorf("debootstrap %s from %s: %w\n%s", Suite, mirror, err, Tail(out))
	}
	// Downloaded packages and package lists are of no use in an image.
	for _, junk := range []string{"var/cache/apt/archives", "var/lib/apt/lists"} {
		entries, _ := os.ReadDir(filepath.Join(dir, junk))
		for _, e := range entries {
			if e.Type().IsRegular() {
				os.Remove(filepath.Join(dir, junk, e.Name()))
			}
		}
	}
	if out, err := exec.CommandContext(ctx, "tar", "--numeric-owner", "--xattrs", "-C", dir, "-cf", archive+".tmp", ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("archiving the %s root file system: %w\n%s", name, err, Tail(out))
	}
	return archive, os.Rename(archive+".tmp", archive)
}

// Tail is the end of a command's output, enough to say why it failed.
func Tail(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}
