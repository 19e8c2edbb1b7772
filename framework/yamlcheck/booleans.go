// Package yamlcheck catches the YAML 1.1 trap in hand-written files: Kubernetes'
// YAML reader turns a bare y, n, yes, no, on or off into a boolean, so a
// namespace written `y` becomes "true" or a decoding error far from its cause.
package yamlcheck

import (
	"errors"
	"fmt"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// yaml11Booleans are the plain scalars YAML 1.1 reads as booleans and YAML 1.2
// (and people) read as strings. true and false mean the same in both.
var yaml11Booleans = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true,
	"n": true, "N": true, "no": true, "No": true, "NO": true,
	"on": true, "On": true, "ON": true, "off": true, "Off": true, "OFF": true,
}

// maybeBoolean says whether one of yaml11Booleans stands anywhere in data
// as a whole word (as a plain scalar it must; a comment or a quoted word
// counts too): only such a document is parsed, which loading thousands of
// policies notices.
func maybeBoolean(data []byte) bool {
	start := -1
	for i := 0; i <= len(data); i++ {
		if i < len(data) && isWordByte(data[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start <= 3 && yaml11Booleans[strings.ToLower(string(data[start:i]))] {
			return true
		}
		start = -1
	}
	return false
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

// At checks a document that starts at line At of its file (a later document
// of a multi-document file), so that the lines it reports are the file's.
type At int

// Booleans reports every unquoted YAML 1.1 boolean in data, with its line.
// Documents that do not parse are left to the decoder's own error.
func Booleans(data []byte) error { return At(1).Booleans(data) }

// Booleans is the package's Booleans for a document starting at line first.
func (first At) Booleans(data []byte) error {
	if !maybeBoolean(data) {
		return nil // no such word anywhere: nothing to parse for
	}
	return first.booleans(data)
}

// booleans is Booleans without the quick look first.
func (first At) booleans(data []byte) error {
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var problems []error
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			break
		}
		walk(&doc, func(n *yaml.Node) {
			if n.Kind == yaml.ScalarNode && n.Style == 0 && yaml11Booleans[n.Value] {
				problems = append(problems, fmt.Errorf("line %d: unquoted %s is read as a boolean (YAML 1.1); write \"%s\"", first.line(n), n.Value, n.Value))
			}
		})
	}
	return errors.Join(problems...)
}

func walk(n *yaml.Node, visit func(*yaml.Node)) {
	visit(n)
	for _, c := range n.Content {
		walk(c, visit)
	}
}

// line is n's line in the file.
func (first At) line(n *yaml.Node) int { return n.Line + int(first) - 1 }
