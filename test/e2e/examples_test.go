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
				Kind     string
				Metadata struct{ Name string } `json:"metadata"`
			}
			if err := yaml.Unmarshal(data, &meta); err != nil || meta.Metadata.Name == "" {
				t.Fatalf("%s: no pod name: %v", f, err)
			}
			name := meta.Metadata.Name
			if meta.Kind == "Deployment" {
				deploymentExample(t, f, name)
				return
			}
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

// deploymentExample: a Deployment example's replicas all become ready and
// all answer through its NodePort Service; down of the file takes them all.
func deploymentExample(t *testing.T, f, name string) {
	run(t, podunit, "down", "--grace-period", "0", "--force", "deployment/"+name) // left over
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", f) })
	must(t, podunit, "up", f)
	eventually(t, 30*time.Second, name+" ready", func() bool {
		return strings.TrimSpace(run(t, podunit, "get", "deploy", name, "-o", "jsonpath={.status.readyReplicas}/{.spec.replicas}").stdout) == "3/3"
	})
	pods := strings.Fields(must(t, podunit, "get", "pods", "-l", "app="+name, "-o", "name"))
	served := map[string]bool{}
	eventually(t, 30*time.Second, "every pod to answer through the NodePort", func() bool {
		out := run(t, "sh", "-c", "wget -q -O- http://127.0.0.1:30180/").stdout
		served[strings.TrimSpace(strings.TrimPrefix(out, "hello from "))] = true
		for _, p := range pods {
			if !served[strings.TrimPrefix(p, "pod/")] {
				return false
			}
		}
		return true
	})
	must(t, podunit, "down", f)
	for _, p := range pods {
		assertGone(t, strings.TrimPrefix(p, "pod/"))
	}
}
