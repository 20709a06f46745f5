package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/runner"
)

func TestV1Pod(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	applied := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "u1"},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "setup", Image: "img:1"}, {Name: "proxy", Image: "proxy:1", RestartPolicy: &always}},
			Containers: []corev1.Container{{Name: "app", Image: "app:2", Resources: corev1.ResourceRequirements{
				Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("64Mi")}}}}}}
	zero, three := 0, 3
	started := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	st := runner.PodStatus{Name: "web", Phase: "Running", Ready: 1, Total: 2, Containers: []runner.ContainerStatus{
		{Name: "setup", Kind: "init", State: "Terminated", Reason: "Completed", ExitCode: &zero},
		{Name: "proxy", Kind: "sidecar", State: "Running", Ready: true},
		{Name: "app", Kind: "app", State: "Waiting", Reason: "CrashLoopBackOff", Message: "back-off 20s", Restarts: 2, LastExitCode: &three}}}
	p := v1Pod(applied, st, podFacts{podIPs: []string{"10.0.2.100", "fd00::1"}, hostIPs: []string{"192.0.2.2"}, created: started,
		runs: map[string]podstate.Run{"proxy": {Started: started.Add(time.Second)}}, images: map[string][2]string{"proxy": {"abc", "def"}}})
	if p.Kind != "Pod" || p.APIVersion != "v1" || p.Status.Phase != "Running" || p.Status.PodIP != "10.0.2.100" || len(p.Status.PodIPs) != 2 || p.Status.HostIP != "192.0.2.2" {
		t.Errorf("pod: %+v", p.Status)
	}
	if p.Status.QOSClass != corev1.PodQOSBurstable || !p.Status.StartTime.Time.Equal(started) {
		t.Errorf("qos %s, start %v", p.Status.QOSClass, p.Status.StartTime)
	}
	conds := map[corev1.PodConditionType]corev1.ConditionStatus{}
	for _, c := range p.Status.Conditions {
		conds[c.Type] = c.Status
	}
	if conds[corev1.PodScheduled] != "True" || conds[corev1.PodInitialized] != "True" || conds[corev1.ContainersReady] != "False" || conds[corev1.PodReady] != "False" {
		t.Errorf("conditions: %v", conds)
	}
	if len(p.Status.InitContainerStatuses) != 2 || len(p.Status.ContainerStatuses) != 1 {
		t.Fatalf("statuses: %+v", p.Status)
	}
	app := p.Status.ContainerStatuses[0]
	if app.State.Waiting == nil || app.State.Waiting.Reason != "CrashLoopBackOff" || app.RestartCount != 2 ||
		app.LastTerminationState.Terminated == nil || app.LastTerminationState.Terminated.ExitCode != 3 || app.Image != "app:2" {
		t.Errorf("app: %+v", app)
	}
	proxy := p.Status.InitContainerStatuses[1]
	if proxy.State.Running == nil || !proxy.State.Running.StartedAt.Time.Equal(started.Add(time.Second)) || proxy.ContainerID != "podman://abc" || proxy.ImageID != "sha256:def" || !*proxy.Started {
		t.Errorf("proxy: %+v", proxy)
	}
	if applied.Status.Phase != "" {
		t.Error("the applied pod was changed")
	}

	var b bytes.Buffer
	if err := printPods(&b, []*corev1.Pod{p}, "", false, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "web    0/1     CrashLoopBackOff   2") {
		t.Errorf("table:\n%s", b.String())
	}
	b.Reset()
	if err := printPods(&b, []*corev1.Pod{p}, "wide", false, true); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(b.String(), "\n"); !strings.HasPrefix(lines[0], "NAMESPACE   NAME   READY") || !strings.HasPrefix(lines[1], p.Namespace+" ") {
		t.Errorf("table with namespaces:\n%s", b.String())
	}
	b.Reset()
	printPods(&b, []*corev1.Pod{p}, "yaml", true, false)
	if !strings.HasPrefix(b.String(), "apiVersion: v1\nkind: Pod\n") || !strings.Contains(b.String(), "podIP: 10.0.2.100") {
		t.Errorf("yaml:\n%s", b.String())
	}
	b.Reset()
	printPods(&b, []*corev1.Pod{p, p}, "json", false, false)
	if !strings.Contains(b.String(), `"kind": "List"`) || strings.Count(b.String(), `"kind":"Pod"`)+strings.Count(b.String(), `"kind": "Pod"`) != 2 {
		t.Errorf("json list:\n%.400s", b.String())
	}
}

func TestQOSClass(t *testing.T) {
	res := func(l, r string) corev1.ResourceRequirements {
		out := corev1.ResourceRequirements{}
		if l != "" {
			out.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(l), corev1.ResourceMemory: resource.MustParse("64Mi")}
		}
		if r != "" {
			out.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(r), corev1.ResourceMemory: resource.MustParse("64Mi")}
		}
		return out
	}
	for _, c := range []struct {
		rs   []corev1.ResourceRequirements
		want corev1.PodQOSClass
	}{
		{[]corev1.ResourceRequirements{{}, {}}, corev1.PodQOSBestEffort},
		{[]corev1.ResourceRequirements{res("1", ""), res("500m", "500m")}, corev1.PodQOSGuaranteed},
		{[]corev1.ResourceRequirements{res("1", "500m")}, corev1.PodQOSBurstable},
		{[]corev1.ResourceRequirements{res("1", ""), {}}, corev1.PodQOSBurstable},
	} {
		var s corev1.PodSpec
		for i, r := range c.rs {
			s.Containers = append(s.Containers, corev1.Container{Name: string(rune('a' + i)), Resources: r})
		}
		if got := pod.QOSClass(&s); got != c.want {
			t.Errorf("%v: %s, want %s", c.rs, got, c.want)
		}
	}
}

// up says of each object what kubectl apply would: created, configured or
// unchanged against what is stored.
func TestAppliedLines(t *testing.T) {
	cm := func(name, v string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Data: map[string]string{"k": v}}
	}
	known := &pod.Objects{ConfigMaps: []*corev1.ConfigMap{cm("same", "1"), cm("changed", "1")},
		Secrets: []*corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Name: "same", Namespace: "other"}}}}
	o := &pod.Objects{ConfigMaps: []*corev1.ConfigMap{cm("same", "1"), cm("changed", "2"), cm("new", "1")},
		Secrets: []*corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Name: "same", Namespace: "default"}}}}
	got := strings.Join(appliedLines(o, known), "\n")
	want := "configmap/same unchanged\nconfigmap/changed configured\nconfigmap/new created\nsecret/same created"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
