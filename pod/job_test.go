package pod

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

const jobDoc = `apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: m, image: busybox:1, command: [sh, -c, "exit 0"]}
`

// A Job is stored with batch/v1's defaults; its pods are its controller's
// to make, so the manifest has none to start.
func TestJobLoads(t *testing.T) {
	m, err := Load([]byte(jobDoc))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Pods) != 0 || len(m.Objects.Jobs) != 1 {
		t.Fatalf("pods %d, jobs %d", len(m.Pods), len(m.Objects.Jobs))
	}
	j := m.Objects.Jobs[0]
	if *j.Spec.Parallelism != 1 || *j.Spec.Completions != 1 || *j.Spec.BackoffLimit != 6 || JobIndexed(j) || *j.Spec.Suspend || j.Namespace != "default" {
		t.Errorf("defaults: %+v", j.Spec)
	}
}

// What the API server refuses of a Job, and what podunit does not do, are
// told at their paths, the template's as a pod's; so is a reference to a
// ConfigMap that is nowhere.
func TestJobInvalid(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{strings.Replace(jobDoc, "      restartPolicy: Never\n", "", 1), "spec.template.spec.restartPolicy: required"},
		{strings.Replace(jobDoc, "restartPolicy: Never", "restartPolicy: Always", 1), `spec.template.spec.restartPolicy: unsupported value Always`},
		{strings.Replace(jobDoc, "image: busybox:1", "image: ''", 1), "spec.template.spec.containers[0].image: required"},
		{strings.Replace(jobDoc, "spec:\n  template:", "spec:\n  completionMode: Indexed\n  parallelism: 2\n  template:", 1), "spec.completions: required"},
		{strings.Replace(jobDoc, "spec:\n  template:", "spec:\n  backoffLimit: -1\n  template:", 1), "spec.backoffLimit: invalid value -1"},
		{strings.Replace(jobDoc, "spec:\n  template:", "spec:\n  activeDeadlineSeconds: 0\n  template:", 1), "spec.activeDeadlineSeconds: invalid value 0"},
		{strings.Replace(jobDoc, "spec:\n  template:", "spec:\n  podFailurePolicy: {rules: []}\n  template:", 1), "spec.podFailurePolicy"},
		{strings.Replace(jobDoc, "spec:\n  template:", "spec:\n  manualSelector: true\n  selector: {matchLabels: {a: b}}\n  template:", 1), "spec.manualSelector: unsupported value true"},
		{strings.Replace(jobDoc, "spec:\n  template:", "spec:\n  selector: {matchLabels: {a: b}}\n  template:", 1), "spec.selector: invalid value \"a=b\": `selector` will be auto-generated"},
		{strings.Replace(jobDoc, "name: migrate", "name: Migrate", 1), "metadata.name: invalid value \"Migrate\""},
		{strings.Replace(jobDoc, "apiVersion: batch/v1", "apiVersion: v1", 1), `apiVersion: unsupported value "v1"`},
		{strings.Replace(jobDoc, `command: [sh, -c, "exit 0"]`, "env: [{name: X, valueFrom: {configMapKeyRef: {name: nowhere, key: k}}}]", 1), "spec.template.spec.containers[0].env[0].valueFrom.configMapKeyRef.name: not found"},
	} {
		_, err := Load([]byte(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want %q, got %v\n%s", c.want, err, c.doc)
		}
	}
}

// A Job exported from a cluster carries the selector and labels the API
// server generated: dropped with a warning, podunit makes its own.
func TestJobExported(t *testing.T) {
	doc := strings.Replace(jobDoc, "spec:\n  template:\n    spec:", `spec:
  selector: {matchLabels: {batch.kubernetes.io/controller-uid: 6f3c}}
  template:
    metadata:
      labels: {batch.kubernetes.io/controller-uid: 6f3c, batch.kubernetes.io/job-name: migrate, controller-uid: 6f3c, job-name: migrate, app: m}
    spec:`, 1) + "status: {succeeded: 1}\n"
	m, err := Load([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	j := m.Objects.Jobs[0]
	if j.Spec.Selector != nil || len(j.Spec.Template.Labels) != 1 || j.Status.Succeeded != 0 {
		t.Errorf("exported Job: %+v %v", j.Spec.Selector, j.Spec.Template.Labels)
	}
	if w := strings.Join(m.Warnings, "\n"); !strings.Contains(w, "spec.selector: ignored") || !strings.Contains(w, "spec.template.metadata.labels[controller-uid]: ignored") {
		t.Errorf("warnings:\n%s", w)
	}
}

// A Job's pod is its template with the controller's name, labels and
// owner; an Indexed Job's has its index (label, annotation, environment)
// and the hostname <job>-<index>.
func TestJobPod(t *testing.T) {
	m, err := Load([]byte(strings.Replace(jobDoc, "spec:\n  template:\n    spec:", "spec:\n  completions: 3\n  completionMode: Indexed\n  template:\n    metadata: {labels: {app: m}}\n    spec:", 1)))
	if err != nil {
		t.Fatal(err)
	}
	j := m.Objects.Jobs[0]
	p := JobPod(j, "uid-1", 2, "abcde")
	if p.Name != "migrate-2-abcde" || p.Spec.Hostname != "migrate-2" || OwnerJob(p) != "migrate" {
		t.Errorf("pod %s, hostname %s, owner %v", p.Name, p.Spec.Hostname, p.OwnerReferences)
	}
	for k, v := range map[string]string{"app": "m", LabelJobName: "migrate", "job-name": "migrate", LabelControllerUID: "uid-1", "controller-uid": "uid-1", LabelJobIndex: "2"} {
		if p.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, p.Labels[k], v)
		}
	}
	if p.Annotations[LabelJobIndex] != "2" {
		t.Errorf("annotations: %v", p.Annotations)
	}
	env := p.Spec.Containers[0].Env
	if len(env) == 0 || env[0].Name != JobIndexEnv || env[0].ValueFrom == nil || env[0].ValueFrom.FieldRef.FieldPath != "metadata.annotations['"+LabelJobIndex+"']" {
		t.Errorf("env: %+v", env)
	}
	if p.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %s", p.Spec.RestartPolicy)
	}
	if _, errs := Resolve(p); len(errs) > 0 {
		t.Errorf("the Job's pod is not valid: %v", errs)
	}
	// the template itself is not changed
	if len(j.Spec.Template.Spec.Containers[0].Env) != 0 || j.Spec.Template.Labels[LabelJobName] != "" {
		t.Errorf("template changed: %+v", j.Spec.Template)
	}
	// a long name is cut as generateName cuts it
	long := strings.Repeat("a", 63)
	j.Name = long
	if p := JobPod(j, "u", 12, "abcde"); len(p.Name) != 63 || !strings.HasSuffix(p.Name, "abcde") || p.Spec.Hostname != "" {
		t.Errorf("long name: %s (%d), hostname %q", p.Name, len(p.Name), p.Spec.Hostname)
	}
}
