package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func qosManifest(pod string, port int, annotations string) string {
	return fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata:
  name: %s
  annotations: {%s}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: server
    image: %s
    args: ["-listen", ":8080"]
    ports: [{containerPort: 8080, hostPort: %d}]
`, pod, annotations, serverImage, port)
}

// measure downloads n bytes from the pod (its egress) or uploads n bytes to it
// (its ingress) through the published port on loopback; it returns bits/s.
func measure(t testing.TB, port int, egress bool, n int) float64 {
	t.Helper()
	var resp *http.Response
	var err error
	eventually(t, 10*time.Second, "the server", func() bool {
		r, e := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if e == nil {
			r.Body.Close()
		}
		return e == nil
	})
	start := time.Now()
	if egress {
		resp, err = http.Get(fmt.Sprintf("http://127.0.0.1:%d/bytes?n=%d", port, n))
	} else {
		resp, err = http.Post(fmt.Sprintf("http://127.0.0.1:%d/sink", port), "application/octet-stream", bytes.NewReader(make([]byte, n)))
	}
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if egress && got != int64(n) {
		t.Fatalf("received %d of %d bytes", got, n)
	}
	return float64(n) * 8 / took.Seconds()
}

// A pod on the pod network annotated 2M egress / 5M ingress is held to those
// rates within 5%, through its published port (shaped on its loopback
// interface, where podman's forwarder reaches it) and from another pod by its
// address (shaped on its interface), and is at least 3x slower than the same
// pod unannotated. The shaping is read back from the kernel by describe.
func TestBandwidthShaping(t *testing.T) {
	const pod, port = "e2e-qos", 18391
	up(t, qosManifest(pod, port, "kubernetes.io/egress-bandwidth: 2M, kubernetes.io/ingress-bandwidth: 5M"), pod)
	d := describe(t, pod)
	for _, want := range []string{"egress 2Mbit (tbf on eth0", "ingress 5Mbit (tbf on podunit-ifb0, redirected from eth0 ingress",
		"published ports: ingress 5Mbit, egress 2Mbit (htb on lo, 2 filters)"} {
		if !strings.Contains(d, want) {
			t.Errorf("describe lacks %q:\n%s", want, d)
		}
	}
	// About 8-10 s of traffic each way, so the bucket's initial burst weighs little.
	egress := measure(t, port, true, 2_500_000)
	ingress := measure(t, port, false, 6_000_000)
	t.Logf("egress: configured 2000000 bit/s, measured %.0f bit/s (%.1f%%)", egress, egress/2e6*100)
	t.Logf("ingress: configured 5000000 bit/s, measured %.0f bit/s (%.1f%%)", ingress, ingress/5e6*100)
	// From another pod on the network, by the shaped pod's address.
	up(t, `
apiVersion: v1
kind: Pod
metadata: {name: e2e-qos-client}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: `+testImage+`, command: [sleep, "3600"]}
`, "e2e-qos-client")
	ip := podIPOf(t, pod)
	timed := func(script string) float64 {
		r := run(t, "podman", "exec", ctrName("e2e-qos-client", "c"), "sh", "-c", "time sh -c '"+script+"'")
		m := regexp.MustCompile(`real\s+(\d+)m\s*([\d.]+)s`).FindStringSubmatch(r.stderr)
		if r.code != 0 || m == nil {
			t.Fatalf("%s: exit %d\n%s%s", script, r.code, r.stdout, r.stderr)
		}
		min, _ := strconv.ParseFloat(m[1], 64)
		sec, _ := strconv.ParseFloat(m[2], 64)
		return min*60 + sec
	}
	podEgress := 2_500_000 * 8 / timed("wget -q -O /dev/null http://"+ip+":8080/bytes?n=2500000")
	podIngress := 6_000_000 * 8 / timed(`{ printf "POST /sink HTTP/1.0\r\nContent-Length: 6000000\r\n\r\n"; dd if=/dev/zero bs=10000 count=600 2>/dev/null; } | nc `+ip+` 8080 >/dev/null`)
	t.Logf("pod to pod: egress measured %.0f bit/s (%.1f%%), ingress %.0f bit/s (%.1f%%)", podEgress, podEgress/2e6*100, podIngress, podIngress/5e6*100)
	for _, c := range []struct {
		dir             string
		got, configured float64
	}{{"egress", egress, 2e6}, {"ingress", ingress, 5e6}, {"pod-to-pod egress", podEgress, 2e6}, {"pod-to-pod ingress", podIngress, 5e6}} {
		if c.got < 0.95*c.configured || c.got > 1.05*c.configured {
			t.Errorf("%s: measured %.0f bit/s for %.0f configured (not within 5%%)", c.dir, c.got, c.configured)
		}
	}
	must(t, podunit, "down", pod)

	const plain, plainPort = "e2e-noqos", 18392
	up(t, qosManifest(plain, plainPort, ""), plain)
	freeEgress := measure(t, plainPort, true, 20_000_000)
	freeIngress := measure(t, plainPort, false, 20_000_000)
	t.Logf("unannotated: egress %.0f bit/s, ingress %.0f bit/s", freeEgress, freeIngress)
	if freeEgress < 3*egress || freeIngress < 3*ingress {
		t.Errorf("unannotated pod not 3x faster: egress %.0f vs %.0f, ingress %.0f vs %.0f", freeEgress, egress, freeIngress, ingress)
	}
}

// Invalid annotations are refused with the annotation named, nothing started.
func TestBandwidthInvalid(t *testing.T) {
	const pod = "e2e-qos-bad"
	path := writeManifest(t, qosManifest(pod, 18393, `kubernetes.io/egress-bandwidth: "2P"`))
	r := run(t, podunit, "up", path)
	if r.code != 2 || !strings.Contains(r.stderr, "metadata.annotations[kubernetes.io/egress-bandwidth]") {
		t.Errorf("exit %d, stderr %s", r.code, r.stderr)
	}
	assertGone(t, pod)
}

// podIPOf is a pod's status.podIP.
func podIPOf(t *testing.T, pod string) string {
	t.Helper()
	var p struct {
		Status struct {
			PodIP string `json:"podIP"`
		} `json:"status"`
	}
	out := must(t, podunit, "get", "pods", pod, "-o", "json")
	if err := json.Unmarshal([]byte(out), &p); err != nil || p.Status.PodIP == "" {
		t.Fatalf("get -o json: %v\n%s", err, out)
	}
	return p.Status.PodIP
}
