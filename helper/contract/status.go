package contract

import "strings"

// The downward API's status fields: their values (the pod's and the host's
// addresses) exist only once the pod's network namespace does, so translation
// leaves a reference (StatusRef) in the container's env values and arguments
// and the run helper fills it in (FillStatus) just before the container
// starts. $(VAR) expansion carries the reference wherever the variable is
// used, as the kubelet carries the value.
const (
	FieldPodIP   = "status.podIP"
	FieldPodIPs  = "status.podIPs"
	FieldHostIP  = "status.hostIP"
	FieldHostIPs = "status.hostIPs"
)

// StatusFields are the fields StatusRef takes.
var StatusFields = []string{FieldHostIP, FieldHostIPs, FieldPodIP, FieldPodIPs}

// The brackets around a reference: mathematical angle brackets, which no
// command line or variable value of a manifest has any reason to hold.
const (
	refOpen  = "⟨"
	refClose = "⟩"
)

// StatusRef is the reference to a status field that FillStatus replaces.
func StatusRef(field string) string { return refOpen + field + refClose }

// HasStatusRef tells whether s holds a reference to a status field.
func HasStatusRef(s string) bool {
	for _, f := range StatusFields {
		if strings.Contains(s, StatusRef(f)) {
			return true
		}
	}
	return false
}

// FillStatus replaces every reference in s with the field's value.
func FillStatus(s string, values map[string]string) string {
	if !strings.Contains(s, refOpen) {
		return s
	}
	for _, f := range StatusFields {
		s = strings.ReplaceAll(s, StatusRef(f), values[f])
	}
	return s
}

// UsesStatus tells whether a container needs status values at its start.
func (c *Container) UsesStatus() bool {
	for _, a := range c.Args {
		if HasStatusRef(a) {
			return true
		}
	}
	for _, e := range c.Env {
		if HasStatusRef(e.Value) {
			return true
		}
	}
	return false
}

// VolumeRef is the reference to a named volume's directory on the host, which
// only podman knows (SubPath).
func VolumeRef(volume string) string { return refOpen + "volume:" + volume + refClose }
