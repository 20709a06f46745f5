package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/containers/podman/v4/pkg/bindings/containers"
	"golang.org/x/sys/unix"
)

// StopContainer sends the container's stop signal, then SIGKILL once timeout
// has passed, and returns when the container and its conmon are gone. A
// container that is gone or stopped is fine.
//
// podman's own stop polls for the container's end and cleans it up before
// it answers: 150-250 ms for a container that exits at once on its signal.
// Here the signal goes through the API (podman's OCI runtime reaches any user
// in the container) and the end is watched through pidfds of the container's
// process and its conmon, which the kernel wakes at once. The container is
// removed as soon as it ended (podman's service does the clean-up, before
// conmon's exit command has started: that then finds nothing to do, and
// conmon still exits with the container's status), as its unit's clean-up
// would, and then conmon is waited for. Where that cannot be done (a process
// namespace shared with other containers, whose processes outlive the
// container's first; no pidfds), it is podman's stop, and the clean-up
// removes the container.
func (p *Podman) StopContainer(ctx context.Context, name string, timeout time.Duration) error {
	data, err := containers.Inspect(p.with(ctx), name, nil)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if data.State == nil || !data.State.Running {
		return nil
	}
	var sig uint
	var pidMode string
	if data.Config != nil {
		sig = data.Config.StopSignal
	}
	if data.HostConfig != nil {
		pidMode = data.HostConfig.PidMode
	}
	w, ok := watchExit(data.ID, data.State.Pid, data.State.ConmonPid, sig, pidMode)
	if !ok {
		return p.apiStop(ctx, name, timeout)
	}
	defer w.close()
	remove := func() {
		// a failure is the unit's clean-up's to report: it removes it too
		_ = p.RemoveContainer(ctx, data.ID)
	}
	return w.stop(ctx, timeout, remove, func(ctx context.Context, sig string) error {
		err := containers.Kill(p.with(ctx), data.ID, &containers.KillOptions{Signal: &sig})
		if err != nil && (isNotFound(err) || strings.Contains(err.Error(), "not running")) {
			return nil // it ended meanwhile
		}
		return err
	})
}

// apiStop is podman's stop. podman's API counts the timeout in whole
// seconds: it gets the timeout rounded up, and SIGKILL goes from here at the
// exact deadline, so the kill is neither early nor up to a second late.
func (p *Podman) apiStop(ctx context.Context, name string, timeout time.Duration) error {
	secs := uint(math.Ceil(timeout.Seconds()))
	if time.Duration(secs)*time.Second > timeout {
		kill := time.AfterFunc(timeout, func() {
			kctx, cancel := context.WithTimeout(p.with(context.Background()), 10*time.Second)
			defer cancel()
			_ = containers.Kill(kctx, name, &containers.KillOptions{Signal: ptr("SIGKILL")})
		})
		defer kill.Stop()
	}
	ignore := true
	err := containers.Stop(p.with(ctx), name, &containers.StopOptions{Timeout: &secs, Ignore: &ignore})
	if isNotFound(err) {
		return nil
	}
	return err
}

// exitWatch holds pidfds of a container's first process and of its conmon.
type exitWatch struct {
	proc, conmon int // pidfds; conmon -1 when it is not known
	signal       string
}

// watchExit opens pidfds of a running container's process and conmon, when
// the container's end can be told by its first process's: it has its own
// process namespace (when the first process ends the kernel kills the rest),
// podman knows its stop signal, and the process is the container's (its
// cgroup names the container, so a pid reused meanwhile is never waited for).
func watchExit(id string, pid, conmonPid int, sig uint, pidMode string) (*exitWatch, bool) {
	if pid <= 0 || sig == 0 || (pidMode != "" && pidMode != "private") {
		return nil, false
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil, false
	}
	cg, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil || !strings.Contains(string(cg), id) {
		unix.Close(fd)
		return nil, false
	}
	w := &exitWatch{proc: fd, conmon: -1, signal: strconv.FormatUint(uint64(sig), 10)}
	if conmonPid > 0 {
		if cfd, err := unix.PidfdOpen(conmonPid, 0); err == nil {
			w.conmon = cfd
		}
	}
	return w, true
}

func (w *exitWatch) close() {
	unix.Close(w.proc)
	if w.conmon >= 0 {
		unix.Close(w.conmon)
	}
}

// conmonGrace bounds the wait for conmon once its container ended: it
// records the exit and hands the clean-up to podman, then ends.
const conmonGrace = 5 * time.Second

// killGrace bounds the wait for a container's end after SIGKILL.
const killGrace = 10 * time.Second

// stop is the kill sequence on a watched container: its stop signal, SIGKILL
// at the deadline, gone once it ended, and then its conmon's end (systemd,
// whose main process conmon is, finds nothing left to kill).
func (w *exitWatch) stop(ctx context.Context, timeout time.Duration, gone func(), kill func(context.Context, string) error) error {
	if err := kill(ctx, w.signal); err != nil {
		return fmt.Errorf("sending signal %s: %w", w.signal, err)
	}
	ended, err := waitPidfd(ctx, w.proc, timeout)
	if err != nil {
		return err
	}
	if !ended {
		if err := kill(ctx, "SIGKILL"); err != nil {
			return fmt.Errorf("sending SIGKILL: %w", err)
		}
		if ended, err = waitPidfd(ctx, w.proc, killGrace); err != nil {
			return err
		}
		if !ended {
			return errors.New("the container's process did not end after SIGKILL")
		}
	}
	gone()
	if w.conmon >= 0 {
		if _, err := waitPidfd(ctx, w.conmon, conmonGrace); err != nil {
			return err
		}
	}
	return nil
}

// waitPidfd waits until the process of a pidfd ends (true), timeout passes
// (false) or ctx is done (its error).
func waitPidfd(ctx context.Context, fd int, timeout time.Duration) (bool, error) {
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return false, nil
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
		// in slices, to notice ctx
		ms := min(left, 100*time.Millisecond).Milliseconds()
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(max(ms, 1)))
		if err != nil && !errors.Is(err, unix.EINTR) {
			return false, fmt.Errorf("waiting for a process: %w", err)
		}
		if n > 0 {
			return true, nil
		}
	}
}
