package pod

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

const deploymentDoc = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: REPLICAS
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, tier: front}}
    spec:
      containers:
      - name: web
        image: IMAGE
        envFrom: [{configMapRef: {name: cfg}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {A: b}
`

func loadDeployment3(t *testing.T, replicas, image string) *Manifest {
	t.Helper()
	m, err := Load([]byte(strings.NewReplacer("REPLICAS", replicas, "IMAGE", image).Replace(deploymentDoc)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDeploymentPods(t *testing.T) {
	m := loadDeployment3(t, "3", "x:1")
	if len(m.Pods) != 3 || len(m.Objects.Deployments) != 1 {
		t.Fatalf("%d pods, %d deployments; want 3, 1", len(m.Pods), len(m.Objects.Deployments))
	}
	d := m.Objects.Deployments[0]
	hash := TemplateHash(&d.Spec.Template)
	seen := map[string]bool{}
	for _, p := range m.Pods {
		if !strings.HasPrefix(p.Name, "web-"+hash+"-") || len(p.Name) != len("web-"+hash+"-")+5 || seen[p.Name] {
			t.Errorf("pod name %q: want web-%s-xxxxx, each once", p.Name, hash)
		}
		seen[p.Name] = true
		if p.Labels["app"] != "web" || p.Labels["tier"] != "front" || p.Labels[LabelPodTemplateHash] != hash {
			t.Errorf("pod %s labels %v: want the template's and pod-template-hash=%s", p.Name, p.Labels, hash)
		}
		if OwnerDeployment(p) != "web" || p.Namespace != "default" {
			t.Errorf("pod %s: owner %q, namespace %q", p.Name, OwnerDeployment(p), p.Namespace)
		}
		if m.Resolved[p.Name] == nil || len(m.Resolved[p.Name].Container("web").EnvFrom) == 0 {
			t.Errorf("pod %s: its envFrom was not resolved: %+v", p.Name, m.Resolved[p.Name])
		}
	}
	// the same manifest makes the same pods; more replicas keep the first ones
	again := loadDeployment3(t, "5", "x:1")
	for i, p := range m.Pods {
		if again.Pods[i].Name != p.Name {
			t.Errorf("replica %d is %s, then %s", i, p.Name, again.Pods[i].Name)
		}
	}
	// another template, other pods
	other := loadDeployment3(t, "3", "x:2")
	if h := other.Pods[0].Labels[LabelPodTemplateHash]; h == hash {
		t.Errorf("a changed image kept the pod-template-hash %s", h)
	}
	// the same Deployment in another namespace makes other pods: pod names
	// are unique on the host
	shop := loadDeployment3(t, "3", "x:1")
	shop.Objects.Deployments[0].Namespace = "shop"
	for i, p := range DeploymentPods(shop.Objects.Deployments[0]) {
		if p.Name == m.Pods[i].Name || p.Namespace != "shop" {
			t.Errorf("namespace shop's replica %d is %s/%s", i, p.Namespace, p.Name)
		}
	}
	if zero := loadDeployment3(t, "0", "x:1"); len(zero.Pods) != 0 || len(zero.Objects.Deployments) != 1 {
		t.Errorf("replicas 0: %d pods, %d deployments", len(zero.Pods), len(zero.Objects.Deployments))
	}
}

// A Deployment's name may be a whole DNS label (63): its pods' names are cut
// as generateName cuts them, 58 characters and five more, and two such
// Deployments that differ only past the cut make other pods.
func TestLongDeploymentName(t *testing.T) {
	long := strings.Repeat("d", 62)
	doc := strings.NewReplacer("REPLICAS", "3", "IMAGE", "x:1", "name: web,", "name: "+long+"a,").Replace(deploymentDoc)
	m, err := Load([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	other, err := Load([]byte(strings.Replace(doc, long+"a,", long+"b,", 1)))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, p := range append(m.Pods, other.Pods...) {
		if len(p.Name) != 63 || !strings.HasPrefix(p.Name, strings.Repeat("d", 58)) || len(validation.IsDNS1123Label(p.Name)) > 0 || seen[p.Name] {
			t.Errorf("pod %d: name %q; want 58 characters of the Deployment's, five more, each once", i, p.Name)
		}
		seen[p.Name] = true
	}
	if OwnerDeployment(m.Pods[0]) != long+"a" || OwnerDeployment(other.Pods[0]) != long+"b" {
		t.Errorf("owners: %q, %q", OwnerDeployment(m.Pods[0]), OwnerDeployment(other.Pods[0]))
	}
	if _, err := Load([]byte(strings.Replace(doc, long+"a,", long+"aa,", 1))); err == nil || !strings.Contains(err.Error(), "metadata.name") {
		t.Errorf("a 64-character name: %v", err)
	}
}

func TestDeploymentDefaultsAndLimits(t *testing.T) {
	d := loadDeployment3(t, "4", "x:1").Objects.Deployments[0]
	if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || *d.Spec.ProgressDeadlineSeconds != 600 {
		t.Errorf("defaults: %+v", d.Spec)
	}
	if s, u := RolloutLimits(d); s != 1 || u != 1 {
		t.Errorf("25%% of 4: surge %d, unavailable %d; want 1, 1", s, u)
	}
	two := int32(2)
	d.Spec.Replicas = &two
	if s, u := RolloutLimits(d); s != 1 || u != 0 {
		t.Errorf("25%% of 2: surge %d, unavailable %d; want 1 (up), 0 (down)", s, u)
	}
}

func TestDeploymentErrors(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"missing ConfigMap, told once at the template's path",
			strings.Replace(strings.NewReplacer("REPLICAS", "3", "IMAGE", "x:1").Replace(deploymentDoc), "name: cfg}\n", "name: nope}\n", 1),
			`deployment "web"): 1 problem` + "\n  spec.template.spec.containers[0].envFrom[0].configMapRef.name"},
		{"unknown template field",
			strings.NewReplacer("REPLICAS", "1", "IMAGE", "x:1", "envFrom", "envFromm").Replace(deploymentDoc),
			"spec.template.spec.containers[0].envFromm: unknown field"},
		{"no selector", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: x}]}}\n",
			"spec.selector: required"},
		{"apiVersion v1", "apiVersion: v1\nkind: Deployment\nmetadata: {name: a}\n",
			`apiVersion: unsupported value "v1": supported values: "apps/v1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load([]byte(tc.doc))
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant an error with %q", err, tc.want)
			}
		})
	}
}

func TestDeploymentWarnings(t *testing.T) {
	doc := strings.NewReplacer("REPLICAS", "2", "IMAGE", "x:1", "spec:\n  replicas", "spec:\n  revisionHistoryLimit: 3\n  replicas",
		"    metadata: {labels", "    metadata: {uid: u, labels").Replace(deploymentDoc)
	m, err := Load([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(m.Warnings, "\n")
	for _, want := range []string{`deployment "web": spec.revisionHistoryLimit: ignored`, `deployment "web": spec.template.metadata.uid: ignored`} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings %q lack %q", got, want)
		}
	}
	if n := strings.Count(got, "metadata.uid"); n != 1 {
		t.Errorf("the template's warning told %d times, want once:\n%s", n, got)
	}
}

// A pod exported from a Deployment and applied as a pod is no Deployment's:
// its ownerReferences are ignored (with a warning). The stored copy of an
// enabled Deployment's pod (podunit's own reference, no uid) stays its.
func TestExportedPodOwnsNothing(t *testing.T) {
	m, err := Load([]byte(`apiVersion: v1
kind: Pod
metadata:
  name: web-6cdb4bbbcc-ngdd9
  labels: {app: web, pod-template-hash: 6cdb4bbbcc}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-6cdb4bbbcc, uid: x, controller: true}]
spec: {containers: [{name: c, image: x}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if d := OwnerDeployment(m.Pods[0]); d != "" || len(m.Pods[0].OwnerReferences) != 0 {
		t.Errorf("the pod belongs to deployment %q: %v", d, m.Pods[0].OwnerReferences)
	}
	if !strings.Contains(strings.Join(m.Warnings, "\n"), "metadata.ownerReferences: ignored") {
		t.Errorf("no warning: %v", m.Warnings)
	}
	own := loadDeployment3(t, "1", "x:1").Pods[0]
	data, err := json.Marshal(own)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := Load(append(data, "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n"...))
	if err != nil {
		t.Fatal(err)
	}
	if d := OwnerDeployment(stored.Pods[0]); d != "web" {
		t.Errorf("the stored copy of a Deployment's pod belongs to %q", d)
	}
	if w := strings.Join(stored.Warnings, "\n"); strings.Contains(w, "ownerReferences") {
		t.Errorf("podunit's own reference is warned about:\n%s", w)
	}
}
