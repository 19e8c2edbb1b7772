// Package manifest reads multi-document Kubernetes YAML strictly into typed
// objects of a given scheme, remembering the file and document each object
// came from so that every later error can point there.
package manifest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"sigs.k8s.io/yaml"

	"github.com/tierproof/tierproof/framework/yamlcheck"
)

// Source locates a document: a file and the document's index in it (from 0).
type Source struct {
	File  string
	Index int
	// Item is the object's place in a List document (kubectl get -o yaml
	// writes one), from 1; 0 for a document that is the object itself.
	Item int
}

func (s Source) String() string {
	if s.Item > 0 {
		return fmt.Sprintf("%s (document %d, item %d)", s.File, s.Index, s.Item)
	}
	return fmt.Sprintf("%s (document %d)", s.File, s.Index)
}

// Object is a decoded manifest and where it came from.
type Object struct {
	Source Source
	Object runtime.Object
	// Skipped names a document of another kind that a lenient decoder
	// passed over ("ConfigMap settings"); Object is nil then.
	Skipped string
}

// Decoder decodes the kinds of one scheme strictly: unknown kinds, unknown
// fields and duplicate fields are errors.
type Decoder struct {
	// refuse says why a kind outside the scheme must not be passed over
	// even by a lenient decoder ("" for one that may be).
	refuse    func(schema.GroupVersionKind) string
	scheme    *runtime.Scheme
	strict    runtime.Decoder
	json      runtime.Decoder // strict, for a document already turned into JSON
	supported string
	lenient   bool
}

// Lenient is d passing over documents of kinds outside its scheme (real
// manifests mix a policy with a ConfigMap or a Deployment): they come back as
// Skipped objects. Unknown fields in supported kinds stay errors.
func (d *Decoder) Lenient() *Decoder {
	l := *d
	l.lenient = true
	return &l
}

// Refusing is d refusing, even when lenient, the kinds outside its scheme
// for which why says why (a policy kind at an API version it does not
// read): passing them over would read them as no policy at all.
func (d *Decoder) Refusing(why func(schema.GroupVersionKind) string) *Decoder {
	r := *d
	r.refuse = why
	return &r
}

// NewDecoder decodes the kinds of scheme; supported lists them for errors.
func NewDecoder(scheme *runtime.Scheme, supported string) *Decoder {
	return &Decoder{scheme: scheme, strict: serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer(),
		json: kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme, kjson.SerializerOptions{Strict: true}), supported: supported}
}

// ReadPath reads a multi-document YAML file, or every *.yaml and *.yml file of a
// directory in lexical order.
// It stops, with ctx's error, once ctx is done.
func (d *Decoder) ReadPath(ctx context.Context, path string) ([]Object, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading manifests: %w", err)
	}
	files := []string{path}
	if info.IsDir() {
		files, err = manifestFiles(path)
		if err != nil {
			return nil, err
		}
	}
	var objects []Object
	for _, file := range files {
		data, err := ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("reading manifests: %w", err)
		}
		decoded, err := d.decode(ctx, file, data)
		if err != nil {
			return nil, err
		}
		objects = append(objects, decoded...)
	}
	return objects, nil
}

func manifestFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading manifests: %w", err)
	}
	var files []string
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	if len(files) == 0 {
		// The same rule as a scenario stage's manifests: a directory that
		// answers "no policy" by mistake must not print a confident matrix.
		return nil, fmt.Errorf("reading manifests: directory %s holds no *.yaml or *.yml files (files one level down are not read)", dir)
	}
	sort.Strings(files)
	return files, nil
}

// Decode splits data into YAML documents and decodes each strictly. Empty
// documents are skipped but still counted, so indexes match what an editor shows
// between '---' separators. Problems carry the file's line numbers.
func (d *Decoder) Decode(file string, data []byte) ([]Object, error) {
	return d.decode(context.Background(), file, data)
}

func (d *Decoder) decode(ctx context.Context, file string, data []byte) ([]Object, error) {
	docs, err := splitDocuments(data)
	if err != nil {
		return nil, fmt.Errorf("%s: splitting YAML: %w", file, err)
	}
	// The documents are decoded on every core — a file of 100 000 policies
	// is mostly YAML parsing — and reported in their order: the first
	// problem in the file is the one returned, as when decoding one by one.
	type job struct {
		src Source
		doc document
		obj runtime.Object
		// skipped names a passed-over object; err is this document's problem.
		skipped string
		err     error
	}
	var jobs []job
	var splitErr error
	for index, doc := range docs {
		if isBlank(doc.data) {
			continue
		}
		src := Source{File: file, Index: index}
		items, isList, err := listItems(doc)
		if err != nil {
			splitErr = prefixEach(src.String(), err)
			break
		}
		if !isList {
			jobs = append(jobs, job{src: src, doc: doc})
			continue
		}
		for i, item := range items {
			src.Item = i + 1
			jobs = append(jobs, job{src: src, doc: item})
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(goruntime.GOMAXPROCS(0), len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(jobs) || ctx.Err() != nil {
					return
				}
				j := &jobs[i]
				j.obj, j.skipped, j.err = d.decodeDocument(j.doc)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	objects := make([]Object, 0, len(jobs))
	for _, j := range jobs {
		if j.err != nil {
			return nil, prefixEach(j.src.String(), j.err)
		}
		objects = append(objects, Object{Source: j.src, Object: j.obj, Skipped: j.skipped})
	}
	if splitErr != nil {
		return nil, splitErr
	}
	return objects, nil
}

// document is one YAML document of a file and the line it starts at.
type document struct {
	data      []byte
	firstLine int
}

// splitDocuments splits data as Kubernetes' YAMLReader does, and remembers
// where each document starts, which YAMLReader does not: a line that starts
// with "---", then nothing but spaces or a comment, ends the document before
// it; with no document before it, YAMLReader keeps the line as the start of
// the next one (isBlank passes over it).
func splitDocuments(data []byte) ([]document, error) {
	// YAML ends lines with LF, CRLF or a lone CR (old Mac files): read all
	// three as LF, keeping the line count, so that no document hides in one
	// long line.
	data = bytes.ReplaceAll(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")), []byte("\r"), []byte("\n"))
	var docs []document
	var current *document
	ended := 0 // the line of a "..." end marker since the last document began
	for n, line := range bytes.SplitAfter(data, []byte("\n")) {
		if rest, ok := bytes.CutPrefix(line, []byte("---")); ok {
			trimmed := strings.TrimSpace(string(rest))
			if trimmed != "" && trimmed[0] != '#' {
				return nil, fmt.Errorf("line %d: only spaces and a comment may follow the document separator ---", n+1)
			}
			ended = 0
			if current != nil {
				current = nil
				continue
			}
		}
		if rest, ok := bytes.CutPrefix(line, []byte("...")); ok && isComment(rest) {
			ended = n + 1
			continue
		}
		if ended > 0 {
			if !isComment(line) {
				return nil, fmt.Errorf("line %d: content after the document end marker ... of line %d, which YAML ignores: start a new document with ---", n+1, ended)
			}
			continue
		}
		if len(line) == 0 {
			continue
		}
		if line[len(line)-1] != '\n' {
			line = append(line[:len(line):len(line)], '\n') // as YAMLReader ends a last line
		}
		if current == nil {
			docs = append(docs, document{firstLine: n + 1})
			current = &docs[len(docs)-1]
		}
		current.data = append(current.data, line...)
	}
	return docs, nil
}

// isComment says whether line holds nothing but spaces and a comment.
func isComment(line []byte) bool {
	trimmed := strings.TrimSpace(string(line))
	return trimmed == "" || trimmed[0] == '#'
}

// Single is the one document of data, for files that hold exactly one (a
// topology): a second document is refused, never silently dropped.
func Single(data []byte) ([]byte, error) {
	docs, err := splitDocuments(data)
	if err != nil {
		return nil, err
	}
	var found []document
	for _, d := range docs {
		if !isBlank(d.data) {
			found = append(found, d)
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		// Blank lines before it keep the file's line numbers in messages.
		return append(bytes.Repeat([]byte("\n"), found[0].firstLine-1), found[0].data...), nil
	}
	return nil, fmt.Errorf("line %d: a second YAML document; this file holds one (the first starts at line %d)", found[1].firstLine, found[0].firstLine)
}

func isBlank(doc []byte) bool {
	for _, line := range strings.Split(string(doc), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") && line != "---" {
			return false
		}
	}
	return true
}

// listItems unwraps a List (kind List, or any kind ending in List, with
// items), as kubectl get -o yaml writes: its items are read like documents
// of their own, at the List's first line.
func listItems(doc document) (items []document, isList bool, err error) {
	if !bytes.Contains(doc.data, []byte("List")) {
		return nil, false, nil // the common case, without a parse
	}
	var list struct {
		metav1.TypeMeta `json:",inline"`
		Items           []json.RawMessage `json:"items"`
	}
	if yaml.Unmarshal(doc.data, &list) != nil || !strings.HasSuffix(list.Kind, "List") || list.Items == nil {
		return nil, false, nil // not a List: the document's own decoding says what is wrong
	}
	for i, raw := range list.Items {
		data, err := yaml.JSONToYAML(raw)
		if err != nil {
			return nil, true, fmt.Errorf("item %d: %w", i+1, err)
		}
		items = append(items, document{data: data, firstLine: doc.firstLine})
	}
	return items, true, nil
}

// header is what is read of a document before it is decoded strictly, so that
// errors can name the object.
type header struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
}

func (h header) name() string {
	return ObjectName(h.GroupVersionKind().GroupKind(), h.Metadata.Namespace, h.Metadata.Name)
}

// ObjectName is the one name every message gives an object: Kind/name, or
// Kind/namespace/name; Kubernetes' NetworkPolicy is K8sNetworkPolicy/…,
// since Antrea's NetworkPolicy shares its kind name.
func ObjectName(gk schema.GroupKind, namespace, name string) string {
	kind := gk.Kind
	switch {
	case gk.Group == "networking.k8s.io" && kind == "NetworkPolicy":
		kind = "K8sNetworkPolicy"
	case gk.Group == "policy.networking.k8s.io" && kind == "ClusterNetworkPolicy":
		kind = "CNP" // Antrea's docs' name for it, apart from its own ACNP
	}
	if namespace != "" {
		return kind + "/" + namespace + "/" + name
	}
	return kind + "/" + name
}

func (d *Decoder) decodeDocument(document document) (obj runtime.Object, skipped string, err error) {
	doc, at := document.data, yamlcheck.At(document.firstLine)
	if err := at.Booleans(doc); err != nil {
		return nil, "", err
	}
	if obj, skipped, ok := d.decodeFast(doc); ok {
		return obj, skipped, nil
	}
	// The slow path below gives every problem its message.
	if err := repeatedHeader(doc, document.firstLine); err != nil {
		return nil, "", err
	}
	var h header
	if err := yaml.Unmarshal(doc, &h); err != nil {
		return nil, "", parseError(err, document.firstLine)
	}
	if h.APIVersion == "" || h.Kind == "" {
		return nil, "", fmt.Errorf("apiVersion and kind are required")
	}
	if !d.scheme.Recognizes(h.GroupVersionKind()) {
		if why := d.refusal(h.GroupVersionKind()); why != "" {
			return nil, "", fmt.Errorf("%s: %s", h.name(), why)
		}
		if d.lenient {
			return nil, strings.TrimSpace(h.Kind + " " + h.Metadata.Name), nil
		}
		return nil, "", fmt.Errorf("unsupported kind %q in apiVersion %q (supported: %s)", h.Kind, h.APIVersion, d.supported)
	}
	obj, _, err = d.strict.Decode(doc, nil, nil)
	if err != nil {
		// The strict decoder names fields but no lines; the field check
		// names every problem with the file's line and path.
		if typed, newErr := d.scheme.New(h.GroupVersionKind()); newErr == nil {
			if problems := at.Fields(doc, typed); problems != nil {
				err = problems
			}
		}
		return nil, "", prefixEach(h.name(), err)
	}
	return obj, "", nil
}

func (d *Decoder) refusal(gvk schema.GroupVersionKind) string {
	if d.refuse == nil {
		return ""
	}
	return d.refuse(gvk)
}

// repeatedHeader refuses a document with a second apiVersion or kind at its
// top level: two objects without the --- between them, which the strict
// decoder would report as a dozen duplicate keys under the wrong name.
func repeatedHeader(doc []byte, firstLine int) error {
	seen := map[string]int{}
	for n, line := range strings.Split(string(doc), "\n") {
		key, _, ok := strings.Cut(line, ":")
		if !ok || (key != "apiVersion" && key != "kind") {
			continue
		}
		if first, dup := seen[key]; dup {
			return fmt.Errorf("line %d: a second %s in one document (the first is at line %d): is a --- missing between two objects?", firstLine+n, key, first)
		}
		seen[key] = firstLine + n
	}
	return nil
}

// yamlLine is the line a YAML parser error names, within its document.
var yamlLine = regexp.MustCompile(`yaml: line (\d+): `)

// parseError gives a YAML parser's error the file's line, and a hint for the
// message people meet most.
func parseError(err error, firstLine int) error {
	msg := yamlLine.ReplaceAllStringFunc(err.Error(), func(m string) string {
		n, _ := strconv.Atoi(yamlLine.FindStringSubmatch(m)[1])
		return fmt.Sprintf("line %d: ", n+firstLine-1)
	})
	msg = strings.TrimPrefix(msg, "error converting YAML to JSON: ")
	if strings.Contains(msg, "mapping values are not allowed in this context") {
		msg += " (the usual cause: a lost metadata: or spec: line, or a key indented under a value)"
	}
	return errors.New(msg)
}

// decodeFast decodes a well-formed document with one YAML parse: to JSON
// (duplicate keys refused), then the header and the strict decode from that
// JSON; the same result as the path that follows, at half the cost, which
// loading 100 000 policies notices. ok is false on any problem, which the
// slow path then describes.
func (d *Decoder) decodeFast(doc []byte) (obj runtime.Object, skipped string, ok bool) {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, "", false
	}
	var h header
	if err := json.Unmarshal(js, &h); err != nil || h.APIVersion == "" || h.Kind == "" {
		return nil, "", false
	}
	if !d.scheme.Recognizes(h.GroupVersionKind()) {
		if d.lenient && d.refusal(h.GroupVersionKind()) == "" {
			return nil, strings.TrimSpace(h.Kind + " " + h.Metadata.Name), true
		}
		return nil, "", false
	}
	obj, _, err = d.json.Decode(js, nil, nil)
	return obj, "", err == nil
}

// prefixEach puts prefix before every problem of err (one line each, as
// errors.Join writes them), so that each line names its file and object.
func prefixEach(prefix string, err error) error {
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return fmt.Errorf("%s: %w", prefix, err)
	}
	var out []error
	for _, e := range joined.Unwrap() {
		out = append(out, prefixEach(prefix, e))
	}
	return errors.Join(out...)
}

// ReadFile reads an input file. Only a regular file is read: a FIFO would
// block, and a device such as /dev/zero would be read until memory runs out.
func ReadFile(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%v): tierproof reads its inputs from files", path, info.Mode().Type())
	}
	return os.ReadFile(path)
}
