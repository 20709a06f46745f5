package pod

import (
	"strings"
	"testing"
)

// Documents YAML accepts but JSON cannot hold are errors with a line, and the
// field where there is one.
func TestYAMLProblemsHaveLineAndField(t *testing.T) {
	base := "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: i\n"
	for _, c := range []struct{ doc, want string }{
		{base + "    resources: {limits: {cpu: .nan}}\n", `spec.containers[0].resources.limits.cpu: invalid value ".nan": line 8: must be a finite number`},
		{base + "  terminationGracePeriodSeconds: -.Inf\n", `spec.terminationGracePeriodSeconds: invalid value "-.Inf": line 8: must be a finite number`},
		{base + "    args: [\"ok\", \"\xff\"]\n", "line 8, column 19: byte 0xff is not UTF-8"},
	} {
		_, err := Load([]byte(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}
