// Package units translates a validated pod into a Plan: the transient systemd units
// (a slice, an infra service holding the pod's namespaces, one service per
// container) with typed properties, plus what must exist before they start
// (images, volumes, host paths). It is pure: the same pod and options always give
// the same Plan, which renders byte-for-byte the same text. Applying a Plan is
// the job of an adapter (see units/sdbus).
package units

import (
	"github.com/podunit/podunit/pod"
	"time"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/netshape"
)

// Plan is everything podunit will create for one pod, in start order.
type Plan struct {
	Pod       string
	Namespace string
	UID       string
	Slice     Unit
	Infra     Unit
	// PodNetwork says the infra joins podunit's pod network (cluster.Network).
	PodNetwork bool
	// Inits are the init containers' units (sidecars among them), in order;
	// Containers are the app containers' units, in the pod spec's order.
	Inits      []ContainerUnit
	Containers []ContainerUnit
	// Prober runs the probes of every container of the pod, if any has one.
	Prober *Unit
	// Deadline fails the pod when its activeDeadlineSeconds run out; nil
	// without one. It starts with the infra.
	Deadline *Unit
	// Runtime is what the units' helpers run, saved in the pod's state
	// directory before the units start: the units hold only references to it.
	Runtime *contract.Runtime
	Volumes []Volume
	// Files are written into the directories of the pod's configMap, secret,
	// downwardAPI and projected volumes before the units start.
	Files []File
	// FileVolumes are those volumes' directories (a volume may be empty).
	FileVolumes []string
	// Claims are the podman volumes behind persistentVolumeClaim volumes:
	// created when missing, kept when the pod goes.
	Claims []Claim
	Images []Image
	// PullAuth authenticates the pulls (spec.imagePullSecrets); nil: none.
	// Its AuthFile is never rendered.
	PullAuth  *pod.PullAuth
	HostPaths []HostPath
	// NonRootChecks are images whose user must be verified as non-root
	// (runAsNonRoot without runAsUser).
	NonRootChecks []NonRootCheck
	// Grace is the pod's termination grace period.
	Grace time.Duration
	// Bandwidth is the traffic shaping the infra unit applies in the pod's
	// network namespace once it is up.
	Bandwidth netshape.Spec
}

// Kinds of container.
const (
	KindInit    = "init"    // runs to completion before the next one starts
	KindSidecar = "sidecar" // an init container with restartPolicy Always
	KindApp     = "app"
	// KindEphemeral is a debug container (podunit debug): never restarted.
	KindEphemeral = "ephemeral"
)

// ContainerUnit ties a unit to the container it runs.
type ContainerUnit struct {
	Container string // the name in the pod spec
	Podman    string // the podman container name
	Kind      string
	Unit
}

// Units lists every unit of the plan in the order they must be started.
func (p *Plan) Units() []Unit {
	out := []Unit{p.Slice, p.Infra}
	if p.Deadline != nil {
		out = append(out, *p.Deadline)
	}
	for _, c := range p.Inits {
		out = append(out, c.Unit)
	}
	for _, c := range p.Containers {
		out = append(out, c.Unit)
	}
	if p.Prober != nil {
		out = append(out, *p.Prober)
	}
	return out
}

// Volume is a podman volume that backs an emptyDir volume for the pod's lifetime.
type Volume struct {
	Name      string
	Labels    map[string]string
	Options   map[string]string // podman volume driver options (type, device, o)
	FieldPath string
}

// File is one file of a volume podunit fills: Dir is the volume's directory
// on the host (in the pod's state directory), Path the file's name in it.
type File struct {
	Volume string
	Dir    string
	Path   string
	Mode   uint32
	Data   []byte
	// Secret data is never shown.
	Secret bool
}

// Claim is the podman volume of a PersistentVolumeClaim.
type Claim struct {
	Name      string // the podman volume
	Namespace string
	Claim     string
	Labels    map[string]string
	// Options are podman volume options for a claim made now (a pod with
	// an fsGroup makes it with the group: podman would otherwise give it
	// to the first container's user).
	Options   map[string]string
	FieldPath string
}

// Image is an image the pod needs, with the pull policy that applies to it.
type Image struct {
	Ref        string
	PullPolicy string // Always, IfNotPresent, Never
	FieldPath  string // e.g. spec.containers[0].image, for error messages
}

// NonRootCheck asks for an image's user to be checked before the pod starts.
type NonRootCheck struct {
	Image     string
	FieldPath string
}

// HostPath is a hostPath volume whose type must be checked (or whose path must
// be created) on the host before the pod starts.
type HostPath struct {
	Path      string
	Type      string
	FieldPath string
}
