package units

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podunit/podunit/cluster"
	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/netshape"
	"github.com/podunit/podunit/pod"
)

// Options are the facts about the host that translation needs; passing them in
// keeps Translate pure.
type Options struct {
	Podman string // absolute path of podman, which the helpers run
	Self   string // absolute path of podunit: units call its helper commands
	// Helper is the absolute path of podunit-helper, which runs the same
	// helper commands (those contract.Command.InHelper names) in a process that
	// starts faster; "": the units run them with Self.
	Helper     string
	Sleep      string // absolute path of sleep (coreutils): the deadline unit's process
	InfraImage string // image of the infra container (runs catatonit -P)
	NodeName   string // this host's name: spec.nodeName for the downward API
	UID        string // the pod's uid (metadata.uid)
	// StateDir is podunit's state directory (podstate.DefaultDir): the files of
	// configMap, secret and downwardAPI volumes go in the pod's directory there.
	StateDir string
	// LogDir, when set, receives each unit's own output (podman's messages, not
	// the containers' logs) as <unit>.log: for hosts without journald.
	LogDir string
	// ContainerLogs, when set, is the directory of the containers' own
	// output: ContainerLogs/POD/CONTAINER.log, one file per run (podlog).
	ContainerLogs string
	// PodNetwork puts pods on podunit's pod network (cluster.Network) unless
	// they ask for slirp4netns; without it every pod has a slirp4netns
	// network of its own.
	PodNetwork bool
	// Services are the Services that exist when the pod starts, in every
	// namespace: those of the pod's namespace give its containers the
	// service environment variables (unless enableServiceLinks is false).
	Services []*corev1.Service
	// AppArmor tells whether the host enforces AppArmor: without it a
	// Localhost profile cannot be applied (the kubelet refuses such a pod).
	AppArmor bool
	// SELinux tells whether the host has SELinux: seLinuxOptions become
	// podman's label options; without it they are ignored, as the kubelet
	// ignores them there.
	SELinux bool
	// SeccompDir holds the users' seccomp profiles: seccompProfile
	// localhostProfile names a file under it.
	SeccompDir string
	// Allocatable is the node's cpu, memory and ephemeral-storage: the
	// downward API's limits.* of a container without that limit, when the
	// pod sets none either, as the kubelet gives them.
	Allocatable corev1.ResourceList
}

// Translate turns a defaulted, validated pod into its Plan, using what
// validation resolved (pod.Resolve) for its hooks, probes and bandwidth.
func Translate(p *corev1.Pod, res *pod.Resolved, o Options) (*Plan, error) {
	t := newTranslator(p, res, o)
	return t.plan()
}

func newTranslator(p *corev1.Pod, res *pod.Resolved, o Options) *translator {
	t := &translator{pod: p, res: res, o: o}
	if p.Spec.EnableServiceLinks == nil || *p.Spec.EnableServiceLinks {
		t.serviceEnv = cluster.EnvVars(cluster.InNamespace(o.Services, p.Namespace))
	}
	return t
}

// onPodNetwork tells whether the pod joins podunit's pod network.
func (t *translator) onPodNetwork() bool {
	return t.o.PodNetwork && !t.pod.Spec.HostNetwork && t.pod.Annotations[pod.AnnotationNetwork] != pod.NetworkSlirp
}

// publishedPorts are the container ports the pod publishes on the host.
// On the pod network, podman's forwarder reaches them from inside the pod's
// namespace, over its loopback interface: shaping covers them there.
func (t *translator) publishedPorts() []netshape.Port {
	var out []netshape.Port
	for _, c := range append(append([]corev1.Container{}, t.pod.Spec.InitContainers...), t.pod.Spec.Containers...) {
		for _, p := range c.Ports {
			if p.HostPort != 0 {
				out = append(out, netshape.Port{Proto: strings.ToLower(string(p.Protocol)), Port: uint16(p.ContainerPort)})
			}
		}
	}
	return out
}

type translator struct {
	pod     *corev1.Pod
	res     *pod.Resolved
	o       Options
	out     *Plan
	nonRoot []string // images of the container being translated to check
	target  string   // the target of the debug container being translated
	// serviceEnv are the service variables of the pod's containers.
	serviceEnv []corev1.EnvVar
}

// TranslateEphemeral is the unit of the debug container
// p.Spec.EphemeralContainers[i] (pod.AddEphemeral made p and res): it joins
// the running pod's namespaces, and its target's process namespace. The spec
// its helpers read is the returned plan's only Runtime.Containers entry; the
// plan carries its image and runAsNonRoot checks too.
func TranslateEphemeral(p *corev1.Pod, i int, res *pod.Resolved, o Options) (ContainerUnit, *Plan, error) {
	t := newTranslator(p, res, o)
	t.out = &Plan{Pod: p.Name, Namespace: p.Namespace, Runtime: &contract.Runtime{}}
	ec := &p.Spec.EphemeralContainers[i]
	c := corev1.Container(ec.EphemeralContainerCommon)
	t.target = ec.TargetContainerName
	grace := time.Duration(*p.Spec.TerminationGracePeriodSeconds) * time.Second
	fp := field.NewPath("spec", "ephemeralContainers").Index(i)
	cu, err := t.containerUnit(&c, KindEphemeral, fp, grace, nil, nil, nil)
	if err != nil {
		return ContainerUnit{}, nil, err
	}
	t.out.Images = []Image{{Ref: c.Image, PullPolicy: string(c.ImagePullPolicy), FieldPath: fp.Child("image").String()}}
	t.out.PullAuth = res.PullAuth
	t.out.Containers = []ContainerUnit{cu}
	return cu, t.out, nil
}

func (t *translator) plan() (*Plan, error) {
	p := t.pod
	grace := time.Duration(*p.Spec.TerminationGracePeriodSeconds) * time.Second
	plan := &Plan{
		Pod:        p.Name,
		Namespace:  p.Namespace,
		UID:        t.o.UID,
		Grace:      grace,
		PodNetwork: t.onPodNetwork(),
		Slice: Unit{Name: SliceName(p.Name), Properties: []Property{
			prop("Description", fmt.Sprintf("podunit pod %s/%s", p.Namespace, p.Name)),
		}},
		Runtime: &contract.Runtime{
			Pod: p.Name, Namespace: p.Namespace, Podman: t.o.Podman, Infra: InfraContainerName(p.Name),
			HostNetwork: p.Spec.HostNetwork, Grace: grace, Bandwidth: t.res.Bandwidth,
		},
	}
	if r := p.Spec.Resources; r != nil {
		// Pod-level resources bound the whole slice: every container of the
		// pod together, as the kubelet's pod cgroup does.
		plan.Slice.Properties = append(plan.Slice.Properties, ResourceProps(r)...)
	}
	plan.Runtime.FSGroup = t.fsGroup()
	if !t.res.Bandwidth.Empty() && t.onPodNetwork() {
		plan.Runtime.Bandwidth.LocalPorts = t.publishedPorts()
	}
	t.out = plan
	for i, v := range p.Spec.Volumes {
		fp := field.NewPath("spec", "volumes").Index(i)
		switch {
		case v.EmptyDir != nil:
			vol := Volume{Name: VolumeName(p.Name, v.Name), Labels: map[string]string{LabelPod: p.Name},
				FieldPath: fp.Child("emptyDir").String()}
			if v.EmptyDir.Medium == corev1.StorageMediumMemory {
				o := "nodev,nosuid"
				if v.EmptyDir.SizeLimit != nil {
					o += ",size=" + strconv.FormatInt(v.EmptyDir.SizeLimit.Value(), 10)
				}
				if g := t.fsGroupID(); g != nil {
					// a tmpfs is mounted afresh for each container: it is made
					// with the group, group-writable and setgid
					o += "," + gidOption(*g) + ",mode=2777"
				}
				vol.Options = map[string]string{"type": "tmpfs", "device": "tmpfs", "o": o}
			} else if g := t.fsGroupID(); g != nil {
				// made with the group, and never given to the first
				// container's user by podman
				vol.Options = map[string]string{"o": gidOption(*g)}
			}
			plan.Volumes = append(plan.Volumes, vol)
		case v.Ephemeral != nil:
			// the pod's own claim, a volume made and removed with the pod
			vol := Volume{Name: VolumeName(p.Name, v.Name), Labels: map[string]string{LabelPod: p.Name},
				FieldPath: fp.Child("ephemeral").String()}
			if g := t.fsGroupID(); g != nil {
				vol.Options = map[string]string{"o": gidOption(*g)}
			}
			plan.Volumes = append(plan.Volumes, vol)
		case t.boundVolume(&v) != nil:
			// bound to a PersistentVolume: its host directory
			pv := t.boundVolume(&v)
			dir, ht := pod.VolumePath(pv)
			plan.HostPaths = append(plan.HostPaths, HostPath{Path: dir, Type: ht,
				FieldPath: fmt.Sprintf("%s (persistentvolume %s)", fp.Child("persistentVolumeClaim"), pv.Name)})
		case v.PersistentVolumeClaim != nil:
			vd := t.res.Volumes[v.Name]
			name := ClaimVolumeName(p.Namespace, vd.Claim.Name)
			if !slices.ContainsFunc(plan.Claims, func(c Claim) bool { return c.Name == name }) {
				c := Claim{Name: name, Namespace: p.Namespace, Claim: vd.Claim.Name,
					Labels:    map[string]string{LabelClaim: p.Namespace + "/" + vd.Claim.Name},
					FieldPath: fp.Child("persistentVolumeClaim").String()}
				if g := t.fsGroupID(); g != nil {
					c.Options = map[string]string{"o": gidOption(*g)}
				}
				plan.Claims = append(plan.Claims, c)
			}
		case t.res.Volumes[v.Name] != nil:
			files, err := t.volumeFiles(v.Name, t.res.Volumes[v.Name], fp)
			if err != nil {
				return nil, err
			}
			plan.Files = append(plan.Files, files...)
			plan.FileVolumes = append(plan.FileVolumes, t.volumeDir(v.Name))
		case v.Image != nil:
			plan.Images = append(plan.Images, Image{Ref: v.Image.Reference, PullPolicy: string(v.Image.PullPolicy),
				FieldPath: fp.Child("image", "reference").String()})
		case v.HostPath != nil:
			ht := ""
			if v.HostPath.Type != nil {
				ht = string(*v.HostPath.Type)
			}
			plan.HostPaths = append(plan.HostPaths, HostPath{Path: v.HostPath.Path, Type: ht,
				FieldPath: fp.Child("hostPath").String()})
		}
	}

	var containerUnits []string
	for _, c := range p.Spec.InitContainers {
		containerUnits = append(containerUnits, ContainerUnitName(p.Name, c.Name))
	}
	for _, c := range p.Spec.Containers {
		containerUnits = append(containerUnits, ContainerUnitName(p.Name, c.Name))
	}
	plan.Bandwidth = t.res.Bandwidth
	plan.PullAuth = t.res.PullAuth
	plan.Infra = t.infraUnit(containerUnits)

	// Each container waits for the init containers before it: it requires the
	// plain ones (a failed one stops the chain) and wants the sidecars (which
	// restart on their own).
	var after, requires, wants []string
	for i := range p.Spec.InitContainers {
		c := &p.Spec.InitContainers[i]
		fp := field.NewPath("spec", "initContainers").Index(i)
		kind := KindInit
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			kind = KindSidecar
		}
		plan.Images = append(plan.Images, Image{Ref: c.Image, PullPolicy: string(c.ImagePullPolicy),
			FieldPath: fp.Child("image").String()})
		cu, err := t.containerUnit(c, kind, fp, grace, after, requires, wants)
		if err != nil {
			return nil, err
		}
		plan.Inits = append(plan.Inits, cu)
		after = append(after, cu.Name)
		if kind == KindSidecar {
			wants = append(wants, cu.Name)
		} else {
			requires = append(requires, cu.Name)
		}
	}
	for i := range p.Spec.Containers {
		c := &p.Spec.Containers[i]
		fp := field.NewPath("spec", "containers").Index(i)
		plan.Images = append(plan.Images, Image{Ref: c.Image, PullPolicy: string(c.ImagePullPolicy),
			FieldPath: fp.Child("image").String()})
		cu, err := t.containerUnit(c, KindApp, fp, grace, after, requires, wants)
		if err != nil {
			return nil, err
		}
		plan.Containers = append(plan.Containers, cu)
	}
	if len(plan.Runtime.Probed()) > 0 {
		plan.Prober = t.proberUnit()
	}
	if d := p.Spec.ActiveDeadlineSeconds; d != nil {
		plan.Deadline = t.deadlineUnit(time.Duration(*d) * time.Second)
		plan.Runtime.Deadline = true
	}
	return plan, nil
}

// helper is the command line of one of podunit's helpers for this pod.
func (t *translator) helper(op contract.Op, container string) []string {
	return t.o.Argv(contract.Command{Op: op, Pod: t.pod.Name, Container: container})
}

// Argv is a helper's command line as the units run it: podunit-helper
// for what it runs (contract.Command.InHelper), else podunit itself.
func (o Options) Argv(c contract.Command) []string {
	if o.Helper != "" && c.InHelper() {
		return c.Argv(o.Helper)
	}
	return c.Argv(o.Self)
}

// commonService are the settings of podman's proven pattern for a container run
// by systemd: conmon is the main process and reports readiness, the payload gets a
// sub-cgroup of the unit (--cgroups=split), and only conmon gets the stop signal.
func (t *translator) commonService(unit string) []Property {
	out := []Property{
		prop("Slice", SliceName(t.pod.Name)),
		prop("Type", "notify"),
		prop("NotifyAccess", "all"),
		prop("KillMode", "mixed"),
		prop("Delegate", true),
	}
	return append(out, t.logTo(unit)...)
}

// logTo sends a unit's own output to a file of the pod's, on hosts without journald.
func (t *translator) logTo(unit string) []Property { return logTo(t.o.LogDir, unit) }

// logTo sends a unit's output to dir/UNIT.log; nowhere else when dir is "".
func logTo(dir, unit string) []Property {
	if dir == "" {
		return nil
	}
	f := AppendFile(strings.TrimSuffix(dir, "/") + "/" + unit + ".log")
	return []Property{prop("StandardOutput", f), prop("StandardError", f)}
}

// containerLog is the file of a container's output: one per pod and
// container, kept on disk (not in the runtime directory, which is memory) and
// removed with the pod.
func (t *translator) containerLog(container string) string {
	if t.o.ContainerLogs == "" {
		return ""
	}
	return path.Join(t.o.ContainerLogs, t.pod.Name, container+".log")
}

func podmanRun(name string) []string {
	return []string{"run", "--name", name, "--rm", "--detach",
		"--sdnotify=conmon", "--cgroups=split", "--pull=never"}
}

func (t *translator) infraUnit(containerUnits []string) Unit {
	p := t.pod
	name := InfraContainerName(p.Name)
	hostname := podHostname(p)
	if fqdn := p.Spec.SetHostnameAsFQDN; fqdn != nil && *fqdn && p.Spec.Subdomain != "" {
		hostname = PodFQDN(p)
	}
	bw := t.res.Bandwidth
	args := podmanRun(name)
	args = append(args, "--label", LabelPod+"="+p.Name, "--label", LabelRole+"=infra")
	switch {
	case p.Spec.HostNetwork:
		args = append(args, "--network", "host")
	case t.onPodNetwork():
		// Published ports reach the pod through its interface on the bridge,
		// where the shaping is.
		args = append(args, "--hostname", hostname, "--network", cluster.Network)
	case !bw.Empty():
		// slirp4netns' own port forwarder delivers published ports through the
		// pod's interface, where the shaping is; podman's default forwarder
		// (rootlessport) would reach the pod over its loopback, unshaped. An
		// Ethernet MTU instead of slirp4netns' 65520 bytes keeps the token
		// bucket's burst (two packets at least) small at low rates.
		args = append(args, "--hostname", hostname, "--network", "slirp4netns:port_handler=slirp4netns,mtu=1500")
	default:
		args = append(args, "--hostname", hostname)
	}
	args = append(args, t.dns()...)
	if p.Spec.HostUsers != nil && !*p.Spec.HostUsers {
		// a user namespace of the pod's own, from the user's subordinate ids;
		// the containers join it
		args = append(args, "--userns", "auto")
	}
	if sc := p.Spec.SecurityContext; sc != nil {
		// set in the infra's namespaces, which the containers share
		for _, x := range sc.Sysctls {
			args = append(args, "--sysctl", pod.SysctlName(x.Name)+"="+x.Value)
		}
	}
	if !p.Spec.HostNetwork {
		for _, c := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
			for _, port := range c.Ports {
				if port.HostPort == 0 {
					continue
				}
				spec := fmt.Sprintf("%d:%d", port.HostPort, port.ContainerPort)
				if port.HostIP != "" {
					ip := port.HostIP
					if strings.Contains(ip, ":") {
						ip = "[" + ip + "]"
					}
					spec = ip + ":" + spec
				}
				if port.Protocol == corev1.ProtocolUDP {
					spec += "/udp"
				}
				args = append(args, "--publish", spec)
			}
		}
	}
	args = append(args, t.o.InfraImage)
	t.out.Runtime.InfraSpec = contract.Container{Podman: name, Kind: contract.KindInfra, Args: args, StopTimeout: InfraGrace}

	props := []Property{
		prop("Description", fmt.Sprintf("podunit pod %s/%s: infra (shared namespaces)", p.Namespace, p.Name)),
	}
	if len(containerUnits) > 0 {
		// Before= also keeps the containers' units loaded after they exit, so their
		// exit status stays readable while the pod exists.
		props = append(props, prop("Before", containerUnits))
		// Wants= makes a restart of the infra (`systemctl --user restart
		// podunit-POD.service`) a restart of the pod: its containers (init
		// containers first, by their ordering) and its prober, which enters the
		// new network namespace, come back with it. At `podunit up` these
		// units do not exist yet when the infra starts; they are started after it.
		wants := append([]string{}, containerUnits...)
		if t.anyProbes() {
			wants = append(wants, ProberUnitName(p.Name))
		}
		props = append(props, prop("Wants", wants))
	}
	props = append(props, t.commonService(InfraUnitName(p.Name))...)
	// When the infra dies (its process killed, its conmon killed), the kubelet
	// would make a new sandbox and restart the containers in it per
	// restartPolicy: systemd does the same with a restart of the infra, which
	// restarts the units bound to it. Under Never the pod fails instead.
	if p.Spec.RestartPolicy == corev1.RestartPolicyNever {
		props = append(props, prop("Restart", "no"))
	} else {
		props = append(props, prop("Restart", "always"), prop("RestartSec", time.Second))
	}
	props = append(props, prop("ExecStart", []Exec{{Argv: t.helper(contract.OpRun, "")}}))
	var post []Exec
	if t.out.Runtime.FSGroup != nil {
		// The volumes have their group before any container starts.
		post = append(post, Exec{Argv: t.helper(contract.OpVolumes, "")})
	}
	if !bw.Empty() {
		// Shaping is in place before the unit is active, so before any container
		// of the pod starts. It goes with the pod's network namespace: nothing
		// to remove at stop.
		post = append(post, Exec{Argv: t.o.Argv(contract.Command{Op: contract.OpShape, Action: contract.ShapeApply, Pod: p.Name})})
	}
	if len(post) > 0 {
		props = append(props, prop("ExecStartPost", post))
	}
	props = append(props,
		prop("ExecStop", []Exec{{Argv: t.helper(contract.OpStop, "")}}),
		prop("ExecStopPost", []Exec{{Argv: t.helper(contract.OpCleanup, ""), IgnoreFailure: true}}),
		// the start may wait its turn (InfraRetry) and for the old
		// sandbox's containers (StaleWait)
		prop("TimeoutStartSec", InfraRetry+StaleWait(t.out.Runtime.Grace)+StartMargin),
		prop("TimeoutStopSec", InfraGrace+StopMargin),
	)
	return Unit{Name: InfraUnitName(p.Name), Properties: props}
}

func (t *translator) anyProbes() bool {
	for _, c := range t.res.Containers {
		if len(c.Probes) > 0 {
			return true
		}
	}
	return false
}

// deadlineUnit holds the pod's activeDeadlineSeconds: a sleep that systemd
// ends when the unit has run that long (RuntimeMaxSec=, counted from the
// pod's start, through any daemon-reload), whereupon its clean-up fails the
// pod (DeadlineExceeded) and stops its infra, and so its containers. No
// dependency ties it to the infra: an infra restarted keeps the pod's
// deadline; the pod's slice takes it down with the pod.
func (t *translator) deadlineUnit(d time.Duration) *Unit {
	p := t.pod
	sleep := t.o.Sleep
	if sleep == "" {
		sleep = "/bin/sleep"
	}
	name := DeadlineUnitName(p.Name)
	return &Unit{Name: name, Properties: append([]Property{
		prop("Description", fmt.Sprintf("podunit pod %s/%s: activeDeadlineSeconds (%s)", p.Namespace, p.Name, d)),
		prop("After", []string{InfraUnitName(p.Name)}),
		prop("Slice", SliceName(p.Name)),
		prop("Type", "exec"),
		prop("ExecStart", []Exec{{Argv: []string{sleep, "infinity"}}}),
		prop("RuntimeMaxSec", d),
		prop("ExecStopPost", []Exec{{Argv: t.helper(contract.OpDeadline, "")}}),
	}, t.logTo(name)...)}
}

// proberUnit runs the probes of all the pod's containers in one process that
// enters the pod's network namespace once. Bound to the infra: it goes with
// the pod, and comes back (in the new namespace) whenever it ends while the
// pod runs, a clean exit too (a SIGTERM not from a stop job, which the
// prober answers by exiting 0): a pod whose prober is gone would keep its
// last readiness and never be restarted by a failing liveness probe.
func (t *translator) proberUnit() *Unit {
	p := t.pod
	infra := InfraUnitName(p.Name)
	u := &Unit{Name: ProberUnitName(p.Name), Properties: []Property{
		prop("Description", fmt.Sprintf("podunit pod %s/%s: probes", p.Namespace, p.Name)),
		prop("BindsTo", []string{infra}),
		prop("After", []string{infra}),
		prop("Slice", SliceName(p.Name)),
		prop("Type", "simple"),
		prop("Restart", "always"),
		prop("RestartSec", time.Second),
		prop("StartLimitIntervalSec", time.Duration(0)),
		// The prober wakes for short bursts; Go's runtime polls every 20 µs
		// while a process is busy, each poll a context switch. A millisecond
		// of timer slack lets those polls (and the probes' own timers) fold
		// together; probes are scheduled in seconds.
		prop("TimerSlackNSec", uint64(time.Millisecond)),
		prop("ExecStart", []Exec{{Argv: t.helper(contract.OpProbe, "")}}),
	}}
	u.Properties = append(u.Properties, t.logTo(u.Name)...)
	return u
}

var restartPolicies = map[corev1.RestartPolicy]string{
	corev1.RestartPolicyAlways:    "always",
	corev1.RestartPolicyOnFailure: "on-failure",
	corev1.RestartPolicyNever:     "no",
}

func (t *translator) containerUnit(c *corev1.Container, kind string, fp *field.Path, grace time.Duration, after, requires, wants []string) (ContainerUnit, error) {
	p := t.pod
	name := ContainerName(p.Name, c.Name)
	infra := InfraContainerName(p.Name)
	var args []string
	if kind == KindInit {
		// Runs in the foreground: the unit is done when the container exits.
		// --sdnotify=ignore: podman must not hand the main PID to conmon, which
		// would make systemd take the container's exit for the unit's.
		args = []string{"run", "--name", name, "--rm",
			"--sdnotify=ignore", "--cgroups=split", "--pull=never"}
	} else {
		args = podmanRun(name)
	}
	// The host's namespaces belong to the host's user namespace: a rootless
	// container cannot join them through the infra (setns is refused), only
	// share them from the start, as the infra does.
	ipc := "container:" + infra
	if p.Spec.HostIPC {
		ipc = "host"
	}
	if p.Spec.HostNetwork {
		args = append(args, "--network", "host", "--uts", "host", "--ipc", ipc)
	} else {
		args = append(args,
			"--network", "container:"+infra, "--ipc", ipc, "--uts", "container:"+infra)
	}
	if p.Spec.HostUsers != nil && !*p.Spec.HostUsers {
		args = append(args, "--userns", "container:"+infra)
	}
	switch {
	case p.Spec.HostPID:
		args = append(args, "--pid", "host")
	case p.Spec.ShareProcessNamespace != nil && *p.Spec.ShareProcessNamespace:
		args = append(args, "--pid", "container:"+infra)
	case t.target != "":
		// a debug container sees its target's processes (kubectl debug --target)
		args = append(args, "--pid", "container:"+ContainerName(p.Name, t.target))
	}
	args = append(args, "--label", LabelPod+"="+p.Name, "--label", LabelContainer+"="+c.Name)
	logFile := t.containerLog(c.Name)
	if logFile != "" {
		args = append(args, "--log-driver", "k8s-file", "--log-opt", "path="+logFile)
	}
	if c.Lifecycle != nil && c.Lifecycle.StopSignal != nil {
		args = append(args, "--stop-signal", string(*c.Lifecycle.StopSignal))
	}

	env, err := t.environment(c, fp)
	if err != nil {
		return ContainerUnit{}, err
	}
	// Values reach podman through its environment: "--env NAME" takes the
	// value from there, so no value is on any command line.
	seen := map[string]bool{}
	var specEnv []contract.EnvVar
	for _, e := range env {
		if !seen[e.name] {
			args = append(args, "--env", e.name)
			seen[e.name] = true
		}
		specEnv = append(specEnv, contract.EnvVar{Name: e.name, Value: e.value, Secret: e.secret})
	}
	if c.WorkingDir != "" {
		args = append(args, "--workdir", c.WorkingDir)
	}
	mounts, subPaths, err := t.mounts(c, fp, env)
	if err != nil {
		return ContainerUnit{}, err
	}
	for i := range subPaths {
		subPaths[i].Arg += len(args)
	}
	args = append(args, mounts...)
	// The kubelet binds a file of its own at terminationMessagePath (any
	// user of the container may write it) and reads it when the run ends.
	msgFile := ""
	if c.TerminationMessagePath != "" {
		msgFile = t.messageFile(c.Name)
		args = append(args, "--volume", msgFile+":"+c.TerminationMessagePath+":rw")
	}
	// The kubelet's /etc/hosts, one file for the pod's containers, written by
	// the run helper once the pod's addresses are known; none where the
	// container mounts a volume there itself.
	hosts := t.hosts(c)
	if hosts != nil {
		args = append(args, "--no-hosts", "--volume", hosts.File+":/etc/hosts:rw")
	}
	args = append(args, t.security(c)...)
	args = append(args, seccomp(p, c, t.o.SeccompDir)...)
	aa, err := appArmor(p, c, t.o.AppArmor, fp)
	if err != nil {
		return ContainerUnit{}, err
	}
	args = append(args, aa...)
	if t.o.SELinux {
		args = append(args, seLinuxLabel(p, c)...)
	}
	for _, img := range t.nonRoot {
		t.out.NonRootChecks = append(t.out.NonRootChecks, NonRootCheck{Image: img,
			FieldPath: fp.Child("securityContext", "runAsNonRoot").String()})
	}
	t.nonRoot = nil
	if c.TTY {
		args = append(args, "--tty")
	}
	if c.Stdin {
		args = append(args, "--interactive")
	}

	lookup := envLookup(env)
	var command, cargs []string
	for _, s := range c.Command {
		command = append(command, Expand(s, lookup))
	}
	for _, s := range c.Args {
		cargs = append(cargs, Expand(s, lookup))
	}
	// Kubernetes: command replaces the image's ENTRYPOINT and drops its CMD; args
	// alone replace CMD. podman takes the first word as --entrypoint and the rest as
	// arguments, which drops the image's CMD the same way.
	if len(command) > 0 {
		ep, _ := json.Marshal(command[:1])
		args = append(args, "--entrypoint", string(ep))
	}
	args = append(args, c.Image)
	if len(command) > 1 {
		args = append(args, command[1:]...)
	}
	args = append(args, cargs...)

	rc := t.res.Container(c.Name)
	spec := contract.Container{Name: c.Name, Podman: name, Kind: kind, Args: args, Env: specEnv,
		PreStop: rc.PreStop, PostStart: rc.PostStart, Probes: rc.Probes, SubPaths: subPaths, Log: logFile,
		Message: msgFile, MessageFromLog: msgFile != "" && c.TerminationMessagePolicy == corev1.TerminationMessageFallbackToLogsOnError,
		Hosts: hosts}
	if rc.PostStart != nil {
		spec.PostStartTimeout = t.res.PostStartTimeout
	}

	infraUnit := InfraUnitName(p.Name)
	unit := ContainerUnitName(p.Name, c.Name)
	if t.onPodNetwork() {
		// The cluster DNS answers before the container starts: the service
		// proxy may be starting alongside the pod's infra (never required:
		// ordering only, so a pod outlives a proxy restart).
		after = append(slices.Clip(after), ServicesUnit, ProxyUnit)
	}
	props := []Property{
		prop("Description", fmt.Sprintf("podunit pod %s/%s: %s container %s", p.Namespace, p.Name, kindWord[kind], c.Name)),
		prop("BindsTo", []string{infraUnit}),
		prop("After", append([]string{infraUnit}, after...)),
	}
	if len(requires) > 0 {
		props = append(props, prop("Requires", requires))
	}
	if len(wants) > 0 {
		props = append(props, prop("Wants", wants))
	}
	// Kubernetes never gives up restarting a container; systemd's start rate
	// limit would. The run helper waits out the kubelet's back-off instead.
	props = append(props, prop("StartLimitIntervalSec", time.Duration(0)))
	stopBudget := StopBudget(grace)
	limits := ResourceProps(&c.Resources)
	run := []Exec{{Argv: t.helper(contract.OpRun, c.Name)}}
	stop := []Exec{{Argv: t.helper(contract.OpStop, c.Name)}}
	cleanup := []Exec{{Argv: t.helper(contract.OpCleanup, c.Name), IgnoreFailure: true}}

	if kind == KindInit {
		spec.Retry = p.Spec.RestartPolicy != corev1.RestartPolicyNever
		props = append(props, t.commonService(unit)...)
		for i := range props {
			switch props[i].Name {
			case "Type":
				props[i].Value = "oneshot"
			case "NotifyAccess":
				props[i].Value = "none"
			}
		}
		props = append(props,
			prop("RemainAfterExit", true),
			prop("ExecStart", run),
			prop("ExecStop", stop),
			prop("ExecStopPost", cleanup),
			// Init containers run as long as they need, retries included.
			prop("TimeoutStartSec", Infinity),
			prop("TimeoutStopSec", stopBudget),
		)
		// Init containers carry their limits for their whole run.
		props = append(props, limits...)
		t.out.Runtime.Containers = append(t.out.Runtime.Containers, spec)
		return ContainerUnit{Container: c.Name, Podman: name, Kind: kind, Unit: Unit{Name: unit, Properties: props}}, nil
	}

	spec.Restart = restartPolicies[p.Spec.RestartPolicy]
	if c.RestartPolicy != nil && kind == KindApp {
		spec.Restart = restartPolicies[corev1.RestartPolicy(*c.RestartPolicy)]
	}
	switch kind {
	case KindSidecar:
		spec.Restart = "always"
	case KindEphemeral:
		spec.Restart = "no" // Kubernetes never restarts one
	}
	// Limits go on the unit once the container runs (the run helper, or the
	// post-start step of a container with a postStart hook, sets them) and
	// come off before each start (the run helper): `podman run`
	// itself runs in the unit's cgroup and would otherwise be throttled, or
	// OOM-killed under a small memory limit, before the container exists.
	// Requests (a weight, a protection) hold back nothing: they are the
	// unit's from its creation, so that a pod with requests alone never has
	// its units changed at run time (systemd 252 then flags them
	// NeedDaemonReload, and systemctl warns at every command).
	spec.Limits = SpecLimits(&c.Resources)
	props = append(props, RequestProps(&c.Resources)...)
	props = append(props, t.commonService(unit)...)
	var rules []Property
	if kind == KindApp && len(c.RestartPolicyRules) > 0 {
		spec.Restart, spec.RestartExceptions, rules = restartRules(c, p.Spec.RestartPolicy)
	}
	props = append(props, prop("Restart", spec.Restart))
	props = append(props, rules...)
	props = append(props, prop("RestartSec", time.Second), prop("ExecStart", run))
	if spec.PostStartStep() {
		// else the run helper records the start (contract.Container.RunRecordsStart)
		props = append(props, prop("ExecStartPost", []Exec{{Argv: t.helper(contract.OpPostStart, c.Name)}}))
	}
	props = append(props, prop("ExecStop", stop), prop("ExecStopPost", cleanup))
	// The start may wait out the crash-loop back-off first; a failing
	// postStart kills the container within the start job.
	start := MaxBackOff + StartMargin
	if rc.PostStart != nil {
		start += t.res.PostStartTimeout + stopBudget
	}
	props = append(props, prop("TimeoutStartSec", start), prop("TimeoutStopSec", stopBudget))
	t.out.Runtime.Containers = append(t.out.Runtime.Containers, spec)
	return ContainerUnit{Container: c.Name, Podman: name, Kind: kind, Unit: Unit{Name: unit, Properties: props}}, nil
}

var kindWord = map[string]string{KindInit: "init", KindSidecar: "sidecar", KindApp: "app", KindEphemeral: "debug"}

func seconds(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) }

type envVar struct {
	name, value string
	secret      bool
}

// envLookup finds a variable's value in env: the last definition of a name
// wins, as in the container's environment.
func envLookup(env []envVar) func(string) (string, bool) {
	return func(n string) (string, bool) {
		for i := len(env) - 1; i >= 0; i-- {
			if env[i].name == n {
				return env[i].value, true
			}
		}
		return "", false
	}
}

// environment resolves a container's env in order, as the kubelet does: the
// variables of envFrom first, then env, whose values may refer to the variables
// defined before them.
func (t *translator) environment(c *corev1.Container, fp *field.Path) ([]envVar, error) {
	var env []envVar
	// $(VAR) finds the container's variables first, then the services'.
	lookup := func(n string) (string, bool) {
		if v, ok := envLookup(env)(n); ok {
			return v, ok
		}
		for _, e := range t.serviceEnv {
			if e.Name == n {
				return e.Value, true
			}
		}
		return "", false
	}
	rc := t.res.Container(c.Name)
	for _, e := range rc.EnvFrom {
		env = append(env, envVar{e.Name, e.Value, e.Secret})
	}
	for i, e := range c.Env {
		if ref, ok := rc.EnvRefs[i]; ok {
			if !ref.Skip {
				env = append(env, envVar{e.Name, ref.Value, ref.Secret})
			}
			continue
		}
		v := Expand(e.Value, lookup)
		if e.ValueFrom != nil {
			var err error
			v, err = t.valueFrom(c, e.ValueFrom, fp.Child("env").Index(i).Child("valueFrom"))
			if err != nil {
				return nil, err
			}
		}
		env = append(env, envVar{name: e.Name, value: v})
	}
	// Then the service variables the container does not define itself.
	for _, e := range t.serviceEnv {
		if _, defined := envLookup(env)(e.Name); !defined {
			env = append(env, envVar{name: e.Name, value: e.Value})
		}
	}
	return env, nil
}

func (t *translator) valueFrom(c *corev1.Container, vf *corev1.EnvVarSource, fp *field.Path) (string, error) {
	p := t.pod
	if fr := vf.FieldRef; fr != nil {
		if v, ok := t.fieldValue(fr.FieldPath); ok {
			return v, nil
		}
		return "", fmt.Errorf("%s: unsupported field path %q", fp.Child("fieldRef", "fieldPath"), fr.FieldPath)
	}
	if rr := vf.ResourceFieldRef; rr != nil {
		target := c
		if rr.ContainerName != "" {
			for i := range p.Spec.Containers {
				if p.Spec.Containers[i].Name == rr.ContainerName {
					target = &p.Spec.Containers[i]
				}
			}
		}
		return resourceValue(&p.Spec, target, rr, t.o)
	}
	return "", fmt.Errorf("%s: no source", fp)
}

// ResourceFieldValue is a resourceFieldRef's value for a container, as its
// environment gets it, with the node's allocatable unknown (0).
func ResourceFieldValue(p *corev1.PodSpec, c *corev1.Container, rr *corev1.ResourceFieldSelector) string {
	v, _ := resourceValue(p, c, rr, Options{})
	return v
}

// resourceValue follows the kubelet: the value is divided by the divisor (default
// 1) and rounded up; a request not set is its limit, else 0; a limit not set
// is the pod's (spec.resources), else the node's allocatable (0 when not
// known).
func resourceValue(p *corev1.PodSpec, c *corev1.Container, rr *corev1.ResourceFieldSelector, o Options) (string, error) {
	kind, res, _ := strings.Cut(rr.Resource, ".")
	name := corev1.ResourceName(res)
	q, ok := c.Resources.Limits[name]
	if kind == "requests" {
		if r, set := c.Resources.Requests[name]; set {
			q, ok = r, true
		}
		if !ok {
			return "0", nil
		}
	}
	if !ok && p.Resources != nil {
		q, ok = p.Resources.Limits[name]
	}
	if !ok {
		q = o.Allocatable[name] // zero when not known
	}
	divisor := rr.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	if res == "cpu" {
		m := q.MilliValue()
		d := divisor.MilliValue()
		return strconv.FormatInt((m+d-1)/d, 10), nil
	}
	v, d := q.Value(), divisor.Value()
	return strconv.FormatInt((v+d-1)/d, 10), nil
}

func (t *translator) mounts(c *corev1.Container, fp *field.Path, env []envVar) ([]string, []contract.SubPath, error) {
	vols := map[string]*corev1.Volume{}
	for i := range t.pod.Spec.Volumes {
		vols[t.pod.Spec.Volumes[i].Name] = &t.pod.Spec.Volumes[i]
	}
	lookup := envLookup(env)
	var argv []string
	var subPaths []contract.SubPath
	for i, m := range c.VolumeMounts {
		v := vols[m.Name]
		sub := m.SubPath
		if m.SubPathExpr != "" {
			// The kubelet expands $(VAR) from the container's environment and
			// refuses what lands outside the volume.
			sub = Expand(m.SubPathExpr, lookup)
			if path.IsAbs(sub) || slices.Contains(strings.Split(sub, "/"), "..") {
				return nil, nil, fmt.Errorf("%w: %s: expands to %q, which must be a relative path without '..'",
					pod.ErrInvalid, fp.Child("volumeMounts").Index(i).Child("subPathExpr"), sub)
			}
		}
		if v.Image != nil {
			// the image's files, read-only (podman's default for an image
			// mount), as the kubelet mounts an image volume
			argv = append(argv, "--mount", "type=image,source="+v.Image.Reference+",destination="+m.MountPath)
			continue
		}
		var src, named string
		ro := m.ReadOnly
		host := v.HostPath != nil // a host directory
		switch {
		case v.EmptyDir != nil, v.Ephemeral != nil:
			src = VolumeName(t.pod.Name, v.Name)
			named = src
		case v.HostPath != nil:
			src = v.HostPath.Path
		case t.boundVolume(v) != nil:
			src, _ = pod.VolumePath(t.boundVolume(v))
			host = true
			ro = ro || v.PersistentVolumeClaim.ReadOnly
		case v.PersistentVolumeClaim != nil:
			src = ClaimVolumeName(t.pod.Namespace, v.PersistentVolumeClaim.ClaimName)
			named = src
			ro = ro || v.PersistentVolumeClaim.ReadOnly
		default:
			// configMap, secret, downwardAPI, projected: files podunit writes,
			// read-only in the container as Kubernetes mounts them.
			src = t.volumeDir(v.Name)
			ro = true
		}
		switch {
		case sub != "" && named != "":
			// podman 4 mounts only whole named volumes: the run helper
			// puts the volume's directory in place of the reference
			sub = path.Clean(sub)
			src = contract.VolumeRef(named) + "/" + sub
			subPaths = append(subPaths, contract.SubPath{Arg: len(argv) + 1, Volume: named, Path: sub})
		case sub != "" && host:
			// the part is made inside the host directory when missing
			sub = path.Clean(sub)
			root := path.Clean(src)
			src = strings.TrimSuffix(root, "/") + "/" + sub
			subPaths = append(subPaths, contract.SubPath{Arg: len(argv) + 1, Root: root, Path: sub})
		case sub != "":
			src = strings.TrimSuffix(src, "/") + "/" + sub
		}
		opt := "rw"
		if ro {
			opt = "ro"
		}
		if mp := m.MountPropagation; mp != nil {
			// the kubelet's mapping to the runtime's propagation; None is
			// podman's default, rprivate
			switch *mp {
			case corev1.MountPropagationHostToContainer:
				opt += ",rslave"
			case corev1.MountPropagationBidirectional:
				opt += ",rshared"
			}
		}
		argv = append(argv, "--volume", src+":"+m.MountPath+":"+opt)
	}
	return argv, subPaths, nil
}

// boundVolume is the PersistentVolume a claim volume is bound to (nil: a
// podman volume of the claim's, or not a claim).
func (t *translator) boundVolume(v *corev1.Volume) *corev1.PersistentVolume {
	if vd := t.res.Volumes[v.Name]; v.PersistentVolumeClaim != nil && vd != nil {
		return vd.Volume
	}
	return nil
}

// VolumeContent is what one configMap, secret, downwardAPI or projected
// volume of a pod holds: its files, in its directory.
type VolumeContent struct {
	Volume string
	Dir    string
	Files  []File
}

// VolumeFiles are the contents of a pod's configMap, secret, downwardAPI and
// projected volumes (vols, from pod.BindVolumes), in the spec's order, as
// Translate lays them out.
func VolumeFiles(p *corev1.Pod, vols map[string]*pod.VolumeData, o Options) ([]VolumeContent, error) {
	t := newTranslator(p, &pod.Resolved{Volumes: vols}, o)
	var out []VolumeContent
	for i, v := range p.Spec.Volumes {
		vd := vols[v.Name]
		if vd == nil || v.EmptyDir != nil || v.PersistentVolumeClaim != nil || v.HostPath != nil {
			continue
		}
		files, err := t.volumeFiles(v.Name, vd, field.NewPath("spec", "volumes").Index(i))
		if err != nil {
			return nil, err
		}
		out = append(out, VolumeContent{Volume: v.Name, Dir: t.volumeDir(v.Name), Files: files})
	}
	return out, nil
}

// volumeDir is where the files of a configMap, secret, downwardAPI or projected
// volume live on the host: in the pod's state directory (mode 0700), so
// nobody but the user reaches them.
// messageFile is the host file behind a container's terminationMessagePath.
func (t *translator) messageFile(container string) string {
	return path.Join(t.o.StateDir, "pods", t.pod.Name, "termination", container)
}

// hosts is the pod's /etc/hosts for container c, as the kubelet writes it;
// nil when c mounts a volume at /etc/hosts.
func (t *translator) hosts(c *corev1.Container) *contract.Hosts {
	for _, m := range c.VolumeMounts {
		if path.Clean(m.MountPath) == "/etc/hosts" {
			return nil
		}
	}
	p := t.pod
	h := &contract.Hosts{File: path.Join(t.o.StateDir, "pods", p.Name, "etc-hosts"), Hostname: podHostname(p)}
	if p.Spec.Subdomain != "" {
		h.Domain = podDomain(p)
	}
	for _, ha := range p.Spec.HostAliases {
		h.Aliases = append(h.Aliases, contract.HostAlias{IP: ha.IP, Hostnames: ha.Hostnames})
	}
	return h
}

func (t *translator) volumeDir(volume string) string {
	return path.Join(t.o.StateDir, "pods", t.pod.Name, "volumes", volume)
}

// volumeFiles lays out a volume's files, filling downward API values.
func (t *translator) volumeFiles(name string, vd *pod.VolumeData, fp *field.Path) ([]File, error) {
	var out []File
	for _, f := range vd.Files {
		data := f.Data
		switch {
		case f.FieldRef != nil:
			v, _ := t.fieldValue(f.FieldRef.FieldPath)
			data = []byte(v)
		case f.ResourceFieldRef != nil:
			rr := f.ResourceFieldRef
			var target *corev1.Container
			for _, c := range append(append([]corev1.Container{}, t.pod.Spec.InitContainers...), t.pod.Spec.Containers...) {
				if c.Name == rr.ContainerName {
					c := c
					target = &c
				}
			}
			v, err := resourceValue(&t.pod.Spec, target, rr, t.o)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", fp, err)
			}
			data = []byte(v)
		}
		out = append(out, File{Volume: name, Dir: t.volumeDir(name), Path: path.Clean(f.Path), Mode: uint32(f.Mode), Data: data, Secret: f.Secret})
	}
	return out, nil
}

// fieldValue is the downward API's value of a field path, as the kubelet
// gives it (validation decides which paths env and volumes may use): whole
// labels and annotations as sorted key="value" lines.
func (t *translator) fieldValue(fieldPath string) (string, bool) {
	p := t.pod
	switch fieldPath {
	case "metadata.name":
		return p.Name, true
	case "metadata.namespace":
		return p.Namespace, true
	case "metadata.uid":
		return t.o.UID, true
	case "metadata.labels":
		return formatMap(p.Labels), true
	case "metadata.annotations":
		return formatMap(p.Annotations), true
	case "spec.nodeName":
		return t.o.NodeName, true
	case "spec.serviceAccountName":
		if p.Spec.ServiceAccountName != "" {
			return p.Spec.ServiceAccountName, true
		}
		return "default", true
	case contract.FieldPodIP, contract.FieldPodIPs, contract.FieldHostIP, contract.FieldHostIPs:
		// known once the pod's network namespace exists: the run helper
		// fills the reference in just before the container starts
		return contract.StatusRef(fieldPath), true
	}
	if m := labelRefPattern.FindStringSubmatch(fieldPath); m != nil {
		if m[1] == "labels" {
			return p.Labels[m[2]], true
		}
		return p.Annotations[m[2]], true
	}
	return "", false
}

func formatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s=%q", k, m[k])
	}
	return b.String()
}

func (t *translator) security(c *corev1.Container) []string {
	var argv []string
	var user, group *int64
	if psc := t.pod.Spec.SecurityContext; psc != nil {
		user, group = psc.RunAsUser, psc.RunAsGroup
		// The kubelet gives every container the fsGroup as a supplemental
		// group, first.
		if psc.FSGroup != nil {
			argv = append(argv, "--group-add", strconv.FormatInt(*psc.FSGroup, 10))
		}
		for _, g := range psc.SupplementalGroups {
			if psc.FSGroup == nil || g != *psc.FSGroup {
				argv = append(argv, "--group-add", strconv.FormatInt(g, 10))
			}
		}
	}
	sc := c.SecurityContext
	if sc != nil {
		if sc.RunAsUser != nil {
			user = sc.RunAsUser
		}
		if sc.RunAsGroup != nil {
			group = sc.RunAsGroup
		}
	}
	if user == nil && runAsNonRoot(t.pod, c) {
		t.nonRoot = append(t.nonRoot, c.Image)
	}
	if user != nil {
		u := strconv.FormatInt(*user, 10)
		if group != nil {
			u += ":" + strconv.FormatInt(*group, 10)
		}
		argv = append(argv, "--user", u)
	} else if group != nil {
		// a group alone: keep the image's user, run with this primary group
		argv = append(argv, "--group-add", strconv.FormatInt(*group, 10))
	}
	if sc == nil {
		return argv
	}
	if sc.Privileged != nil && *sc.Privileged {
		argv = append(argv, "--privileged")
	}
	if sc.ProcMount != nil && *sc.ProcMount == corev1.UnmaskedProcMount {
		argv = append(argv, "--security-opt", "unmask=ALL")
	}
	if caps := sc.Capabilities; caps != nil {
		// Kubernetes applies drops before adds, so "drop ALL, add X" keeps X.
		for _, d := range caps.Drop {
			argv = append(argv, "--cap-drop", capArg(string(d)))
		}
		for _, a := range caps.Add {
			argv = append(argv, "--cap-add", capArg(string(a)))
		}
	}
	if sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem {
		argv = append(argv, "--read-only")
	}
	if sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
		argv = append(argv, "--security-opt", "no-new-privileges")
	}
	return argv
}

// seccomp maps seccompProfile (the container's, else the pod's): RuntimeDefault
// is podman's default profile; Unconfined turns it off.
// A Localhost profile is a file under the user's seccomp directory.
func seccomp(p *corev1.Pod, c *corev1.Container, dir string) []string {
	var prof *corev1.SeccompProfile
	if p.Spec.SecurityContext != nil {
		prof = p.Spec.SecurityContext.SeccompProfile
	}
	if c.SecurityContext != nil && c.SecurityContext.SeccompProfile != nil {
		prof = c.SecurityContext.SeccompProfile
	}
	switch {
	case prof == nil:
	case prof.Type == corev1.SeccompProfileTypeUnconfined:
		return []string{"--security-opt", "seccomp=unconfined"}
	case prof.Type == corev1.SeccompProfileTypeLocalhost && prof.LocalhostProfile != nil:
		return []string{"--security-opt", "seccomp=" + SeccompProfilePath(dir, *prof.LocalhostProfile)}
	}
	return nil
}

// SeccompProfilePath is where a Localhost seccomp profile is read from.
func SeccompProfilePath(dir, profile string) string {
	return path.Join(dir, path.Clean(profile))
}

// appArmor maps appArmorProfile (the container's, else the pod's):
// RuntimeDefault is podman's own profile, Unconfined turns AppArmor off, and a
// Localhost profile, which must be loaded on the host, is used by name. On a
// host without AppArmor only a Localhost profile is an error: the kubelet
// refuses such a pod the same way.
func appArmor(p *corev1.Pod, c *corev1.Container, enabled bool, fp *field.Path) ([]string, error) {
	var prof *corev1.AppArmorProfile
	at := field.NewPath("spec", "securityContext", "appArmorProfile")
	if p.Spec.SecurityContext != nil {
		prof = p.Spec.SecurityContext.AppArmorProfile
	}
	if c.SecurityContext != nil && c.SecurityContext.AppArmorProfile != nil {
		prof, at = c.SecurityContext.AppArmorProfile, fp.Child("securityContext", "appArmorProfile")
	}
	switch {
	case prof == nil, prof.Type == corev1.AppArmorProfileTypeRuntimeDefault:
		return nil, nil
	case prof.Type == corev1.AppArmorProfileTypeUnconfined:
		if !enabled {
			return nil, nil // nothing confines it anyway
		}
		return []string{"--security-opt", "apparmor=unconfined"}, nil
	case !enabled:
		return nil, fmt.Errorf("%w: %s: cannot enforce AppArmor profile %q: AppArmor is not enabled on this host",
			pod.ErrInvalid, at.Child("localhostProfile"), *prof.LocalhostProfile)
	}
	return []string{"--security-opt", "apparmor=" + *prof.LocalhostProfile}, nil
}

// seLinuxLabel maps seLinuxOptions (the container's, else the pod's, as the
// kubelet takes them) to podman's label options, one per field set.
func seLinuxLabel(p *corev1.Pod, c *corev1.Container) []string {
	var o *corev1.SELinuxOptions
	if p.Spec.SecurityContext != nil {
		o = p.Spec.SecurityContext.SELinuxOptions
	}
	if c.SecurityContext != nil && c.SecurityContext.SELinuxOptions != nil {
		o = c.SecurityContext.SELinuxOptions
	}
	if o == nil {
		return nil
	}
	var argv []string
	for _, f := range []struct{ key, v string }{{"user", o.User}, {"role", o.Role}, {"type", o.Type}, {"level", o.Level}} {
		if f.v != "" {
			argv = append(argv, "--security-opt", "label="+f.key+":"+f.v)
		}
	}
	return argv
}

func runAsNonRoot(p *corev1.Pod, c *corev1.Container) bool {
	v := false
	if p.Spec.SecurityContext != nil && p.Spec.SecurityContext.RunAsNonRoot != nil {
		v = *p.Spec.SecurityContext.RunAsNonRoot
	}
	if c.SecurityContext != nil && c.SecurityContext.RunAsNonRoot != nil {
		v = *c.SecurityContext.RunAsNonRoot
	}
	return v
}

func capArg(c string) string {
	if c == "ALL" || strings.HasPrefix(c, "CAP_") {
		return c
	}
	return "CAP_" + c
}

// limitNames orders the resource properties podunit manages.
var limitNames = []string{"MemoryMax", "MemoryLow", "CPUQuota", "CPUWeight"}

// LimitProps are a unit's resource properties for r: every one podunit
// manages, set, or taken off (NoLimit).
func LimitProps(r *corev1.ResourceRequirements) []Property {
	set := map[string]uint64{}
	for _, p := range ResourceProps(r) {
		set[p.Name] = p.Value.(uint64)
	}
	out := make([]Property, 0, len(limitNames))
	for _, n := range limitNames {
		v, ok := set[n]
		if !ok {
			v = NoLimit[n]
		}
		out = append(out, Property{Name: n, Value: v})
	}
	return out
}

// throttles are the resource properties that would hold back `podman run`
// itself, which runs in the unit's cgroup before the container exists.
var throttles = map[string]bool{"MemoryMax": true, "CPUQuota": true}

// SpecLimits are a container's limits as its runtime spec carries them, for
// the post-start helper to put on once the container runs.
func SpecLimits(r *corev1.ResourceRequirements) []contract.Limit {
	var out []contract.Limit
	for _, p := range ResourceProps(r) {
		if throttles[p.Name] {
			out = append(out, contract.Limit{Name: p.Name, Value: p.Value.(uint64)})
		}
	}
	return out
}

// RequestProps are the resource properties a container's unit has from its
// creation: those of its requests (CPUWeight, MemoryLow).
func RequestProps(r *corev1.ResourceRequirements) []Property {
	var out []Property
	for _, p := range ResourceProps(r) {
		if !throttles[p.Name] {
			out = append(out, p)
		}
	}
	return out
}

// RestartLimitProps are what a unit's resource properties become while its
// container restarts for a resize to r: r's requests, no limits (the
// post-start helper puts r's on).
func RestartLimitProps(r *corev1.ResourceRequirements) []Property {
	out := LimitProps(r)
	for i := range out {
		if throttles[out[i].Name] {
			out[i].Value = NoLimit[out[i].Name]
		}
	}
	return out
}

// ResourceProps are the limits of a container's unit, so systemd accounts for
// and enforces them on the whole container (payload and conmon), where the
// user's manager has the controllers delegated. Values are uint64, as D-Bus
// and unit files take them (CPUQuota in CPU-microseconds per second).
func ResourceProps(r *corev1.ResourceRequirements) []Property {
	var out []Property
	if q, ok := r.Limits[corev1.ResourceMemory]; ok {
		out = append(out, prop("MemoryMax", uint64(q.Value())))
	}
	if q, ok := r.Requests[corev1.ResourceMemory]; ok {
		// Kubernetes' memory QoS protects requested memory from reclaim; memory.low
		// does so softly, never at the cost of an OOM elsewhere.
		out = append(out, prop("MemoryLow", uint64(q.Value())))
	}
	if q, ok := r.Limits[corev1.ResourceCPU]; ok {
		// CPUQuota as CPU time per second: 1 CPU = 1s per s.
		out = append(out, prop("CPUQuota", uint64(q.MilliValue())*1000))
	}
	req, ok := r.Requests[corev1.ResourceCPU]
	if !ok {
		req, ok = r.Limits[corev1.ResourceCPU]
	}
	if ok {
		out = append(out, prop("CPUWeight", cpuWeight(req.MilliValue())))
	}
	return out
}

// cpuWeight converts a CPU request to cgroup v2 cpu.weight the way the kubelet
// does: request -> cpu.shares (1024 per CPU, at least 2) -> weight in [1, 10000].
func cpuWeight(milli int64) uint64 {
	shares := milli * 1024 / 1000
	if shares < 2 {
		shares = 2
	}
	if shares > 262144 {
		shares = 262144
	}
	return uint64(1 + ((shares-2)*9999)/262142)
}

// dns is the infra's resolver configuration, by the pod's dnsPolicy:
//   - ClusterFirst (and ClusterFirstWithHostNet) on the pod network: the
//     cluster DNS first, the kubelet's search list for the pod's namespace and
//     ndots:5, then dnsConfig's additions (its options win by name);
//   - ClusterFirst off the pod network (slirp4netns, the host's network),
//     where the cluster DNS cannot be reached, falls back to Default;
//   - Default: podman's, from the host's resolv.conf; dnsConfig's lists,
//     when given, replace the host's instead of extending them;
//   - None: dnsConfig's lists alone.
func (t *translator) dns() []string {
	s := &t.pod.Spec
	var servers, searches []string
	opts := map[string]string{}
	var order []string
	setOpt := func(name, value string) {
		if _, seen := opts[name]; !seen {
			order = append(order, name)
		}
		opts[name] = value
	}
	cluster1st := s.DNSPolicy == corev1.DNSClusterFirst || s.DNSPolicy == corev1.DNSClusterFirstWithHostNet || s.DNSPolicy == ""
	if cluster1st && t.onPodNetwork() {
		servers = append(servers, cluster.DNS.String())
		searches = append(searches, t.pod.Namespace+".svc."+cluster.Domain, "svc."+cluster.Domain, cluster.Domain)
		setOpt("ndots", "5")
	}
	if c := s.DNSConfig; c != nil {
		for _, n := range c.Nameservers {
			if !slices.Contains(servers, n) {
				servers = append(servers, n)
			}
		}
		for _, x := range c.Searches {
			if !slices.Contains(searches, x) {
				searches = append(searches, x)
			}
		}
		for _, o := range c.Options {
			v := ""
			if o.Value != nil {
				v = *o.Value
			}
			setOpt(o.Name, v)
		}
	}
	var args []string
	for _, n := range servers {
		args = append(args, "--dns", n)
	}
	for _, x := range searches {
		args = append(args, "--dns-search", x)
	}
	for _, n := range order {
		if v := opts[n]; v != "" {
			args = append(args, "--dns-option", n+":"+v)
		} else {
			args = append(args, "--dns-option", n)
		}
	}
	return args
}

// PodFQDN is a pod's fully qualified name with a subdomain: HOSTNAME.SUBDOMAIN.NAMESPACE.svc.cluster.local.
func PodFQDN(p *corev1.Pod) string { return podHostname(p) + "." + podDomain(p) }

// podHostname is the pod's hostname: spec.hostname, else its name.
func podHostname(p *corev1.Pod) string {
	if p.Spec.Hostname != "" {
		return p.Spec.Hostname
	}
	return p.Name
}

// podDomain is the domain of a pod with a subdomain:
// SUBDOMAIN.NAMESPACE.svc.cluster.local.
func podDomain(p *corev1.Pod) string {
	return p.Spec.Subdomain + "." + p.Namespace + ".svc." + cluster.Domain
}

// restartRules puts a container's restartPolicyRules in systemd's terms:
// Restart= (always, or no) and the exit codes that decide otherwise, in
// RestartPreventExitStatus= or RestartForceExitStatus=, whichever list is
// shorter. conmon, the unit's main process, exits with the container's code
// (128+N for a signal).
func restartRules(c *corev1.Container, podPolicy corev1.RestartPolicy) (string, []int, []Property) {
	decide := pod.RestartsOn(c, podPolicy)
	var restart, stay ExitStatusSet
	var restartCodes, stayCodes []int
	for code, yes := range decide {
		if yes {
			restart = append(restart, strconv.Itoa(code))
			restartCodes = append(restartCodes, code)
		} else {
			stay = append(stay, strconv.Itoa(code))
			stayCodes = append(stayCodes, code)
		}
	}
	switch {
	case len(stay) == 0:
		return "always", nil, nil
	case len(restart) == 0:
		return "no", nil, nil
	case len(restart) > len(stay):
		return "always", stayCodes, []Property{prop("RestartPreventExitStatus", stay)}
	}
	return "no", restartCodes, []Property{prop("RestartForceExitStatus", restart)}
}

// gidOption is the mount (or podman volume) option that gives a volume the
// fsGroup.
func gidOption(gid int64) string { return "gid=" + strconv.FormatInt(gid, 10) }

// fsGroupID is the pod's fsGroup, nil when unset.
func (t *translator) fsGroupID() *int64 {
	if sc := t.pod.Spec.SecurityContext; sc != nil {
		return sc.FSGroup
	}
	return nil
}

// fsGroup is what the infra's post-start gives the fsGroup to: the pod's
// named volumes (emptyDir on disk, claims) and the directories of its
// configMap, secret, downwardAPI and projected volumes. hostPath volumes are
// left alone, as the kubelet leaves them; a tmpfs emptyDir is mounted with
// the group (see plan).
func (t *translator) fsGroup() *contract.FSGroup {
	g := t.fsGroupID()
	if g == nil {
		return nil
	}
	fg := &contract.FSGroup{GID: *g}
	if p := t.pod.Spec.SecurityContext.FSGroupChangePolicy; p != nil && *p == corev1.FSGroupChangeOnRootMismatch {
		fg.OnRootMismatch = true
	}
	for _, v := range t.pod.Spec.Volumes {
		switch {
		case v.EmptyDir != nil && v.EmptyDir.Medium != corev1.StorageMediumMemory, v.Ephemeral != nil:
			fg.Volumes = append(fg.Volumes, VolumeName(t.pod.Name, v.Name))
		case v.PersistentVolumeClaim != nil:
			// a PersistentVolume's host directory keeps its owners, as
			// a hostPath does
			if vd := t.res.Volumes[v.Name]; vd != nil && vd.Claim != nil && vd.Volume == nil {
				name := ClaimVolumeName(t.pod.Namespace, vd.Claim.Name)
				if !slices.Contains(fg.Volumes, name) {
					fg.Volumes = append(fg.Volumes, name)
				}
			}
		case v.HostPath != nil, v.EmptyDir != nil:
		case t.res.Volumes[v.Name] != nil:
			fg.ReadOnly = append(fg.ReadOnly, t.volumeDir(v.Name))
		}
	}
	if len(fg.Volumes)+len(fg.ReadOnly) == 0 {
		return nil
	}
	return fg
}

var labelRefPattern = regexp.MustCompile(`^metadata\.(labels|annotations)\['([^']+)'\]$`)
