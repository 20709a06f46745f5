package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// Every manifest in examples/ starts, runs and goes away cleanly: the README
// points users at them.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repo, "examples", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var meta struct {
				Metadata struct{ Name string } `json:"metadata"`
			}
			if err := yaml.Unmarshal(data, &meta); err != nil || meta.Metadata.Name == "" {
				t.Fatalf("%s: no pod name: %v", f, err)
			}
			name := meta.Metadata.Name
			run(t, podunit, "down", "--grace-period", "0", "--force", name) // left over by `make example`
			t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", name) })
			must(t, podunit, "up", f)
			eventually(t, 20*time.Second, name+" running", func() bool {
				st := status(t, name)
				return st != nil && st.Phase == "Running" && st.Ready == st.Total
			})
			if name == "lifecycle" {
				out := must(t, "podman", "exec", ctrName("lifecycle", "web"), "cat", "/www/message")
				if strings.TrimSpace(out) != "Hello from the postStart handler" {
					t.Errorf("message: %q", out)
				}
			}
			must(t, podunit, "down", name)
			assertGone(t, name)
		})
	}
}
