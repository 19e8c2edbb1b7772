package yamlcheck

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Fields checks a hand-written YAML document against the Go type it is
// decoded into (its json tags name the fields, as sigs.k8s.io/yaml reads
// them), and reports every unknown field and every value of the wrong shape
// (a list where a mapping belongs, say), each with its line and path, where
// the JSON decoder would stop at the first with neither.
func Fields(data []byte, into any) error { return At(1).Fields(data, into) }

// Fields is the package's Fields for a document starting at line first.
func (first At) Fields(data []byte, into any) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		return nil // the decoder's own error says what does not parse
	}
	var problems []error
	first.check(doc.Content[0], reflect.TypeOf(into), "", &problems)
	return errors.Join(problems...)
}

// unmarshaler is a type that decodes itself from JSON (IntOrString, Time,
// Quantity): its YAML shape is its own business, and the decoder's.
var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

func (first At) check(n *yaml.Node, t reflect.Type, path string, problems *[]error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") ||
		t.Implements(unmarshaler) || reflect.PointerTo(t).Implements(unmarshaler) {
		return
	}
	fail := func(format string, args ...any) {
		where := path
		if where == "" {
			where = "(document)"
		}
		*problems = append(*problems, fmt.Errorf("line %d: %s: %s", first.line(n), where, fmt.Sprintf(format, args...)))
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			fail("want a mapping of %s, got %s", strings.Join(fieldNames(t), ", "), shape(n))
			return
		}
		fields := jsonFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, value := n.Content[i], n.Content[i+1]
			f, ok := fields[key.Value]
			if !ok {
				*problems = append(*problems, fmt.Errorf("line %d: %s: unknown field (known: %s)", first.line(key), join(path, key.Value), strings.Join(fieldNames(t), ", ")))
				continue
			}
			first.check(value, f, join(path, key.Value), problems)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			fail("want a mapping, got %s", shape(n))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			first.check(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value), problems)
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			fail("want a list, got %s", shape(n))
			return
		}
		for i, item := range n.Content {
			first.check(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), problems)
		}
	default:
		if n.Kind != yaml.ScalarNode {
			fail("want a %s, got %s", t.Kind(), shape(n))
			return
		}
		if want, ok := scalarTags[t.Kind()]; ok && !slices.Contains(want, n.Tag) {
			fail("%s", scalarMismatch(t.Kind(), n))
		}
	}
}

// scalarTags are the YAML tags a scalar may resolve to for a Go kind: what
// the JSON decoder accepts once the document is turned into JSON.
var scalarTags = map[reflect.Kind][]string{
	reflect.String: {"!!str", "!!timestamp"}, reflect.Bool: {"!!bool"},
	reflect.Int: {"!!int"}, reflect.Int8: {"!!int"}, reflect.Int16: {"!!int"}, reflect.Int32: {"!!int"}, reflect.Int64: {"!!int"},
	reflect.Uint: {"!!int"}, reflect.Uint8: {"!!int"}, reflect.Uint16: {"!!int"}, reflect.Uint32: {"!!int"}, reflect.Uint64: {"!!int"},
	reflect.Float32: {"!!int", "!!float"}, reflect.Float64: {"!!int", "!!float"},
}

func scalarMismatch(k reflect.Kind, n *yaml.Node) string {
	switch {
	case k == reflect.String:
		return fmt.Sprintf("%s is read as a %s where text is expected: quote it (\"%s\")", n.Value, strings.TrimPrefix(n.Tag, "!!"), n.Value)
	case k == reflect.Bool:
		return fmt.Sprintf("want true or false, got %q", n.Value)
	case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0:
		return fmt.Sprintf("%q is quoted text where a number is expected: write %s without quotes", n.Value, n.Value)
	}
	return fmt.Sprintf("want a number, got %q", n.Value)
}

// jsonFields maps a struct's json names to their types, embedded structs
// flattened as encoding/json does.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported():
		case f.Anonymous && name == "":
			for k, v := range jsonFields(f.Type) {
				fields[k] = v
			}
		case name == "":
			fields[f.Name] = f.Type
		default:
			fields[name] = f.Type
		}
	}
	return fields
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for name := range jsonFields(t) {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func shape(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
