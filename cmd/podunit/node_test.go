package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/podunit/podunit/runner"
)

var (
	testBoot = time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	testNow  = testBoot.Add(3*time.Hour + 5*time.Minute)
)

func testHost() hostFacts {
	return hostFacts{
		name:     "box",
		labels:   map[string]string{"kubernetes.io/hostname": "box", "kubernetes.io/os": "linux", "disk": "ssd"},
		cpus:     2,
		memory:   1 << 30,
		storage:  10<<30 + 100, // whole Ki, as the kubelet reports it
		extended: map[string]int64{"example.com/dongle": 2},
		boot:     testBoot,
		ips:      []string{"192.0.2.2", "fd00::2"},
		kernel:   "6.1.0-13-amd64",
		osImage:  "Debian GNU/Linux 12 (bookworm)",
		runtime:  "4.3.1",
		version:  "0.1.0",
	}
}

func TestNodeObject(t *testing.T) {
	f := testHost()
	n := nodeObject(f, testNow)
	if n.Kind != "Node" || n.APIVersion != "v1" || n.Name != "box" || !n.CreationTimestamp.Time.Equal(testBoot) {
		t.Errorf("node: %+v", n.ObjectMeta)
	}
	f.labels["disk"] = "hdd"
	if n.Labels["disk"] != "ssd" {
		t.Error("the node's labels are the host's facts' own map")
	}
	for name, want := range map[corev1.ResourceName]string{"cpu": "2", "memory": "1Gi", "ephemeral-storage": "10Gi", "example.com/dongle": "2"} {
		c, a := n.Status.Capacity[name], n.Status.Allocatable[name]
		if c.String() != want || a.String() != want {
			t.Errorf("%s: capacity %s, allocatable %s, want %s", name, c.String(), a.String(), want)
		}
	}
	if got := n.Status.Addresses; len(got) != 3 || got[0] != (corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "192.0.2.2"}) || got[2].Type != corev1.NodeHostName || got[2].Address != "box" {
		t.Errorf("addresses: %+v", got)
	}
	if i := n.Status.NodeInfo; i.ContainerRuntimeVersion != "podman://4.3.1" || i.KubeletVersion != "podunit-0.1.0" || i.KernelVersion != "6.1.0-13-amd64" {
		t.Errorf("node info: %+v", i)
	}
	if nodeStatus(n) != "Ready" {
		t.Errorf("status %s", nodeStatus(n))
	}
}

func TestPrintNodes(t *testing.T) {
	n := nodeObject(testHost(), testNow)
	print := func(names []string, sel labels.Selector, format string, showLabels bool) (string, string, error) {
		var out, errw bytes.Buffer
		err := printNodes(&out, &errw, n, names, byLabels(sel), format, tableOpts{labels: showLabels}, testNow)
		return out.String(), errw.String(), err
	}
	out, _, err := print(nil, labels.Everything(), "", false)
	want := "NAME   STATUS   ROLES    AGE    VERSION\nbox    Ready    <none>   3h5m   podunit-0.1.0\n"
	if err != nil || out != want {
		t.Errorf("table: %v\n%q\nwant\n%q", err, out, want)
	}
	out, _, _ = print([]string{"box"}, labels.Everything(), "wide", true)
	for _, s := range []string{"INTERNAL-IP", "192.0.2.2", "Debian GNU/Linux 12 (bookworm)", "6.1.0-13-amd64", "podman://4.3.1", "disk=ssd,kubernetes.io/hostname=box,kubernetes.io/os=linux"} {
		if !strings.Contains(out, s) {
			t.Errorf("wide with labels lacks %q:\n%s", s, out)
		}
	}
	if out, _, _ = print(nil, labels.Everything(), "name", false); out != "node/box\n" {
		t.Errorf("-o name: %q", out)
	}
	if out, _, _ = print([]string{"box"}, labels.Everything(), "jsonpath={.status.capacity.example\\.com/dongle}", false); out != "2" {
		t.Errorf("jsonpath of the one node: %q", out)
	}
	sel, _ := labels.Parse("disk=hdd")
	if out, errOut, err := print(nil, sel, "", false); err != nil || out != "" || !strings.Contains(errOut, "No resources found") {
		t.Errorf("a selector the host's labels do not match: %v %q %q", err, out, errOut)
	}
	sel, _ = labels.Parse("disk in (ssd,nvme)")
	if out, _, _ := print(nil, sel, "name", false); out != "node/box\n" {
		t.Errorf("a selector that matches: %q", out)
	}
	_, _, err = print([]string{"other"}, labels.Everything(), "", false)
	if !errors.Is(err, runner.ErrNotFound) || !strings.Contains(err.Error(), `node "other" not found`) || !strings.Contains(err.Error(), `"box"`) {
		t.Errorf("another node's name: %v", err)
	}
}

func TestDescribeNode(t *testing.T) {
	n := nodeObject(testHost(), testNow)
	always := corev1.ContainerRestartPolicyAlways
	res := func(req, lim corev1.ResourceList) corev1.ResourceRequirements {
		return corev1.ResourceRequirements{Requests: req, Limits: lim}
	}
	q := resource.MustParse
	started := metav1.NewTime(testNow.Add(-10 * time.Minute))
	web := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "proxy", RestartPolicy: &always, Resources: res(corev1.ResourceList{"cpu": q("100m")}, nil)}},
			Containers: []corev1.Container{{Name: "app", Resources: res(
				corev1.ResourceList{"cpu": q("400m"), "memory": q("64Mi"), "ephemeral-storage": q("512Mi")},
				corev1.ResourceList{"cpu": q("1"), "memory": q("128Mi"), "ephemeral-storage": q("1Gi"), "example.com/dongle": q("1")})}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, StartTime: &started}}
	db := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "data"},
		Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "db", Resources: res(nil, corev1.ResourceList{"memory": q("256Mi")})}}},
		Status: corev1.PodStatus{Phase: corev1.PodPending, StartTime: &started}}
	done := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "job", Namespace: "default"},
		Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "j", Resources: res(corev1.ResourceList{"cpu": q("1")}, nil)}}},
		Status: corev1.PodStatus{Phase: corev1.PodSucceeded}}
	var out bytes.Buffer
	if err := describeNode(&out, n, []*corev1.Pod{web, done, db}, testNow); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, s := range []string{
		"Name:               box\n",
		"Labels:             disk=ssd\n                    kubernetes.io/hostname=box\n",
		"  Ready  True",
		"  InternalIP:  192.0.2.2\n",
		"Capacity:\n  cpu:                 2\n  memory:              1Gi\n  ephemeral-storage:   10Gi\n  example.com/dongle:  2\n",
		"  Container Runtime Version:  podman://4.3.1\n",
		"Non-terminated Pods:  (2 in total)\n",
		// the succeeded pod is not there; namespaces in order
		"  data       db    0 (0%)        0 (0%)      256Mi (25%)      256Mi (25%)    10m\n",
		// a sidecar's request counts, a limit-less sidecar adds 0 to the limits
		"  default    web   500m (25%)    1 (50%)     64Mi (6%)        128Mi (12%)    10m\n",
		"  cpu                 500m (25%)   1 (50%)\n",
		"  memory              320Mi (31%)  384Mi (37%)\n",
		"  ephemeral-storage   512Mi (5%)   1Gi (10%)\n",
		"  example.com/dongle  1            1\n",
		"Events:  <none>\n",
	} {
		if !strings.Contains(got, s) {
			t.Errorf("describe node lacks %q:\n%s", s, got)
		}
	}
	if strings.Contains(got, "job") {
		t.Errorf("a pod that ended is listed:\n%s", got)
	}
}

func TestNodeArg(t *testing.T) {
	for _, c := range []struct {
		args []string
		name string
		ok   bool
	}{
		{[]string{"node"}, "", true},
		{[]string{"nodes"}, "", true},
		{[]string{"no", "box"}, "box", true},
		{[]string{"node/box"}, "box", true},
		{[]string{"web"}, "", false},
		{[]string{"pod/web"}, "", false},
		{[]string{"node", "a", "b"}, "", false},
		{nil, "", false},
	} {
		if name, ok := nodeArg(c.args); name != c.name || ok != c.ok {
			t.Errorf("nodeArg(%q) = %q, %v; want %q, %v", c.args, name, ok, c.name, c.ok)
		}
	}
}

func TestHostFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if got := osImage(write("os-release", "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\nID=debian\n")); got != "Debian GNU/Linux 13 (trixie)" {
		t.Errorf("os image %q", got)
	}
	if got := osImage(filepath.Join(dir, "none")); got != "Unknown" {
		t.Errorf("no os-release: %q", got)
	}
	if got, err := memTotal(write("meminfo", "MemTotal:       24683664 kB\nMemFree:        1 kB\n")); err != nil || got != 24683664*1024 {
		t.Errorf("mem total %d %v", got, err)
	}
	if _, err := memTotal(write("meminfo2", "MemFree: 1 kB\n")); err == nil {
		t.Error("no MemTotal: no error")
	}
	if got, err := bootTime(write("stat", "cpu  1 2 3\nbtime 1764838800\nprocesses 9\n")); err != nil || got.Unix() != 1764838800 {
		t.Errorf("boot time %v %v", got, err)
	}
}

func TestTopNodeFigures(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	busy, err := busyMicros([]byte("cpu  100 5 50 9000 40 3 2 1 7 0\ncpu0 1 2 3 4 5 6 7 8\n"))
	if err != nil || busy != (100+5+50+3+2+1)*10000 {
		t.Errorf("busy %d %v, want %d (idle, iowait and guest left out)", busy, err, (100+5+50+3+2+1)*10000)
	}
	if _, err := busyMicros([]byte("intr 1 2\n")); err == nil {
		t.Error("no cpu line: no error")
	}
	total, used, err := memoryInUse([]byte("MemTotal:  2097152 kB\nMemFree: 1 kB\nMemAvailable:  1572864 kB\n"))
	if err != nil || total != 2<<30 || used != 512<<20 {
		t.Errorf("memory %d %d %v", total, used, err)
	}
	if _, _, err := memoryInUse([]byte("MemTotal:  2097152 kB\n")); err == nil {
		t.Error("no MemAvailable: no error")
	}
	var out bytes.Buffer
	if err := printTopNode(&out, "box", 250, 2, 512<<20, 2<<30); err != nil {
		t.Fatal(err)
	}
	want := "NAME   CPU(cores)   CPU(%)   MEMORY(bytes)   MEMORY(%)\nbox    250m         12%      512Mi           25%\n"
	if out.String() != want {
		t.Errorf("top node:\n%q\nwant\n%q", out.String(), want)
	}
}
