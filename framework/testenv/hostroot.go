package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// HostRoot makes a host's root file system for tests of host checks: files
// maps paths under it (a trailing "/" makes a directory) to their content,
// and the kernel release is 6.8.0-test.
func HostRoot(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	files["proc/sys/kernel/osrelease"] = "6.8.0-test\n"
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, "/") {
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}
