package pod

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Manifest is the content of one manifest file: its pods in file order, with
// defaults applied and validated, and the warnings about fields that were accepted
// but have no effect.
type Manifest struct {
	Pods     []*corev1.Pod
	Warnings []string
	// Resolved holds, by pod name, what validation resolved for translation.
	Resolved map[string]*Resolved
}

// Load parses a multi-document YAML (or JSON) manifest. It returns every problem of
// every document at once, wrapped as ErrInvalid; no pod is returned unless all are
// valid, so a caller never acts on half a file.
func Load(data []byte) (*Manifest, error) {
	docs, err := splitDocuments(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	m := &Manifest{Resolved: map[string]*Resolved{}}
	var merr ManifestError
	names := map[string]int{}
	for i, doc := range docs {
		p, res, warns, derr := loadDocument(doc)
		if derr != nil {
			derr.Doc = i + 1
			merr.Docs = append(merr.Docs, derr)
			continue
		}
		if first, dup := names[p.Name]; dup {
			merr.Docs = append(merr.Docs, &DocumentError{Doc: i + 1, Pod: p.Name, Errs: field.ErrorList{
				field.Duplicate(field.NewPath("metadata", "name"), fmt.Sprintf("%s (also document %d)", p.Name, first)),
			}})
			continue
		}
		names[p.Name] = i + 1
		for _, w := range warns {
			m.Warnings = append(m.Warnings, fmt.Sprintf("pod %q: %s", p.Name, w))
		}
		m.Pods = append(m.Pods, p)
		m.Resolved[p.Name] = res
	}
	if len(merr.Docs) > 0 {
		return nil, &merr
	}
	if len(m.Pods) == 0 {
		return nil, fmt.Errorf("%w: no Pod in the manifest", ErrInvalid)
	}
	return m, nil
}

func splitDocuments(data []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		d, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(stripComments(d))) == 0 {
			continue
		}
		docs = append(docs, d)
	}
}

func stripComments(d []byte) []byte {
	var b bytes.Buffer
	for _, line := range strings.Split(string(d), "\n") {
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") || t == "---" {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func loadDocument(doc []byte) (*corev1.Pod, *Resolved, []string, *DocumentError) {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, nil, nil, &DocumentError{Errs: field.ErrorList{field.Invalid(nil, nil, "malformed YAML: "+strings.TrimPrefix(err.Error(), "error converting YAML to JSON: "))}}
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, nil, nil, &DocumentError{Errs: field.ErrorList{field.Invalid(nil, nil, "malformed document: "+err.Error())}}
	}
	obj, ok := generic.(map[string]any)
	if !ok {
		return nil, nil, nil, &DocumentError{Errs: field.ErrorList{field.Invalid(nil, nil, "a document must be a Kubernetes object")}}
	}
	name := ""
	if md, ok := obj["metadata"].(map[string]any); ok {
		name, _ = md["name"].(string)
	}
	if errs := checkKind(obj); len(errs) > 0 {
		return nil, nil, nil, &DocumentError{Pod: name, Errs: errs}
	}

	var warns []string
	var errs field.ErrorList
	var skip []string // paths already judged, whose children need no verdict
	visit := func(norm string, p *field.Path) {
		for _, s := range skip {
			if strings.HasPrefix(norm, s) && len(norm) > len(s) && (norm[len(s)] == '.' || norm[len(s)] == '[') {
				return
			}
		}
		r, known := ruleFor(norm)
		switch {
		case !known:
			errs = append(errs, field.Forbidden(p, "not supported by podunit"))
			skip = append(skip, norm)
		case r.support == Rejected:
			errs = append(errs, field.Forbidden(p, "not supported by podunit: "+r.note))
			skip = append(skip, norm)
		case r.support == Ignored:
			warns = append(warns, fmt.Sprintf("%s: ignored: %s", p.String(), r.note))
			skip = append(skip, norm)
		case r.subtree:
			skip = append(skip, norm)
		}
	}
	shapeErrs := checkShape(generic, reflect.TypeOf(corev1.Pod{}), nil, visit)
	errs = append(shapeErrs, errs...)

	// Validation runs even after unknown or unsupported fields were found, so one
	// run reports every problem; only values of the wrong type stop it.
	var p corev1.Pod
	if err := json.Unmarshal(js, &p); err != nil {
		if len(errs) == 0 {
			errs = append(errs, field.Invalid(nil, nil, cleanJSONError(err)))
		}
		return nil, nil, nil, &DocumentError{Pod: name, Errs: errs}
	}
	SetDefaults(&p)
	res, verrs := Resolve(&p)
	errs = append(errs, verrs...)
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
		return nil, nil, nil, &DocumentError{Pod: name, Errs: errs}
	}
	return &p, res, warns, nil
}

func checkKind(obj map[string]any) field.ErrorList {
	var errs field.ErrorList
	kind, _ := obj["kind"].(string)
	api, _ := obj["apiVersion"].(string)
	switch {
	case kind == "":
		errs = append(errs, field.Required(field.NewPath("kind"), "podunit runs objects of kind Pod"))
	case kind != "Pod":
		errs = append(errs, field.NotSupported(field.NewPath("kind"), kind, []string{"Pod"}))
	}
	switch {
	case api == "":
		errs = append(errs, field.Required(field.NewPath("apiVersion"), `must be "v1"`))
	case api != "v1":
		errs = append(errs, field.NotSupported(field.NewPath("apiVersion"), api, []string{"v1"}))
	}
	return errs
}
