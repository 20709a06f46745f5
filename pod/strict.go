package pod

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// checkShape walks a decoded JSON document against the Go type it will be decoded
// into and reports, with full field paths, every key the type does not have and
// every value of the wrong JSON type. encoding/json stops at the first problem and
// names no list index; a user fixing a manifest wants all of them, precisely.
//
// visit is called for every field that is present, with its path normalised
// ("spec.containers[*].image"), so the support policy can be applied in one
// pass; empty says its value holds nothing (emptyJSON).
func checkShape(v any, t reflect.Type, p *field.Path, visit func(norm string, p *field.Path, empty bool)) field.ErrorList {
	w := shapeWalker{visit: visit}
	w.walk(v, t, p, "")
	return w.errs
}

type shapeWalker struct {
	errs  field.ErrorList
	visit func(norm string, p *field.Path, empty bool)
}

// emptyJSON tells whether a value is null, "", [], or an object of such
// values only ({}, {loadBalancer: {}}): the API's omitempty, as charts write
// it (priorityClassName: "").
func emptyJSON(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		for _, e := range x {
			if !emptyJSON(e) {
				return false
			}
		}
		return true
	case []any:
		return len(x) == 0
	case string:
		return x == ""
	}
	return false
}

var unmarshalerType = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()

func (w *shapeWalker) walk(v any, t reflect.Type, p *field.Path, norm string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		return // null is accepted for every field, as the API server does
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		// Quantities, IntOrString, times: let the type judge its own syntax.
		raw, _ := json.Marshal(v)
		if err := json.Unmarshal(raw, reflect.New(t).Interface()); err != nil {
			w.errs = append(w.errs, field.Invalid(p, v, cleanJSONError(err)))
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			w.typeErr(p, v, "an object")
			return
		}
		fields := jsonFields(t)
		keys := sortedKeys(m)
		for _, k := range keys {
			f, ok := fields[k]
			if !ok {
				w.errs = append(w.errs, field.Invalid(p.Child(k), nil, "unknown field"))
				continue
			}
			cp, cn := p.Child(k), join(norm, k)
			if w.visit != nil {
				w.visit(cn, cp, emptyJSON(m[k]))
			}
			w.walk(m[k], f.Type, cp, cn)
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 { // []byte is base64 text
			str, ok := v.(string)
			if !ok {
				w.typeErr(p, describeJSON(map[string]any{}), "a base64 string")
			} else if _, err := base64.StdEncoding.DecodeString(str); err != nil {
				// The value is not repeated: it may be a secret.
				w.errs = append(w.errs, field.Invalid(p, nil, "must be base64: "+err.Error()))
			}
			return
		}
		l, ok := v.([]any)
		if !ok {
			w.typeErr(p, v, "a list")
			return
		}
		for i, e := range l {
			w.walk(e, t.Elem(), p.Index(i), norm+"[*]")
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			w.typeErr(p, v, "an object")
			return
		}
		for _, k := range sortedKeys(m) {
			w.walk(m[k], t.Elem(), p.Key(k), norm+"[*]")
		}
	case reflect.String:
		switch v.(type) {
		case string:
		case bool:
			// YAML 1.1, which manifests are read as, takes y, n, yes, no, on
			// and off for booleans: a name like Y is one unless quoted
			w.typeErr(p, v, `a string (YAML reads an unquoted y, n, yes, no, on, off, true or false as a boolean: quote it, e.g. "Y")`)
		case json.Number:
			w.typeErr(p, v, `a string (YAML reads an unquoted number as a number: quote it, e.g. "1.10")`)
		default:
			w.typeErr(p, v, "a string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			w.typeErr(p, v, "true or false")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			w.typeErr(p, v, "an integer")
			return
		}
		i, err := n.Int64()
		bits := t.Bits()
		if err != nil || i < -(1<<(bits-1)) || i > (1<<(bits-1))-1 {
			w.errs = append(w.errs, field.Invalid(p, v, fmt.Sprintf("must be an integer that fits in %d bits", bits)))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			w.typeErr(p, v, "an integer")
			return
		}
		if i, err := n.Int64(); err != nil || i < 0 {
			w.errs = append(w.errs, field.Invalid(p, v, "must be a non-negative integer"))
		}
	case reflect.Float32, reflect.Float64:
		n, ok := v.(json.Number)
		if !ok {
			w.typeErr(p, v, "a number")
			return
		}
		if f, err := n.Float64(); err != nil || math.IsInf(f, 0) {
			w.errs = append(w.errs, field.Invalid(p, v, "must be a number"))
		}
	case reflect.Interface:
		// free-form (e.g. RawExtension payloads): anything goes
	}
}

func (w *shapeWalker) typeErr(p *field.Path, v any, want string) {
	w.errs = append(w.errs, field.Invalid(p, describeJSON(v), "must be "+want))
}

func describeJSON(v any) any {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return v
}

func join(norm, k string) string {
	if norm == "" {
		return k
	}
	return norm + "." + k
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// jsonFields maps JSON names to struct fields, flattening `json:",inline"`
// and anonymous embedded structs as encoding/json does.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		inline := strings.Contains(opts, "inline") || (f.Anonymous && name == "")
		if inline {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			for k, v := range jsonFields(ft) {
				out[k] = v
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f
	}
	return out
}

func cleanJSONError(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "json: ")
	return s
}
