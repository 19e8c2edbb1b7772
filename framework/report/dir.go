package report

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DirMarker is the file that marks a directory as a tierproof reports
// directory: one run's reports, which the next run may clear.
const DirMarker = ".tierproof-reports"

// PrepareDir makes dir ready for one run's reports: created, or emptied of
// an earlier run's files (so that no stale report sits beside a new one),
// and marked. A non-empty directory without the marker is someone else's:
// it is refused, and nothing in it is touched.
func PrepareDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case os.IsNotExist(err):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	case err != nil:
		return err
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(dir, DirMarker)); err != nil {
			var names []string
			for _, e := range entries[:min(len(entries), 3)] {
				names = append(names, e.Name())
			}
			return fmt.Errorf("reports directory %s holds files tierproof did not write there (%s…): choose an empty or new directory", dir, strings.Join(names, ", "))
		}
		for _, e := range entries {
			if e.Name() == DirMarker {
				continue
			}
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("clearing the earlier run's reports in %s: %w", dir, err)
			}
		}
	}
	return os.WriteFile(filepath.Join(dir, DirMarker), []byte("tierproof writes one run's reports here and clears them at the next run\n"), 0o644)
}
