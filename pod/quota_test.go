package pod

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestResourceQuota(t *testing.T) {
	m, err := Load([]byte(`
apiVersion: v1
kind: ResourceQuota
metadata: {name: compute, namespace: team}
spec:
  hard: {pods: "2", requests.memory: 1Gi, limits.cpu: "1", services.nodeports: "1", count/deployments.apps: "1", configmaps: "1"}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: besteffort, namespace: team}
spec:
  hard: {pods: "1"}
  scopes: [BestEffort]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: a, namespace: team}
---
apiVersion: v1
kind: Service
metadata: {name: np, namespace: team}
spec: {type: NodePort, selector: {app: x}, ports: [{port: 80}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	qs := m.Objects.ResourceQuotas
	if len(qs) != 2 {
		t.Fatalf("quotas: %d", len(qs))
	}
	compute := qs[0]
	if compute.Name != "compute" {
		compute = qs[1]
	}
	pod := func(name string, mem, cpuLimit string) *corev1.Pod {
		p := &corev1.Pod{}
		p.Name, p.Namespace = name, "team"
		c := corev1.Container{Name: "c"}
		if mem != "" {
			c.Resources.Requests = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(mem)}
		}
		if cpuLimit != "" {
			c.Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpuLimit)}
		}
		p.Spec.Containers = []corev1.Container{c}
		return p
	}
	a, b := pod("a", "600Mi", "500m"), pod("b", "300Mi", "500m")
	elsewhere := pod("elsewhere", "1Gi", "1")
	elsewhere.Namespace = "other"
	used := QuotaUsage(compute, []*corev1.Pod{a, b, elsewhere}, &m.Objects)
	// the pod of another namespace is not counted
	for k, want := range map[string]string{"pods": "2", "requests.memory": "900Mi", "limits.cpu": "1", "services.nodeports": "1", "count/deployments.apps": "0", "configmaps": "1"} {
		if q := used[corev1.ResourceName(k)]; q.String() != want {
			t.Errorf("used %s: %s, want %s", k, q.String(), want)
		}
	}

	// a third pod: over pods and requests.memory; it says no cpu limit
	c := pod("c", "200Mi", "")
	must, exceeded := QuotaErrors(m.Objects.ResourceQuotas, []*corev1.Pod{a, b}, []*corev1.Pod{a, b, c}, &m.Objects, &m.Objects, []*corev1.Pod{c})
	if got := must[c].ToAggregate().Error(); !strings.Contains(got, `spec.containers[0].resources.limits[cpu]: Required value: resourcequota "compute" limits limits.cpu: each container must say it`) {
		t.Errorf("must: %v", got)
	}
	if len(exceeded) != 1 || exceeded[0] != "exceeded quota: compute (namespace team), requested: pods=1,requests.memory=200Mi, used: pods=2,requests.memory=900Mi, limited: pods=2,requests.memory=1Gi" {
		t.Errorf("exceeded: %q", exceeded)
	}
	// a pod replaced by a smaller one: within, though over before
	big := pod("a", "2Gi", "500m")
	if _, exceeded := QuotaErrors([]*corev1.ResourceQuota{compute}, []*corev1.Pod{big, b}, []*corev1.Pod{a, b}, &m.Objects, &m.Objects, nil); len(exceeded) != 0 {
		t.Errorf("a smaller replacement: %q", exceeded)
	}
	// BestEffort scope: the pods without requests or limits, one at most
	be1, be2 := pod("be1", "", ""), pod("be2", "", "")
	var scoped *corev1.ResourceQuota
	for _, q := range qs {
		if q.Name == "besteffort" {
			scoped = q
		}
	}
	if _, exceeded := QuotaErrors([]*corev1.ResourceQuota{scoped}, []*corev1.Pod{a, be1}, []*corev1.Pod{a, be1, be2}, &m.Objects, &m.Objects, []*corev1.Pod{be2}); len(exceeded) != 1 || !strings.Contains(exceeded[0], "requested: pods=1, used: pods=1, limited: pods=1") {
		t.Errorf("BestEffort: %q", exceeded)
	}
}

func TestLoadResourceQuotaErrors(t *testing.T) {
	_, err := Load([]byte(`
apiVersion: v1
kind: ResourceQuota
metadata: {name: bad}
spec:
  hard: {pods: "1.5", widgets: "1", requests.memory: "-1", services: "3"}
  scopes: [BestEffort, NotBestEffort, PriorityClass]
  scopeSelector: {matchExpressions: [{scopeName: PriorityClass, operator: In, values: [high]}]}
`))
	if err == nil {
		t.Fatal("a bad quota loaded")
	}
	for _, want := range []string{
		`spec.hard[pods]: invalid value "1500m": must be an integer`,
		`spec.hard[widgets]: unsupported value "widgets"`,
		`spec.hard[requests.memory]: invalid value "-1": must be greater than or equal to 0`,
		`spec.scopes[2]: unsupported value "PriorityClass"`,
		`spec.scopes: invalid value`,
		`spec.hard[services]: invalid value "services": unsupported scope applied to resource`,
		`spec.scopeSelector: not supported by podunit`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// What kubectl create quota's examples count: ReplicaSets (those podunit
// shows for the Deployments) and ReplicationControllers (podunit runs none).
func TestQuotaCountsReplicaSets(t *testing.T) {
	m, err := Load([]byte(`
apiVersion: v1
kind: ResourceQuota
metadata: {name: counts}
spec:
  hard: {count/deployments.apps: "2", count/replicasets.apps: "4", count/pods: "3", replicationcontrollers: "2"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: x:1}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	old := m.Pods[0].DeepCopy()
	// a pod of the template before, still running (a rollout under way)
	old.Name, old.Labels[LabelPodTemplateHash] = "web-oldhash-x", "oldhash"
	old.OwnerReferences[0].Name = "web-oldhash"
	used := QuotaUsage(m.Objects.ResourceQuotas[0], append(append([]*corev1.Pod{}, m.Pods...), old), &m.Objects)
	for k, want := range map[string]string{"count/deployments.apps": "1", "count/replicasets.apps": "2", "count/pods": "3", "replicationcontrollers": "0"} {
		if q := used[corev1.ResourceName(k)]; q.String() != want {
			t.Errorf("used %s: %s, want %s", k, q.String(), want)
		}
	}
}
