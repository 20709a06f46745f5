package pod

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

const pullSecret = `
---
apiVersion: v1
kind: Secret
metadata: {name: %s, namespace: %s}
type: kubernetes.io/dockerconfigjson
stringData:
  .dockerconfigjson: '{"auths": {"registry.example:5000": {"username": "u", "password": "p"}}}'
`

// A ServiceAccount's imagePullSecrets become those of the pods that run as
// it and have none of their own, as Kubernetes' ServiceAccount admission
// does; "default" is every pod's that names none; a pod's own win.
func TestServiceAccountPullSecrets(t *testing.T) {
	m, err := Load([]byte(`
apiVersion: v1
kind: ServiceAccount
metadata: {name: builder, namespace: ci}
imagePullSecrets: [{name: reg}]
automountServiceAccountToken: false
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: default, namespace: ci}
imagePullSecrets: [{name: other}]
---
apiVersion: v1
kind: Pod
metadata: {name: named, namespace: ci}
spec:
  serviceAccountName: builder
  containers: [{name: c, image: registry.example:5000/app:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: deprecated, namespace: ci}
spec:
  serviceAccount: builder
  containers: [{name: c, image: registry.example:5000/app:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: unnamed, namespace: ci}
spec:
  containers: [{name: c, image: registry.example:5000/app:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: own, namespace: ci}
spec:
  serviceAccountName: builder
  imagePullSecrets: [{name: other}]
  containers: [{name: c, image: registry.example:5000/app:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: elsewhere}
spec:
  containers: [{name: c, image: registry.example:5000/app:1}]
` + fmt.Sprintf(pullSecret, "reg", "ci") + fmt.Sprintf(pullSecret, "other", "ci")))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"named": "[reg]", "deprecated": "[reg]", "unnamed": "[other]", "own": "[other]", "elsewhere": "<nil>"}
	for name, secrets := range want {
		a := m.Resolved[name].PullAuth
		got := "<nil>"
		if a != nil {
			got = fmt.Sprint(a.Secrets)
		}
		if got != secrets {
			t.Errorf("pod %s pulls with %s, want %s", name, got, secrets)
		}
	}
	for _, p := range m.Pods {
		if p.Name == "named" {
			if r := References(p); fmt.Sprint(r.Secrets) != "[reg]" || r.ServiceAccount != "builder" {
				t.Errorf("references of pod named: %+v", r)
			}
			// the stored copy of the pod takes its service account along
			if only := m.Objects.Only(p.Namespace, References(p)); len(only.ServiceAccounts) != 1 || only.ServiceAccounts[0].Name != "builder" {
				t.Errorf("objects of pod named: %+v", only.ServiceAccounts)
			}
		}
	}
	if len(m.Warnings) != 0 {
		t.Errorf("warnings: %q", m.Warnings)
	}
	if m.Objects.ServiceAccount("ci", "builder") == nil || m.Objects.ServiceAccount("default", "builder") != nil {
		t.Error("ServiceAccounts are found by namespace and name")
	}
}

// A service account that is not defined is told of; automount true and the
// token secrets list are warned about; a pull secret that does not exist is
// an error of the pod, named by the field Kubernetes copied it to.
func TestServiceAccountProblems(t *testing.T) {
	m, err := Load([]byte(`
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa}
automountServiceAccountToken: true
secrets: [{name: sa-token}]
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  serviceAccountName: missing
  automountServiceAccountToken: true
  containers: [{name: c, image: busybox}]
`))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(m.Warnings, "\n")
	for _, w := range []string{
		`serviceaccount "sa": automountServiceAccountToken: true: ignored`,
		`serviceaccount "sa": secrets: ignored`,
		`pod "p": spec.serviceAccountName: no ServiceAccount "missing" in namespace "default"`,
		`pod "p": spec.automountServiceAccountToken: true: ignored`,
	} {
		if !strings.Contains(got, w) {
			t.Errorf("no warning %q in:\n%s", w, got)
		}
	}

	_, err = Load([]byte(`
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa}
imagePullSecrets: [{name: nope}, {name: "Bad_Name"}]
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  serviceAccountName: sa
  containers: [{name: c, image: busybox}]
`))
	var merr *ManifestError
	if !errors.As(err, &merr) {
		t.Fatalf("want a ManifestError, got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{`imagePullSecrets[1].name: invalid value "Bad_Name"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("no %q in:\n%s", want, msg)
		}
	}

	_, err = Load([]byte(`
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa}
imagePullSecrets: [{name: nope}]
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  serviceAccountName: sa
  containers: [{name: c, image: busybox}]
`))
	if err == nil || !strings.Contains(err.Error(), "spec.imagePullSecrets[0].name") || !strings.Contains(err.Error(), "nope") {
		t.Errorf("a missing pull secret of the service account: %v", err)
	}
}

// Namespaces are read strictly, stored, and need not exist for pods to use
// them; Pod Security labels are warned about, not enforced.
func TestNamespace(t *testing.T) {
	m, err := Load([]byte(`
apiVersion: v1
kind: Namespace
metadata:
  name: demo
  labels: {team: a, pod-security.kubernetes.io/enforce: restricted}
spec:
  finalizers: [kubernetes]
status: {phase: Active}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: demo}
spec:
  containers: [{name: c, image: busybox}]
`))
	if err != nil {
		t.Fatal(err)
	}
	n := m.Objects.Namespace("demo")
	if n == nil || n.Labels["team"] != "a" || n.Namespace != "" || len(n.Spec.Finalizers) != 0 || n.Status.Phase != "" {
		t.Fatalf("namespace: %+v", n)
	}
	got := strings.Join(m.Warnings, "\n")
	for _, w := range []string{
		`namespace "demo": metadata.labels[pod-security.kubernetes.io/enforce]: ignored: podunit does not enforce Pod Security Standards`,
		`namespace "demo": spec.finalizers: ignored`,
		`namespace "demo": status: ignored`,
	} {
		if !strings.Contains(got, w) {
			t.Errorf("no warning %q in:\n%s", w, got)
		}
	}
	if m.Objects.Find(KindNamespace, "", "demo") == nil {
		t.Error("Find does not find the Namespace")
	}

	_, err = Load([]byte(`
apiVersion: v1
kind: Namespace
metadata: {name: Demo.x}
spec: {other: 1}
`))
	if err == nil {
		t.Fatal("an invalid Namespace was accepted")
	}
	for _, want := range []string{`metadata.name: invalid value "Demo.x"`, `spec.other`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no %q in:\n%v", want, err)
		}
	}
}

// A source's namespace (kubectl's -n) is that of the objects naming none;
// one naming another is an error; a Namespace stays in none.
func TestSourceNamespace(t *testing.T) {
	doc := `
apiVersion: v1
kind: Namespace
metadata: {name: team}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {k: v}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa, namespace: team}
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  serviceAccountName: sa
  containers: [{name: c, image: busybox, envFrom: [{configMapRef: {name: cfg}}]}]
`
	m, err := LoadSources([]Source{{Data: []byte(doc), Namespace: "team"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Pods[0].Namespace != "team" || m.Objects.ConfigMap("team", "cfg") == nil || m.Objects.Namespace("team") == nil || m.Objects.Namespace("team").Namespace != "" {
		t.Errorf("pod in %q, objects %+v", m.Pods[0].Namespace, m.Objects)
	}
	if len(m.Warnings) != 0 {
		t.Errorf("warnings: %q", m.Warnings)
	}
	// without -n the pod and cfg are in default, and sa is not there
	m, err = LoadSources([]Source{{Data: []byte(doc)}}, nil)
	if err != nil || m.Pods[0].Namespace != "default" || m.Objects.ConfigMap("default", "cfg") == nil ||
		len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], `no ServiceAccount "sa" in namespace "default"`) {
		t.Errorf("without -n: %v %+v", err, m)
	}
	_, err = LoadSources([]Source{{Data: []byte(doc), Namespace: "other"}}, nil)
	if err == nil || !strings.Contains(err.Error(), `metadata.namespace: invalid value "team": does not match the namespace given with -n, "other"`) {
		t.Errorf("a clash with -n: %v", err)
	}
}

// A pod exported from a cluster (kubectl get pod -o yaml) carries the token
// volume ServiceAccount admission added, mounted in every container: it goes
// with a warning. A projected token the user wrote, or a kube-api-access-*
// volume with anything else in it, is still refused.
func TestAdmissionTokenVolume(t *testing.T) {
	const exported = `
apiVersion: v1
kind: Pod
metadata: {name: exp}
spec:
  initContainers:
  - name: init
    image: busybox
    volumeMounts: [{name: kube-api-access-x7k2p, mountPath: /var/run/secrets/kubernetes.io/serviceaccount, readOnly: true}]
  containers:
  - name: c
    image: busybox
    volumeMounts:
    - {name: data, mountPath: /data}
    - {name: kube-api-access-x7k2p, mountPath: /var/run/secrets/kubernetes.io/serviceaccount, readOnly: true}
  volumes:
  - name: data
    emptyDir: {}
  - name: kube-api-access-x7k2p
    projected:
      defaultMode: 420
      sources:
      - serviceAccountToken: {expirationSeconds: 3607, path: token}
      - configMap:
          name: kube-root-ca.crt
          items: [{key: ca.crt, path: ca.crt}]
      - downwardAPI:
          items: [{path: namespace, fieldRef: {apiVersion: v1, fieldPath: metadata.namespace}}]
`
	m, err := Load([]byte(exported))
	if err != nil {
		t.Fatal(err)
	}
	p := m.Pods[0]
	if len(p.Spec.Volumes) != 1 || p.Spec.Volumes[0].Name != "data" || len(p.Spec.Containers[0].VolumeMounts) != 1 || len(p.Spec.InitContainers[0].VolumeMounts) != 0 {
		t.Errorf("volumes %+v, mounts %+v %+v", p.Spec.Volumes, p.Spec.Containers[0].VolumeMounts, p.Spec.InitContainers[0].VolumeMounts)
	}
	if got := strings.Join(m.Warnings, "\n"); !strings.Contains(got, `pod "exp": spec.volumes[1]: kube-api-access-x7k2p: ignored with its mounts`) {
		t.Errorf("warnings:\n%s", got)
	}
	for name, doc := range map[string]string{
		"not admission's name": strings.ReplaceAll(exported, "kube-api-access-x7k2p", "token"),
		"another source":       strings.Replace(exported, "      - downwardAPI:", "      - secret: {name: s}\n      - downwardAPI:", 1),
		"another config map":   strings.Replace(exported, "name: kube-root-ca.crt", "name: mine", 1),
	} {
		if _, err := LoadSources([]Source{{Data: []byte(doc)}}, &Objects{}); err == nil || !strings.Contains(err.Error(), "spec.volumes[1].projected") {
			t.Errorf("%s: %v, want the projected volume refused", name, err)
		}
	}
}

// What kubectl writes in the manifests it makes (--dry-run=client -o yaml):
// status: {} (a Service's status.loadBalancer: {}), creationTimestamp:
// null, resources: {}: nothing ignored, no warning; nor for what charts
// write for "unset" (priorityClassName: ""). A status with something in it
// is still ignored with one, and so is a priority class with a name.
func TestEmptyOutputFieldsNoWarning(t *testing.T) {
	doc := `apiVersion: v1
kind: Service
metadata: {name: web, creationTimestamp: null}
spec:
  selector: {run: web}
  ports: [{port: 80, targetPort: 8080}]
status:
  loadBalancer: {}
---
apiVersion: v1
kind: Pod
metadata:
  creationTimestamp: null
  labels: {run: web}
  name: web
spec:
  containers:
  - image: img
    name: web
    resources: {}
  dnsPolicy: ClusterFirst
  restartPolicy: Always
  priorityClassName: ""
status: {}
`
	m, err := Load([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Warnings) != 0 {
		t.Errorf("warnings: %q", m.Warnings)
	}
	m, err = Load([]byte(strings.Replace(doc, "status: {}", "status: {phase: Running}", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.Warnings, "\n"); !strings.Contains(got, "status: ignored: output-only") {
		t.Errorf("a status with a phase: warnings %q", got)
	}
	m, err = Load([]byte(strings.Replace(doc, `priorityClassName: ""`, "priorityClassName: high", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.Warnings, "\n"); !strings.Contains(got, "spec.priorityClassName: ignored") {
		t.Errorf("a priority class: warnings %q", got)
	}
}
