package yamlcheck_test

import (
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/yamlcheck"
)

func TestBooleans(t *testing.T) {
	err := yamlcheck.Booleans([]byte("a: y\nb: \"y\"\nc: 'no'\nd: true\ne: [on, yes2]\n---\nf: {g: off}\n"))
	if err == nil {
		t.Fatal("no error for bare y, on and off")
	}
	got := err.Error()
	for _, want := range []string{"line 1: unquoted y", "line 5: unquoted on", "line 7: unquoted off"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
	if strings.Count(got, "\n") != 2 {
		t.Errorf("want exactly three problems (quoted values, true and yes2 are fine), got:\n%s", got)
	}
	if err := yamlcheck.Booleans([]byte("enableLogging: true\nname: \"y\"\n")); err != nil {
		t.Errorf("clean document refused: %v", err)
	}
}
