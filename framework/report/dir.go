package report

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// DirMarker is the file that marks a directory as a tierproof reports
// directory: one run's reports, which the next run may clear.
const DirMarker = ".tierproof-reports"

// PrepareDir makes dir ready for one run's reports: created, or emptied of
// an earlier run's files (so that no stale report sits beside a new one),
// and marked. tierproof often runs as root, so it writes only into a
// directory nobody else can change under it: a symbolic link, a directory
// owned by another user or writable by group or others, and a marker that is
// not a regular file are refused. A non-empty directory without the marker
// is someone else's: it is refused, and nothing in it is touched.
func PrepareDir(dir string) error {
	info, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		return writeMarker(dir)
	case err != nil:
		return err
	}
	if err := checkOwnDir(dir, info); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return writeMarker(dir)
	}
	marker, err := os.Lstat(filepath.Join(dir, DirMarker))
	if err != nil {
		var names []string
		for _, e := range entries[:min(len(entries), 3)] {
			names = append(names, e.Name())
		}
		return fmt.Errorf("reports directory %s holds files tierproof did not write there (%s…): choose an empty or new directory", dir, strings.Join(names, ", "))
	}
	if !marker.Mode().IsRegular() {
		return fmt.Errorf("reports directory %s: its marker %s is a %s, not a file tierproof wrote: choose an empty or new directory", dir, DirMarker, fileKind(marker.Mode()))
	}
	for _, e := range entries {
		if e.Name() == DirMarker {
			continue
		}
		// RemoveAll removes a symbolic link, never what it points to.
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("clearing the earlier run's reports in %s: %w", dir, err)
		}
	}
	return nil
}

// checkOwnDir refuses a reports directory that someone else could change
// while tierproof writes into it.
func checkOwnDir(dir string, info fs.FileInfo) error {
	switch {
	case info.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("reports directory %s is a symbolic link: give the directory it points to", dir)
	case !info.IsDir():
		return fmt.Errorf("reports directory %s is a %s, not a directory", dir, fileKind(info.Mode()))
	case info.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("reports directory %s is writable by group or others (%v): chmod go-w %s, or choose another directory", dir, info.Mode().Perm(), dir)
	}
	if st, ok := info.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("reports directory %s belongs to user %d, not to this run's user %d: choose a directory of your own", dir, st.Uid, os.Geteuid())
	}
	return nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m.IsDir():
		return "directory"
	case m.IsRegular():
		return "file"
	}
	return "special file (" + m.Type().String() + ")"
}

func writeMarker(dir string) error {
	f, err := CreateFile(filepath.Join(dir, DirMarker))
	if err != nil {
		return err
	}
	_, err = f.WriteString("tierproof writes one run's reports here and clears them at the next run\n")
	return errors.Join(err, f.Close())
}

// CreateFile creates a new report file. It never follows a symbolic link and
// never opens a file that is already there: a report is written once, into
// a directory this run has just made or cleared.
func CreateFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o644)
}

// Subdir makes the directory rel under root (a scenario's, a case's) and
// returns its path. rel must stay inside root, and each directory on the way
// is made here or is a real directory, never a link.
func Subdir(root, rel string) (string, error) {
	if !filepath.IsLocal(rel) {
		return "", fmt.Errorf("reports: %q would leave the reports directory %s", rel, root)
	}
	path := root
	for _, part := range strings.Split(filepath.Clean(rel), string(filepath.Separator)) {
		path = filepath.Join(path, part)
		err := os.Mkdir(path, 0o755)
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return "", err
		}
		info, err := os.Lstat(path)
		if err != nil {
			return "", err
		}
		if !info.IsDir() {
			return "", fmt.Errorf("reports: %s is a %s, not a directory this run made", path, fileKind(info.Mode()))
		}
	}
	return path, nil
}
