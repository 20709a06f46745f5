package unitdef

import (
	"strings"
	"testing"
)

// Every property the translator emits must be in the table and render.
func TestRenderCoversEveryProperty(t *testing.T) {
	u := Unit{Name: "x.service"}
	for name := range props {
		switch name {
		case "ExecStart", "ExecStop", "ExecStopPost", "ExecStartPre", "ExecStartPost":
			u.Properties = append(u.Properties, Prop(name, []Exec{{Argv: []string{"/bin/true"}}}))
		default:
			u.Properties = append(u.Properties, Prop(name, "x"))
		}
	}
	out := u.Render()
	for name := range props {
		if !strings.Contains(out, "\n"+name+"=") {
			t.Errorf("%s not rendered", name)
		}
	}
}
