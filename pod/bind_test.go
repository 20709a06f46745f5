package pod

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

const objectsDoc = `
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {a: "1", b: "2", "1bad": x}
binaryData: {bin: AAE=}
---
apiVersion: v1
kind: Secret
metadata: {name: sec}
data: {token: czNjcjN0}
stringData: {user: admin}
`

func TestBindEnvAndVolumes(t *testing.T) {
	m, err := Load([]byte(`
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: c
    image: img
    env:
    - {name: A, valueFrom: {configMapKeyRef: {name: cfg, key: a}}}
    - {name: T, valueFrom: {secretKeyRef: {name: sec, key: token}}}
    - {name: O, valueFrom: {secretKeyRef: {name: sec, key: nope, optional: true}}}
    envFrom:
    - {configMapRef: {name: cfg}}
    - {secretRef: {name: gone, optional: true}}
    volumeMounts: [{name: v, mountPath: /v}, {name: s, mountPath: /s}]
  volumes:
  - {name: v, configMap: {name: cfg, defaultMode: 0600}}
  - name: s
    secret: {secretName: sec, items: [{key: user, path: u/name, mode: 0400}]}
---` + objectsDoc))
	if err != nil {
		t.Fatal(err)
	}
	rc := m.Resolved["p"].Containers["c"]
	var from []string
	for _, e := range rc.EnvFrom {
		from = append(from, e.Name+"="+e.Value)
	}
	// "1bad" is no variable name: skipped, with a warning, as the kubelet does.
	if got := strings.Join(from, ","); got != "a=1,b=2" {
		t.Errorf("envFrom: %s", got)
	}
	if !strings.Contains(strings.Join(m.Warnings, "\n"), "skipped keys that are not valid environment variable names: 1bad") {
		t.Errorf("no warning for the skipped key: %v", m.Warnings)
	}
	if r := rc.EnvRefs[0]; r.Value != "1" || r.Secret || r.Skip {
		t.Errorf("A: %+v", r)
	}
	if r := rc.EnvRefs[1]; r.Value != "s3cr3t" || !r.Secret {
		t.Errorf("T: %+v", r)
	}
	if r := rc.EnvRefs[2]; !r.Skip {
		t.Errorf("an optional missing key must leave the variable unset: %+v", r)
	}
	v := m.Resolved["p"].Volumes["v"]
	var files []string
	for _, f := range v.Files {
		files = append(files, fmt.Sprintf("%s:%s:%o", f.Path, f.Data, f.Mode))
	}
	if got := strings.Join(files, ","); got != "1bad:x:600,a:1:600,b:2:600,bin:\x00\x01:600" {
		t.Errorf("configMap volume files: %q", got)
	}
	s := m.Resolved["p"].Volumes["s"]
	if len(s.Files) != 1 || s.Files[0].Path != "u/name" || string(s.Files[0].Data) != "admin" || s.Files[0].Mode != 0o400 || !s.Files[0].Secret {
		t.Errorf("secret volume: %+v", s.Files)
	}
}

func TestBindMissingObjectsAreErrors(t *testing.T) {
	_, err := Load([]byte(`
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: c
    image: img
    env: [{name: A, valueFrom: {secretKeyRef: {name: sec, key: missing}}}]
    envFrom: [{configMapRef: {name: absent}}]
---` + objectsDoc))
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("want ErrInvalid, got %v", err)
	}
	for _, want := range []string{
		`spec.containers[0].env[0].valueFrom.secretKeyRef.key: not found: key "missing" in Secret default/sec`,
		`spec.containers[0].envFrom[0].configMapRef.name: not found: ConfigMap default/absent`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("an error shows a secret value")
	}
}

// Stored objects serve a manifest's pods; the manifest's own win.
func TestLoadSourcesKnownObjects(t *testing.T) {
	stored, err := Load([]byte(objectsDoc))
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.Pods) != 0 || len(stored.Objects.ConfigMaps) != 1 || len(stored.Objects.Secrets) != 1 {
		t.Fatalf("objects-only manifest: %+v", stored)
	}
	pod := []byte(`
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - {name: c, image: img, env: [{name: A, valueFrom: {configMapKeyRef: {name: cfg, key: a}}}]}
`)
	m, err := LoadSources([]Source{{Data: pod}}, &stored.Objects)
	if err != nil {
		t.Fatal(err)
	}
	if v := m.Resolved["p"].Containers["c"].EnvRefs[0].Value; v != "1" {
		t.Errorf("from the stored ConfigMap: %q", v)
	}
	own := []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: mine}\n")
	m, err = LoadSources([]Source{{Name: "pod.yaml", Data: pod}, {Name: "cfg.yaml", Data: own}}, &stored.Objects)
	if err != nil {
		t.Fatal(err)
	}
	if v := m.Resolved["p"].Containers["c"].EnvRefs[0].Value; v != "mine" {
		t.Errorf("the manifest's own ConfigMap must win: %q", v)
	}
	if _, err := LoadSources([]Source{{Name: "a.yaml", Data: own}, {Name: "b.yaml", Data: own}}, nil); err == nil ||
		!strings.Contains(err.Error(), "b.yaml: document 1 (configmap \"cfg\")") || !strings.Contains(err.Error(), "also a.yaml document 1") {
		t.Errorf("a duplicate across files: %v", err)
	}
}

func TestSecretTooLarge(t *testing.T) {
	big := strings.Repeat("x", MaxObjectSize+1)
	_, err := Load([]byte("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {k: " + big + "}\n"))
	if err == nil || !strings.Contains(err.Error(), "the data of a Secret must be at most 1048576 bytes") {
		t.Errorf("a secret over 1 MiB: %v", err)
	}
}

// imagePullSecrets: both docker config formats, registry keys as kubectl and
// docker write them, username/password turned into auth, the first Secret
// naming a registry wins; References lists them for the stored copy.
func TestBindPullSecrets(t *testing.T) {
	m, err := Load([]byte(`
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  imagePullSecrets: [{name: json}, {name: cfg}]
  containers: [{name: c, image: registry.example:5000/team/app:1}]
---
apiVersion: v1
kind: Secret
metadata: {name: json}
type: kubernetes.io/dockerconfigjson
stringData:
  .dockerconfigjson: '{"auths": {"https://registry.example:5000/v2/": {"username": "u", "password": "p"}, "https://index.docker.io/v1/": {"auth": "aHViOmh1Yg=="}}}'
---
apiVersion: v1
kind: Secret
metadata: {name: cfg}
type: kubernetes.io/dockercfg
stringData:
  .dockercfg: '{"registry.example:5000": {"auth": "b3RoZXI6b3RoZXI="}, "quay.io/team": {"auth": "cTpx"}}'
`))
	if err != nil {
		t.Fatal(err)
	}
	a := m.Resolved["p"].PullAuth
	if a == nil {
		t.Fatal("no PullAuth")
	}
	if got := fmt.Sprint(a.Secrets, a.Registries); got != "[json cfg] [docker.io quay.io/team registry.example:5000]" {
		t.Errorf("secrets and registries: %s", got)
	}
	want := `{"auths":{"docker.io":{"auth":"aHViOmh1Yg=="},"quay.io/team":{"auth":"cTpx"},"registry.example:5000":{"auth":"dTpw"}}}`
	if string(a.AuthFile) != want {
		t.Errorf("auth file:\n got %s\nwant %s", a.AuthFile, want)
	}
	for img, reg := range map[string]string{"registry.example:5000/team/app:1": "registry.example:5000",
		"quay.io/team/x": "quay.io/team", "quay.io/other/x": "", "docker.io/library/nginx": "docker.io"} {
		if got := a.Registry(img); got != reg {
			t.Errorf("Registry(%s) = %q, want %q", img, got, reg)
		}
	}
	if a.From["registry.example:5000"] != "json" || a.From["quay.io/team"] != "cfg" {
		t.Errorf("from: %v", a.From)
	}
	if refs := References(m.Pods[0]); fmt.Sprint(refs.Secrets) != "[cfg json]" {
		t.Errorf("references: %v", refs.Secrets)
	}
}
