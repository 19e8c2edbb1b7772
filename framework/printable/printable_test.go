package printable_test

import (
	"testing"

	"github.com/tierproof/tierproof/framework/printable"
)

func TestNamesThatCouldBendATerminalAreQuoted(t *testing.T) {
	for in, want := range map[string]string{
		"allow-dns":                   "allow-dns",
		"règle été":                   "règle été",
		"x\n  ⇒ Allow: forged":        `"x\n  ⇒ Allow: forged"`,
		"\x1b[2J\x1b[31mred":          `"\x1b[2J\x1b[31mred"`,
		"admin\u202egnp.exe":          `"admin\u202egnp.exe"`,
		"tab\there":                   `"tab\there"`,
		"isolate\u2066prod\u2069-env": `"isolate\u2066prod\u2069-env"`,
	} {
		if got := printable.Name(in); got != want {
			t.Errorf("Name(%q) = %s, want %s", in, got, want)
		}
	}
}
