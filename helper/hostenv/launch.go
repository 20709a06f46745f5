package hostenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/podunit/podunit/helper"
	"github.com/podunit/podunit/podapi"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/units/sdbus"
	"github.com/podunit/podunit/units/unitdef"
)

// Launch connects to podunit's podman service (podman: its binary),
// having systemd start it when it does not answer.
func Launch(ctx context.Context, podman string) (helper.Launcher, error) {
	c, err := OwnService(ctx, nil, podman)
	if err != nil {
		return nil, err
	}
	return launcher{c}, nil
}

// OwnService is a client of podunit's own podman service, which systemd
// starts (through m, or a connection of its own when m is nil) when it does
// not answer: podunit.podman.service, running podman (its binary), until
// it has been idle for unitdef.PodmanServiceIdle.
func OwnService(ctx context.Context, m *sdbus.Manager, podman string) (*podapi.Client, error) {
	c := podapi.New(podstate.PodmanSocket(podstate.DefaultDir()))
	if ping(ctx, c) == nil {
		return c, nil
	}
	if m == nil {
		var err error
		if m, err = sdbus.Connect(ctx); err != nil {
			return nil, err
		}
		defer m.Close()
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := m.StartKept(sctx, []unitdef.Unit{unitdef.PodmanService(podman, c.Socket())}); err != nil {
		return nil, err
	}
	if err := ping(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// ping asks the service whether it answers, within 5 s.
func ping(ctx context.Context, c *podapi.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return c.Ping(ctx)
}

type launcher struct{ c *podapi.Client }

func (l launcher) Launch(ctx context.Context, s *helper.Spec) error {
	if err := l.c.CreateContainer(ctx, s); err != nil {
		return fmt.Errorf("creating: %w", err)
	}
	if err := l.c.StartContainer(ctx, s.Name); err != nil {
		_ = l.c.RemoveContainer(context.WithoutCancel(ctx), s.Name)
		var ae *podapi.AnswerError
		if errors.As(err, &ae) {
			// The service made the container and said why it did not start
			// (the OCI runtime's error): podman run would fail the same way.
			return &helper.StartFailed{Msg: ae.Message}
		}
		return fmt.Errorf("starting: %w", err)
	}
	return nil
}

// unitCgroup is the helper's unit's group in cgroup v2's hierarchy.
type unitCgroup struct {
	fs   string // where cgroup2 is mounted
	self string // the process's /proc/self/cgroup
	unit string // the unit's group, once Prepare read it
}

// Prepare moves the helper into the unit's "helper" sub-group.
func (u *unitCgroup) Prepare() (string, error) {
	data, err := os.ReadFile(u.self)
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(string(data), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok && p != "/" && p != "" {
			u.unit = p
		}
	}
	if u.unit == "" {
		return "", errors.New("not in a cgroup v2 group of its own")
	}
	return u.unit, u.move(os.Getpid(), "helper")
}

// Adopt moves conmon into the unit's "conmon" sub-group.
func (u *unitCgroup) Adopt(pid int) error {
	err := u.move(pid, "conmon")
	if errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("%w (conmon %d)", helper.ErrGone, pid)
	}
	return err
}

func (u *unitCgroup) move(pid int, sub string) error {
	dir := filepath.Join(u.fs, u.unit, sub)
	if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644)
}

// notify sends state to systemd's notification socket ($NOTIFY_SOCKET).
func notify(state string) error {
	sent, err := daemon.SdNotify(false, state)
	if err == nil && !sent {
		err = errors.New("no NOTIFY_SOCKET")
	}
	return err
}
