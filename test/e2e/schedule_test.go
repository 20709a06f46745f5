package e2e

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Required node affinity is matched against this host's labels (the built-in
// ones and ~/.config/podunit/node-labels): a pod that does not fit exits 2
// with the reason and creates nothing; one that fits runs.
func TestNodeAffinity(t *testing.T) {
	nodeFile(t, `disk=ssd\ncores=8\n`)
	manifest := func(name, terms string) string {
		return `
apiVersion: v1
kind: Pod
metadata: {name: ` + name + `}
spec:
  terminationGracePeriodSeconds: 1
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms: ` + terms + `
      preferredDuringSchedulingIgnoredDuringExecution:
      - {weight: 1, preference: {matchExpressions: [{key: zone, operator: In, values: [a]}]}}
  containers:
  - {name: c, image: ` + testImage + `, command: [sleep, "3600"]}
`
	}
	r := run(t, podunit, "up", writeManifest(t, manifest("aff-no", `[{matchExpressions: [{key: disk, operator: In, values: [hdd]}]}, {matchExpressions: [{key: cores, operator: Gt, values: ["16"]}]}]`)))
	if r.code != 2 || !strings.Contains(r.stderr, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution: no term matches this host") ||
		!strings.Contains(r.stderr, `disk In [hdd]: this host has "ssd"`) || !strings.Contains(r.stderr, `term 1: cores Gt [16]`) {
		t.Errorf("a pod that does not fit: exit %d\n%s", r.code, r.stderr)
	}
	assertGone(t, "aff-no")
	out := run(t, podunit, "up", writeManifest(t, manifest("aff-yes", `[{matchExpressions: [{key: disk, operator: In, values: [ssd]}, {key: cores, operator: Lt, values: ["16"]}, {key: gpu, operator: DoesNotExist}]}]`)))
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", "aff-yes") })
	if out.code != 0 || !strings.Contains(out.stderr, "preferredDuringSchedulingIgnoredDuringExecution: ignored") {
		t.Errorf("a pod that fits: exit %d\n%s%s", out.code, out.stdout, out.stderr)
	}
	if st := status(t, "aff-yes"); st == nil || st.Phase != "Running" {
		t.Errorf("the pod that fits: %+v", st)
	}
}

// A pod with scheduling gates waits, reported SchedulingGated, with nothing
// started; `ungate` removes gates one by one and the pod starts when none is
// left; down removes a waiting pod.
func TestSchedulingGates(t *testing.T) {
	const pod = "gated"
	path := writeManifest(t, `
apiVersion: v1
kind: ConfigMap
metadata: {name: gated-cfg}
data: {GREETING: hi}
---
apiVersion: v1
kind: Pod
metadata: {name: gated}
spec:
  terminationGracePeriodSeconds: 1
  schedulingGates: [{name: example.com/quota}, {name: example.com/approval}]
  containers:
  - {name: c, image: `+testImage+`, command: [sleep, "3600"], envFrom: [{configMapRef: {name: gated-cfg}}]}
`)
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", pod, path) })
	out := must(t, podunit, "up", path)
	if !strings.Contains(out, "pod/gated created, SchedulingGated (example.com/quota, example.com/approval)") {
		t.Errorf("up said:\n%s", out)
	}
	if st := status(t, pod); st == nil || st.Phase != "Pending" || len(st.Containers) != 0 {
		t.Fatalf("a gated pod: %+v", st)
	}
	if ps := must(t, podunit, "ps"); !strings.Contains(ps, "SchedulingGated") {
		t.Errorf("ps:\n%s", ps)
	}
	if units := must(t, "systemctl", "--user", "list-units", "--all", "--plain", "--no-legend", "podunit-gated*"); strings.TrimSpace(units) != "" {
		t.Errorf("units of a gated pod:\n%s", units)
	}
	if r := run(t, podunit, "up", path); r.code != 3 {
		t.Errorf("up of a waiting pod again: exit %d\n%s", r.code, r.stderr)
	}
	if r := run(t, podunit, "ungate", pod, "example.com/nope"); r.code != 2 || !strings.Contains(r.stderr, `no scheduling gate "example.com/nope"`) {
		t.Errorf("an unknown gate: exit %d\n%s", r.code, r.stderr)
	}
	if out := must(t, podunit, "ungate", pod, "example.com/quota"); !strings.Contains(out, "still SchedulingGated (example.com/approval)") {
		t.Errorf("ungate one of two:\n%s", out)
	}
	if st := status(t, pod); st == nil || st.Phase != "Pending" {
		t.Fatalf("after one gate: %+v", st)
	}
	if out := must(t, podunit, "ungate", pod, "example.com/approval"); !strings.Contains(out, "pod/gated started") {
		t.Errorf("ungate the last:\n%s", out)
	}
	eventually(t, 30*time.Second, "the ungated pod running", func() bool {
		st := status(t, pod)
		return st != nil && st.Phase == "Running" && st.Ready == 1
	})
	if env := must(t, "podman", "exec", ctrName(pod, "c"), "env"); !strings.Contains(env, "GREETING=hi") {
		t.Errorf("the ungated pod lacks its ConfigMap's variable:\n%s", env)
	}
	if r := run(t, podunit, "ungate", pod, "--all"); r.code != 3 {
		t.Errorf("ungate of a running pod: exit %d", r.code)
	}
	must(t, podunit, "down", "--grace-period", "0", "--force", pod)
	assertGone(t, pod)

	// A waiting pod goes with down, and nothing is left of it.
	must(t, podunit, "up", path)
	if out := must(t, podunit, "down", pod); !strings.Contains(out, "pod/gated removed") {
		t.Errorf("down of a waiting pod:\n%s", out)
	}
	if st := status(t, pod); st != nil {
		t.Errorf("after down: %+v", st)
	}
}

// This host is the one node: `get nodes` shows it with the labels
// nodeSelector matches (the node file's too), its capacity with the node
// file's extended resources, `describe node` what the pods that run ask
// for of it, `top node` what the host uses; another node's name is not
// found (exit 3); `label node` sets and removes the host's labels.
func TestNodeView(t *testing.T) {
	nodeFile(t, `disk=ssd\nexample.com/dongle: 3\n`)
	host := strings.TrimSpace(must(t, "hostname"))
	up(t, `
apiVersion: v1
kind: Pod
metadata: {name: node-view}
spec:
  terminationGracePeriodSeconds: 1
  nodeSelector: {disk: ssd}
  containers:
  - name: c
    image: `+testImage+`
    command: [sleep, "3600"]
    resources:
      requests: {cpu: 250m, memory: 32Mi, ephemeral-storage: 64Mi}
      limits: {cpu: 500m, memory: 64Mi, example.com/dongle: "2", ephemeral-storage: 128Mi}
    env:
    - {name: DISK_MI, valueFrom: {resourceFieldRef: {resource: limits.ephemeral-storage, divisor: 1Mi}}}
  - name: bare
    image: `+testImage+`
    command: [sleep, "3600"]
    env:
    # no limits: the node's allocatable, as the kubelet gives
    - {name: MEM_KI, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Ki}}}
    - {name: CPUS, valueFrom: {resourceFieldRef: {resource: limits.cpu}}}
    - {name: MEM_REQ, valueFrom: {resourceFieldRef: {resource: requests.memory}}}
`, "node-view")

	env := func(c, name string) string {
		return strings.TrimSpace(must(t, "podman", "exec", ctrName("node-view", c), "sh", "-c", "echo $"+name))
	}
	if got := env("c", "DISK_MI"); got != "128" {
		t.Errorf("limits.ephemeral-storage in Mi: %q", got)
	}
	alloc := strings.Fields(must(t, podunit, "get", "node", host, "-o", `jsonpath={.status.allocatable.memory} {.status.allocatable.cpu} {.status.allocatable.ephemeral-storage}`))
	if len(alloc) != 3 || !strings.HasSuffix(alloc[0], "Ki") {
		t.Fatalf("the node's allocatable memory, cpu and ephemeral-storage: %q", alloc)
	}
	if got := env("bare", "MEM_KI") + "Ki"; got != alloc[0] {
		t.Errorf("limits.memory of a container without one: %s, the node's allocatable %s", got, alloc[0])
	}
	if got := env("bare", "CPUS"); got != alloc[1] {
		t.Errorf("limits.cpu of a container without one: %s, the node's allocatable %s", got, alloc[1])
	}
	if got := env("bare", "MEM_REQ"); got != "0" {
		t.Errorf("requests.memory of a container without requests or limits: %q", got)
	}

	out := must(t, podunit, "get", "nodes", "--show-labels")
	if !strings.Contains(out, host+" ") || !strings.Contains(out, " Ready ") || !strings.Contains(out, "disk=ssd") || !strings.Contains(out, "kubernetes.io/hostname="+host) {
		t.Errorf("get nodes --show-labels:\n%s", out)
	}
	if got := must(t, podunit, "get", "node", host, "-o", `jsonpath={.status.capacity.example\.com/dongle} {.status.nodeInfo.containerRuntimeVersion}`); !strings.HasPrefix(got, "3 podman://") {
		t.Errorf("capacity and runtime: %q", got)
	}
	if got := strings.TrimSpace(must(t, podunit, "get", "nodes", "-l", "disk=ssd", "-o", "name")); got != "node/"+host {
		t.Errorf("get nodes -l disk=ssd -o name: %q", got)
	}
	desc := must(t, podunit, "describe", "node")
	for _, s := range []string{"Name:               " + host, "disk=ssd", "example.com/dongle:", "Non-terminated Pods:  (1 in total)", "node-view", "250m (", "32Mi (", "64Mi ("} {
		if !strings.Contains(desc, s) {
			t.Errorf("describe node lacks %q:\n%s", s, desc)
		}
	}
	if !regexp.MustCompile(`(?m)^\s+example\.com/dongle\s+2\s+2\s*$`).MatchString(desc) {
		t.Errorf("describe node: the pod's 2 dongles not in the allocated resources:\n%s", desc)
	}
	if !regexp.MustCompile(`(?m)^\s+ephemeral-storage\s+64Mi \(\d+%\)\s+128Mi \(\d+%\)\s*$`).MatchString(desc) {
		t.Errorf("describe node: the pod's ephemeral-storage not in the allocated resources:\n%s", desc)
	}
	// top node while one CPU is kept busy: at least most of a core
	top := must(t, "sh", "-c", `sh -c 'while :; do :; done' & p=$!; `+podunit+` top node --window 1s; kill $p`)
	if m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(host) + `\s+(\d+)m\s+\d+%\s+(\d+)Mi\s+\d+%\s*$`).FindStringSubmatch(top); m == nil {
		t.Errorf("top node:\n%s", top)
	} else if cpu, _ := strconv.Atoi(m[1]); cpu < 700 || m[2] == "0" {
		t.Errorf("top node with a busy loop running: %sm of CPU, %sMi of memory\n%s", m[1], m[2], top)
	}
	if r := run(t, podunit, "get", "node", "not-"+host); r.code != 3 || !strings.Contains(r.stderr, `node "not-`+host+`" not found`) {
		t.Errorf("another node: exit %d\n%s", r.code, r.stderr)
	}

	// kubectl label node: a pod whose nodeSelector wants a label the host
	// lacks is refused, saying how to see and set the host's labels; once
	// `label node` sets it, the pod runs. The node file keeps its other lines.
	fitting := writeManifest(t, `
apiVersion: v1
kind: Pod
metadata: {name: node-label}
spec:
  terminationGracePeriodSeconds: 1
  nodeSelector: {tier: edge}
  containers:
  - {name: c, image: `+testImage+`, command: [sleep, "3600"]}
`)
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", "node-label") })
	if r := run(t, podunit, "up", fitting); r.code != 2 || !strings.Contains(r.stderr, `spec.nodeSelector[tier]: wants "edge", this host has no such label`) ||
		!strings.Contains(r.stderr, "podunit label node NODE KEY=VALUE") {
		t.Errorf("a pod that wants a label the host lacks: exit %d\n%s", r.code, r.stderr)
	}
	if out := must(t, podunit, "label", "node", host, "tier=edge"); out != "node/"+host+" labeled\n" {
		t.Errorf("label node: %q", out)
	}
	if out := must(t, podunit, "get", "nodes", "--show-labels"); !strings.Contains(out, "tier=edge") || !strings.Contains(out, "disk=ssd") {
		t.Errorf("get nodes --show-labels after label node:\n%s", out)
	}
	if r := run(t, podunit, "up", fitting); r.code != 0 {
		t.Errorf("the pod once the host has the label: exit %d\n%s", r.code, r.stderr)
	}
	if r := run(t, podunit, "label", "node", host, "tier=core"); r.code != 3 || !strings.Contains(r.stderr, "this host has label tier=edge already (--overwrite changes it)") {
		t.Errorf("a changed value without --overwrite: exit %d\n%s", r.code, r.stderr)
	}
	must(t, podunit, "label", "node/"+host, "tier-")
	if got := must(t, "sh", "-c", `cat "$HOME/.config/podunit/node-labels"`); got != "disk=ssd\nexample.com/dongle: 3\n" {
		t.Errorf("the node file after tier-: %q", got)
	}
	if st := status(t, "node-label"); st == nil || st.Phase != "Running" {
		t.Errorf("a running pod after its node label went (IgnoredDuringExecution): %+v", st)
	}
}
