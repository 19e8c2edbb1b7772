package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// DockerAnswer is what the fake docker command prints for invocations whose
// arguments match Pattern ("*" matches anything, the rest is literal).
type DockerAnswer struct {
	Pattern, Stdout, Stderr string
	Code                    int
}

// FakeDocker puts a docker command first on PATH that logs every invocation
// and answers from answers (first match; no match: exit 0, no output), so
// that what tierproof asks of Docker, and in what order, is testable
// without an engine. It returns a function that reads the log, one
// invocation per line.
func FakeDocker(t *testing.T, answers ...DockerAnswer) func() []string {
	t.Helper()
	dir := t.TempDir()
	log := filepath.Join(dir, "calls.log")
	var script strings.Builder
	fmt.Fprintf(&script, "#!/bin/sh\nprintf '%%s\\n' \"$*\" >> '%s'\ncase \"$*\" in\n", log)
	for _, a := range answers {
		var pieces []string
		for _, p := range strings.Split(a.Pattern, "*") {
			pieces = append(pieces, "'"+p+"'")
		}
		fmt.Fprintf(&script, "  %s) printf '%%s' '%s'; printf '%%s' '%s' >&2; exit %d;;\n", strings.Join(pieces, "*"), a.Stdout, a.Stderr, a.Code)
	}
	script.WriteString("esac\nexit 0\n")
	if err := os.WriteFile(filepath.Join(dir, "docker"), []byte(script.String()), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return func() []string {
		data, err := os.ReadFile(log)
		if err != nil {
			return nil
		}
		return strings.Split(strings.TrimSpace(string(data)), "\n")
	}
}

// DockerInfo answers the engine check.
var DockerInfo = DockerAnswer{Pattern: "info --format*", Stdout: "20.10.24"}
