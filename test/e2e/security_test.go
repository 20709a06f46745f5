package e2e

import (
	"strings"
	"testing"
)

// Safe sysctls are set in the pod's namespaces, seen by its containers;
// others are refused with the kubelet's message, nothing created.
func TestSysctls(t *testing.T) {
	up(t, `
apiVersion: v1
kind: Pod
metadata: {name: sysctl-pod}
spec:
  terminationGracePeriodSeconds: 1
  securityContext:
    sysctls:
    - {name: net.ipv4.ip_unprivileged_port_start, value: "0"}
    - {name: net/ipv4/tcp_keepalive_time, value: "600"}
    - {name: kernel.shm_rmid_forced, value: "1"}
  containers:
  - {name: c, image: `+testImage+`, command: [sleep, "3600"]}
`, "sysctl-pod")
	got := must(t, "podman", "exec", ctrName("sysctl-pod", "c"), "sh", "-c",
		"cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/net/ipv4/tcp_keepalive_time /proc/sys/kernel/shm_rmid_forced")
	if strings.Fields(got)[0] != "0" || strings.Join(strings.Fields(got), " ") != "0 600 1" {
		t.Errorf("sysctls in the container: %q, want 0 600 1", got)
	}
	r := run(t, podunit, "up", writeManifest(t, `
apiVersion: v1
kind: Pod
metadata: {name: sysctl-bad}
spec:
  securityContext: {sysctls: [{name: net.core.somaxconn, value: "1024"}]}
  containers: [{name: c, image: `+testImage+`}]
`))
	if r.code != 2 || !strings.Contains(r.stderr, `spec.securityContext.sysctls[0].name: forbidden sysctl: "net.core.somaxconn" not allowlisted`) {
		t.Errorf("an unsafe sysctl: exit %d\n%s", r.code, r.stderr)
	}
	assertGone(t, "sysctl-bad")
}
