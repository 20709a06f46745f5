package helper

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/podstate"
)

// Launcher creates and starts containers through podunit's own podman
// service (units.PodmanService): one long-running podman process that does
// for every container what a `podman run` process would, without the cost of
// starting podman each time.
type Launcher interface {
	// Launch creates the container and starts it; a container created and
	// then not started is removed again.
	Launch(ctx context.Context, s *Spec) error
}

// UnitCgroup is the run helper's own unit's control group, which the
// container started by the service joins, as with podman run --cgroups=split.
type UnitCgroup interface {
	// Prepare moves the helper out of the way (into a sub-group: a group
	// whose children hold controllers holds no process itself) and returns
	// the unit's group, the container's cgroup parent.
	Prepare() (parent string, err error)
	// Adopt moves the container's monitor (conmon) into the unit's group:
	// systemd then supervises it as the unit's main process.
	Adopt(pid int) error
}

// ErrGone is a container whose monitor ended before it joined the unit.
var ErrGone = errors.New("the container ended as it started")

// StartFailed is a Launch whose container was made but did not start: the
// service answered that the OCI runtime could not run its process (no such
// executable, a mount that failed). podman run would fail the same way, so
// the start fails here, with podman run's status, rather than try again.
type StartFailed struct{ Msg string }

func (e *StartFailed) Error() string { return e.Msg }

// startStatus is podman run's exit status for a container that did not
// start with error msg (libpod's define.ExitCode): 127 for a command not
// found, 126 for any other.
func startStatus(msg string) int {
	m := strings.ToLower(msg)
	if strings.Contains(m, "not found") || strings.Contains(m, "executable path is empty") || strings.Contains(m, "no such file") {
		return 127
	}
	return 126
}

// launch starts an infra, app or sidecar container through podunit's
// podman service (Env.Launch); false: podman run is to start it.
func (t *task) launch(ctx context.Context) (bool, error) {
	if t.c.Kind == contract.KindInit {
		return false, nil // run in the foreground, to its end
	}
	var started func() error
	if t.c.RunRecordsStart() {
		started = func() error { return t.finishStart(ctx) }
	}
	return t.Env.Launched(ctx, t.rt.Podman, t.c.Args, t.envValues(), ConmonPidFile(t.StateDir, t.rt.Pod, t.c.Name), started)
}

// Launched starts a detached container of podman run arguments args
// (env: the values of its "--env NAME") through podunit's podman service,
// and makes its conmon the unit's main process (MAINPID, READY: what podman
// run --sdnotify=conmon tells systemd); pidFile is where conmon writes its
// pid. It reports false when the container is to start through podman run
// instead: the service is not reachable, or the command line holds
// something only podman run takes; the reason goes to the unit's output. A
// container the service made but could not start (StartFailed) fails the
// start.
// started, when not nil, runs once the container runs, before systemd is
// told it is ready (a failure fails the start: the container is then
// stopped with its unit).
func (e *Env) Launched(ctx context.Context, podman string, args []string, env map[string]string, pidFile string, started func() error) (bool, error) {
	if e.Launch == nil || e.Cgroup == nil || e.Notify == nil || e.Getenv("NOTIFY_SOCKET") == "" {
		return false, nil
	}
	s, err := SpecFromArgs(args, env)
	if err != nil {
		fmt.Fprintf(e.Out, "starting the container through podman run: %v\n", err)
		return false, nil
	}
	l, err := e.Launch(ctx, podman)
	if err != nil {
		fmt.Fprintf(e.Out, "starting %s through podman run: podunit's podman service: %v\n", s.Name, err)
		return false, nil
	}
	parent, err := e.Cgroup.Prepare()
	if err != nil {
		fmt.Fprintf(e.Out, "starting %s through podman run: %v\n", s.Name, err)
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(pidFile), 0o700); err != nil {
		return true, err
	}
	_ = os.Remove(pidFile)
	s.CgroupParent, s.ConmonPidFile, s.SdNotifyMode = parent, pidFile, "ignore"
	if err := l.Launch(ctx, s); err != nil {
		var sf *StartFailed
		if errors.As(err, &sf) {
			return true, &ErrExit{Code: startStatus(sf.Msg), Msg: fmt.Sprintf("starting container %s: %s", s.Name, sf.Msg)}
		}
		fmt.Fprintf(e.Out, "starting %s through podman run: podunit's podman service did not: %v\n", s.Name, err)
		return false, nil
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return true, fmt.Errorf("reading conmon's pid: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 {
		return true, fmt.Errorf("conmon's pid file %s holds %q", pidFile, data)
	}
	if err := e.Cgroup.Adopt(pid); err != nil {
		if errors.Is(err, ErrGone) {
			return true, &ErrExit{Code: 1, Msg: fmt.Sprintf("container %s ended as it started", s.Name)}
		}
		return true, fmt.Errorf("moving conmon into the unit: %w", err)
	}
	if started != nil {
		if err := started(); err != nil {
			return true, err
		}
	}
	return true, e.Notify(fmt.Sprintf("MAINPID=%d\nREADY=1", pid))
}

// ConmonPidFile is where podunit's podman service has conmon write its pid
// for a container it starts.
func ConmonPidFile(stateDir, pod, container string) string {
	return filepath.Join(podstate.PodDir(stateDir, pod), "conmon", container+".pid")
}
