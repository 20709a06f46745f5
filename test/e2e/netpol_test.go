package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/podunit/podunit/units"
)

// netpolServer: a server behind a Service, whose NetworkPolicy admits the
// frontend's pods on its named port only. Its readiness probe keeps working
// under the policy (the prober is the node's, as the kubelet's is).
const netpolServer = `
apiVersion: v1
kind: Service
metadata: {name: npsrv}
spec:
  selector: {app: npsrv}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: npsrv-in}
spec:
  podSelector: {matchLabels: {app: npsrv}}
  ingress:
  - from: [{podSelector: {matchLabels: {role: frontend}}}]
    ports: [{port: http}]
---
apiVersion: v1
kind: Pod
metadata: {name: npsrv, labels: {app: npsrv}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: server
    image: ` + serverImage + `
    args: ["-listen", ":8080"]
    ports: [{name: http, containerPort: 8080}]
    readinessProbe: {httpGet: {path: /, port: http}, periodSeconds: 1}
`

// netpolClients: a frontend pod and another whose egress is the cluster
// DNS only. Each one's init container tries the server once, at its very
// start (restartPolicy Never: a failed try fails the pod): the frontend's
// gets through, by the Service and by the pod's address; the other's does
// not: the policies hold from a pod's first packet.
func netpolClients(srvIP string) string {
	return fmt.Sprintf(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: other-out}
spec:
  podSelector: {matchLabels: {role: other}}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]
    ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
---
apiVersion: v1
kind: Pod
metadata: {name: npfront, labels: {role: frontend}}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: first
    image: %[1]s
    command: ["sh", "-c", "timeout 3 wget -q -O- http://npsrv/hostname && timeout 3 wget -q -O- http://%[2]s:8080/hostname"]
  containers:
  - {name: c, image: %[1]s, command: ["sleep", "3600"]}
---
apiVersion: v1
kind: Pod
metadata: {name: npother, labels: {role: other}}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: first
    image: %[1]s
    command: ["sh", "-c", "! timeout 2 wget -q -O- http://%[2]s:8080/hostname && ! timeout 2 wget -q -O- http://npsrv/hostname && nslookup npsrv.default.svc.cluster.local"]
  containers:
  - {name: c, image: %[1]s, command: ["sleep", "3600"]}
`, testImage, srvIP)
}

// TestNetworkPolicy: NetworkPolicies are enforced in the pods' network
// namespaces and in the service proxy, from a pod's first packet, follow
// policies applied and deleted while the pods run, and leave podunit's own
// access (probes, port-forward, exec) alone.
func TestNetworkPolicy(t *testing.T) {
	run(t, podunit, "down", "--grace-period", "0", "--force", "npsrv", "npfront", "npother")
	srv := up(t, netpolServer, "npsrv")
	t.Cleanup(func() { run(t, podunit, "down", srv) })
	if out := must(t, podunit, "wait", "--for=condition=Ready", "pod/npsrv", "--timeout", "60s"); !strings.Contains(out, "condition met") {
		t.Fatalf("the server is not ready under its policy: %s", out)
	}
	srvIP := strings.TrimSpace(must(t, podunit, "get", "pod", "npsrv", "-o", "jsonpath={.status.podIP}"))
	if !regexp.MustCompile(`^10\.96\.\d+\.\d+$`).MatchString(srvIP) {
		t.Fatalf("the server's address: %q", srvIP)
	}
	clients := up(t, netpolClients(srvIP), "npfront", "npother")
	t.Cleanup(func() { run(t, podunit, "down", clients) })

	// both init containers did as their first try said
	for _, p := range []string{"npfront", "npother"} {
		eventually(t, 60*time.Second, p+" running", func() bool { return podPhase(t, p) != "Pending" })
		if ph := podPhase(t, p); ph != "Running" {
			t.Fatalf("%s: phase %s (its first try at the server went the wrong way)\n%s", p, ph, run(t, podunit, "logs", p, "-c", "first").stdout)
		}
	}
	if out := must(t, podunit, "logs", "npfront", "-c", "first"); strings.Count(out, "npsrv") != 2 {
		t.Errorf("the frontend's first tries: %q", out)
	}
	if out := must(t, podunit, "get", "netpol"); !regexp.MustCompile(`(?m)^npsrv-in\s+app=npsrv\s`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^other-out\s+role=other\s`).MatchString(out) {
		t.Errorf("get netpol:\n%s", out)
	}

	if out := must(t, podunit, "describe", "netpol", "npsrv-in"); !regexp.MustCompile(`Selected pods now:\s+npsrv\n`).MatchString(out) ||
		!strings.Contains(out, "To Port: http/TCP") || !strings.Contains(out, "PodSelector: role=frontend") {
		t.Errorf("describe netpol:\n%s", out)
	}
	fetch := func(pod, url string) string {
		// busybox's wget -T crashes: timeout bounds it instead
		return strings.TrimSpace(run(t, podunit, "exec", pod, "--", "timeout", "2", "wget", "-q", "-O-", url).stdout)
	}
	direct, bySvc := "http://"+srvIP+":8080/hostname", "http://npsrv/hostname"
	if got := fetch("npfront", direct); got != "npsrv" {
		t.Errorf("the frontend by address: %q", got)
	}
	if got := fetch("npfront", bySvc); got != "npsrv" {
		t.Errorf("the frontend by the Service: %q", got)
	}
	if got := fetch("npother", direct); got != "" {
		t.Errorf("the other pod reached the server by address: %q", got)
	}
	if got := fetch("npother", bySvc); got != "" {
		t.Errorf("the other pod reached the server through the Service: %q", got)
	}
	// its egress is the DNS only: names resolve, this host does not answer
	if r := run(t, podunit, "exec", "npother", "--", "nslookup", "npsrv.default.svc.cluster.local"); r.code != 0 || !strings.Contains(r.stdout, "Address: 10.96.") {
		t.Errorf("the other pod's DNS: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// this host's closed port: refused when the packet gets there, silence
	// when the policy drops it
	toHost := func() string {
		return run(t, podunit, "exec", "npother", "--", "sh", "-c", "timeout 2 wget -q -O- http://10.96.0.1:9/ 2>&1").stdout
	}
	if got := toHost(); strings.Contains(got, "refused") {
		t.Errorf("the other pod reached the host: %q", got)
	}
	// podunit's own ways in are not traffic of the pod network
	if out := must(t, podunit, "exec", "npother", "--", "hostname"); strings.TrimSpace(out) != "npother" {
		t.Errorf("exec under the policy: %q", out)
	}
	if got := portForwardFetch(t, "npsrv", "8080", "/hostname"); got != "npsrv" {
		t.Errorf("port-forward under the policy: %q", got)
	}

	// the server's sandbox dies: its new network namespace gets the
	// firewall before its container starts again (no warning that the
	// start waited in vain), and the same traffic passes and does not
	infra := containerID(t, units.InfraContainerName("npsrv"))
	must(t, "podman", "kill", units.InfraContainerName("npsrv"))
	eventually(t, 60*time.Second, "a new sandbox", func() bool { return replacedAndRunning(t, units.InfraContainerName("npsrv"), infra) })
	if out := must(t, podunit, "wait", "--for=condition=Ready", "pod/npsrv", "--timeout", "60s"); !strings.Contains(out, "condition met") {
		t.Fatalf("the server is not ready again: %s", out)
	}
	srvIP = strings.TrimSpace(must(t, podunit, "get", "pod", "npsrv", "-o", "jsonpath={.status.podIP}"))
	direct = "http://" + srvIP + ":8080/hostname"
	if got := fetch("npfront", direct); got != "npsrv" {
		t.Errorf("the frontend by address, after the sandbox's restart: %q", got)
	}
	if got := fetch("npother", direct); got != "" {
		t.Errorf("the other pod reached the restarted server: %q", got)
	}
	if evs := must(t, podunit, "events", "npsrv"); strings.Contains(evs, "did not set the pod's NetworkPolicy firewall") {
		t.Errorf("the restarted server's start waited for its firewall in vain:\n%s", evs)
	}

	// from outside, through a node port: the proxy's address is the source
	// a policy sees, which an ipBlock of any address admits and the
	// frontend's pod selector does not
	nodePort := writeManifest(t, `
apiVersion: v1
kind: Service
metadata: {name: npsrv-np}
spec: {type: NodePort, selector: {app: npsrv}, ports: [{port: 80, targetPort: http, nodePort: 30177}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: npsrv-ext}
spec:
  podSelector: {matchLabels: {app: npsrv}}
  ingress: [{from: [{ipBlock: {cidr: 0.0.0.0/0}}], ports: [{port: http}]}]
`)
	t.Cleanup(func() { run(t, podunit, "down", nodePort) })
	must(t, podunit, "up", nodePort)
	outside := func() string {
		return strings.TrimSpace(run(t, "curl", "-s", "-m", "2", "http://127.0.0.1:30177/hostname").stdout)
	}
	eventually(t, 20*time.Second, "the node port to answer with an ipBlock admitting any address", func() bool { return outside() == "npsrv" })
	must(t, podunit, "down", "networkpolicy/npsrv-ext")
	eventually(t, 10*time.Second, "the node port to be refused by the frontend-only policy", func() bool { return outside() == "" })
	must(t, podunit, "down", nodePort)

	// a policy applied while the pods run holds at once: the frontend may
	// send nothing now
	deny := writeManifest(t, `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: front-quiet}
spec: {podSelector: {matchLabels: {role: frontend}}, policyTypes: [Egress]}
`)
	t.Cleanup(func() { run(t, podunit, "down", deny) })
	if out := must(t, podunit, "up", deny); !strings.Contains(out, "networkpolicy.networking.k8s.io/front-quiet created") {
		t.Errorf("up of a policy: %s", out)
	}
	eventually(t, 10*time.Second, "the frontend's egress to close", func() bool { return fetch("npfront", direct) == "" })
	if got := fetch("npfront", bySvc); got != "" {
		t.Errorf("the quiet frontend reached the server through the Service: %q", got)
	}
	must(t, podunit, "down", deny)
	eventually(t, 10*time.Second, "the frontend's egress to open again", func() bool { return fetch("npfront", direct) == "npsrv" })

	// the policies deleted one by one: the other pod's egress opens, then
	// the server admits it
	if out := must(t, podunit, "down", "networkpolicy/other-out"); !strings.Contains(out, "networkpolicy.networking.k8s.io/other-out deleted") {
		t.Errorf("down networkpolicy/other-out: %s", out)
	}
	eventually(t, 10*time.Second, "the other pod's packets to reach the host", func() bool { return strings.Contains(toHost(), "refused") })
	if got := fetch("npother", direct); got != "" {
		t.Errorf("the server admitted the other pod before its policy went: %q", got)
	}
	must(t, podunit, "down", "networkpolicy/npsrv-in")
	eventually(t, 10*time.Second, "the server to admit the other pod", func() bool {
		return fetch("npother", direct) == "npsrv" && fetch("npother", bySvc) == "npsrv"
	})
	if out := must(t, podunit, "get", "netpol"); strings.Contains(out, "npsrv-in") || strings.Contains(out, "other-out") {
		t.Errorf("deleted policies still listed:\n%s", out)
	}
}

// TestNetworkPolicyInput: a bad policy is refused with its field path, exit
// 2, and nothing of its manifest is made.
func TestNetworkPolicyInput(t *testing.T) {
	bad := writeManifest(t, `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad}
spec:
  podSelector: {}
  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [192.168.0.0/16]}}], ports: [{port: http, endPort: 90}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: npbad}
spec:
  containers: [{name: c, image: `+testImage+`, command: ["sleep", "60"]}]
`)
	r := run(t, podunit, "up", bad)
	if r.code != 2 || !strings.Contains(r.stderr, "spec.ingress[0].from[0].ipBlock.except[0]") || !strings.Contains(r.stderr, "spec.ingress[0].ports[0].endPort") {
		t.Errorf("a bad policy: exit %d\n%s", r.code, r.stderr)
	}
	if out := must(t, podunit, "get", "netpol"); strings.Contains(out, "bad") {
		t.Errorf("a refused policy was stored:\n%s", out)
	}
	assertGone(t, "npbad")
}

// podPhase is a pod's phase as ps says it ("" when there is no such pod).
func podPhase(t *testing.T, name string) string {
	t.Helper()
	if st := status(t, name); st != nil {
		return st.Phase
	}
	return ""
}

// portForwardFetch forwards a local port to a pod's port for a few seconds
// and fetches path through it ("" when nothing answers).
func portForwardFetch(t *testing.T, pod, port, path string) string {
	t.Helper()
	const local = "18995"
	done := make(chan result, 1)
	go func() {
		done <- run(t, "timeout", "-s", "INT", "6", podunit, "port-forward", "pod/"+pod, local+":"+port)
	}()
	defer func() { <-done }()
	var got string
	eventually(t, 5*time.Second, "the forwarded port answering", func() bool {
		r := run(t, "curl", "-sf", "-m", "2", "http://127.0.0.1:"+local+path)
		got = strings.TrimSpace(r.stdout)
		return r.code == 0
	})
	return got
}
