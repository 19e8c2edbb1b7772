package manifest

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// splitDocuments cuts files exactly where Kubernetes' YAMLReader does (the
// oracle here), and also knows the line each document starts at.
func TestSplitDocumentsAgreesWithYAMLReader(t *testing.T) {
	inputs := []string{
		"a: 1\n",
		"a: 1\nb: 2\n---\n# c\nc: 3\n---\n\n---\nd: 4\n",
		"---\na: 1\n--- # next\nb: 2",
		"a: 1\n---\n---\n---\n",
		"",
	}
	for _, in := range inputs {
		var want [][]byte
		reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader([]byte(in))))
		for {
			doc, err := reader.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, doc)
		}
		got, err := splitDocuments([]byte(in))
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %d documents, YAMLReader reads %d", in, len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i].data, want[i]) {
				t.Errorf("%q: document %d is %q, YAMLReader reads %q", in, i, got[i].data, want[i])
			}
		}
	}
	got, _ := splitDocuments([]byte("a: 1\nb: 2\n---\n# c\nc: 3\n---\n\n---\nd: 4\n"))
	var lines []int
	for _, d := range got {
		lines = append(lines, d.firstLine)
	}
	// The blank line 7 between two separators is a document of its own, as
	// YAMLReader reads it (Decode then skips it as blank, still counting it).
	if !slices.Equal(lines, []int{1, 4, 7, 9}) {
		t.Errorf("first lines %v, want [1 4 7 9]", lines)
	}
	if _, err := splitDocuments([]byte("a: 1\n--- b: 2\n")); err == nil {
		t.Error("a separator followed by content is accepted")
	}
}
