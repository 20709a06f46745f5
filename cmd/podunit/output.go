package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/jsonpath"
	"sigs.k8s.io/yaml"
)

// The -o formats of get, as kubectl's: a table (""), wide, name, and the
// machine-readable ones printStructured handles.
func validOutput(format string) error {
	switch format {
	case "", "json", "yaml", "wide", "name":
		return nil
	}
	kind, tmpl, ok := strings.Cut(format, "=")
	switch {
	case !ok || (kind != "jsonpath" && kind != "jsonpath-as-json" && kind != "custom-columns"):
		return fmt.Errorf("%w: -o must be json, yaml, wide, name, jsonpath=TEMPLATE, jsonpath-as-json=TEMPLATE or custom-columns=HEADER:PATH,... (got %q)", errUsage, format)
	case kind == "custom-columns":
		_, err := parseColumns(tmpl)
		return err
	default:
		_, err := parseJSONPath(tmpl)
		return err
	}
}

// printStructured prints objects (each marshalling to JSON with its
// apiVersion and kind) in a machine-readable format, as kubectl does: one
// object alone when single (a name was asked for), otherwise a v1 List of
// them. It tells whether format was one of those.
func printStructured(w io.Writer, objs []any, single bool, format string) (bool, error) {
	kind, tmpl, _ := strings.Cut(format, "=")
	switch kind {
	case "json", "yaml", "jsonpath", "jsonpath-as-json":
	case "custom-columns":
		return true, printColumns(w, objs, tmpl)
	default:
		return false, nil
	}
	var v any = objs
	if single && len(objs) == 1 {
		v = objs[0]
	} else {
		if objs == nil {
			objs = []any{}
		}
		v = struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Items      []any  `json:"items"`
		}{"v1", "List", objs}
	}
	data, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return true, err
	}
	switch kind {
	case "json":
		_, err = fmt.Fprintf(w, "%s\n", data)
	case "yaml":
		if data, err = yaml.JSONToYAML(data); err == nil {
			_, err = w.Write(data)
		}
	default:
		var j *jsonpath.JSONPath
		if j, err = parseJSONPath(tmpl); err != nil {
			return true, err
		}
		j.EnableJSONOutput(kind == "jsonpath-as-json")
		var generic any // as kubectl: the template sees the JSON, by its field names
		if err = json.Unmarshal(data, &generic); err == nil {
			err = j.Execute(w, generic)
		}
	}
	return true, err
}

// listing prints what get of a kind prints but its table: kubectl's "No
// resources found" when nothing was found (for a table or names), the
// objects (each as as makes it: with its apiVersion and kind) in a
// structured format, or word/NAME lines for -o name. It says whether that
// was all there is to print.
func listing[T metav1.Object](w, errw io.Writer, list []T, word, ns, format string, single bool, as func(T) any) (bool, error) {
	if len(list) == 0 && (format == "" || format == "wide" || format == "name") {
		fmt.Fprintln(errw, noneFound(ns))
		return true, nil
	}
	return structuredOrNames(w, list, word, format, single, as)
}

// structuredOrNames is listing without "No resources found": the objects
// in a structured format, or word/NAME lines for -o name.
func structuredOrNames[T metav1.Object](w io.Writer, list []T, word, format string, single bool, as func(T) any) (bool, error) {
	objs := make([]any, len(list))
	for i, o := range list {
		objs[i] = as(o)
	}
	if done, err := printStructured(w, objs, single, format); done {
		return true, err
	}
	if format == "name" {
		for _, o := range list {
			fmt.Fprintf(w, "%s/%s\n", word, o.GetName())
		}
		return true, nil
	}
	return false, nil
}

// asJSON is o as a JSONPath expression sees it, as kubectl has it: its
// JSON, by the field names.
func asJSON(o any) (any, error) {
	data, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	var generic any
	err = json.Unmarshal(data, &generic)
	return generic, err
}

// parseJSONPath reads a kubectl -o jsonpath template; a missing key prints
// nothing, as kubectl's --allow-missing-template-keys (on by default).
func parseJSONPath(tmpl string) (*jsonpath.JSONPath, error) {
	j := jsonpath.New("out").AllowMissingKeys(true)
	if err := j.Parse(tmpl); err != nil {
		return nil, fmt.Errorf("%w: -o jsonpath: %v", errUsage, err)
	}
	return j, nil
}

type column struct {
	header string
	path   *jsonpath.JSONPath
}

// parseColumns reads kubectl's custom-columns: HEADER:PATH pairs, comma
// separated, each PATH a JSONPath expression with or without its braces
// and leading dot (NAME:.metadata.name, IP:status.podIP).
func parseColumns(spec string) ([]column, error) {
	if spec == "" {
		return nil, fmt.Errorf("%w: -o custom-columns: give HEADER:PATH pairs (NAME:.metadata.name,IP:.status.podIP)", errUsage)
	}
	var cols []column
	for _, part := range strings.Split(spec, ",") {
		header, expr, ok := strings.Cut(part, ":")
		if !ok || header == "" || expr == "" {
			return nil, fmt.Errorf("%w: -o custom-columns: %q is not HEADER:PATH", errUsage, part)
		}
		if !strings.HasPrefix(expr, "{") {
			if !strings.HasPrefix(expr, ".") {
				expr = "." + expr
			}
			expr = "{" + expr + "}"
		}
		j, err := parseJSONPath(expr)
		if err != nil {
			return nil, fmt.Errorf("%w: -o custom-columns: column %s: %v", errUsage, header, err)
		}
		cols = append(cols, column{header: header, path: j})
	}
	return cols, nil
}

// printColumns prints one row per object: each column's values joined by
// commas, <none> where the path finds nothing.
func printColumns(w io.Writer, objs []any, spec string) error {
	cols, err := parseColumns(spec)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	heads := make([]string, len(cols))
	for i, c := range cols {
		heads[i] = c.header
	}
	fmt.Fprintln(tw, strings.Join(heads, "\t"))
	for _, o := range objs {
		generic, err := asJSON(o)
		if err != nil {
			return err
		}
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i] = "<none>"
			res, err := c.path.FindResults(generic)
			if err != nil {
				return err
			}
			var vals []string
			for _, r := range res {
				for _, v := range r {
					vals = append(vals, fmt.Sprint(v.Interface())) // as kubectl's columns
				}
			}
			if len(vals) > 0 {
				cells[i] = strings.Join(vals, ",")
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}
