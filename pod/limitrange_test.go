package pod

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

const limitRanges = `
apiVersion: v1
kind: LimitRange
metadata: {name: a-defaults, namespace: team}
spec:
  limits:
  - type: Container
    default: {memory: 512Mi}
    defaultRequest: {memory: 256Mi, cpu: 100m}
    max: {cpu: "2"}
    maxLimitRequestRatio: {cpu: "40"}
  - type: Pod
    max: {memory: 1Gi}
  - type: PersistentVolumeClaim
    min: {storage: 1Gi}
    max: {storage: 10Gi}
---
apiVersion: v1
kind: LimitRange
metadata: {name: b-later, namespace: team}
spec:
  limits:
  - type: Container
    default: {memory: 2Gi, ephemeral-storage: 1Gi}
`

// TestLimitRangeDefaults: the containers of a pod in the namespace get the
// defaults they lack (the first LimitRange by name wins), the API server's
// defaulting of the LimitRange included (cpu's default limit from max), and
// the pod records it; a pod of another namespace is untouched.
func TestLimitRangeDefaults(t *testing.T) {
	m, err := Load([]byte(limitRanges + `
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: team}
spec:
  initContainers: [{name: init, image: x:1}]
  containers:
  - {name: bare, image: x:1}
  - name: own
    image: x:1
    resources: {limits: {memory: 300Mi, cpu: "1"}}
---
apiVersion: v1
kind: Pod
metadata: {name: other}
spec: {containers: [{name: c, image: x:1}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	lr := m.Objects.LimitRanges[0]
	if q := lr.Spec.Limits[0].Default[corev1.ResourceCPU]; q.String() != "2" {
		t.Errorf("the default cpu limit, from max: %q", q.String())
	}
	var web, other *corev1.Pod
	for _, p := range m.Pods {
		if p.Name == "web" {
			web = p
		} else {
			other = p
		}
	}
	q := func(l corev1.ResourceList, r corev1.ResourceName) string {
		if v, ok := l[r]; ok {
			return v.String()
		}
		return "-"
	}
	for _, tc := range []struct {
		c                                   corev1.Container
		reqCPU, reqMem, limCPU, limMem, eph string
	}{
		{web.Spec.InitContainers[0], "100m", "256Mi", "2", "512Mi", "1Gi"},
		{web.Spec.Containers[0], "100m", "256Mi", "2", "512Mi", "1Gi"},
		// its own limits stand, and its requests default to them (no request set)
		{web.Spec.Containers[1], "-", "-", "1", "300Mi", "1Gi"},
	} {
		r := tc.c.Resources
		if got := [5]string{q(r.Requests, "cpu"), q(r.Requests, "memory"), q(r.Limits, "cpu"), q(r.Limits, "memory"), q(r.Limits, "ephemeral-storage")}; got != [5]string{tc.reqCPU, tc.reqMem, tc.limCPU, tc.limMem, tc.eph} {
			t.Errorf("%s: %v", tc.c.Name, got)
		}
	}
	want := "LimitRanger plugin set: cpu, memory, ephemeral-storage request for init container init; cpu, memory, ephemeral-storage limit for init container init; " +
		"cpu, memory, ephemeral-storage request for container bare; cpu, memory, ephemeral-storage limit for container bare; " +
		"ephemeral-storage request for container own; ephemeral-storage limit for container own"
	if got := web.Annotations[AnnotationLimitRanger]; got != want {
		t.Errorf("annotation:\n%s\nwant:\n%s", got, want)
	}
	if len(other.Spec.Containers[0].Resources.Limits) != 0 || other.Annotations[AnnotationLimitRanger] != "" {
		t.Errorf("a pod of another namespace: %+v %v", other.Spec.Containers[0].Resources, other.Annotations)
	}
	// as written, for a pod that runs from before the LimitRange
	if w := m.Unlimited["web"]; w == nil || w.Annotations[AnnotationLimitRanger] != "" || len(w.Spec.Containers[0].Resources.Limits) != 0 {
		t.Errorf("the pod as written: %+v", w)
	}
	if _, ok := m.Unlimited["other"]; ok {
		t.Error("a pod no LimitRange changed is kept as written too")
	}
	if QOSClass(&web.Spec) != corev1.PodQOSBurstable {
		t.Errorf("QoS: %s", QOSClass(&web.Spec))
	}
}

// TestLimitRangeRefuses: a pod or claim outside its namespace's bounds is
// refused with the field, the LimitRange and the admission's words; a
// Deployment's with the template's path.
func TestLimitRangeRefuses(t *testing.T) {
	_, err := Load([]byte(limitRanges + `
---
apiVersion: v1
kind: Pod
metadata: {name: big, namespace: team}
spec:
  containers:
  - name: greedy
    image: x:1
    resources: {requests: {cpu: 100m}, limits: {cpu: "3", memory: 800Mi}}
  - name: second
    image: x:1
    resources: {limits: {memory: 800Mi}}
  - name: asks
    image: x:1
    resources: {requests: {memory: 1Gi}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: dep, namespace: team}
spec:
  selector: {matchLabels: {app: dep}}
  template:
    metadata: {labels: {app: dep}}
    spec: {containers: [{name: c, image: x:1, resources: {requests: {cpu: 10m}}}]}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: tiny, namespace: team}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 100Mi}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: none, namespace: team}
spec: {accessModes: [ReadWriteOnce]}
`))
	if err == nil {
		t.Fatal("pods beyond their LimitRange loaded")
	}
	for _, want := range []string{
		`spec.containers[0].resources.limits[cpu]: limitrange "a-defaults": maximum cpu usage per Container is 2, but limit is 3`,
		// the pod as a whole: 800Mi + 800Mi + 512Mi (defaulted)
		`spec.containers[*].resources.limits[memory]: limitrange "a-defaults": maximum memory usage per Pod is 1Gi, but limit is 2112Mi`,
		// a request above the limit the default gave it
		`spec.containers[2].resources.requests[memory]: invalid value "1Gi": must be less than or equal to memory limit of 512Mi`,
		// the Deployment's template: request 10m, default limit 2: ratio 200
		`spec.template.spec.containers[0].resources.limits[cpu]: limitrange "a-defaults": cpu max limit to request ratio per Container is 40, but provided ratio is 200.000000`,
		`spec.resources.requests[storage]: limitrange "a-defaults": minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 100Mi`,
		`spec.resources.requests[storage]: limitrange "a-defaults": minimum storage usage per PersistentVolumeClaim is 1Gi.  No request is specified`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestLoadLimitRangeErrors(t *testing.T) {
	_, err := Load([]byte(`
apiVersion: v1
kind: LimitRange
metadata: {name: bad}
spec:
  limits:
  - type: Container
    min: {cpu: "2"}
    max: {cpu: "1", gpu: "1"}
    maxLimitRequestRatio: {memory: "0.5"}
  - type: Pod
    default: {cpu: "1"}
  - type: Container
    defaultRequest: {memory: 2Gi}
    default: {memory: 1Gi}
  - type: Node
  - type: PersistentVolumeClaim
    max: {cpu: "1"}
`))
	if err == nil {
		t.Fatal("a bad LimitRange loaded")
	}
	for _, want := range []string{
		`spec.limits[0].min[cpu]: invalid value "2": min value 2 is greater than max value 1`,
		`spec.limits[0].max[gpu]: unsupported value "gpu"`,
		`spec.limits[0].maxLimitRequestRatio[memory]: invalid value "500m": ratio 500m is less than 1`,
		"spec.limits[1].default: may not be specified when `type` is 'Pod'",
		`spec.limits[2].type: duplicate value "Container (also spec.limits[0])"`,
		`spec.limits[2].defaultRequest[memory]: invalid value "2Gi": default request value 2Gi is greater than default limit value 1Gi`,
		`spec.limits[3].type: unsupported value "Node"`,
		`spec.limits[4].max[cpu]: unsupported value "cpu"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// A stored LimitRange applies to the pods of a later manifest.
func TestStoredLimitRange(t *testing.T) {
	ranges, err := Load([]byte(limitRanges))
	if err != nil {
		t.Fatal(err)
	}
	m, err := LoadSources([]Source{{Data: []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: team}\nspec: {containers: [{name: c, image: x:1}]}\n")}}, &ranges.Objects)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Pods[0].Spec.Containers[0].Resources.Limits[corev1.ResourceMemory]; got.Cmp(resource.MustParse("512Mi")) != 0 {
		t.Errorf("memory limit from the stored LimitRange: %s", got.String())
	}
}
