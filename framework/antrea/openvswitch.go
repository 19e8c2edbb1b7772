package antrea

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// CheckOpenVSwitch makes sure Antrea's agent can have the openvswitch kernel
// module: kind nodes share the host's kernel, and Antrea programs OVS in it.
// The module may be loaded, built in, or installed for the running kernel:
// kind mounts the host's /lib/modules into every node (its Docker provider's
// provision.go), and antrea-agent's install-cni init container runs modprobe
// openvswitch with it. Anything else cannot work, and the error says what to
// run. root is where /sys, /proc and /lib/modules are read ("" is "/").
func CheckOpenVSwitch(root string, logf func(string, ...any)) error {
	if root == "" {
		root = "/"
	}
	if _, err := os.Stat(filepath.Join(root, "sys/module/openvswitch")); err == nil {
		return nil
	}
	data, err := os.ReadFile(filepath.Join(root, "proc/sys/kernel/osrelease"))
	if err != nil {
		return fmt.Errorf("reading the kernel release: %w", err)
	}
	release := strings.TrimSpace(string(data))
	modules := filepath.Join("/lib/modules", release)
	if _, err := os.Stat(filepath.Join(root, modules)); err != nil {
		return fmt.Errorf("the openvswitch kernel module is not loaded, and this kernel (%s) has no %s to load it from, so Antrea's agent cannot run on kind here: "+
			"use a host with its distribution's kernel and modules, run `sudo modprobe openvswitch`, then make e2e again", release, modules)
	}
	if listsModule(filepath.Join(root, modules, "modules.builtin")) {
		return nil
	}
	if listsModule(filepath.Join(root, modules, "modules.dep")) {
		logf("the openvswitch kernel module is not loaded but is installed in %s: Antrea's agent loads it (or run `sudo modprobe openvswitch` first)", modules)
		return nil
	}
	return fmt.Errorf("the openvswitch kernel module is not loaded, not built into kernel %s and not installed in %s, and Antrea's agent needs it: "+
		"install it (Ubuntu: `sudo apt-get install linux-modules-extra-%s`; Debian's and most distributions' stock kernels ship it), "+
		"run `sudo modprobe openvswitch`, then make e2e again", release, modules, release)
}

// listsModule says whether a modules.dep or modules.builtin file lists
// openvswitch.ko, compressed or not.
func listsModule(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		file, _, _ := strings.Cut(line, ":")
		base := filepath.Base(strings.TrimSpace(file))
		for _, ext := range []string{"", ".xz", ".zst", ".gz"} {
			if base == "openvswitch.ko"+ext {
				return true
			}
		}
	}
	return false
}
