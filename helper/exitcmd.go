package helper

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// Procs reads and signals the host's processes (/proc).
type Procs interface {
	// Children are the processes whose parent is pid.
	Children(pid int) ([]int, error)
	// Cmdline is a process's argv: empty (or an error) once it has ended,
	// a zombie included.
	Cmdline(pid int) ([]string, error)
	// Lower gives the process the lowest priority (nice 19).
	Lower(pid int) error
	// Kill sends the process SIGKILL.
	Kill(pid int) error
	// Pin holds on to the process pid is now (a pidfd): what is done
	// through it never reaches a process that got the pid after it ended.
	Pin(pid int) (Pinned, error)
}

// Pinned is a process held on to (Procs.Pin).
type Pinned interface {
	// Alive tells whether it has not ended (a zombie has).
	Alive() bool
	// Kill sends it SIGKILL.
	Kill() error
	Close() error
}

// removeStopped removes a container that has just stopped, through
// podunit's podman service (eng), and ends conmon's exit command
// (mainPID's child) once it is removed: found and lowered as the removal
// begins (exitCommand), killed once it is done (endExitCommand), left to
// do its work when the removal fails.
func (e *Env) removeStopped(ctx context.Context, eng Engine, name, mainPID string) error {
	x := e.exitCommand(ctx, mainPID)
	err := eng.RemoveContainer(ctx, name)
	e.endExitCommand(x, err != nil)
	return err
}

// exitCommandWait bounds how long a stop looks for conmon's exit command,
// which conmon starts as soon as it has written the container's exit
// status, before podunit's podman service has seen it.
const (
	exitCommandWait = 250 * time.Millisecond
	exitCommandPoll = time.Millisecond
)

// exitCommand finds conmon's exit command (`podman container cleanup --rm
// ID`) for the container that just stopped, and pins it; nil when there is
// none: mainPID (the unit's main process) is not that container's conmon
// (its -c is ID), or conmon ended, or started none within exitCommandWait.
// It is a podman process that has to start up (150-250 ms here, more while
// other units stop) before it does anything, and the unit's stop waits for
// it, since conmon waits for it: podunit's stop, which has just stopped
// the container through its podman service and now removes it, leaves it
// nothing to do. So it yields the processor to that removal (nice 19; it
// cannot starve: a removal that fails is left to it) and is ended once the
// removal is done (endExitCommand).
func (e *Env) exitCommand(ctx context.Context, mainPID string) *exitCommand {
	pid, err := strconv.Atoi(mainPID)
	if e.Procs == nil || err != nil || pid <= 1 {
		return nil
	}
	argv, err := e.Procs.Cmdline(pid)
	id := conmonID(argv)
	if err != nil || id == "" {
		return nil
	}
	isExitCommand := func(k int) bool {
		argv, err := e.Procs.Cmdline(k)
		return err == nil && isCleanupOf(argv, id)
	}
	for waited := time.Duration(0); ; waited += exitCommandPoll {
		kids, err := e.Procs.Children(pid)
		if err != nil {
			return nil // conmon is gone
		}
		for _, k := range kids {
			if !isExitCommand(k) {
				continue
			}
			p, err := e.Procs.Pin(k)
			if err != nil {
				return nil
			}
			// still the exit command once pinned: the pinned process is it
			if !isExitCommand(k) {
				_ = p.Close()
				return nil
			}
			for _, d := range append([]int{k}, descendants(e.Procs, k)...) {
				_ = e.Procs.Lower(d)
			}
			return &exitCommand{pid: k, p: p}
		}
		if argv, err := e.Procs.Cmdline(pid); err != nil || conmonID(argv) != id {
			return nil // conmon ended meanwhile
		}
		if waited >= exitCommandWait || e.Sleep(ctx, exitCommandPoll) != nil {
			return nil
		}
	}
}

// exitCommand is conmon's exit command, pinned.
type exitCommand struct {
	pid int
	p   Pinned
}

// endExitCommand ends conmon's exit command (Env.exitCommand; nil: none)
// once podunit's podman service has removed the container: the service's
// stop unmounted it and tore its network down, the removal took it out of
// podman's database (or found the exit command had, under the container's
// lock), and the exit command would only find it gone. The
// unit's stop then waits for no podman process. conmon's own exit status,
// which systemd records as the run's, is the container's either way
// (conmon ignores its exit command's). keep (a removal that failed): it
// is left to do its work, only let go of.
func (e *Env) endExitCommand(x *exitCommand, keep bool) {
	if x == nil {
		return
	}
	defer x.p.Close()
	if keep || !x.p.Alive() {
		return
	}
	// What it started first (podman may have forked to join its user
	// namespace, and runs netavark and conmon --version), which would
	// outlive it otherwise: while it lives, the children it has not
	// reaped are still its own, whatever their pids.
	for _, d := range descendants(e.Procs, x.pid) {
		_ = e.Procs.Kill(d)
	}
	_ = x.p.Kill()
}

// conmonID is the container ID a conmon command line monitors (-c ID), ""
// when argv is not conmon's.
func conmonID(argv []string) string {
	if len(argv) == 0 || filepath.Base(argv[0]) != "conmon" {
		return ""
	}
	for i, a := range argv[:len(argv)-1] {
		if a == "-c" || a == "--cid" {
			return argv[i+1]
		}
	}
	return ""
}

// isCleanupOf tells whether argv is podman's `container cleanup` of the
// container id, as conmon's exit command runs it (the ID last).
func isCleanupOf(argv []string, id string) bool {
	if len(argv) < 3 || argv[len(argv)-1] != id {
		return false
	}
	i := slices.Index(argv, "container")
	return i >= 0 && i+1 < len(argv) && argv[i+1] == "cleanup"
}

// descendants are pid's children, theirs, and so on, deepest last.
func descendants(p Procs, pid int) []int {
	var all []int
	for queue := []int{pid}; len(queue) > 0; queue = queue[1:] {
		kids, _ := p.Children(queue[0])
		all = append(all, kids...)
		queue = append(queue, kids...)
	}
	return all
}
