// Package printable makes user-chosen text safe to print to a terminal or a
// text report: a name with a control character (an escape sequence, a
// newline that could forge a line of output) or a bidirectional override is
// printed quoted and escaped, as Go's %q does; any other name as it is.
package printable

import (
	"strconv"
	"unicode"
)

// Name is s as it is when every rune prints plainly, and strconv.Quote(s)
// otherwise.
func Name(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) || isBidiControl(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// isBidiControl reports the marks and overrides that reorder the text
// around them (the "Trojan Source" characters).
func isBidiControl(r rune) bool {
	return r == '\u061c' || r == '\u200e' || r == '\u200f' || (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}
