package main

import (
	"errors"
	"strings"
	"testing"
)

// kubectl run's pod (and Service, with --expose), as its --dry-run=client
// -o yaml shows them; bad flags are usage errors naming the flag.
func TestRunObjects(t *testing.T) {
	p, s, err := runObjects("web", runOptions{image: "img:1", port: "8080", expose: true, env: []string{"A=1", "B=x=y"},
		annotations: []string{"note=hi"}, restart: "Never", pullPolicy: "IfNotPresent", namespace: "team",
		command: true, args: []string{"sh", "-c", "echo $A"}})
	if err != nil {
		t.Fatal(err)
	}
	data, err := runManifest([]any{s, p})
	if err != nil {
		t.Fatal(err)
	}
	want := `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: team
spec:
  ports:
  - port: 8080
    targetPort: 8080
  selector:
    run: web
status:
  loadBalancer: {}
---
apiVersion: v1
kind: Pod
metadata:
  annotations:
    note: hi
  labels:
    run: web
  name: web
  namespace: team
spec:
  containers:
  - command:
    - sh
    - -c
    - echo $A
    env:
    - name: A
      value: "1"
    - name: B
      value: x=y
    image: img:1
    imagePullPolicy: IfNotPresent
    name: web
    ports:
    - containerPort: 8080
    resources: {}
  restartPolicy: Never
status: {}
`
	if string(data) != want {
		t.Errorf("manifest:\n%s\nwant:\n%s", data, want)
	}
	p, _, err = runObjects("sleeper", runOptions{image: "img", labels: "app=s,tier=x", args: []string{"sleep", "9"}})
	if err != nil || p.Labels["app"] != "s" || p.Labels["run"] != "" || strings.Join(p.Spec.Containers[0].Args, " ") != "sleep 9" || p.Spec.Containers[0].Command != nil {
		t.Errorf("labels and args: %+v %v", p, err)
	}
	if p, _, _ := runObjects("sh", runOptions{image: "img", stdin: true, tty: true}); !p.Spec.Containers[0].Stdin || !p.Spec.Containers[0].TTY {
		t.Errorf("-it: %+v", p.Spec.Containers[0])
	}
	for _, c := range []struct {
		name string
		o    runOptions
		want string
	}{
		{"Web", runOptions{image: "i"}, "pod name"},
		{"w", runOptions{}, "--image is required"},
		{"w", runOptions{image: "i", restart: "Sometimes"}, "--restart"},
		{"w", runOptions{image: "i", port: "http"}, "--port"},
		{"w", runOptions{image: "i", env: []string{"NOVALUE"}}, "--env"},
		{"w", runOptions{image: "i", expose: true}, "--expose needs --port"},
		{"w", runOptions{image: "i", command: true}, "--command needs the command"},
		{"w", runOptions{image: "i", labels: "a b"}, "--labels"},
		{"w", runOptions{image: "i", pullPolicy: "Sometimes"}, "--image-pull-policy"},
	} {
		if _, _, err := runObjects(c.name, c.o); !errors.Is(err, errUsage) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %+v: %v, want a usage error with %q", c.name, c.o, err, c.want)
		}
	}
}
