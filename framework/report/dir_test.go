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

// tierproof runs as root: a link or a directory someone else controls must
// never make it write or delete outside the reports directory.
func TestPrepareDirRefusesWhatOthersControl(t *testing.T) {
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(dir string) error{
		"a marker that is a link": func(dir string) error {
			if err := os.Mkdir(dir, 0o755); err != nil {
				return err
			}
			return os.Symlink(victim, filepath.Join(dir, report.DirMarker))
		},
		"a marker that is a directory": func(dir string) error {
			if err := os.MkdirAll(filepath.Join(dir, report.DirMarker), 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("mine"), 0o644)
		},
		"a directory that is a link": func(dir string) error {
			return os.Symlink(filepath.Dir(victim), dir)
		},
		"a directory others may write to": func(dir string) error {
			if err := os.Mkdir(dir, 0o755); err != nil {
				return err
			}
			return os.Chmod(dir, 0o777)
		},
	}
	if os.Geteuid() == 0 {
		cases["a directory of another user"] = func(dir string) error {
			if err := os.Mkdir(dir, 0o755); err != nil {
				return err
			}
			return os.Chown(dir, 65534, 65534)
		}
	}
	for name, plant := range cases {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "reports")
			if err := plant(dir); err != nil {
				t.Fatal(err)
			}
			if err := report.PrepareDir(dir); err == nil {
				t.Fatal("accepted")
			} else {
				t.Log(err)
			}
			if data, err := os.ReadFile(victim); err != nil || string(data) != "precious" {
				t.Errorf("the file outside was changed: %q, %v", data, err)
			}
			if _, err := os.Lstat(filepath.Join(dir, "keep.txt")); name == "a marker that is a directory" && err != nil {
				t.Errorf("a file of the refused directory was removed: %v", err)
			}
		})
	}
}

// A link planted in the reports directory during a run, and names that climb
// out of it, leave everything outside it as it was.
func TestReportsNeverLeaveTheirDirectory(t *testing.T) {
	root := filepath.Join(t.TempDir(), "reports")
	if err := report.PrepareDir(root); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	victim := filepath.Join(outside, "junit.xml")
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := report.Run{Scenario: "s", DataPlane: "test"}
	for _, rel := range []string{"..", "../x", "cases/../../x", "/etc"} {
		if _, err := report.WriteFiles(root, rel, run); err == nil {
			t.Errorf("WriteFiles(%q) accepted a name that leaves the reports directory", rel)
		}
	}
	// A link in place of the scenario's directory, and one in place of a report.
	if err := os.Symlink(outside, filepath.Join(root, "linked")); err != nil {
		t.Fatal(err)
	}
	if _, err := report.WriteFiles(root, "linked", run); err == nil {
		t.Error("WriteFiles wrote through a linked directory")
	}
	if err := os.Mkdir(filepath.Join(root, "planted"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(root, "planted", "junit.xml")); err != nil {
		t.Fatal(err)
	}
	if _, err := report.WriteFiles(root, "planted", run); err == nil {
		t.Error("WriteFiles wrote through a planted link")
	}
	entries, _ := os.ReadDir(outside)
	if data, err := os.ReadFile(victim); err != nil || string(data) != "precious" || len(entries) != 1 {
		t.Errorf("outside the reports directory: %q, %v, %d entries", data, err, len(entries))
	}
	if written, err := report.WriteFiles(root, "cases/ok", run); err != nil || len(written) != 4 {
		t.Errorf("a proper case directory: %v, %v", written, err)
	}
}
