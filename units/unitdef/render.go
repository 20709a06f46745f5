package unitdef

import (
	"fmt"
	"strings"
	"time"
)

var sectionOrder = []string{"Unit", "Slice", "Service", "Timer"}

// Render writes one unit as unit-file text, headed by its name.
func (u Unit) Render() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n", u.Name)
	for _, sec := range sectionOrder {
		var lines []string
		for _, p := range u.Properties {
			s, _ := Spec(p.Name)
			if s == "Service" && strings.HasSuffix(u.Name, ".slice") {
				s = "Slice" // resource settings of a slice
			}
			if s == sec {
				lines = append(lines, renderProperty(p)...)
			}
		}
		if sec == "Slice" && strings.HasSuffix(u.Name, ".slice") && len(lines) == 0 {
			lines = []string{} // a slice section may stay empty; print the header anyway
		} else if len(lines) == 0 {
			continue
		}
		fmt.Fprintf(&b, "[%s]\n", sec)
		for _, l := range lines {
			b.WriteString(l)
			b.WriteString("\n")
		}
	}
	for _, x := range u.Aux {
		b.WriteString(x.Render())
	}
	return b.String()
}

func renderProperty(p Property) []string {
	switch v := p.Value.(type) {
	case string:
		return []string{p.Name + "=" + escapeSpecifiers(v)}
	case AppendFile:
		return []string{p.Name + "=append:" + escapeSpecifiers(string(v))}
	case Calendars:
		out := make([]string, len(v))
		for i, c := range v {
			out[i] = p.Name + "=" + c
		}
		return out
	case bool:
		if v {
			return []string{p.Name + "=yes"}
		}
		return []string{p.Name + "=no"}
	case uint64:
		if p.Name == "CPUQuota" { // stored as usec of CPU time per second
			return []string{fmt.Sprintf("%s=%d%%", p.Name, v/10000)}
		}
		return []string{fmt.Sprintf("%s=%d", p.Name, v)}
	case time.Duration:
		return []string{p.Name + "=" + formatDuration(v)}
	case []string:
		return []string{p.Name + "=" + strings.Join(v, " ")}
	case ExitStatusSet:
		return []string{p.Name + "=" + strings.Join(v, " ")}
	case []Exec:
		out := make([]string, len(v))
		for i, e := range v {
			prefix := ""
			if e.IgnoreFailure {
				prefix = "-"
			}
			args := make([]string, len(e.Argv))
			for j, a := range e.Argv {
				args[j] = QuoteExecArg(a)
			}
			out[i] = p.Name + "=" + prefix + strings.Join(args, " ")
		}
		return out
	}
	panic(fmt.Sprintf("unitdef: property %s has a value of type %T", p.Name, p.Value))
}

// formatDuration prints a duration as systemd parses it ("30s", "1min 30s", "500ms").
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	if d == Infinity {
		return "infinity"
	}
	if d%time.Second != 0 {
		return fmt.Sprintf("%dms", d/time.Millisecond)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

// Infinity is systemd's "no timeout".
const Infinity = time.Duration(1<<63 - 1)

func escapeSpecifiers(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// EscapeEnvRefs doubles every "$": systemd expands $VAR and ${VAR} in Exec*= argv
// (over D-Bus too), which would silently change a pod's command.
func EscapeEnvRefs(s string) string { return strings.ReplaceAll(s, "$", "$$") }

// QuoteExecArg renders one argument for an Exec*= line in a unit file.
func QuoteExecArg(a string) string {
	a = escapeSpecifiers(EscapeEnvRefs(a))
	if a != "" && !strings.ContainsAny(a, " \t\n\"'\\;") {
		return a
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range a {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
