package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// hostServer runs the test server image's program on this host (in the
// test world, outside any pod), listening on addr: a service a pod reaches
// through a Service without a selector.
func hostServer(t *testing.T, addr string) {
	t.Helper()
	bin := filepath.Join(repo, "bin", "e2e-hostserver") // where the world's user may run it
	build := exec.Command("go", "build", "-o", bin, "./test/images/server")
	build.Dir, build.Env = repo, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the server: %v\n%s", err, out)
	}
	cmd := exec.Command(world, "exec", "--", bin, "-listen", addr)
	cmd.Env = append(os.Environ(), "PODUNIT_WORLD_WD="+repo)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		run(t, "curl", "-s", "-m", "2", "http://"+addr+"/quit")
		cmd.Process.Kill()
		cmd.Wait()
	})
	eventually(t, 10*time.Second, "the host's server", func() bool {
		return run(t, "curl", "-s", "-m", "1", "http://"+addr+"/").code == 0
	})
}

// TestServiceWithoutSelector: Services without selectors lead where their
// Endpoints and EndpointSlices say: a process on this host (by its address),
// a pod by its address under a headless Service whose DNS names answer with
// it; a change of the endpoints moves the traffic; get and describe show
// them; deleting them leaves the Service with nothing behind it.
func TestServiceWithoutSelector(t *testing.T) {
	const server = `
apiVersion: v1
kind: Pod
metadata: {name: wl-target}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: server
    image: ` + serverImage + `
    readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: wl-client}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: ` + testImage + `, command: ["sleep", "3600"]}
`
	up(t, server, "wl-target", "wl-client")
	must(t, podunit, "wait", "pod/wl-target", "--for=condition=Ready", "--timeout", "60s")
	podIP := must(t, podunit, "get", "pod", "wl-target", "-o", "jsonpath={.status.podIP}")
	hostIP := must(t, podunit, "get", "pod", "wl-target", "-o", "jsonpath={.status.hostIP}")
	worldHost := strings.TrimSpace(must(t, "hostname"))
	hostServer(t, hostIP+":18431")
	hostServer(t, hostIP+":18432")

	objects := func(port int) string {
		return fmt.Sprintf(`
apiVersion: v1
kind: Service
metadata: {name: wl-host}
spec:
  ports: [{name: web, port: 80}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: wl-host}
subsets:
- addresses: [{ip: %[1]s}]
  ports: [{name: web, port: %[3]d}]
---
apiVersion: v1
kind: Service
metadata: {name: wl-pods}
spec:
  clusterIP: None
  ports: [{name: web, port: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: wl-pods-1, labels: {kubernetes.io/service-name: wl-pods}}
addressType: IPv4
ports: [{name: web, port: 8080}]
endpoints:
- addresses: [%[2]s]
  hostname: one
`, hostIP, podIP, port)
	}
	path := writeManifest(t, objects(18431))
	t.Cleanup(func() { run(t, podunit, "down", path) })
	r := run(t, podunit, "up", path)
	if r.code != 0 || !strings.Contains(r.stdout, "endpoints/wl-host created") || !strings.Contains(r.stdout, "endpointslice.discovery.k8s.io/wl-pods-1 created") || r.stderr != "" {
		t.Fatalf("up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	inPod := func(script string) string {
		return strings.TrimSpace(run(t, podunit, "exec", "wl-client", "--", "sh", "-c", script).stdout)
	}
	// the host's process through the Service's name and address
	eventually(t, 20*time.Second, "the host's server through the Service", func() bool {
		return inPod("timeout 5 wget -q -O- http://wl-host/hostname") == worldHost
	})
	svcIP := must(t, podunit, "get", "svc", "wl-host", "-o", "jsonpath={.spec.clusterIP}")
	if got := inPod("timeout 5 wget -q -O- http://" + svcIP + "/hostname"); got != worldHost {
		t.Errorf("by the Service's address (%s): %q, want %q", svcIP, got, worldHost)
	}
	// the headless Service's names answer with the slice's address
	if got := inPod("nslookup wl-pods.default.svc.cluster.local"); !strings.Contains(got, podIP) {
		t.Errorf("nslookup wl-pods: %s, want %s", got, podIP)
	}
	if got := inPod("timeout 5 wget -q -O- http://one.wl-pods:8080/hostname"); got != "wl-target" {
		t.Errorf("one.wl-pods: %q", got)
	}
	// get and describe
	if out := must(t, podunit, "get", "endpoints", "wl-host"); !regexp.MustCompile(`(?m)^wl-host\s+` + regexp.QuoteMeta(hostIP) + `:18431\s+\S+$`).MatchString(out) {
		t.Errorf("get endpoints:\n%s", out)
	}
	if out := must(t, podunit, "get", "endpointslices"); !regexp.MustCompile(`(?m)^wl-pods-1\s+IPv4\s+8080\s+` + regexp.QuoteMeta(podIP) + `\s+\S+$`).MatchString(out) {
		t.Errorf("get endpointslices:\n%s", out)
	}
	if out := must(t, podunit, "describe", "endpointslice", "wl-pods-1"); !regexp.MustCompile(`(?m)^AddressType:\s+IPv4$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^  - Addresses:\s+`+regexp.QuoteMeta(podIP)+`$`).MatchString(out) || !strings.Contains(out, "Hostname:  one") {
		t.Errorf("describe endpointslice:\n%s", out)
	}
	if out := must(t, podunit, "describe", "svc", "wl-host"); !regexp.MustCompile(`(?m)^Endpoints:\s+` + regexp.QuoteMeta(hostIP) + `:18431$`).MatchString(out) {
		t.Errorf("describe svc:\n%s", out)
	}
	// another port: the traffic follows, without a restart of anything
	r = run(t, podunit, "up", writeManifest(t, objects(18432)))
	if r.code != 0 || !strings.Contains(r.stdout, "endpoints/wl-host configured") || !strings.Contains(r.stdout, "service/wl-host unchanged") {
		t.Fatalf("up of the other port: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	must(t, "curl", "-s", "-m", "2", "http://"+hostIP+":18431/quit")
	eventually(t, 20*time.Second, "the traffic on the new port", func() bool {
		return inPod("timeout 5 wget -q -O- http://wl-host/hostname") == worldHost
	})
	// the endpoints deleted: nothing answers behind the Service
	if out := must(t, podunit, "down", "endpoints/wl-host"); !strings.Contains(out, "endpoints/wl-host deleted") {
		t.Errorf("down endpoints/wl-host: %s", out)
	}
	eventually(t, 20*time.Second, "the Service without endpoints", func() bool {
		return run(t, podunit, "exec", "wl-client", "--", "sh", "-c", "timeout 5 wget -q -O- http://wl-host/hostname").code != 0
	})
	if out := must(t, podunit, "get", "endpoints"); strings.Contains(out, "wl-host") {
		t.Errorf("get endpoints after down:\n%s", out)
	}
}

// TestEndpointsInput: endpoints podunit cannot route to are refused with the
// field, exit 2, nothing stored; those nothing routes to are warned of.
func TestEndpointsInput(t *testing.T) {
	bad := writeManifest(t, `
apiVersion: v1
kind: Service
metadata: {name: wl-bad}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: wl-bad}
subsets: [{addresses: [{ip: 127.0.0.1}], ports: [{port: 80}]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: wl-bad-1}
addressType: FQDN
endpoints: [{addresses: [db.example.com]}]
ports: [{port: 80}]
`)
	r := run(t, podunit, "up", bad)
	if r.code != 2 || !strings.Contains(r.stderr, `subsets[0].addresses[0].ip: invalid value "127.0.0.1": may not be in the loopback range`) ||
		!strings.Contains(r.stderr, `addressType: unsupported value "FQDN"`) || !strings.Contains(r.stderr, `metadata.labels[kubernetes.io/service-name]: required`) {
		t.Errorf("up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if out := must(t, podunit, "get", "svc"); strings.Contains(out, "wl-bad") {
		t.Errorf("stored after a refused up:\n%s", out)
	}
	warned := writeManifest(t, `
apiVersion: v1
kind: Endpoints
metadata: {name: wl-nosvc}
subsets: [{addresses: [{ip: 192.0.2.77}], ports: [{port: 80}]}]
`)
	t.Cleanup(func() { run(t, podunit, "down", warned) })
	r = run(t, podunit, "up", warned)
	if r.code != 0 || !strings.Contains(r.stderr, `warning: endpoints "wl-nosvc": service "wl-nosvc" not found`) {
		t.Errorf("up of endpoints without their Service: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if out := must(t, podunit, "get", "ep", "wl-nosvc"); !strings.Contains(out, "192.0.2.77:80") {
		t.Errorf("get ep wl-nosvc:\n%s", out)
	}
}
