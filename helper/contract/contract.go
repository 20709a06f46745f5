// Package contract is the one definition of what podunit's units hand to its
// helpers: the command lines the units run (`podunit internal OP --pod P
// [--container C]`) and the runtime spec those helpers read from the pod's
// state directory. units writes both sides through it (ExecStart= and friends,
// and the spec saved before the units start); the helpers parse them through
// it. It is pure: no I/O.
//
// Why references and not payloads: systemd re-parses the transient unit files
// it wrote on every daemon-reload, and a unit's properties are readable by
// every local user (`systemctl --user show`, /proc/PID/cmdline). A unit
// therefore carries only names podunit chose itself (DNS labels, paths); the
// container's command, environment, hooks and probes live in a 0600 file.
package contract

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/podunit/podunit/hooks"
	"github.com/podunit/podunit/netshape"
)

// Op is a helper operation, the word after `podunit internal`.
type Op string

// The operations the units run.
const (
	// OpRun is ExecStart of every podman container of a pod: it reads the
	// container's spec and execs podman (app, sidecar and infra containers,
	// after the crash-loop back-off) or runs it to completion with retries
	// (init containers).
	OpRun Op = "run"
	// OpPostStart is ExecStartPost of app and sidecar containers: limits on,
	// the postStart hook, the run recorded for the prober.
	OpPostStart Op = "post-start"
	// OpStop is ExecStop: preStop, the stop signal, SIGKILL at the grace
	// deadline.
	OpStop Op = "stop"
	// OpCleanup is ExecStopPost: the exit recorded, the container removed.
	OpCleanup Op = "cleanup"
	// OpProbe is the pod's prober unit.
	OpProbe Op = "probe"
	// OpShape applies, removes or shows the pod's bandwidth shaping.
	OpShape Op = "shape"
	// OpServices is the service proxy's unit: with ServicesClear it
	// removes a stale services container of podunit's (ExecStartPre of the
	// container's unit); with ServicesRun it becomes podman running that
	// container, with the command line podunit keeps in its state
	// (podstate.LoadServicesRun); with ServicesStop it stops and removes it
	// (ExecStop); with ServicesServe it enters that container's
	// network namespace and serves the cluster DNS and the Services. It
	// belongs to no pod: --pod is not given.
	OpServices Op = "services"
	// OpVolumes is ExecStartPost of the infra of a pod with an fsGroup: it
	// enters the pod's user namespace and gives the volumes the group.
	OpVolumes Op = "volumes"
	// OpForward is podunit port-forward's helper: it enters the pod's
	// network namespace and relays each connection to --socket (a unix
	// socket it listens on) to the pod's port, its Action, on localhost.
	// It ends when its standard input does (the port-forward is gone).
	OpForward Op = "forward"
	// OpDeadline is ExecStopPost of the pod's deadline unit: when its
	// runtime ran out, the pod fails (activeDeadlineSeconds).
	OpDeadline Op = "deadline"
	// OpEnd is the pod's end unit, which a helper starts when the pod has
	// ended (failed, or completed) while a start of one of its units was
	// still going on: once none is, it stops the pod's infra (and so its
	// containers) and its deadline unit.
	OpEnd Op = "end"
	// OpJob is a Job's controller unit: it makes and removes the Job's
	// pods (`podunit up` and `down` of each) until the Job completes or
	// fails, then removes it after its ttlSecondsAfterFinished. It belongs
	// to no pod: --job NAMESPACE/NAME names the Job.
	OpJob Op = "job"
	// OpCronJob is a CronJob's service, which its timer starts at each
	// time of its schedule: it applies a Job of its jobTemplate (as
	// concurrencyPolicy says) and removes the Jobs past its history
	// limits. --job NAMESPACE/NAME names the CronJob.
	OpCronJob Op = "cronjob"
)

// Services actions.
const (
	ServicesClear = "clear"
	ServicesRun   = "run"
	ServicesStop  = "stop"
	ServicesServe = "serve"
)

// Ops are every helper command, in the order `podunit internal` lists them.
var Ops = []Op{OpRun, OpPostStart, OpStop, OpCleanup, OpProbe, OpShape, OpServices, OpVolumes, OpForward, OpDeadline, OpEnd, OpJob, OpCronJob}

// InHelper tells whether podunit-helper runs c: all but the service proxy's
// serving and the controllers of Jobs and CronJobs, which read Kubernetes
// objects and are podunit's own. The services container's own start and
// clearing are the helper's, as a pod's containers' are: they need no more.
func (c Command) InHelper() bool {
	switch c.Op {
	case OpJob, OpCronJob:
		return false
	case OpServices:
		return c.Action != ServicesServe
	}
	return true
}

// Shape actions.
const (
	ShapeApply  = "apply"
	ShapeRemove = "remove"
	ShapeShow   = "show"
)

// Stop reasons carried from a helper to itself after it entered the pod's
// network namespace (see Command.Reason).
var reasons = map[string]bool{hooks.ReasonDelete: true, hooks.ReasonHealth: true, hooks.ReasonDependency: true}

// Command is one helper command line.
type Command struct {
	Op  Op
	Pod string
	// Container is the container's name in the pod spec; "" is the pod
	// itself (its infra container, its prober, its shaping).
	Container string
	// Action is the shape action (ShapeApply, ...); only for OpShape.
	Action string
	// InNetns is set by a helper that re-ran itself inside the pod's network
	// namespace; the units never set it.
	InNetns bool
	// Reason and Grace are decided by the stop helper before it enters the
	// pod's network namespace (where it cannot reach systemd); the units never
	// set them.
	Reason string
	Grace  *time.Duration
	// Socket is where OpForward listens.
	Socket string
	// Job is OpJob's Job, NAMESPACE/NAME.
	Job string
}

const (
	flagPod       = "--pod"
	flagContainer = "--container"
	flagInNetns   = "--in-netns"
	flagReason    = "--reason"
	flagGrace     = "--grace"
	flagSocket    = "--socket"
	flagJob       = "--job"
)

// Argv is the command line: self (podunit's path) first.
func (c Command) Argv(self string) []string {
	out := []string{self, "internal", string(c.Op)}
	if c.Action != "" {
		out = append(out, c.Action)
	}
	if c.Pod != "" {
		out = append(out, flagPod, c.Pod)
	}
	if c.Container != "" {
		out = append(out, flagContainer, c.Container)
	}
	if c.InNetns {
		out = append(out, flagInNetns)
	}
	if c.Reason != "" {
		out = append(out, flagReason, c.Reason)
	}
	if c.Grace != nil {
		out = append(out, flagGrace, c.Grace.String())
	}
	if c.Socket != "" {
		out = append(out, flagSocket, c.Socket)
	}
	if c.Job != "" {
		out = append(out, flagJob, c.Job)
	}
	return out
}

// ErrUsage marks a command line that is not one Argv writes.
var ErrUsage = errors.New("bad helper command line")

// Parse reads the arguments after `podunit internal` (Argv(self)[2:]).
func Parse(args []string) (Command, error) {
	var c Command
	if len(args) == 0 || !slices.Contains(Ops, Op(args[0])) {
		return c, fmt.Errorf("%w: unknown operation %q", ErrUsage, strings.Join(args, " "))
	}
	c.Op, args = Op(args[0]), args[1:]
	if c.Op == OpShape {
		if len(args) == 0 || (args[0] != ShapeApply && args[0] != ShapeRemove && args[0] != ShapeShow) {
			return c, fmt.Errorf("%w: shape needs apply, remove or show", ErrUsage)
		}
		c.Action, args = args[0], args[1:]
	}
	if c.Op == OpServices {
		if len(args) == 0 || (args[0] != ServicesClear && args[0] != ServicesRun && args[0] != ServicesStop && args[0] != ServicesServe) {
			return c, fmt.Errorf("%w: services needs clear, run, stop or serve", ErrUsage)
		}
		c.Action, args = args[0], args[1:]
	}
	if c.Op == OpForward {
		if len(args) == 0 {
			return c, fmt.Errorf("%w: forward needs a port", ErrUsage)
		}
		if n, err := strconv.Atoi(args[0]); err != nil || n < 1 || n > 65535 {
			return c, fmt.Errorf("%w: forward: port %q", ErrUsage, args[0])
		}
		c.Action, args = args[0], args[1:]
	}
	value := func(flag string) (string, error) {
		if len(args) < 2 || args[1] == "" {
			return "", fmt.Errorf("%w: %s needs a value", ErrUsage, flag)
		}
		v := args[1]
		args = args[2:]
		return v, nil
	}
	for len(args) > 0 {
		var err error
		switch args[0] {
		case flagPod:
			c.Pod, err = value(flagPod)
		case flagContainer:
			c.Container, err = value(flagContainer)
		case flagReason:
			c.Reason, err = value(flagReason)
			if err == nil && !reasons[c.Reason] {
				err = fmt.Errorf("%w: unknown stop reason %q", ErrUsage, c.Reason)
			}
		case flagGrace:
			var s string
			if s, err = value(flagGrace); err == nil {
				var d time.Duration
				if d, err = time.ParseDuration(s); err == nil && d >= 0 {
					c.Grace = &d
				} else {
					err = fmt.Errorf("%w: bad grace period %q", ErrUsage, s)
				}
			}
		case flagSocket:
			c.Socket, err = value(flagSocket)
		case flagJob:
			c.Job, err = value(flagJob)
		case flagInNetns:
			c.InNetns, args = true, args[1:]
		default:
			err = fmt.Errorf("%w: unknown argument %q", ErrUsage, args[0])
		}
		if err != nil {
			return Command{}, err
		}
	}
	if (c.Op == OpJob || c.Op == OpCronJob) != (c.Job != "") {
		return Command{}, fmt.Errorf("%w: %s is for job, and job needs it", ErrUsage, flagJob)
	}
	if c.Op == OpJob || c.Op == OpCronJob {
		if ns, name, ok := strings.Cut(c.Job, "/"); !ok || ns == "" || name == "" || strings.Contains(name, "/") {
			return Command{}, fmt.Errorf("%w: %s %q is not NAMESPACE/NAME", ErrUsage, flagJob, c.Job)
		}
		if c.Pod != "" {
			return Command{}, fmt.Errorf("%w: job belongs to no pod", ErrUsage)
		}
		return c, nil
	}
	if c.Pod == "" && c.Op != OpServices {
		return Command{}, fmt.Errorf("%w: %s is required", ErrUsage, flagPod)
	}
	if (c.Op == OpForward) != (c.Socket != "") {
		return Command{}, fmt.Errorf("%w: %s is for forward, and forward needs it", ErrUsage, flagSocket)
	}
	if c.Pod != "" && c.Op == OpServices {
		return Command{}, fmt.Errorf("%w: services belongs to no pod", ErrUsage)
	}
	return c, nil
}

// Container kinds, as in units.
const (
	KindInfra   = "infra"
	KindInit    = "init"
	KindSidecar = "sidecar"
	KindApp     = "app"
	// KindEphemeral is a debug container, added to a running pod.
	KindEphemeral = "ephemeral"
)

// Runtime is everything the helpers of one pod need, saved by `podunit up`
// in the pod's state directory (mode 0600) before its units start.
type Runtime struct {
	Pod       string `json:"pod"`
	Namespace string `json:"namespace"`
	// Podman is the path of podman; Infra is the podman name of the pod's
	// infra container, whose namespaces the others join.
	Podman      string `json:"podman"`
	Infra       string `json:"infra"`
	HostNetwork bool   `json:"hostNetwork,omitempty"`
	// Grace is the pod's terminationGracePeriodSeconds.
	Grace time.Duration `json:"grace"`
	// Deadline says the pod has activeDeadlineSeconds (its deadline unit).
	Deadline bool `json:"deadline,omitempty"`
	// Bandwidth is shaped in the pod's network namespace once the infra runs.
	Bandwidth netshape.Spec `json:"bandwidth"`
	// InfraSpec runs the infra container; Containers the others, init
	// containers first, in the pod spec's order.
	InfraSpec  Container   `json:"infraSpec"`
	Containers []Container `json:"containers"`
	// FSGroup is given to the pod's volumes once the infra runs (OpVolumes).
	FSGroup *FSGroup `json:"fsGroup,omitempty"`
}

// FSGroup is securityContext.fsGroup as the kubelet applies it: every file
// of the volumes gets the group, group read (and write, on writable volumes),
// and directories the setgid bit, so that new files inherit the group.
type FSGroup struct {
	GID int64 `json:"gid"`
	// OnRootMismatch (fsGroupChangePolicy) skips a volume whose root has the
	// group, the setgid bit and the permissions already.
	OnRootMismatch bool `json:"onRootMismatch,omitempty"`
	// Volumes are podman volumes (writable); ReadOnly are directories of
	// configMap, secret, downwardAPI and projected volumes.
	Volumes  []string `json:"volumes,omitempty"`
	ReadOnly []string `json:"readOnly,omitempty"`
}

// Container is one podman container of the pod, as its helpers run it.
type Container struct {
	Name   string `json:"name"`   // in the pod spec; "" for the infra
	Podman string `json:"podman"` // the podman container name
	Kind   string `json:"kind"`
	// Args follow the podman binary: ["run", "--name", ..., IMAGE, ARGS...].
	// Environment values are not in them: each variable is a bare
	// "--env NAME" that podman fills in from its own environment.
	Args []string `json:"args"`
	Env  []EnvVar `json:"env,omitempty"`
	// Restart is the unit's Restart= policy (always, on-failure, no); Retry
	// tells an init container to try again after a failure.
	Restart string `json:"restart,omitempty"`
	// RestartExceptions are the exit codes its restartPolicyRules decide
	// the other way (the unit's RestartPreventExitStatus= under always,
	// RestartForceExitStatus= under no).
	RestartExceptions []int `json:"restartExceptions,omitempty"`
	Retry             bool  `json:"retry,omitempty"`
	// Hooks and probes, resolved from the pod spec.
	PostStart        *hooks.Handler `json:"postStart,omitempty"`
	PostStartTimeout time.Duration  `json:"postStartTimeout,omitempty"`
	PreStop          *hooks.Handler `json:"preStop,omitempty"`
	Probes           []*hooks.Probe `json:"probes,omitempty"`
	// Limits are the unit's resource properties, put on once the container
	// runs and taken off before each start.
	Limits []Limit `json:"limits,omitempty"`
	// StopTimeout bounds the infra's stop (the others use the grace period).
	StopTimeout time.Duration `json:"stopTimeout,omitempty"`
	// SubPaths are mounts of part of a named volume (emptyDir, claim), or of
	// a hostPath directory: their Args hold a reference to the volume (or
	// the directory's path) that the run helper replaces with the part's
	// directory, made inside the volume or directory when missing, as the
	// kubelet makes it.
	SubPaths []SubPath `json:"subPaths,omitempty"`
	// Log is the file the container's output goes to (podman's k8s-file
	// format, --log-opt path= in Args); the run helper keeps the run before
	// (podlog.Rotate). "" for pods started before podunit kept them.
	Log string `json:"log,omitempty"`
	// Message is the host file bound at the container's
	// terminationMessagePath, emptied before each run and read when it ends;
	// MessageFromLog (FallbackToLogsOnError) takes the end of Log instead
	// when the run failed and left the file empty.
	Message        string `json:"message,omitempty"`
	MessageFromLog bool   `json:"messageFromLog,omitempty"`
	// Hosts is the pod's /etc/hosts as the kubelet manages it, bound in
	// the container (Args); nil for pods started before podunit wrote it.
	Hosts *Hosts `json:"hosts,omitempty"`
}

// PostStartStep tells whether the container's unit has a post-start step
// (ExecStartPost, OpPostStart): a postStart hook to run. An app, sidecar or
// debug container without one has its limits put on and its start recorded
// by the run helper (RunRecordsStart), before systemd is told it is ready
// where podunit's podman service started it: one process fewer a start.
func (c *Container) PostStartStep() bool { return c.PostStart != nil }

// RunRecordsStart tells whether the run helper finishes the container's
// start itself (it has no post-start step to do it): its limits put on,
// the start recorded.
func (c *Container) RunRecordsStart() bool {
	return (c.Kind == KindApp || c.Kind == KindSidecar || c.Kind == KindEphemeral) && !c.PostStartStep()
}

// Hosts is what the kubelet writes in a pod's /etc/hosts: the pod's
// addresses under its hostname (and hostname.Domain with a subdomain), or on
// the host's network the host's own file, then the hostAliases. The run
// helper writes File before the container starts, once the addresses are
// known.
type Hosts struct {
	File     string      `json:"file"`
	Hostname string      `json:"hostname"`
	Domain   string      `json:"domain,omitempty"`
	Aliases  []HostAlias `json:"aliases,omitempty"`
}

// HostAlias is one entry of spec.hostAliases.
type HostAlias struct {
	IP        string   `json:"ip"`
	Hostnames []string `json:"hostnames"`
}

// SubPath is a mount of the directory (or file) Path of a named volume:
// Args[Arg] starts with VolumeRef(Volume) + "/" + Path.
type SubPath struct {
	Arg    int    `json:"arg"`
	Volume string `json:"volume,omitempty"`
	// Root is the host directory of a hostPath volume (Volume is empty).
	Root string `json:"root,omitempty"`
	Path string `json:"path"`
}

// EnvVar is one variable of a container's environment.
type EnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	// Secret: the value comes from a Secret and is never shown.
	Secret bool `json:"secret,omitempty"`
}

// Limit is one resource property of a container's unit (units' names and
// D-Bus values: MemoryMax bytes, CPUQuota usec per second, ...).
type Limit struct {
	Name  string `json:"name"`
	Value uint64 `json:"value"`
}

// Find returns the spec of a container ("" for the infra).
func (r *Runtime) Find(container string) (*Container, error) {
	if container == "" {
		return &r.InfraSpec, nil
	}
	for i := range r.Containers {
		if r.Containers[i].Name == container {
			return &r.Containers[i], nil
		}
	}
	return nil, fmt.Errorf("pod %q has no container %q", r.Pod, container)
}

// Probed lists the containers that have probes.
func (r *Runtime) Probed() []*Container {
	var out []*Container
	for i := range r.Containers {
		if len(r.Containers[i].Probes) > 0 {
			out = append(out, &r.Containers[i])
		}
	}
	return out
}

// RestartsAfter tells whether a container whose run ended so starts again:
// as Restarts says, except that after a probe killed the run (killed) the
// kubelet restarts it under any restartPolicy but Never, whatever its exit
// code (a server that exits 0 on SIGTERM under OnFailure too), where
// systemd's Restart= alone would not: the clean-up starts such a unit again
// itself.
func (c *Container) RestartsAfter(result string, code int, killed bool) bool {
	if killed && c.RestartsAfterKill() {
		return true
	}
	return c.Restarts(result, code)
}

// RestartsAfterKill tells whether the kubelet restarts the container after
// a probe killed it: under any restartPolicy but Never.
func (c *Container) RestartsAfterKill() bool { return c.Restart != "no" }

// Restarts tells whether the unit of a container starts it again after a
// run that ended so: result is systemd's SERVICE_RESULT ("success",
// "exit-code", ...), code the exit status (conmon's: the container's, 128+N
// for a signal). Restart= on-failure restarts on any result but success.
func (c *Container) Restarts(result string, code int) bool {
	except := slices.Contains(c.RestartExceptions, code)
	switch c.Restart {
	case "always":
		return !except
	case "on-failure":
		return result != "" && result != "success"
	case "no":
		return except
	}
	return true // unknown: assume it comes back
}
