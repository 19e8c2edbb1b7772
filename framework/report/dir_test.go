package report_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/report"
)

// One run per reports directory: the next run clears what the earlier one
// wrote, and never touches a directory tierproof did not make its own.
func TestPrepareDirClearsOnlyItsOwnDirectories(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab")
	if err := report.PrepareDir(dir); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, "antrea-blog", "ginkgo-junit.xml")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := report.PrepareDir(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the earlier run's %s is still there (%v)", stale, err)
	}
	if _, err := os.Stat(filepath.Join(dir, report.DirMarker)); err != nil {
		t.Errorf("the cleared directory lost its marker: %v", err)
	}

	foreign := t.TempDir()
	mine := filepath.Join(foreign, "notes.txt")
	if err := os.WriteFile(mine, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := report.PrepareDir(foreign); err == nil || !strings.Contains(err.Error(), "notes.txt") {
		t.Errorf("a directory with someone's files: %v, want a refusal naming them", err)
	}
	if data, err := os.ReadFile(mine); err != nil || string(data) != "mine" {
		t.Errorf("the refused directory was touched: %q, %v", data, err)
	}
	empty := t.TempDir()
	if err := report.PrepareDir(empty); err != nil {
		t.Errorf("an empty directory: %v", err)
	}
}
