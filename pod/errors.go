// Package pod loads Kubernetes Pod manifests for podunit: strict decoding into
// k8s.io/api types, the supported-field policy, defaults and validation. It is pure:
// it reads bytes and returns values, and imports nothing that talks to systemd,
// podman or the kernel.
package pod

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ErrInvalid is wrapped by every error that rejects a manifest, so callers can
// tell bad input (exit 2, nothing changed) from a failure of the host.
var ErrInvalid = errors.New("invalid manifest")

// DocumentError holds every problem found in one YAML document of a manifest.
type DocumentError struct {
	File string // the file, when a manifest is read from several
	Doc  int    // 1-based position of the document in the file
	Item int    // in a document of kind List: 1 + the index in its items; 0 otherwise
	Kind string // the object's kind and name when they could be read
	Name string
	Errs field.ErrorList
}

func (e *DocumentError) Error() string {
	var b strings.Builder
	where := fmt.Sprintf("document %d", e.Doc)
	if e.Item > 0 {
		where += fmt.Sprintf(", items[%d]", e.Item-1)
	}
	if e.Doc == 0 {
		where = "manifest"
	}
	if e.File != "" {
		where = e.File + ": " + where
	}
	if e.Name != "" {
		kind := strings.ToLower(e.Kind)
		if kind == "" {
			kind = "object"
		}
		where += fmt.Sprintf(" (%s %q)", kind, e.Name)
	}
	fmt.Fprintf(&b, "%s: %d problem", where, len(e.Errs))
	if len(e.Errs) != 1 {
		b.WriteString("s")
	}
	for _, fe := range e.Errs {
		b.WriteString("\n  ")
		b.WriteString(formatFieldError(fe))
	}
	return b.String()
}

func (e *DocumentError) Unwrap() error { return ErrInvalid }

// formatFieldError renders "path: message" in podunit's style: lower case, the
// offending value only where it helps.
// FormatFieldErrors lists field errors as podunit prints them (path: problem).
func FormatFieldErrors(errs field.ErrorList) string {
	lines := make([]string, len(errs))
	for i, e := range errs {
		lines[i] = formatFieldError(e)
	}
	return strings.Join(lines, "\n  ")
}

func formatFieldError(fe *field.Error) string {
	msg := fe.Detail
	switch fe.Type {
	case field.ErrorTypeRequired:
		if msg == "" {
			msg = "required"
		} else {
			msg = "required: " + msg
		}
	case field.ErrorTypeNotFound:
		msg = fmt.Sprintf("not found: %v", fe.BadValue)
	case field.ErrorTypeDuplicate:
		msg = fmt.Sprintf("duplicate value %v", quoteValue(fe.BadValue))
	case field.ErrorTypeNotSupported:
		if msg == "" {
			msg = fmt.Sprintf("unsupported value %v", quoteValue(fe.BadValue))
		} else {
			msg = fmt.Sprintf("unsupported value %v: %s", quoteValue(fe.BadValue), msg)
		}
	case field.ErrorTypeInvalid:
		if fe.BadValue != nil && fe.BadValue != "" {
			msg = fmt.Sprintf("invalid value %v: %s", quoteValue(fe.BadValue), msg)
		}
	case field.ErrorTypeForbidden:
		if msg == "" {
			msg = "forbidden"
		}
	}
	if fe.Field == "" || fe.Field == "<nil>" {
		return msg
	}
	return fe.Field + ": " + msg
}

func quoteValue(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%v", v)
}

// ManifestError collects the problems of every document of one manifest.
type ManifestError struct {
	Docs []*DocumentError
}

func (e *ManifestError) Error() string {
	parts := make([]string, len(e.Docs))
	for i, d := range e.Docs {
		parts[i] = d.Error()
	}
	return strings.Join(parts, "\n")
}

func (e *ManifestError) Unwrap() error { return ErrInvalid }
