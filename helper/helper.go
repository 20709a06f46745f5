// Package helper is what podunit's units run (`podunit internal OP`, see
// helper/contract): starting a container from the pod's runtime spec, its
// postStart hook, the kubelet's stop sequence (package prober's, which the
// pod's prober shares), the crash-loop back-off, the way into the pod's
// prober and its bandwidth shaping. Everything that touches the outside
// goes through small interfaces (Systemd, Engine, Shaper and the process
// functions of Env), so the sequencing is unit-tested with fakes; cmd/podunit
// wires the real ones.
package helper

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/hooks"
	"github.com/podunit/podunit/netshape"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/prober"
	"github.com/podunit/podunit/units/unitdef"
)

// Systemd is what the helpers need of the user's systemd manager.
type Systemd interface {
	SetLimits(ctx context.Context, unit string, limits []unitdef.Property) error
	Stopping(ctx context.Context, unit string) (bool, error)
	// StopUnits queues the units' stop jobs, without waiting for them.
	StopUnits(ctx context.Context, names []string) error
	// StopUnlessBusy queues a unit's stop unless that would cancel a job
	// queued for it or a unit its stop takes along; it tells which.
	StopUnlessBusy(ctx context.Context, unit string) (bool, error)
	// StartTransient queues the start of a transient unit, without
	// waiting for it; one of that name already there is no error.
	StartTransient(ctx context.Context, u unitdef.Unit) error
	// QueueStart queues a unit's start without waiting for it; a job already
	// queued for it or for a unit it needs is an error, and stays.
	QueueStart(ctx context.Context, unit string) error
	// Restarts is how many times systemd restarted a service.
	Restarts(ctx context.Context, unit string) (int, error)
	Close()
}

// AddrSetter puts addresses on the current network namespace's interface.
type AddrSetter interface {
	// SetAddrs makes want (as /32s) the addresses of the interface that
	// leads to the pod network, among those in keep; others in keep go.
	SetAddrs(want []netip.Addr, keep netip.Prefix) error
}

// Engine is what the helpers need of podman: its REST API, never a podman
// process.
type Engine interface {
	hooks.Executor
	// ContainerPID is the main process of a running container.
	ContainerPID(ctx context.Context, name string) (int, error)
	// InfraNet is a running container's main process and the hosts file
	// podman made for it ("" when none).
	InfraNet(ctx context.Context, name string) (pid int, hostsFile string, err error)
	// StopContainer sends the container's stop signal and SIGKILL after
	// timeout; a container that is not there or not running is not an error.
	StopContainer(ctx context.Context, name string, timeout time.Duration) error
	// RemoveContainer removes a container at once; a missing one is not an error.
	RemoveContainer(ctx context.Context, name string) error
	// ContainerLabels returns a container's labels, and whether it exists.
	ContainerLabels(ctx context.Context, name string) (map[string]string, bool, error)
	// Containers names the containers (running or not) with label key=value.
	Containers(ctx context.Context, key, value string) ([]string, error)
	// VolumeMountpoint is where a named volume's data lives on the host.
	VolumeMountpoint(ctx context.Context, name string) (string, error)
}

// Shaper applies and reads traffic shaping in the current network namespace.
type Shaper interface {
	Apply(netshape.Spec) (report any, summary string, err error)
	Show() (report any, summary string, err error)
}

// Env is everything a helper touches.
type Env struct {
	StateDir string
	Self     string // podunit's own path, for re-running itself
	// Prober is the path of the small binary that runs a pod's prober
	// (cmd/podunit-probe); empty: Self runs it.
	Prober  string
	Nsenter string // path of nsenter (util-linux)
	Systemd func(ctx context.Context) (Systemd, error)
	Engine  func(ctx context.Context) (Engine, error)
	// Launch connects to podunit's own podman service, which starts app
	// and sidecar containers in-process; nil, or an error: podman run does.
	Launch func(ctx context.Context, podman string) (Launcher, error)
	Cgroup UnitCgroup
	// Notify sends a state to systemd (sd_notify).
	Notify func(state string) error
	Shaper Shaper
	Addrs  AddrSetter // the service proxy's addresses
	// Exec replaces the process (syscall.Exec); it returns only on failure.
	Exec func(path string, argv, env []string) error
	// Run runs a child to completion with the helper's own output and
	// returns its exit code (-1 when a signal ended it).
	Run     func(ctx context.Context, path string, argv, env []string) (int, error)
	Environ func() []string
	Getenv  func(string) string
	// PodIPs are the addresses of the network namespace of process pid;
	// HostIPs the host's (status.podIPs and hostIPs of the downward API).
	PodIPs  func(pid int) ([]string, error)
	HostIPs func() []string
	Now     func() time.Time
	// Sleep waits d, or until ctx ends (then it returns ctx's error).
	Sleep func(ctx context.Context, d time.Duration) error
	Out   io.Writer // what a helper prints (shape show)
	// Procs are the host's processes: a stop ends conmon's exit command
	// once the container is removed (endExitCommand); nil: it does not.
	Procs Procs
	// Services serves the cluster DNS and the Services (helper/proxy's
	// Run, which podunit wires in); nil where it is not linked. The
	// services container's start and clearing are Main's own.
	Services func(ctx context.Context, e *Env, cmd contract.Command) error
}

// ErrExit carries a helper's exit status.
type ErrExit struct {
	Code int
	Msg  string
}

func (e *ErrExit) Error() string { return e.Msg }

// Main runs one helper command.
func (e *Env) Main(ctx context.Context, cmd contract.Command) error {
	if cmd.Op == contract.OpServices {
		switch {
		case cmd.Action == contract.ServicesRun:
			return e.servicesRun(ctx)
		case cmd.Action == contract.ServicesClear:
			return e.servicesClear(ctx)
		case cmd.Action == contract.ServicesStop:
			return e.servicesStop(ctx)
		case e.Services == nil:
			return &ErrExit{Code: 2, Msg: "the service proxy's serving is podunit's own (podunit internal services serve)"}
		}
		return e.Services(ctx, e, cmd)
	}
	rt, err := podstate.LoadRuntime(e.StateDir, cmd.Pod)
	if err != nil {
		return err
	}
	c, err := rt.Find(cmd.Container)
	if err != nil {
		return err
	}
	h := &task{Env: e, cmd: cmd, rt: rt, c: c}
	switch cmd.Op {
	case contract.OpRun:
		return h.run(ctx)
	case contract.OpPostStart:
		return h.postStart(ctx)
	case contract.OpStop:
		return h.stop(ctx)
	case contract.OpCleanup:
		return h.cleanup(ctx)
	case contract.OpProbe:
		return h.probe(ctx)
	case contract.OpShape:
		return h.shape(ctx)
	case contract.OpVolumes:
		return h.volumes(ctx)
	case contract.OpForward:
		return h.forward(ctx)
	case contract.OpDeadline:
		return h.deadline(ctx)
	case contract.OpEnd:
		return h.end(ctx)
	}
	return fmt.Errorf("%w: %s", contract.ErrUsage, cmd.Op)
}

// task is one helper command at work.
type task struct {
	*Env
	cmd contract.Command
	rt  *contract.Runtime
	c   *contract.Container
	eng Engine
	// status are the downward API's status values, once filled in.
	status map[string]string
	// net is the pod's network, once read.
	net *podNetwork
}

func (t *task) engine(ctx context.Context) (Engine, error) {
	if t.eng == nil {
		e, err := t.Env.Engine(ctx)
		if err != nil {
			return nil, err
		}
		t.eng = e
	}
	return t.eng, nil
}

// target is the task's container, for its handlers and its kill sequence.
func (t *task) target() *prober.Target {
	return &prober.Target{StateDir: t.StateDir, Pod: t.rt.Pod, C: t.c, Now: t.Now,
		Engine: func(ctx context.Context) (prober.Engine, error) { return t.engine(ctx) }}
}

func (t *task) event(typ, reason, format string, a ...any) {
	t.target().Event(typ, reason, format, a...)
}

// needsNetns tells whether a handler must run inside the pod's namespaces:
// those that connect to the pod from outside the container (its network
// namespace), and exec handlers, which the container's OCI runtime runs from
// podman's user namespace. A sleep needs nothing.
func needsNetns(h *hooks.Handler) bool {
	return h != nil && h.Sleep == nil
}

// enterNetns re-runs this helper inside the pod's network namespace (a pod
// on the host's network: in podman's user namespace only), once:
// the namespace belongs to podman's rootless user namespace, which a
// multi-threaded Go process cannot join itself, so nsenter joins both (as the
// user who owns them) and execs podunit there, in place of this process. The
// command line gets InNetns (and whatever else cmd carries) so the helper
// continues where it left off. It returns only on failure.
func (t *task) enterNetns(ctx context.Context, cmd contract.Command) error {
	eng, err := t.engine(ctx)
	if err != nil {
		return err
	}
	pid, err := eng.ContainerPID(ctx, t.rt.Infra)
	if err != nil || pid <= 0 {
		return fmt.Errorf("pod %q has no network namespace (is its infra container %s running?): %v", t.rt.Pod, t.rt.Infra, err)
	}
	// A pod on the host's network is where this helper already is (and
	// podman's user namespace may not enter the host's network namespace):
	// only podman's user namespace is joined, for exec handlers.
	return fmt.Errorf("entering the network namespace of pod %q: %w", t.rt.Pod, t.ExecInNetns(pid, cmd, !t.rt.HostNetwork))
}

// ExecInNetns replaces this process with podunit running cmd (with InNetns)
// in the user and (when net) network namespaces of process pid.
//
// A pod with a user namespace of its own (hostUsers: false) has its network
// namespace owned by that namespace, where the user's own id is not mapped:
// joined as the user, the helper would keep no capability in it (shaping
// needs CAP_NET_ADMIN). Its conmon, the infra's parent, runs in podman's
// rootless user namespace, the pod's parent: joined there, the helper is
// root of an ancestor, with every capability over the pod's network.
func (e *Env) ExecInNetns(pid int, cmd contract.Command, net bool) error {
	cmd.InNetns = true
	ns := []string{"--user", "--preserve-credentials", "--target", strconv.Itoa(pid)}
	if net {
		ns = []string{"--user", "--preserve-credentials", "--net", "--target", strconv.Itoa(pid)}
		if parent := parentUserns(pid); parent != 0 {
			ns = []string{fmt.Sprintf("--user=/proc/%d/ns/user", parent), "--preserve-credentials", fmt.Sprintf("--net=/proc/%d/ns/net", pid)}
		}
	}
	self := e.Self
	if cmd.Op == contract.OpProbe && e.Prober != "" {
		self = e.Prober
	}
	argv := append(append(append([]string{e.Nsenter}, ns...), "--"), cmd.Argv(self)...)
	return e.Exec(e.Nsenter, argv, e.Environ())
}

// parentUserns is the parent process of pid (its conmon) when the two are in
// different user namespaces; 0 when they share one or cannot be read.
func parentUserns(pid int) int {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// pid (comm) state ppid ...: comm may hold spaces and parentheses
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(f) < 2 {
		return 0
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil || ppid <= 1 {
		return 0
	}
	own, err1 := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", pid))
	theirs, err2 := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", ppid))
	if err1 != nil || err2 != nil || own == theirs {
		return 0
	}
	return ppid
}
