package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"slices"
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
	if setup := p.Status.InitContainerStatuses[0]; !setup.Ready || setup.State.Terminated == nil {
		t.Errorf("a completed init container is ready, as the kubelet has it: %+v", setup)
	}
	proxy := p.Status.InitContainerStatuses[1]
	if proxy.State.Running == nil || !proxy.State.Running.StartedAt.Time.Equal(started.Add(time.Second)) || proxy.ContainerID != "podman://abc" || proxy.ImageID != "sha256:def" || !*proxy.Started {
		t.Errorf("proxy: %+v", proxy)
	}
	if applied.Status.Phase != "" {
		t.Error("the applied pod was changed")
	}

	var b bytes.Buffer
	if err := printPods(&b, []*corev1.Pod{p}, "", false, tableOpts{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "web    1/2     CrashLoopBackOff   2") {
		t.Errorf("table:\n%s", b.String())
	}
	b.Reset()
	if err := printPods(&b, []*corev1.Pod{p}, "wide", false, tableOpts{nsColumn: true, labels: true}); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(b.String(), "\n"); !strings.HasPrefix(lines[0], "NAMESPACE   NAME   READY") || !strings.HasPrefix(lines[1], p.Namespace+" ") ||
		!strings.HasSuffix(lines[0], "LABELS") || !strings.HasSuffix(lines[1], " "+labelList(p.Labels)) ||
		!regexp.MustCompile(`IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES\s+LABELS$`).MatchString(lines[0]) ||
		!regexp.MustCompile(`10\.0\.2\.100\s+\S+\s+<none>\s+<none>\s+`).MatchString(lines[1]) {
		t.Errorf("table with namespaces and labels:\n%s", b.String())
	}
	if got := labelList(map[string]string{"b": "2", "a": "1"}); got != "a=1,b=2" {
		t.Errorf("labels %q", got)
	}
	if got := labelList(nil); got != "<none>" {
		t.Errorf("no labels %q", got)
	}
	b.Reset()
	printPods(&b, []*corev1.Pod{p}, "yaml", true, tableOpts{})
	if !strings.HasPrefix(b.String(), "apiVersion: v1\nkind: Pod\n") || !strings.Contains(b.String(), "podIP: 10.0.2.100") {
		t.Errorf("yaml:\n%s", b.String())
	}
	b.Reset()
	printPods(&b, []*corev1.Pod{p, p}, "json", false, tableOpts{})
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

// up says where the Services published on this host are reached, as get
// svc's PORT(S) does; a Service of none says nothing.
func TestPublishedLines(t *testing.T) {
	svc := func(name string, typ corev1.ServiceType, ports ...corev1.ServicePort) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Spec: corev1.ServiceSpec{Type: typ, Ports: ports}}
	}
	web := svc("web", corev1.ServiceTypeLoadBalancer, corev1.ServicePort{Port: 18081, NodePort: 30000, Protocol: corev1.ProtocolTCP})
	web.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.2"}}
	got := strings.Join(publishedLines([]*corev1.Service{
		svc("inner", corev1.ServiceTypeClusterIP, corev1.ServicePort{Port: 80, Protocol: corev1.ProtocolTCP}),
		web,
		svc("low", corev1.ServiceTypeLoadBalancer, corev1.ServicePort{Port: 80, NodePort: 30001, Protocol: corev1.ProtocolTCP}),
		svc("dns", corev1.ServiceTypeNodePort, corev1.ServicePort{Port: 53, NodePort: 30053, Protocol: corev1.ProtocolUDP}, corev1.ServicePort{Port: 53, NodePort: 30054, Protocol: corev1.ProtocolTCP}),
	}), "\n")
	want := "service/web published on this host (load balancer 192.0.2.2): 18081/TCP; node ports 18081:30000/TCP\n" +
		"service/low published on this host (node ports; its load balancer <pending>): 80:30001/TCP\n" +
		"service/dns published on this host (node ports): 53:30053/UDP,53:30054/TCP"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// get's STATUS and READY follow kubectl's rules for every stage of a pod.
func TestPodSummary(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	yes := true
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	waiting := func(r string) corev1.ContainerState {
		return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: r}}
	}
	ended := func(code int32, reason string) corev1.ContainerState {
		return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason}}
	}
	spec := corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "i1"}, {Name: "i2"}, {Name: "side", RestartPolicy: &always}},
		Containers:     []corev1.Container{{Name: "a"}, {Name: "b"}},
	}
	cs := func(name string, st corev1.ContainerState, ready bool, restarts int32) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: name, State: st, Ready: ready, RestartCount: restarts, Started: &yes}
	}
	initialized := []corev1.PodCondition{{Type: corev1.PodInitialized, Status: corev1.ConditionTrue}}
	readyToo := append(initialized, corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue})
	for _, c := range []struct {
		name   string
		phase  corev1.PodPhase
		conds  []corev1.PodCondition
		inits  []corev1.ContainerStatus
		apps   []corev1.ContainerStatus
		delete bool
		want   string
	}{
		{"first init at work", "Pending", nil, []corev1.ContainerStatus{cs("i1", running, false, 0), cs("i2", waiting("PodInitializing"), false, 0)}, nil, false, "0/3 Init:0/3 0"},
		{"second init failed", "Pending", nil, []corev1.ContainerStatus{cs("i1", ended(0, "Completed"), false, 0), cs("i2", ended(1, "Error"), false, 2)}, nil, false, "0/3 Init:Error 2"},
		{"init crash loop", "Pending", nil, []corev1.ContainerStatus{cs("i1", waiting("CrashLoopBackOff"), false, 4)}, nil, false, "0/3 Init:CrashLoopBackOff 4"},
		{"running", "Running", readyToo, []corev1.ContainerStatus{cs("i1", ended(0, "Completed"), false, 0), cs("i2", ended(0, "Completed"), false, 0), cs("side", running, true, 1)},
			[]corev1.ContainerStatus{cs("a", running, true, 0), cs("b", running, true, 2)}, false, "3/3 Running 3"},
		{"one app done, one running", "Running", readyToo, nil, []corev1.ContainerStatus{cs("a", ended(0, "Completed"), false, 0), cs("b", running, true, 0)}, false, "1/3 Running 0"},
		{"one app done, one not ready", "Running", initialized, nil, []corev1.ContainerStatus{cs("a", running, false, 0), cs("b", ended(0, "Completed"), false, 0)}, false, "0/3 Completed 0"},
		{"succeeded", "Succeeded", initialized, nil, []corev1.ContainerStatus{cs("a", ended(0, "Completed"), false, 0), cs("b", ended(0, "Completed"), false, 0)}, false, "0/3 Completed 0"},
		{"failed", "Failed", initialized, nil, []corev1.ContainerStatus{cs("a", ended(0, "Completed"), false, 0), cs("b", ended(2, "Error"), false, 0)}, false, "0/3 Completed 0"},
		{"killed", "Failed", initialized, nil, []corev1.ContainerStatus{cs("a", ended(137, ""), false, 0)}, false, "0/3 ExitCode:137 0"},
		{"crash loop", "Running", initialized, nil, []corev1.ContainerStatus{cs("a", waiting("CrashLoopBackOff"), false, 5), cs("b", running, true, 0)}, false, "1/3 CrashLoopBackOff 5"},
		{"going", "Running", readyToo, nil, []corev1.ContainerStatus{cs("a", running, true, 0)}, true, "1/3 Terminating 0"},
	} {
		p := &corev1.Pod{Spec: spec, Status: corev1.PodStatus{Phase: c.phase, Conditions: c.conds, InitContainerStatuses: c.inits, ContainerStatuses: c.apps}}
		if c.delete {
			now := metav1.Now()
			p.DeletionTimestamp = &now
		}
		ready, total, status, restarts := podSummary(p)
		if got := fmt.Sprintf("%d/%d %s %d", ready, total, status, restarts); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

// RESTARTS says how long ago the last counted restart was, as kubectl does;
// AGE is worded as kubectl words it.
func TestRestartsColumn(t *testing.T) {
	finished := func(ago time.Duration, restarts int32) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: "a", RestartCount: restarts, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{FinishedAt: metav1.NewTime(time.Now().Add(-ago))}}}
	}
	p := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}, {Name: "b"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{finished(90*time.Second, 3), finished(20*time.Second, 1)}}}
	_, _, _, restarts, last := podSummaryAt(p)
	if got := restartsColumn(restarts, last); got != "4 (20s ago)" {
		t.Errorf("restarts %q, want 4 (20s ago)", got)
	}
	if got := restartsColumn(0, time.Time{}); got != "0" {
		t.Errorf("no restarts: %q", got)
	}
	for d, want := range map[time.Duration]string{5 * time.Second: "5s", 150 * time.Second: "2m30s", 3 * time.Hour: "3h", 50 * time.Hour: "2d2h"} {
		if got := age(time.Now().Add(-d)); got != want {
			t.Errorf("age %s: %q, want %q", d, got, want)
		}
	}
}

// A pod that completed, its sidecar stopped after its app containers (exit
// 137 after the grace period), is Completed and Initialized, 0/2 ready, as
// kubectl shows it; so is a pod whose sidecar restarts under a running app.
func TestCompletedPodWithSidecar(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	applied := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "job", Namespace: "default"},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
			InitContainers: []corev1.Container{{Name: "side", Image: "img:1", RestartPolicy: &always}},
			Containers:     []corev1.Container{{Name: "work", Image: "img:1"}}}}
	zero, killed := 0, 137
	st := runner.PodStatus{Name: "job", Phase: "Succeeded", Ready: 0, Total: 2, Containers: []runner.ContainerStatus{
		{Name: "side", Kind: "sidecar", State: "Terminated", Reason: "Error", ExitCode: &killed},
		{Name: "work", Kind: "app", State: "Terminated", Reason: "Completed", ExitCode: &zero}}}
	p := v1Pod(applied, st, podFacts{})
	ready, total, status, _ := podSummary(p)
	if ready != 0 || total != 2 || status != "Completed" || !conditionTrue(p, corev1.PodInitialized) {
		t.Errorf("completed: %d/%d %s, initialized %v", ready, total, status, conditionTrue(p, corev1.PodInitialized))
	}

	st = runner.PodStatus{Name: "job", Phase: "Running", Ready: 1, Total: 2, Containers: []runner.ContainerStatus{
		{Name: "side", Kind: "sidecar", State: "Waiting", Reason: "CrashLoopBackOff", Restarts: 2, LastExitCode: &killed},
		{Name: "work", Kind: "app", State: "Running", Ready: true}}}
	p = v1Pod(applied, st, podFacts{})
	if !conditionTrue(p, corev1.PodInitialized) {
		t.Error("a pod whose app container runs is not initialized while its sidecar restarts")
	}
	// before any app container ran, a sidecar that is not running holds it back
	st.Containers[1] = runner.ContainerStatus{Name: "work", Kind: "app", State: "Waiting", Reason: "PodInitializing"}
	if p = v1Pod(applied, st, podFacts{}); conditionTrue(p, corev1.PodInitialized) {
		t.Error("initialized before the sidecar ever ran")
	}
}

// get -w prints a line for a pod that changed, and one saying Terminating
// for a pod that went between two looks (as kubectl prints a deleted pod),
// but no second one for a pod whose last line said Terminating already.
func TestWatchPods(t *testing.T) {
	old := watchEvery
	watchEvery = time.Millisecond
	t.Cleanup(func() { watchEvery = old })
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	pod := func(name string, ready, going bool) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.Now()},
			Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "c", State: running, Ready: ready}}}}
		if going {
			now := metav1.Now()
			p.DeletionTimestamp = &now
		}
		return p
	}
	looks := [][]*corev1.Pod{
		{pod("a", true, false), pod("b", true, false), pod("c", true, false)}, // no change
		{pod("a", false, false), pod("c", true, true)},                        // a not ready, b went, c going
		{pod("a", false, false), pod("d", true, false)},                       // c went, d new
		{}, // a and d went
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	var b bytes.Buffer
	err := watchPods(ctx, &b, looks[0], "", tableOpts{}, func() ([]*corev1.Pod, error) {
		if n >= len(looks)-1 {
			// the last look: the watch ends, though its ticker may have
			// fired once more meanwhile (select picks either), which then
			// sees the same
			cancel()
			return looks[len(looks)-1], nil
		}
		n++
		return looks[n-1], nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		f := strings.Fields(l)
		got = append(got, strings.Join(f[:3], " "))
	}
	want := []string{"a 0/1 Running", "c 1/1 Terminating", "b 1/1 Terminating", "d 1/1 Running", "a 0/1 Terminating", "d 1/1 Terminating"}
	if !slices.Equal(got, want) {
		t.Errorf("lines:\n%s\nwant (name ready status) %q", b.String(), want)
	}
}

// The conditions carry when they last changed, as the containers' records
// tell it: Initialized when the init container completed, Ready when the
// last container became ready (its probe's verdict, or its start without
// one); not ready, when a container's run ended or its probe failed.
func TestConditionTransitions(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	applied := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.PodSpec{InitContainers: []corev1.Container{{Name: "setup", Image: "i"}},
			Containers: []corev1.Container{{Name: "a", Image: "i"}, {Name: "b", Image: "i"}}}}
	zero := 0
	st := runner.PodStatus{Name: "web", Phase: "Running", Ready: 2, Total: 2, Containers: []runner.ContainerStatus{
		{Name: "setup", Kind: "init", State: "Terminated", Reason: "Completed", ExitCode: &zero},
		{Name: "a", Kind: "app", State: "Running", Ready: true},
		{Name: "b", Kind: "app", State: "Running", Ready: true}}}
	f := podFacts{created: t0, runs: map[string]podstate.Run{
		"setup": {Finished: t0.Add(2 * time.Second)},
		"a":     {Started: t0.Add(3 * time.Second)},
		"b":     {Started: t0.Add(3 * time.Second)}},
		readySince: map[string]time.Time{"b": t0.Add(9 * time.Second)}} // b's readiness probe passed at 9 s
	at := func(p *corev1.Pod) map[corev1.PodConditionType]time.Time {
		m := map[corev1.PodConditionType]time.Time{}
		for _, c := range p.Status.Conditions {
			m[c.Type] = c.LastTransitionTime.Time
		}
		return m
	}
	got := at(v1Pod(applied, st, f))
	if !got[corev1.PodScheduled].Equal(t0) || !got[corev1.PodInitialized].Equal(t0.Add(2*time.Second)) ||
		!got[corev1.ContainersReady].Equal(t0.Add(9*time.Second)) || !got[corev1.PodReady].Equal(t0.Add(9*time.Second)) {
		t.Errorf("ready: %v", got)
	}
	// a's run ended at 20 s: not ready since
	st.Ready, st.Containers[1] = 1, runner.ContainerStatus{Name: "a", Kind: "app", State: "Waiting", Reason: "CrashLoopBackOff"}
	f.runs["a"] = podstate.Run{Finished: t0.Add(20 * time.Second)}
	if got := at(v1Pod(applied, st, f)); !got[corev1.PodReady].Equal(t0.Add(20 * time.Second)) {
		t.Errorf("not ready: %v", got)
	}
	// b's probe failed at 30 s, a back and ready meanwhile
	st.Containers[1] = runner.ContainerStatus{Name: "a", Kind: "app", State: "Running", Ready: true}
	st.Containers[2] = runner.ContainerStatus{Name: "b", Kind: "app", State: "Running"}
	f.runs["a"] = podstate.Run{Started: t0.Add(25 * time.Second)}
	f.readySince["b"] = t0.Add(30 * time.Second)
	if got := at(v1Pod(applied, st, f)); !got[corev1.PodReady].Equal(t0.Add(30 * time.Second)) {
		t.Errorf("b's probe failed: %v", got)
	}
}

// --no-headers drops each table's header, whatever the writes' sizes.
func TestNoHeaders(t *testing.T) {
	in := "NAME  READY\nweb   1/1\ndb    0/1\n\nNAME   TYPE\nsvc/a  ClusterIP\n"
	for _, size := range []int{1, 3, len(in)} {
		var b strings.Builder
		w := &noHeaders{w: &b, lineStart: true, table: true}
		for i := 0; i < len(in); i += size {
			if _, err := w.Write([]byte(in[i:min(i+size, len(in))])); err != nil {
				t.Fatal(err)
			}
		}
		if want := "web   1/1\ndb    0/1\n\nsvc/a  ClusterIP\n"; b.String() != want {
			t.Errorf("writes of %d: %q, want %q", size, b.String(), want)
		}
	}
}
