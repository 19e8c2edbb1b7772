package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
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

// MustScheme is Scheme for a test, which fails if it cannot be built.
func MustScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s, err := Scheme()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
