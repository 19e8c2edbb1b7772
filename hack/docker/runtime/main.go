// Command runtime is an OCI runtime wrapper for machines whose capability
// bounding set lacks capabilities Docker grants a --privileged container
// (CAP_SYS_RESOURCE on tierproof's CI machines): runc cannot apply a
// capability the process itself may not hold, and kind runs every node with
// --privileged. It removes those capabilities from the container's (or the
// exec'd process's) spec, then execs runc with the same arguments, so
// everything else is runc's. hack/docker/start registers it only where the
// bounding set needs it, and only for a dockerd it starts itself.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/moby/sys/capability"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "tierproof runtime wrapper: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	held, err := boundingSet()
	if err != nil {
		return err
	}
	if spec := specFile(args); spec != "" {
		if err := dropMissing(spec, held); err != nil {
			return err
		}
	}
	runc, err := realRunc()
	if err != nil {
		return err
	}
	return syscall.Exec(runc, append([]string{"runc"}, args...), os.Environ())
}

// boundingSet names the capabilities this process's bounding set holds, as
// OCI specs spell them ("CAP_NET_ADMIN").
func boundingSet() (map[string]bool, error) {
	caps, err := capability.NewPid2(0)
	if err != nil {
		return nil, err
	}
	if err := caps.Load(); err != nil {
		return nil, fmt.Errorf("reading the capability bounding set: %w", err)
	}
	held := map[string]bool{}
	for _, c := range capability.ListKnown() {
		if caps.Get(capability.BOUNDING, c) {
			held["CAP_"+strings.ToUpper(c.String())] = true
		}
	}
	return held, nil
}

// specFile is the JSON a runc command reads capabilities from: the bundle's
// config.json for create and run, the --process file for exec.
func specFile(args []string) string {
	command, bundle, process := "", ".", ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		value := func(names ...string) (string, bool) {
			for _, n := range names {
				if a == n && i+1 < len(args) {
					i++
					return args[i], true
				}
				if v, ok := strings.CutPrefix(a, n+"="); ok {
					return v, true
				}
			}
			return "", false
		}
		if v, ok := value("--bundle", "-b"); ok {
			bundle = v
			continue
		}
		if v, ok := value("--process", "-p"); ok {
			process = v
			continue
		}
		if _, ok := value("--root", "--log", "--log-format", "--criu", "--rootless"); ok {
			continue // runc's global options that take a value
		}
		if command == "" && !strings.HasPrefix(a, "-") {
			command = a
		}
	}
	switch command {
	case "create", "run":
		return filepath.Join(bundle, "config.json")
	case "exec":
		return process
	}
	return ""
}

// realRunc is the first runc on PATH that is not this wrapper.
func realRunc() (string, error) {
	self, _ := os.Executable()
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		p := filepath.Join(dir, "runc")
		if info, err := os.Stat(p); err == nil && !info.IsDir() && !sameFile(p, self) {
			return p, nil
		}
	}
	return exec.LookPath("runc")
}

func sameFile(a, b string) bool {
	ia, err1 := os.Stat(a)
	ib, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(ia, ib)
}
