package pod

import (
	"errors"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const minimal = `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: c, image: %IMAGE%}]
`

func load(t *testing.T, image string) *corev1.Pod {
	t.Helper()
	m, err := Load([]byte(strings.ReplaceAll(minimal, "%IMAGE%", image)))
	if err != nil {
		t.Fatal(err)
	}
	return m.Pods[0]
}

func TestDefaults(t *testing.T) {
	p := load(t, "busybox:1.36")
	if p.Namespace != "default" || p.Spec.RestartPolicy != corev1.RestartPolicyAlways ||
		*p.Spec.TerminationGracePeriodSeconds != 30 || p.Spec.DNSPolicy != corev1.DNSClusterFirst {
		t.Errorf("pod defaults: %+v", p.Spec)
	}
	for img, want := range map[string]corev1.PullPolicy{
		"busybox":                  corev1.PullAlways,
		"busybox:latest":           corev1.PullAlways,
		"busybox:1.36":             corev1.PullIfNotPresent,
		"localhost:5000/busybox":   corev1.PullAlways,
		"localhost:5000/busybox:2": corev1.PullIfNotPresent,
		"busybox@sha256:" + strings.Repeat("a", 64): corev1.PullIfNotPresent,
	} {
		if got := load(t, img).Spec.Containers[0].ImagePullPolicy; got != want {
			t.Errorf("%s: pull policy %s, want %s", img, got, want)
		}
	}
}

func TestLoadErrorsWrapErrInvalid(t *testing.T) {
	for name, doc := range map[string]string{
		"empty":     "",
		"comments":  "# nothing\n---\n",
		"not yaml":  "{{{",
		"a list":    "- a\n- b\n",
		"no kind":   "apiVersion: v1\nmetadata: {name: x}\n",
		"bad field": strings.ReplaceAll(minimal, "%IMAGE%", "x:1") + "  overhead: {cpu: 1}\n",
	} {
		_, err := Load([]byte(doc))
		if err == nil || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

// A manifest with nothing to run or store says so, and names what it
// ignored (a Role alone).
func TestNothingToRun(t *testing.T) {
	_, err := Load([]byte("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\nrules: []\n"))
	if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "nothing in the manifest to run or store") ||
		!strings.Contains(err.Error(), `what it holds is ignored:
  role "r": ignored: it grants access to the Kubernetes API`) {
		t.Errorf("a Role alone: %v", err)
	}
	if _, err := Load([]byte("# nothing\n")); err == nil || strings.Contains(err.Error(), "ignored") {
		t.Errorf("nothing at all: %v", err)
	}
}

func TestEveryUnknownFieldIsReported(t *testing.T) {
	_, err := Load([]byte(`
apiVersion: v1
kind: Pod
metadata: {name: p, labelz: {}}
spec:
  containers:
  - name: c
    image: x:1
    resorces: {}
    ports: [{containerPort: 1, hostPrt: 2}]
  volumes: [{name: v, emptyDir: {mediumm: Memory}}]
`))
	for _, want := range []string{
		"metadata.labelz: unknown field",
		"spec.containers[0].resorces: unknown field",
		"spec.containers[0].ports[0].hostPrt: unknown field",
		"spec.volumes[0].emptyDir.mediumm: unknown field",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

// The policy has a verdict for every field path it lists; nothing podunit does
// not list is accepted.
func TestPolicyDefaultDeny(t *testing.T) {
	if _, ok := ruleFor("spec.overhead"); ok {
		t.Error("spec.overhead has a rule; it should fall to the default (rejected)")
	}
	if r, ok := ruleFor("metadata.labels[*]"); !ok || r.support != Honoured {
		t.Error("labels' keys are not covered by the labels subtree rule")
	}
	if r, ok := ruleFor("spec.containers[*].livenessProbe.grpc.service"); !ok || r.support != Honoured {
		t.Error("grpc probes are honoured")
	}
	if r, ok := ruleFor("spec.volumes[*].projected.sources[*].serviceAccountToken"); !ok || r.support != Rejected || r.note == "" {
		t.Error("serviceAccountToken projections must be rejected with a note")
	}
	if r, ok := ruleFor("spec.initContainers[*].lifecycle.preStop.httpGet.httpHeaders[*].name"); !ok || r.support != Honoured {
		t.Error("sidecars' preStop httpGet headers are not covered")
	}
	for _, l := range SupportedFields() {
		if strings.Count(l, "\t") != 2 {
			t.Errorf("malformed policy line %q", l)
		}
	}
}

func TestMatchNode(t *testing.T) {
	p := load(t, "x:1")
	host := map[string]string{"kubernetes.io/os": "linux", "disk": "ssd"}
	p.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "linux", "disk": "ssd"}
	if err := MatchNode(p, host); err != nil {
		t.Errorf("matching selector refused: %v", err)
	}
	p.Spec.NodeSelector = map[string]string{"disk": "hdd", "gpu": "yes"}
	err := MatchNode(p, host)
	if err == nil || !errors.Is(err, ErrInvalid) ||
		!strings.Contains(err.Error(), `spec.nodeSelector[disk]: wants "hdd", this host has "ssd"`) ||
		!strings.Contains(err.Error(), `spec.nodeSelector[gpu]`) {
		t.Errorf("mismatch: %v", err)
	}
}

// Required node affinity, as the scheduler reads it: terms ORed, their
// requirements ANDed, every operator; bad terms are refused with the path.
func TestNodeAffinity(t *testing.T) {
	host := map[string]string{"kubernetes.io/hostname": "box", "disk": "ssd", "cores": "8"}
	doc := func(terms string) string {
		return `apiVersion: v1
kind: Pod
metadata: {name: a}
spec:
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms: ` + terms + `
  containers: [{name: c, image: x:1}]
`
	}
	for _, c := range []struct {
		terms string
		fits  bool
	}{
		{`[{matchExpressions: [{key: disk, operator: In, values: [ssd, nvme]}]}]`, true},
		{`[{matchExpressions: [{key: disk, operator: NotIn, values: [ssd]}]}]`, false},
		{`[{matchExpressions: [{key: gpu, operator: NotIn, values: ["yes"]}]}]`, true},
		{`[{matchExpressions: [{key: disk, operator: Exists}, {key: gpu, operator: DoesNotExist}]}]`, true},
		{`[{matchExpressions: [{key: gpu, operator: Exists}]}]`, false},
		{`[{matchExpressions: [{key: cores, operator: Gt, values: ["4"]}, {key: cores, operator: Lt, values: ["16"]}]}]`, true},
		{`[{matchExpressions: [{key: cores, operator: Gt, values: ["8"]}]}]`, false},
		{`[{matchExpressions: [{key: gpu, operator: Exists}]}, {matchFields: [{key: metadata.name, operator: In, values: [box]}]}]`, true},
		{`[{matchFields: [{key: metadata.name, operator: NotIn, values: [box]}]}]`, false},
	} {
		m, err := Load([]byte(doc(c.terms)))
		if err != nil {
			t.Fatalf("%s: %v", c.terms, err)
		}
		err = MatchNode(m.Pods[0], host)
		if (err == nil) != c.fits {
			t.Errorf("%s: fits %v, got %v", c.terms, c.fits, err)
		}
		if err != nil && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution: no term matches this host (term 0: ")) {
			t.Errorf("%s: %v", c.terms, err)
		}
	}
	for terms, want := range map[string]string{
		`[]`: "nodeSelectorTerms: required",
		`[{matchExpressions: [{key: disk, operator: In}]}]`:                    "matchExpressions[0].values: required",
		`[{matchExpressions: [{key: disk, operator: Exists, values: [a]}]}]`:   "matchExpressions[0].values: may not be specified",
		`[{matchExpressions: [{key: cores, operator: Gt, values: [many]}]}]`:   "matchExpressions[0].values[0]: invalid value \"many\": must be an integer",
		`[{matchExpressions: [{key: disk, operator: Near, values: [a]}]}]`:     "matchExpressions[0].operator: unsupported value",
		`[{matchFields: [{key: metadata.labels, operator: In, values: [a]}]}]`: "matchFields[0].key: unsupported value",
	} {
		_, err := Load([]byte(doc(terms)))
		if err == nil || !strings.Contains(err.Error(), "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms") ||
			!strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", terms, err, want)
		}
	}
}

// A v1 List (what `kubectl get -o yaml` writes) is read as its items; a
// problem in an item names the document and the item.
func TestList(t *testing.T) {
	m, err := Load([]byte(`
apiVersion: v1
kind: List
metadata: {resourceVersion: ""}
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: cm}
  data: {a: b}
- apiVersion: v1
  kind: Pod
  metadata: {name: p}
  spec:
    containers: [{name: c, image: "x:1", envFrom: [{configMapRef: {name: cm}}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: q}
spec:
  containers: [{name: c, image: "x:1"}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Pods) != 2 || m.Pods[0].Name != "p" || m.Pods[1].Name != "q" || m.Objects.ConfigMap("default", "cm") == nil {
		t.Errorf("pods %d, configmap %v", len(m.Pods), m.Objects.ConfigMap("default", "cm"))
	}

	for name, c := range map[string]struct{ doc, want string }{
		"bad item": {`
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: cm}}
- {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c, image: "x:1", bogus: 1}]}}
`, `document 1, items[1] (pod "p"): 1 problem
  spec.containers[0].bogus: unknown field`},
		"bad list":                 {"apiVersion: v2\nkind: List\nextra: 1\nitems: []\n", "document 1: 2 problems\n  apiVersion: unsupported value \"v2\": supported values: \"v1\"\n  extra: not supported by podunit"},
		"items not a list":         {"apiVersion: v1\nkind: List\nitems: {a: 1}\n", "items: must be a list of objects"},
		"duplicate key in an item": {"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  kind: Pod\n", "document 1"},
	} {
		_, err := Load([]byte(c.doc))
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}

// What the API server writes (an object's identity and history, its
// status) is warned about and dropped at load: an exported manifest applies
// as the objects it shows, and none of it is stored. So is the
// generateName the object's name came from: the name is used.
func TestOutputOnlyDropped(t *testing.T) {
	meta := `  uid: 0b5e4d8e-0000-4000-8000-000000000001
  resourceVersion: "42"
  generation: 3
  creationTimestamp: "2026-01-02T03:04:05Z"
  managedFields: [{manager: kubectl, operation: Update}]
  generateName: x-
`
	m, err := Load([]byte(`apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
` + meta + `data: {k: v}
---
apiVersion: v1
kind: Service
metadata:
  name: svc
` + meta + `spec:
  selector: {app: a}
  ports: [{port: 80}]
status:
  loadBalancer: {ingress: [{ip: 192.0.2.9}]}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
` + meta + `spec:
  selector: {matchLabels: {app: d}}
  template:
    metadata: {labels: {app: d}}
    spec:
      containers: [{name: c, image: busybox}]
status: {replicas: 1, readyReplicas: 1}
---
apiVersion: v1
kind: Pod
metadata:
  name: p
` + meta + `spec:
  nodeName: elsewhere
  containers: [{name: c, image: busybox}]
status: {phase: Running, podIP: 10.0.0.1}
`))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	m.Objects.Each(func(kind string, o metav1.Object) {
		n++
		if o.GetUID() != "" || o.GetResourceVersion() != "" || o.GetGeneration() != 0 || !o.GetCreationTimestamp().Time.IsZero() || o.GetManagedFields() != nil {
			t.Errorf("%s %s keeps output-only metadata: %+v", kind, o.GetName(), o)
		}
	})
	if n != 3 {
		t.Fatalf("objects: %d, want 3", n)
	}
	if s := m.Objects.Service("default", "svc"); len(s.Status.LoadBalancer.Ingress) != 0 {
		t.Errorf("the Service keeps its status: %+v", s.Status)
	}
	if d := m.Objects.Deployments[0]; d.Status.Replicas != 0 {
		t.Errorf("the Deployment keeps its status: %+v", d.Status)
	}
	var p *corev1.Pod
	for _, x := range m.Pods {
		if x.Name == "p" {
			p = x
		}
	}
	if p == nil || p.UID != "" || p.Status.Phase != "" || p.Status.PodIP != "" || !p.CreationTimestamp.IsZero() {
		t.Errorf("the pod keeps output-only fields: %+v", p)
	}
	warned := strings.Join(m.Warnings, "\n")
	for _, w := range []string{`pod "p": status: ignored`, `service "svc": status: ignored`, `configmap "cm": metadata.uid: ignored`, `pod "p": spec.nodeName: ignored`, `pod "p": metadata.generateName: ignored: metadata.name names it`} {
		if !strings.Contains(warned, w) {
			t.Errorf("no warning %q in:\n%s", w, warned)
		}
	}
}

// A pod with a generateName and no name is refused, saying why.
func TestGenerateNameAlone(t *testing.T) {
	_, err := Load([]byte("apiVersion: v1\nkind: Pod\nmetadata: {generateName: web-}\nspec:\n  containers: [{name: c, image: busybox}]\n"))
	if err == nil || !strings.Contains(err.Error(), "metadata.name: required: podunit makes no name from metadata.generateName") {
		t.Fatalf("err: %v", err)
	}
}

// What `get all -o yaml` exports beside a Deployment or StatefulSet (their
// pods, the Deployment's ReplicaSet) is made by them when applied again:
// ignored with a warning, not refused as a duplicate or an unknown kind. A
// pod whose owner is not in the manifest stays a pod of its own.
func TestWorkloadExportApplies(t *testing.T) {
	m, err := Load([]byte(`apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web}
  spec:
    replicas: 1
    selector: {matchLabels: {app: web}}
    template:
      metadata: {labels: {app: web}}
      spec:
        containers: [{name: web, image: busybox:1}]
- apiVersion: apps/v1
  kind: ReplicaSet
  metadata:
    name: web-abc
    ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: x, controller: true}]
  spec:
    selector: {matchLabels: {app: web}}
    template:
      metadata: {labels: {app: web}}
      spec:
        containers: [{name: web, image: busybox:1}]
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-abc-xyz12
    labels: {app: web, pod-template-hash: abc}
    ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-abc, uid: y, controller: true}]
  spec:
    containers: [{name: web, image: busybox:1}]
- apiVersion: apps/v1
  kind: StatefulSet
  metadata: {name: db}
  spec:
    serviceName: db
    selector: {matchLabels: {app: db}}
    template:
      metadata: {labels: {app: db}}
      spec:
        containers: [{name: db, image: busybox:1}]
- apiVersion: v1
  kind: Pod
  metadata:
    name: db-0
    labels: {app: db}
    ownerReferences: [{apiVersion: apps/v1, kind: StatefulSet, name: db, uid: z, controller: true}]
  spec:
    containers: [{name: db, image: busybox:1}]
- apiVersion: v1
  kind: Pod
  metadata:
    name: other-def-abcde
    labels: {app: other, pod-template-hash: def}
    ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: other-def, uid: w, controller: true}]
  spec:
    containers: [{name: o, image: busybox:1}]
`))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range m.Pods {
		names = append(names, p.Name)
		if p.Name == "db-0" && OwnerStatefulSet(p) != "db" {
			t.Errorf("db-0 is not the StatefulSet's: %+v", p.OwnerReferences)
		}
	}
	if len(names) != 3 || !slices.Contains(names, "db-0") || !slices.Contains(names, "other-def-abcde") || slices.Contains(names, "web-abc-xyz12") {
		t.Errorf("pods: %v", names)
	}
	w := strings.Join(m.Warnings, "\n")
	for _, want := range []string{
		`replicaset "web-abc": ignored: deployment "web" of this manifest makes it`,
		`pod "web-abc-xyz12": ignored: deployment "web" of this manifest makes it`,
		`pod "db-0": ignored: statefulset "db" of this manifest makes it`,
		`pod "other-def-abcde": metadata.ownerReferences: ignored`,
	} {
		if !strings.Contains(w, want) {
			t.Errorf("no warning %q in:\n%s", want, w)
		}
	}
	// a Job's pods likewise
	m, err = Load([]byte(jobDoc + `---
apiVersion: v1
kind: Pod
metadata:
  name: migrate-abcde
  labels: {batch.kubernetes.io/job-name: migrate}
  ownerReferences: [{apiVersion: batch/v1, kind: Job, name: migrate, controller: true}]
spec:
  restartPolicy: Never
  containers: [{name: m, image: busybox:1}]
`))
	if err != nil || len(m.Pods) != 0 || !strings.Contains(strings.Join(m.Warnings, "\n"), `pod "migrate-abcde": ignored: job "migrate" of this manifest makes it`) {
		t.Errorf("a Job's exported pod: %v %d %v", err, len(m.Pods), m.Warnings)
	}
	// without its Deployment, a ReplicaSet is refused as before
	if _, err := Load([]byte(`apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-abc
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: x, controller: true}]
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: busybox:1}]
`)); err == nil || !strings.Contains(err.Error(), "ReplicaSet is not supported") {
		t.Errorf("a ReplicaSet alone: %v", err)
	}
}
