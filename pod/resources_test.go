package pod

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func resourceQ(s string) resource.Quantity { return resource.MustParse(s) }

func loadOne(t *testing.T, spec string) *corev1.Pod {
	t.Helper()
	m, err := Load([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n" + spec))
	if err != nil {
		t.Fatal(err)
	}
	return m.Pods[0]
}

// The scheduler's sum: app containers and sidecars together, an init
// container next to the sidecars started before it, the larger of the two.
func TestAggregateRequests(t *testing.T) {
	p := loadOne(t, `
  initContainers:
  - {name: s1, image: a:1, restartPolicy: Always, resources: {requests: {cpu: 100m}}}
  - {name: i1, image: a:1, resources: {requests: {cpu: "2"}}}
  - {name: s2, image: a:1, restartPolicy: Always, resources: {limits: {cpu: 200m}}}
  containers:
  - {name: a, image: a:1, resources: {requests: {cpu: 300m, memory: 1Mi}}}
  - {name: b, image: a:1}
`)
	cpu, ok := AggregateRequests(&p.Spec, corev1.ResourceCPU)
	if !ok || cpu.String() != "2100m" {
		t.Errorf("cpu: %s %v, want 2100m (init 2 next to sidecar 100m)", cpu.String(), ok)
	}
	p.Spec.InitContainers[1].Resources.Requests[corev1.ResourceCPU] = resourceQ("100m")
	cpu, _ = AggregateRequests(&p.Spec, corev1.ResourceCPU)
	if cpu.String() != "600m" {
		t.Errorf("cpu: %s, want 600m (300m + sidecars 100m + 200m from its limit)", cpu.String())
	}
	if _, ok := AggregateRequests(&p.Spec, "example.com/x"); ok {
		t.Error("no container asks for example.com/x")
	}
}

// Limits add up as requests do; a container without a limit counts 0 (what
// kubectl describe node shows), and a pod-level limit is the pod's.
func TestPodLimits(t *testing.T) {
	p := loadOne(t, `
  initContainers:
  - {name: s1, image: a:1, restartPolicy: Always, resources: {requests: {cpu: 100m}, limits: {cpu: 150m}}}
  - {name: i1, image: a:1, resources: {limits: {cpu: "1", memory: 8Mi}}}
  containers:
  - {name: a, image: a:1, resources: {requests: {cpu: 300m}, limits: {cpu: 500m, memory: 64Mi}}}
  - {name: b, image: a:1, resources: {requests: {memory: 1Mi}}}
`)
	if cpu, ok := PodLimits(&p.Spec, corev1.ResourceCPU); !ok || cpu.String() != "1150m" {
		t.Errorf("cpu: %s %v, want 1150m (init 1 next to sidecar 150m)", cpu.String(), ok)
	}
	if mem, ok := PodLimits(&p.Spec, corev1.ResourceMemory); !ok || mem.String() != "64Mi" {
		t.Errorf("memory: %s %v, want 64Mi (b has a request only)", mem.String(), ok)
	}
	if req, _ := PodRequests(&p.Spec, corev1.ResourceMemory); req.String() != "65Mi" {
		t.Errorf("memory request: %s, want 65Mi (a's defaults to its limit, plus b's)", req.String())
	}
	p.Spec.Resources = &corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resourceQ("2")}}
	if cpu, _ := PodLimits(&p.Spec, corev1.ResourceCPU); cpu.String() != "2" {
		t.Errorf("cpu with a pod-level limit: %s, want 2", cpu.String())
	}
}

// Pod-level requests default to the containers' sum, else to the limit.
func TestDefaultPodResources(t *testing.T) {
	p := loadOne(t, `
  resources: {limits: {cpu: "1", memory: 1Gi}}
  containers:
  - {name: a, image: a:1, resources: {requests: {cpu: 300m}}}
`)
	r := p.Spec.Resources.Requests
	if c, m := r[corev1.ResourceCPU], r[corev1.ResourceMemory]; c.String() != "300m" || m.String() != "1Gi" {
		t.Errorf("defaulted requests cpu %s memory %s, want 300m and 1Gi", c.String(), m.String())
	}
	if QOSClass(&p.Spec) != corev1.PodQOSBurstable {
		t.Errorf("QoS %s", QOSClass(&p.Spec))
	}
	p = loadOne(t, `
  resources: {limits: {cpu: "1", memory: 1Gi}}
  containers: [{name: a, image: a:1}]
`)
	if QOSClass(&p.Spec) != corev1.PodQOSGuaranteed {
		t.Errorf("pod limits only (requests default to them): QoS %s, want Guaranteed", QOSClass(&p.Spec))
	}
}

// The rules decide by exit code, the first match wins, the container's
// restartPolicy (or the pod's) decides the rest.
func TestRestartsOn(t *testing.T) {
	p := loadOne(t, `
  restartPolicy: Always
  containers:
  - name: a
    image: a:1
    restartPolicy: Never
    restartPolicyRules:
    - {action: Restart, exitCodes: {operator: In, values: [42]}}
    - {action: Restart, exitCodes: {operator: NotIn, values: [0, 1, 42]}}
  - {name: b, image: a:1, restartPolicy: OnFailure}
`)
	a := RestartsOn(&p.Spec.Containers[0], p.Spec.RestartPolicy)
	for code, want := range map[int]bool{0: false, 1: false, 2: true, 42: true, 137: true} {
		if a[code] != want {
			t.Errorf("a, exit %d: restart %v, want %v", code, a[code], want)
		}
	}
	b := RestartsOn(&p.Spec.Containers[1], p.Spec.RestartPolicy)
	if b[0] || !b[1] {
		t.Errorf("b (OnFailure): exit 0 %v, exit 1 %v", b[0], b[1])
	}
}

func TestFitExtended(t *testing.T) {
	pod := func(name, n string) *corev1.Pod {
		p := loadOne(t, `
  containers:
  - {name: a, image: a:1, resources: {limits: {example.com/dongle: "`+n+`"}}}
`)
		p.Name = name
		return p
	}
	a, b := pod("a", "2"), pod("b", "1")
	capacity := map[string]int64{"example.com/dongle": 2}
	if err := FitExtended([]*corev1.Pod{a}, nil, capacity); err != nil {
		t.Errorf("2 of 2: %v", err)
	}
	err := FitExtended([]*corev1.Pod{b}, []*corev1.Pod{a}, capacity)
	if err == nil || !strings.Contains(err.Error(), `pod "b": Insufficient example.com/dongle: asks for 1, 2 of 2 in use by other pods`) {
		t.Errorf("3 of 2: %v", err)
	}
	if err := FitExtended([]*corev1.Pod{b}, nil, nil); err == nil || !strings.Contains(err.Error(), "this host declares none") {
		t.Errorf("undeclared: %v", err)
	}
	_, err = Load([]byte(`
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - {name: a, image: a:1, resources: {requests: {example.com/x: "1"}, limits: {example.com/y: "1.5", example.com/z: "2"}}}
  - {name: b, image: a:1, resources: {requests: {example.com/z: "1"}, limits: {example.com/z: "2"}}}
`))
	for _, want := range []string{
		"spec.containers[0].resources.limits[example.com/x]: required",
		`spec.containers[0].resources.limits[example.com/y]: invalid value "1500m": must be a whole number of units`,
		`spec.containers[1].resources.requests[example.com/z]: invalid value "1": must be equal to example.com/z limit of 2`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
}
