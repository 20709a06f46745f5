package e2e

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/podunit/podunit/units"
)

const servicesManifest = `
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  selector: {app: db}
  ports:
  - {name: http, port: 80, targetPort: http}
  - {name: alt, port: 81, targetPort: 8080}
---
apiVersion: v1
kind: Service
metadata: {name: dbnp}
spec:
  type: NodePort
  selector: {app: db}
  ports: [{port: 80, targetPort: http, nodePort: 30080}]
---
apiVersion: v1
kind: Service
metadata: {name: dbh}
spec: {clusterIP: None, selector: {app: db}}
---
apiVersion: v1
kind: Service
metadata: {name: dbext}
spec: {type: ExternalName, externalName: db.default.svc.cluster.local}
---
apiVersion: v1
kind: Pod
metadata: {name: netsrv, labels: {app: db}}
spec:
  subdomain: dbh
  terminationGracePeriodSeconds: 2
  containers:
  - name: server
    image: ` + serverImage + `
    args: ["-listen", ":8080"]
    ports: [{name: http, containerPort: 8080}]
    readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: netbad, labels: {app: db}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: server
    image: ` + serverImage + `
    args: ["-listen", ":8080"]
    ports: [{name: http, containerPort: 8080}]
    readinessProbe: {httpGet: {path: /fail, port: 8080}, periodSeconds: 1}
`

const clientManifest = `
apiVersion: v1
kind: Pod
metadata: {name: netcli}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: ` + testImage + `
    command: ["sleep", "3600"]
    env: [{name: DB_PORT, value: mine}]
`

// inClient runs a shell command in the client pod.
func inClient(t *testing.T, script string) result {
	t.Helper()
	return run(t, "podman", "exec", ctrName("netcli", "c"), "sh", "-c", script)
}

func fetchFrom(t *testing.T, url string) string {
	t.Helper()
	r := inClient(t, "timeout 5 wget -q -O- "+url)
	return strings.TrimSpace(r.stdout)
}

// TestServices: a client pod reaches a server pod through a Service, by the
// service variables and by DNS name, with port and targetPort different; a
// pod that is not ready gets no traffic; the address holds across a restart
// of the server's container and a replacement of the server pod; pods reach
// each other by IP; down leaves the network clean.
func TestServices(t *testing.T) {
	run(t, podunit, "down", "--grace-period", "0", "--force", "netsrv", "netbad", "netcli")
	srv := up(t, servicesManifest, "netsrv", "netbad")
	t.Cleanup(func() { run(t, podunit, "down", srv) })
	up(t, clientManifest, "netcli")

	// The service variables, as the kubelet writes them; the container's own
	// DB_PORT wins over the Service's.
	svcs := must(t, podunit, "get", "svc")
	m := regexp.MustCompile(`(?m)^db\s+ClusterIP\s+(10\.96\.\d+\.\d+)\s+<none>\s+80/TCP,81/TCP\s`).FindStringSubmatch(svcs)
	if m == nil {
		t.Fatalf("get svc:\n%s", svcs)
	}
	// kubectl's columns: an ExternalName's name is its EXTERNAL-IP
	if !regexp.MustCompile(`(?m)^\S+\s+ExternalName\s+<none>\s+db\.default\.svc\.cluster\.local\s`).MatchString(svcs) {
		t.Errorf("get svc, the ExternalName Service:\n%s", svcs)
	}
	ip := m[1]
	env := inClient(t, "env | grep ^DB_ | sort").stdout
	want := []string{
		"DB_PORT=mine",
		"DB_PORT_80_TCP=tcp://" + ip + ":80", "DB_PORT_80_TCP_ADDR=" + ip, "DB_PORT_80_TCP_PORT=80", "DB_PORT_80_TCP_PROTO=tcp",
		"DB_PORT_81_TCP=tcp://" + ip + ":81", "DB_PORT_81_TCP_ADDR=" + ip, "DB_PORT_81_TCP_PORT=81", "DB_PORT_81_TCP_PROTO=tcp",
		"DB_SERVICE_HOST=" + ip, "DB_SERVICE_PORT=80", "DB_SERVICE_PORT_ALT=81", "DB_SERVICE_PORT_HTTP=80",
	}
	sort.Strings(want)
	if got := strings.TrimSpace(env); got != strings.Join(want, "\n") {
		t.Errorf("service variables:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if r := inClient(t, "cat /etc/resolv.conf"); !strings.Contains(r.stdout, "nameserver 10.96.0.10") ||
		!strings.Contains(r.stdout, "search default.svc.cluster.local svc.cluster.local cluster.local") || !strings.Contains(r.stdout, "ndots:5") {
		t.Errorf("resolv.conf:\n%s", r.stdout)
	}

	// Only the ready pod answers, by address and by every DNS name.
	eventually(t, 30*time.Second, "the Service to answer", func() bool {
		return fetchFrom(t, "http://$DB_SERVICE_HOST:$DB_SERVICE_PORT/hostname") == "netsrv"
	})
	for i := 0; i < 6; i++ {
		for _, url := range []string{"http://$DB_SERVICE_HOST:$DB_SERVICE_PORT/hostname", "http://db:81/hostname",
			"http://db.default/hostname", "http://db.default.svc.cluster.local:81/hostname"} {
			if got := fetchFrom(t, url); got != "netsrv" {
				t.Fatalf("%s answered %q, want netsrv (netbad is not ready)", url, got)
			}
		}
	}
	// Headless: the ready pods' addresses, and the pod by hostname.subdomain;
	// ExternalName: a CNAME, followed.
	srvIP := podIPOf(t, "netsrv")
	for _, name := range []string{"dbh.default.svc.cluster.local", "netsrv.dbh.default.svc.cluster.local"} {
		r := inClient(t, "nslookup "+name)
		if !strings.Contains(r.stdout, "Address: "+srvIP) || strings.Contains(r.stdout, podIPOf(t, "netbad")) {
			t.Errorf("nslookup %s (want only %s):\n%s%s", name, srvIP, r.stdout, r.stderr)
		}
	}
	if d := must(t, podunit, "describe", "netsrv"); !regexp.MustCompile(`(?m)^IP:\s+` + regexp.QuoteMeta(srvIP) + `$`).MatchString(d) {
		t.Errorf("describe lacks the pod's address %s:\n%s", srvIP, d)
	}
	if got := fetchFrom(t, "http://dbext/hostname"); got != "netsrv" {
		t.Errorf("through the ExternalName Service: %q", got)
	}
	if eps := must(t, podunit, "get", "svc", "db"); !strings.Contains(eps, podIPOf(t, "netsrv")+":8080") || strings.Contains(eps, podIPOf(t, "netbad")) {
		t.Errorf("endpoints:\n%s", eps)
	}
	if wide := must(t, podunit, "get", "svc", "db", "-o", "wide"); !regexp.MustCompile(`SELECTOR\n.*\sapp=db\n`).MatchString(wide) {
		t.Errorf("get svc -o wide has no SELECTOR column:\n%s", wide)
	}

	// The NodePort Service on the host.
	eventually(t, 30*time.Second, "the node port on the host", func() bool {
		resp, err := http.Get("http://127.0.0.1:30080/hostname")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.TrimSpace(string(b)) == "netsrv"
	})

	// Pod to pod by address, each pod with its own.
	a, b := podIPOf(t, "netsrv"), podIPOf(t, "netbad")
	if a == b || !strings.HasPrefix(a, "10.96.") {
		t.Fatalf("pod addresses %q and %q", a, b)
	}
	if got := fetchFrom(t, "http://"+b+":8080/hostname"); got != "netbad" {
		t.Errorf("netbad by its address answered %q", got)
	}

	// Connect latency, client -> Service and client -> pod, for the record.
	lat := func(url string) time.Duration {
		r := inClient(t, "time sh -c 'for i in $(seq 50); do wget -q -O /dev/null "+url+" || exit 1; done'")
		m := regexp.MustCompile(`real\s+(\d+)m\s*([\d.]+)s`).FindStringSubmatch(r.stderr)
		if r.code != 0 || m == nil {
			t.Fatalf("timing %s: exit %d\n%s", url, r.code, r.stderr)
		}
		var min, sec float64
		fmt.Sscan(m[1], &min)
		fmt.Sscan(m[2], &sec)
		return time.Duration((min*60 + sec) / 50 * float64(time.Second))
	}
	t.Logf("request latency (connect + one HTTP exchange, busybox wget, mean of 50, wget process included): via Service %v, to the pod directly %v",
		lat("http://"+ip+"/"), lat("http://"+a+":8080/"))

	// The server's container restarts: the address still works.
	must(t, "podman", "kill", ctrName("netsrv", "server"))
	eventually(t, 60*time.Second, "the server back and ready", func() bool {
		s := status(t, "netsrv")
		return s != nil && s.Restarts >= 1 && s.Ready == 1
	})
	eventually(t, 30*time.Second, "the Service after the restart", func() bool {
		return fetchFrom(t, "http://db/hostname") == "netsrv"
	})

	// The server pod is replaced: same address, same names. up says where
	// the NodePort Service is reached on this host.
	if out := must(t, podunit, "up", "--replace", srv); !strings.Contains(out, "service/dbnp published on this host (node ports): 80:30080/TCP\n") {
		t.Errorf("up does not say where the NodePort Service is published:\n%s", out)
	}
	eventually(t, 60*time.Second, "the Service after up --replace", func() bool {
		return fetchFrom(t, "http://"+ip+"/hostname") == "netsrv"
	})
	if m2 := regexp.MustCompile(`db\s+ClusterIP\s+(\S+)`).FindStringSubmatch(must(t, podunit, "get", "svc")); m2 == nil || m2[1] != ip {
		t.Errorf("the Service's address changed on --replace: %v, was %s", m2, ip)
	}

	// down: the Service goes with its manifest; the proxy and the network
	// with the last pod.
	must(t, podunit, "down", "--grace-period", "0", "--force", srv)
	if out := must(t, podunit, "get", "svc"); strings.Contains(out, "db") {
		t.Errorf("the Service is still listed:\n%s", out)
	}
	eventually(t, 10*time.Second, "db to stop resolving after down", func() bool {
		return inClient(t, "nslookup db.default.svc.cluster.local 10.96.0.10").code != 0
	})
	must(t, podunit, "down", "--grace-period", "0", "--force", "netcli")
	if r := run(t, "podman", "network", "exists", "podunit"); r.code == 0 {
		t.Errorf("the pod network is left after the last pod went; pods:\n%s\nServices:\n%s", run(t, podunit, "ps").stdout, run(t, podunit, "get", "svc").stdout)
	}
	if out := must(t, "systemctl", "--user", "list-units", "--all", "--plain", "--no-legend", "podunit.services.service", "podunit.proxy.service"); strings.Contains(out, "active") {
		t.Errorf("service proxy units left:\n%s", out)
	}
	if out := strings.TrimSpace(must(t, "podman", "ps", "-a", "--format", "{{.Names}}")); strings.Contains(out, "podunit__services") {
		t.Errorf("services container left: %s", out)
	}
}

// TestServiceBadInput: conflicts and dangling target ports are refused with
// the field path, exit 2, and nothing changes.
func TestServiceBadInput(t *testing.T) {
	twoNodePorts := writeManifest(t, `
apiVersion: v1
kind: Service
metadata: {name: a}
spec: {type: NodePort, selector: {app: x}, ports: [{port: 80, nodePort: 30080}]}
---
apiVersion: v1
kind: Service
metadata: {name: b}
spec: {type: NodePort, selector: {app: yy}, ports: [{port: 80, nodePort: 30080}]}
`)
	r := run(t, podunit, "up", twoNodePorts)
	if r.code != 2 || !strings.Contains(r.stderr, `service "b"`) || !strings.Contains(r.stderr, "spec.ports[0].nodePort") {
		t.Errorf("two Services on one node port: exit %d\n%s", r.code, r.stderr)
	}
	badTarget := writeManifest(t, `
apiVersion: v1
kind: Service
metadata: {name: c}
spec: {selector: {app: z}, ports: [{port: 80, targetPort: web}]}
---
apiVersion: v1
kind: Pod
metadata: {name: badtarget, labels: {app: z}}
spec:
  containers:
  - {name: c, image: `+testImage+`, ports: [{name: http, containerPort: 80}]}
`)
	r = run(t, podunit, "up", badTarget)
	if r.code != 2 || !strings.Contains(r.stderr, "spec.ports[0].targetPort") {
		t.Errorf("targetPort naming no container port: exit %d\n%s", r.code, r.stderr)
	}
	lb := writeManifest(t, `
apiVersion: v1
kind: Service
metadata: {name: d}
spec: {type: SCTPish, ports: [{port: 80}]}
`)
	if r := run(t, podunit, "up", lb); r.code != 2 || !strings.Contains(r.stderr, "spec.type") {
		t.Errorf("unknown type: exit %d\n%s", r.code, r.stderr)
	}
	if out := must(t, podunit, "get", "svc"); strings.Contains(out, " a ") || strings.Contains(out, " c ") {
		t.Errorf("a refused Service was stored:\n%s", out)
	}
	assertGone(t, "badtarget")
}

// A podman network named like podunit's that podunit did not create is never
// used: pods fall back to slirp4netns with a warning, and a manifest with a
// Service, which needs the pod network, fails saying why.
func TestForeignNetworkUntouched(t *testing.T) {
	run(t, podunit, "down", "--grace-period", "0", "--force", "foreign-net")
	if r := run(t, "podman", "network", "exists", "podunit"); r.code == 0 {
		t.Skip("a pod network exists: other pods run")
	}
	must(t, "podman", "network", "create", "--label", "owner=someone", "podunit")
	t.Cleanup(func() { run(t, "podman", "network", "rm", "-f", "podunit") })
	nextToForeign(t, "a foreign network", "foreign-net", "foreign-svc", "was not created by podunit")
	if lbl := must(t, "podman", "network", "inspect", "--format", "{{.Labels}}", "podunit"); !strings.Contains(lbl, "owner:someone") {
		t.Errorf("the foreign network was changed: %s", lbl)
	}
}

// The first pod on the pod network starts alongside the service proxy (its
// containers are ordered after the proxy's units), yet its containers find
// the cluster DNS answering from their first instant, as a cluster's pods
// do: an init container and an app container that look up a Service once,
// and never again (restartPolicy Never), succeed.
func TestClusterDNSAtFirstStart(t *testing.T) {
	run(t, podunit, "down", "--grace-period", "0", "--force", "dnsfirst")
	if r := run(t, "systemctl", "--user", "is-active", "podunit.services.service"); r.code == 0 {
		t.Logf("the service proxy runs already (other pods are up): this checks the DNS only, not the start alongside it")
	}
	path := writeManifest(t, `
apiVersion: v1
kind: Service
metadata: {name: dnsfirst}
spec: {selector: {app: dnsfirst}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Pod
metadata: {name: dnsfirst, labels: {app: dnsfirst}}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  initContainers:
  - {name: lookup, image: `+testImage+`, command: [nslookup, dnsfirst.default.svc.cluster.local]}
  containers:
  - {name: c, image: `+testImage+`, command: [sh, -c, "nslookup dnsfirst.default.svc.cluster.local && sleep 3600"]}
`)
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", path) })
	r := run(t, podunit, "up", path)
	if r.code != 0 {
		t.Fatalf("up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if st := status(t, "dnsfirst"); st == nil || st.Phase != "Running" || st.Ready != 1 {
		t.Fatalf("the pod whose containers looked up a Service at their start: %+v\n%s", st, must(t, podunit, "describe", "pod/dnsfirst"))
	}
	if out := must(t, podunit, "logs", "dnsfirst", "-c", "lookup"); !strings.Contains(out, "10.96.") {
		t.Errorf("the init container's lookup:\n%s", out)
	}
}

// A podman container named like the service proxy's that podunit did not
// create is never touched: a pod without Services runs on slirp4netns with
// a warning (known before it starts), a Service fails saying why.
func TestForeignProxyContainerUntouched(t *testing.T) {
	run(t, podunit, "down", "--grace-period", "0", "--force", "foreign-proxy")
	if r := run(t, "systemctl", "--user", "is-active", "podunit.services.service"); r.code == 0 {
		t.Skip("the service proxy runs: other pods are up")
	}
	must(t, "podman", "create", "--name", "podunit__services", "--label", "owner=someone", testImage, "sleep", "1")
	t.Cleanup(func() { run(t, "podman", "rm", "-f", "podunit__services") })
	nextToForeign(t, "a foreign proxy container", "foreign-proxy", "foreign-proxy-svc", "podunit__services exists and was not created by podunit")
	if lbl := must(t, "podman", "inspect", "--format", "{{.Config.Labels.owner}} {{.State.Status}}", "podunit__services"); strings.TrimSpace(lbl) != "someone created" {
		t.Errorf("the foreign container was changed: %s", lbl)
	}
}

// nextToForeign: beside something of another's where podunit's pod network
// would go (what), a pod without Services runs on slirp4netns, with a
// warning that says why (want), and a Service is refused, not stored.
func nextToForeign(t *testing.T, what, pod, svc, want string) {
	t.Helper()
	r := run(t, podunit, "up", writeManifest(t, `
apiVersion: v1
kind: Pod
metadata: {name: `+pod+`}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: `+testImage+`, command: [sleep, "3600"]}
`))
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", pod) })
	if r.code != 0 || !strings.Contains(r.stderr, "pod network is not available") || !strings.Contains(r.stderr, want) {
		t.Fatalf("up next to %s: exit %d\n%s", what, r.code, r.stderr)
	}
	if ip := podIPOf(t, pod); strings.HasPrefix(ip, "10.96.") {
		t.Errorf("the pod is on the pod network (%s)", ip)
	}
	r = run(t, podunit, "up", writeManifest(t, `
apiVersion: v1
kind: Service
metadata: {name: `+svc+`}
spec: {selector: {app: x}, ports: [{port: 80}]}
`))
	if r.code == 0 || !strings.Contains(r.stderr, "was not created by podunit") {
		t.Errorf("a Service next to %s: exit %d\n%s", what, r.code, r.stderr)
	}
	if out := must(t, podunit, "get", "svc"); strings.Contains(out, svc) {
		t.Errorf("the Service was stored:\n%s", out)
	}
}

// Every container of a pod reads the kubelet's /etc/hosts: the pod's address
// under its fully qualified name (hostname.subdomain...) and its hostname,
// so that `hostname -f` answers the FQDN as in a cluster; the hostAliases;
// nothing of the host's own file. A user other than root reads it, and an
// init container has it too. When the infra restarts with a new address,
// the file follows. A pod on the host's network gets the host's file and its
// aliases, in every container.
func TestPodHostsFile(t *testing.T) {
	path := up(t, `
apiVersion: v1
kind: Service
metadata: {name: hostsh}
spec: {clusterIP: None, selector: {app: hostsa}}
---
apiVersion: v1
kind: Pod
metadata: {name: hostsa, labels: {app: hostsa}}
spec:
  hostname: h-0
  subdomain: hostsh
  terminationGracePeriodSeconds: 1
  hostAliases:
  - {ip: 10.1.2.3, hostnames: [foo.remote, bar.remote]}
  initContainers:
  - {name: init, image: `+testImage+`, command: [sh, -c, "cp /etc/hosts /seen/hosts"], volumeMounts: [{name: seen, mountPath: /seen}]}
  containers:
  - {name: a, image: `+testImage+`, command: [sleep, "3600"], volumeMounts: [{name: seen, mountPath: /seen}]}
  - name: b
    image: `+testImage+`
    command: [sleep, "3600"]
    securityContext: {runAsUser: 1000}
  volumes: [{name: seen, emptyDir: {}}]
---
apiVersion: v1
kind: Pod
metadata: {name: hostsn}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  hostAliases:
  - {ip: 10.1.2.4, hostnames: [cache.local]}
  containers:
  - {name: a, image: `+testImage+`, command: [sleep, "3600"]}
  - {name: b, image: `+testImage+`, command: [sleep, "3600"]}
`, "hostsa", "hostsn")
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", path) }) // the Service
	host := must(t, "cat", "/etc/hosts")                                                  // the world's, where the units run
	boilerplate := map[string]bool{"localhost": true, "ip6-localhost": true, "ip6-loopback": true,
		"ip6-localnet": true, "ip6-mcastprefix": true, "ip6-allnodes": true, "ip6-allrouters": true}
	check := func(ip string) {
		t.Helper()
		fqdn := "h-0.hostsh.default.svc.cluster.local"
		want := "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
			"fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n" +
			ip + "\t" + fqdn + "\th-0\n"
		aliases := "\n# Entries added by HostAliases.\n10.1.2.3\tfoo.remote\tbar.remote\n"
		for _, c := range []string{"a", "b"} {
			got := must(t, podunit, "exec", "hostsa", "-c", c, "--", "cat", "/etc/hosts")
			if !strings.HasPrefix(got, want) || !strings.HasSuffix(got, aliases) {
				t.Errorf("container %s's /etc/hosts:\n%s\nwant it to start with\n%s\nand end with\n%s", c, got, want, aliases)
			}
			names := map[string]bool{}
			for _, l := range strings.Split(got, "\n") {
				if f := strings.Fields(l); len(f) > 1 && !strings.HasPrefix(f[0], "#") {
					for _, n := range f[1:] {
						names[n] = true
					}
				}
			}
			for _, l := range strings.Split(host, "\n") {
				f := strings.Fields(l)
				if len(f) < 2 || strings.HasPrefix(f[0], "#") {
					continue
				}
				for _, n := range f[1:] {
					if names[n] && !boilerplate[n] {
						t.Errorf("container %s's /etc/hosts has the host's entry %q:\n%s", c, l, got)
					}
				}
			}
			if got := strings.TrimSpace(must(t, podunit, "exec", "hostsa", "-c", c, "--", "hostname", "-f")); got != fqdn {
				t.Errorf("container %s: hostname -f = %q, want %q", c, got, fqdn)
			}
		}
		if got := strings.TrimSpace(must(t, podunit, "exec", "hostsa", "-c", "b", "--", "id", "-u")); got != "1000" {
			t.Errorf("container b runs as %q, want 1000", got)
		}
	}
	ip := podIPOf(t, "hostsa")
	check(ip)
	if got := must(t, podunit, "exec", "hostsa", "-c", "a", "--", "cat", "/seen/hosts"); !strings.Contains(got, ip+"\th-0.hostsh.default.svc.cluster.local\th-0\n") {
		t.Errorf("the init container's /etc/hosts:\n%s", got)
	}

	// a new sandbox, a new address: the file follows
	must(t, "systemctl", "--user", "restart", "podunit-hostsa.service")
	eventually(t, 60*time.Second, "the pod to run again", func() bool {
		st := status(t, "hostsa")
		return st != nil && st.Phase == "Running" && st.Ready == 2
	})
	ip2 := podIPOf(t, "hostsa")
	if ip2 == ip {
		t.Logf("the infra came back with the same address %s", ip)
	}
	check(ip2)

	want := "# Kubernetes-managed hosts file (host network).\n" + host
	if !strings.HasSuffix(want, "\n") {
		want += "\n"
	}
	want += "\n# Entries added by HostAliases.\n10.1.2.4\tcache.local\n"
	for _, c := range []string{"a", "b"} {
		if got := must(t, podunit, "exec", "hostsn", "-c", c, "--", "cat", "/etc/hosts"); got != want {
			t.Errorf("host network, container %s's /etc/hosts:\n%q\nwant\n%q", c, got, want)
		}
	}
}

// A NodePort Service that comes or goes while pods on the network run: the
// service proxy is restarted publishing the new set of node ports (systemd
// keeps its stopped units loaded while the running pods' units refer to
// them, and they start again as they are: their command line is in
// podunit's state), and the running pod keeps its cluster DNS.
func TestNodePortChangeWithPodsRunning(t *testing.T) {
	a := up(t, `
apiVersion: v1
kind: Service
metadata: {name: npa}
spec: {selector: {app: npa}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Pod
metadata: {name: npa, labels: {app: npa}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: `+testImage+`, command: [sleep, "3600"]}
`, "npa")
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", a) })
	lookup := func(when string) {
		t.Helper()
		r := run(t, podunit, "exec", "npa", "--", "nslookup", "npa.default.svc.cluster.local")
		if r.code != 0 || !strings.Contains(r.stdout, "10.96.") {
			t.Errorf("%s: the running pod's cluster DNS: exit %d\n%s%s", when, r.code, r.stdout, r.stderr)
		}
	}
	lookup("before")
	b := writeManifest(t, `
apiVersion: v1
kind: Service
metadata: {name: npb}
spec: {type: NodePort, selector: {app: npb}, ports: [{port: 80, targetPort: 8080, nodePort: 30181}]}
---
apiVersion: v1
kind: Pod
metadata: {name: npb, labels: {app: npb}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: server
    image: `+serverImage+`
    args: ["-listen", ":8080"]
    readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
`)
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", b) })
	if r := run(t, podunit, "up", b); r.code != 0 {
		t.Fatalf("up of a NodePort Service beside a running pod: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	get := func() (string, error) {
		resp, err := http.Get("http://127.0.0.1:30181/hostname")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return strings.TrimSpace(string(body)), err
	}
	eventually(t, 30*time.Second, "the new node port on the host", func() bool {
		got, err := get()
		return err == nil && got == "npb"
	})
	lookup("after the node port came")

	must(t, podunit, "down", b)
	if ports := must(t, "podman", "ps", "--filter", "name=^"+units.ServicesContainer+"$", "--format", "{{.Ports}}"); strings.Contains(ports, "30181") {
		t.Errorf("the node port of the Service gone is still published: %s", ports)
	}
	if _, err := get(); err == nil {
		t.Error("the node port of the Service gone still answers")
	}
	lookup("after the node port went")
}

// TestLoadBalancer: this host is the load balancer of a LoadBalancer
// Service, as k3s's ServiceLB and Docker Desktop are on one node: the
// Service answers on this host's port of its port number (a kompose
// conversion's published port) as well as on its node port, and get svc
// shows the host as its EXTERNAL-IP. A port a rootless user cannot publish
// leaves the Service pending, with a warning, on its node port; another
// Service on the same host port is refused, and so is a port another
// program holds, nothing changed; down gives the port back.
func TestLoadBalancer(t *testing.T) {
	const manifest = `
apiVersion: v1
kind: Service
metadata: {name: lbweb}
spec:
  type: LoadBalancer
  selector: {app: lbsrv}
  ports: [{port: 18093, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: lblow}
spec:
  type: LoadBalancer
  selector: {app: lbsrv}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: lbsrv, labels: {app: lbsrv}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: server
    image: ` + serverImage + `
    readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
`
	path := writeManifest(t, manifest)
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", path) })
	r := run(t, podunit, "up", path)
	if r.code != 0 {
		t.Fatalf("up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !regexp.MustCompile(`(?m)^service/lbweb published on this host \(load balancer \S+\): 18093/TCP; node ports 18093:\d+/TCP$`).MatchString(r.stdout) ||
		!regexp.MustCompile(`(?m)^service/lblow published on this host \(node ports; its load balancer <pending>\): 80:\d+/TCP$`).MatchString(r.stdout) {
		t.Errorf("up does not say where the Services are published:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, `warning: service "lblow": spec.ports[0].port: 80 is below this host's net.ipv4.ip_unprivileged_port_start`) {
		t.Errorf("no warning for the port a rootless user cannot publish:\n%s", r.stderr)
	}
	svcs := must(t, podunit, "get", "svc")
	m := regexp.MustCompile(`(?m)^lbweb\s+LoadBalancer\s+10\.96\.\S+\s+(\S+)\s+18093:\d+/TCP\s`).FindStringSubmatch(svcs)
	if m == nil || m[1] == "<pending>" || !regexp.MustCompile(`(?m)^lblow\s+LoadBalancer\s+\S+\s+<pending>\s+80:(\d+)/TCP\s`).MatchString(svcs) {
		t.Fatalf("get svc:\n%s", svcs)
	}
	if !strings.Contains(must(t, podunit, "describe", "svc", "lbweb"), "LoadBalancer Ingress:") {
		t.Error("describe svc shows no LoadBalancer Ingress")
	}
	lowNode := regexp.MustCompile(`(?m)^lblow\s+\S+\s+\S+\s+\S+\s+80:(\d+)/TCP`).FindStringSubmatch(svcs)[1]
	for _, url := range []string{"http://127.0.0.1:18093/hostname", "http://" + m[1] + ":18093/hostname", "http://127.0.0.1:" + lowNode + "/hostname"} {
		eventually(t, 30*time.Second, "the pod through "+url, func() bool {
			return strings.TrimSpace(run(t, "curl", "-s", "-m", "2", url).stdout) == "lbsrv"
		})
	}
	// Applied again: its port is its own.
	if r := run(t, podunit, "up", path); r.code != 0 || !strings.Contains(r.stdout, "service/lbweb unchanged") {
		t.Errorf("up again: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Another Service on the same host port: refused, nothing changed.
	other := writeManifest(t, "apiVersion: v1\nkind: Service\nmetadata: {name: lbother}\nspec:\n  type: LoadBalancer\n  selector: {app: x}\n  ports: [{port: 18093}]\n")
	if r := run(t, podunit, "up", other); r.code != 2 || !strings.Contains(r.stderr, "spec.ports[0].port: Invalid value: 18093: this host's port 18093/TCP is already the load balancer of service default/lbweb") {
		t.Errorf("a second Service on the host port: exit %d\n%s", r.code, r.stderr)
	}
	// A pod asking for that host port: refused, naming the Service.
	hostPod := writeManifest(t, "apiVersion: v1\nkind: Pod\nmetadata: {name: lbhp}\nspec:\n  containers:\n  - {name: c, image: "+serverImage+", ports: [{containerPort: 8080, hostPort: 18093}]}\n")
	if r := run(t, podunit, "up", hostPod); r.code != 2 || !strings.Contains(r.stderr, `pod "lbhp": spec.containers[0].ports[0].hostPort: 18093/TCP is this host's port of the load balancer of service default/lbweb`) {
		t.Errorf("a pod on the load balancer's host port: exit %d\n%s", r.code, r.stderr)
	}
	// A port another program holds: refused before anything changes.
	busy := writeManifest(t, "apiVersion: v1\nkind: Service\nmetadata: {name: lbbusy}\nspec:\n  type: LoadBalancer\n  selector: {app: lbsrv}\n  ports: [{port: 18094, targetPort: 8080}]\n")
	r = run(t, "sh", "-c", "busybox nc -l -p 18094 >/dev/null 2>&1 & h=$!; sleep 0.5; "+podunit+" up "+busy+"; c=$?; kill $h; exit $c")
	if r.code != 1 || !strings.Contains(r.stderr, `service "lbbusy": spec.ports[0].port: this host's port 18094/TCP: bind: address already in use`) {
		t.Errorf("a host port another program holds: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// ... a node port too: the proxy, restarted to publish it, would not
	// start, and every Service with it
	busyNode := writeManifest(t, "apiVersion: v1\nkind: Service\nmetadata: {name: npbusy}\nspec:\n  type: NodePort\n  selector: {app: lbsrv}\n  ports: [{port: 80, targetPort: 8080, nodePort: 30594}]\n")
	r = run(t, "sh", "-c", "busybox nc -l -p 30594 >/dev/null 2>&1 & h=$!; sleep 0.5; "+podunit+" up "+busyNode+"; c=$?; kill $h; exit $c")
	if r.code != 1 || !strings.Contains(r.stderr, `service "npbusy": spec.ports[0].nodePort: this host's port 30594/TCP: bind: address already in use`) {
		t.Errorf("a node port another program holds: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := must(t, podunit, "get", "svc", "-o", "name"); strings.Contains(got, "lbother") || strings.Contains(got, "lbbusy") || strings.Contains(got, "npbusy") {
		t.Errorf("a refused Service was stored:\n%s", got)
	}
	// down gives the host port back
	must(t, podunit, "down", path)
	if r := run(t, "curl", "-s", "-m", "2", "http://127.0.0.1:18093/"); r.code == 0 {
		t.Errorf("the host port still answers after down: %q", r.stdout)
	}
}
