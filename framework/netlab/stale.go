package netlab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/vishvananda/netns"
)

// OwnersDir holds one file per live lab, named by its id and holding the
// process that made it: a lab whose process is gone (killed, a broken pipe,
// a panic) left its namespaces behind, and the next lab removes them. Only
// namespaces named after a lab id are touched.
var OwnersDir = "/run/tierproof-lab"

// netnsDir is where ip netns (and netns.NewNamed) name namespaces.
const netnsDir = "/run/netns"

func (l *Lab) claim() error {
	if err := os.MkdirAll(OwnersDir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(OwnersDir, l.id), []byte(strconv.Itoa(os.Getpid())), 0o644)
}

func (l *Lab) release() {
	os.Remove(filepath.Join(OwnersDir, l.id))
}

// RemoveStale removes what labs whose process has died left: their agents
// (normally killed with their parent) and their namespaces. It returns how
// many namespaces it removed.
func RemoveStale() (int, error) {
	owners, err := readDirIfAny(OwnersDir)
	if err != nil {
		return 0, err
	}
	removed := 0
	var errs []error
	for _, o := range owners {
		data, err := os.ReadFile(filepath.Join(OwnersDir, o.Name()))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err == nil && alive(pid) {
			continue
		}
		n, err := removeNamespaces("tplab-" + o.Name() + "-")
		removed += n
		if err != nil {
			errs = append(errs, err)
			continue
		}
		os.Remove(filepath.Join(OwnersDir, o.Name()))
	}
	return removed, errors.Join(errs...)
}

// readDirIfAny lists dir; a directory that does not exist lists nothing.
func readDirIfAny(dir string) ([]os.DirEntry, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return entries, err
}

func alive(pid int) bool {
	return pid > 0 && syscall.Kill(pid, 0) == nil
}

// removeNamespaces kills what runs in the namespaces named with prefix, then
// deletes them.
func removeNamespaces(prefix string) (int, error) {
	entries, err := readDirIfAny(netnsDir)
	if err != nil {
		return 0, err
	}
	removed := 0
	var errs []error
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		killIn(filepath.Join(netnsDir, e.Name()))
		if err := netns.DeleteNamed(e.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("removing a dead lab's namespace %s: %w", e.Name(), err))
			continue
		}
		removed++
	}
	return removed, errors.Join(errs...)
}

// killIn kills every process whose network namespace is the one at path.
func killIn(path string) {
	var want syscall.Stat_t
	if syscall.Stat(path, &want) != nil {
		return
	}
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		var got syscall.Stat_t
		if syscall.Stat(filepath.Join("/proc", p.Name(), "ns", "net"), &got) == nil && got.Ino == want.Ino && got.Dev == want.Dev {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
