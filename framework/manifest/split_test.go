package manifest

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
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

// Every loader reads its files through ReadFile: a FIFO or a device is
// refused before it is opened, so nothing blocks or reads without end.
func TestReadFileReadsRegularFilesOnly(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, "/dev/zero", t.TempDir()} {
		if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), "is not a regular file") {
			t.Errorf("ReadFile(%s): %v", path, err)
		}
	}
	file := filepath.Join(t.TempDir(), "p.yaml")
	if err := os.WriteFile(file, []byte("kind: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if data, err := ReadFile(file); err != nil || string(data) != "kind: x\n" {
		t.Errorf("a regular file: %q, %v", data, err)
	}
}

// Content is read or refused, never dropped: lines that end in a lone CR
// are lines, a document after a YAML end marker "..." is refused, and a
// file meant to hold one document refuses a second.
func TestNoContentIsSilentlyDropped(t *testing.T) {
	two := "apiVersion: v1\nkind: A\n---\napiVersion: v1\nkind: B\n"
	for name, data := range map[string]string{"CR": strings.ReplaceAll(two, "\n", "\r"), "CRLF": strings.ReplaceAll(two, "\n", "\r\n")} {
		docs, err := splitDocuments([]byte(data))
		if err != nil || len(docs) != 2 || docs[1].firstLine != 4 {
			t.Errorf("%s line ends: %d documents, %v", name, len(docs), err)
		}
	}
	if _, err := splitDocuments([]byte("kind: A\n...\n# a comment\nkind: B\n")); err == nil ||
		!strings.Contains(err.Error(), "line 4: content after the document end marker ... of line 2") {
		t.Errorf("a document after ...: %v", err)
	}
	if docs, err := splitDocuments([]byte("kind: A\n...\n---\nkind: B\n")); err != nil || len(docs) != 2 {
		t.Errorf("... then ---: %d documents, %v", len(docs), err)
	}
	if _, err := Single([]byte("# topology\npods: []\n---\npods: [x]\n")); err == nil ||
		!strings.Contains(err.Error(), "line 4: a second YAML document; this file holds one (the first starts at line 1)") {
		t.Errorf("a second document in a single-document file: %v", err)
	}
}
