package unitdef

import (
	"fmt"
	"net/netip"
	"strings"
)

// Prefix starts every unit, container and volume name podunit creates, so its
// objects are easy to list and never collide with the user's own.
const Prefix = "podunit"

// Escape makes s safe as one component of a unit name, as systemd-escape does:
// every byte outside [A-Za-z0-9:_.] becomes \xNN, so a "-" in a pod name cannot be
// read as a slice hierarchy separator or make two pods' unit names collide.
func Escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == ':' || c == '_' || (c == '.' && i > 0)
		if ok {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, `\x%02x`, c)
		}
	}
	return b.String()
}

// Unescape reverses Escape; it returns false when s is not in escaped form.
func Unescape(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		var c byte
		if i+3 >= len(s) || s[i+1] != 'x' {
			return "", false
		}
		if _, err := fmt.Sscanf(s[i+2:i+4], "%02x", &c); err != nil {
			return "", false
		}
		b.WriteByte(c)
		i += 3
	}
	return b.String(), true
}

// SliceName is the slice grouping every unit of a pod: podunit-<pod>.slice, a child
// of podunit.slice, so `systemctl --user status podunit.slice` shows all pods.
func SliceName(pod string) string { return Prefix + "-" + Escape(pod) + ".slice" }

// InfraUnitName is the unit holding the pod's shared namespaces; stopping it
// stops the whole pod.
func InfraUnitName(pod string) string { return Prefix + "-" + Escape(pod) + ".service" }

// ContainerUnitName is the unit of one container of a pod.
func ContainerUnitName(pod, container string) string {
	return Prefix + "-" + Escape(pod) + "-" + Escape(container) + ".service"
}

// ProberUnitName is the unit running a pod's probes. Its ".probes" part holds
// a dot, which no pod or container name (DNS labels) has, so it can never be
// taken for a container's unit, nor collide with one.
func ProberUnitName(pod string) string {
	return Prefix + "-" + Escape(pod) + ".probes.service"
}

// DeadlineUnitName is the unit that fails the pod when its
// activeDeadlineSeconds run out: podunit-POD.deadline.service.
func DeadlineUnitName(pod string) string {
	return Prefix + "-" + Escape(pod) + ".deadline.service"
}

// EndUnitName is the pod's end unit (contract.OpEnd); a dot, as in the
// prober's, keeps it from any container's unit name.
func EndUnitName(pod string) string {
	return Prefix + "-" + Escape(pod) + ".end.service"
}

// InfraContainerName is the podman name of the pod's infra container:
// podunit_POD. Every podman name podunit gives starts with "podunit_", which
// neither podman kube play (POD-infra, POD-CONTAINER) nor podman-compose
// (PROJECT_SERVICE_N) produce, and "_" is never in a pod or container name, so
// no two pods' names collide.
func InfraContainerName(pod string) string { return Prefix + "_" + pod }

// ContainerName is the podman name of a container of a pod: podunit_POD_CONTAINER.
func ContainerName(pod, container string) string { return Prefix + "_" + pod + "_" + container }

// VolumeName is the podman volume backing an emptyDir volume of a pod:
// podunit_POD_VOLUME.
func VolumeName(pod, volume string) string { return Prefix + "_" + pod + "_" + volume }

// ClaimVolumeName is the podman volume behind a PersistentVolumeClaim: one per
// namespace and claim, shared by the pods that use it, kept when they go.
func ClaimVolumeName(namespace, claim string) string { return "podunit." + namespace + "." + claim }

// LabelClaim marks a podman volume as a claim's: its value is namespace/claim.
const LabelClaim = "io.podunit.claim"

// ParseUnitName tells which pod (and container, "" for the infra unit) a unit of
// podunit's belongs to.
func ParseUnitName(unit string) (pod, container string, ok bool) {
	base, found := strings.CutSuffix(unit, ".service")
	if !found {
		return "", "", false
	}
	rest, found := strings.CutPrefix(base, Prefix+"-")
	if !found {
		return "", "", false
	}
	if strings.Contains(rest, ".") {
		return "", "", false // not a pod's or a container's unit (the prober)
	}
	parts := strings.Split(rest, "-")
	switch len(parts) {
	case 1:
		pod, ok = Unescape(parts[0])
		return pod, "", ok
	case 2:
		p, ok1 := Unescape(parts[0])
		c, ok2 := Unescape(parts[1])
		return p, c, ok1 && ok2
	}
	return "", "", false
}

// PodmanServiceUnit runs podunit's own podman service (PodmanService).
const PodmanServiceUnit = Prefix + ".podman.service"

// PodRange is where pods' addresses on podunit's pod network come from (the
// upper half of its subnet): what the helpers, which carry no network model,
// tell a pod on that network by (cluster.PodRange is this).
var PodRange = netip.MustParsePrefix("10.96.128.0/17")
