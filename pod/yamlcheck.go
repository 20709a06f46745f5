package pod

import (
	"fmt"
	"strings"
	"unicode/utf8"

	yamlv3 "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// yamlProblems explains a document the YAML to JSON conversion refused, with
// a line and, where there is one, the field: bytes that are not UTF-8, and
// the floats JSON cannot hold (.nan, .inf).
func yamlProblems(doc []byte) field.ErrorList {
	if !utf8.Valid(doc) {
		for i := 0; i < len(doc); {
			r, n := utf8.DecodeRune(doc[i:])
			if r == utf8.RuneError && n <= 1 {
				line := 1 + strings.Count(string(doc[:i]), "\n")
				col := i - strings.LastIndex(string(doc[:i]), "\n")
				return field.ErrorList{field.Invalid(nil, nil, fmt.Sprintf("line %d, column %d: byte 0x%02x is not UTF-8 (a manifest is UTF-8 text)", line, col, doc[i]))}
			}
			i += n
		}
	}
	var root yamlv3.Node
	if err := yamlv3.Unmarshal(doc, &root); err != nil {
		return nil
	}
	var errs field.ErrorList
	var walk func(n *yamlv3.Node, p *field.Path)
	walk = func(n *yamlv3.Node, p *field.Path) {
		switch n.Kind {
		case yamlv3.DocumentNode:
			for _, c := range n.Content {
				walk(c, p)
			}
		case yamlv3.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i].Value
				var cp *field.Path
				if p == nil {
					cp = field.NewPath(k)
				} else {
					cp = p.Child(k)
				}
				walk(n.Content[i+1], cp)
			}
		case yamlv3.SequenceNode:
			for i, c := range n.Content {
				if p != nil {
					walk(c, p.Index(i))
				}
			}
		case yamlv3.ScalarNode:
			if n.Tag == "!!float" {
				v := strings.ToLower(strings.TrimLeft(n.Value, "+-"))
				if v == ".nan" || v == ".inf" {
					errs = append(errs, field.Invalid(p, n.Value, fmt.Sprintf("line %d: must be a finite number (JSON has no NaN or infinity; quote it for a string)", n.Line)))
				}
			}
		}
	}
	walk(&root, nil)
	return errs
}
