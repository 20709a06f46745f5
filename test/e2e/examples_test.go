package e2e

import (
	"os"
	"path/filepath"
	"regexp"
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
			if name == "config-demo" {
				var page string
				eventually(t, 10*time.Second, "the page", func() bool {
					page = run(t, "podman", "exec", ctrName(name, "web"), "cat", "/www/index.html").stdout
					return strings.Contains(page, "labels:")
				})
				for _, want := range []string{"greeting: hello from a ConfigMap", "mode: production, listening on ",
					"password set: yes", "starts so far: ", `tier="web"`} {
					if !strings.Contains(page, want) {
						t.Errorf("page lacks %q:\n%s", want, page)
					}
				}
				if !regexp.MustCompile(`listening on [0-9a-f.:]+[0-9a-f]:8080`).MatchString(page) {
					t.Errorf("no pod address on the page:\n%s", page)
				}
				if strings.Contains(page, "not-a-real-password") {
					t.Error("the page shows the Secret")
				}
				t.Cleanup(func() { run(t, podunit, "down", "--volumes", "--grace-period", "0", f) })
			}
			must(t, podunit, "down", name)
			assertGone(t, name)
		})
	}
}
