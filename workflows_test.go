package tierproof_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/rhysd/actionlint"
)

// Every workflow the repository holds — its own and the example users copy —
// passes actionlint: syntax, expressions, action inputs and job structure.
func TestWorkflowsPassActionlint(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(".github", "workflows", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join("examples", "github", "policy-review.yml"))
	// Shellcheck and pyflakes are other programs: their checks are left out.
	linter, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{Shellcheck: "-", Pyflakes: "-"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		problems, err := linter.Lint(f, data, nil)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, p := range problems {
			t.Errorf("%s:%d:%d: %s [%s]", f, p.Line, p.Column, p.Message, p.Kind)
		}
	}
	if len(files) < 3 {
		t.Errorf("linted %v: want the project's workflows and the example", files)
	}
}
