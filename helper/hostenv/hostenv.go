// Package hostenv wires the helpers that podunit's units run (package
// helper) to this host: systemd over D-Bus, podman's API (podapi), netlink,
// the clock. podunit's `internal` commands and the podunit-helper binary
// both run helpers with it.
package hostenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/podunit/podunit/helper"
	"github.com/podunit/podunit/netinfo"
	"github.com/podunit/podunit/netshape"
	"github.com/podunit/podunit/netshape/nl"
	"github.com/podunit/podunit/podapi"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/units/sdbus"
)

// New is the Env of a helper run by self (podunit, or podunit-helper):
// the real systemd, podman, netlink and clock.
func New(self string) *helper.Env {
	nsenter, err := exec.LookPath("nsenter")
	if err != nil {
		nsenter = "/usr/bin/nsenter"
	}
	return &helper.Env{
		StateDir: podstate.DefaultDir(),
		Self:     self,
		Prober:   ProberPath(self),
		Nsenter:  nsenter,
		Systemd: func(ctx context.Context) (helper.Systemd, error) {
			m, err := sdbus.Connect(ctx)
			if err != nil {
				return nil, err
			}
			return m, nil
		},
		Engine:  Engine,
		Launch:  Launch,
		Cgroup:  &unitCgroup{fs: "/sys/fs/cgroup", self: "/proc/self/cgroup"},
		Notify:  notify,
		Shaper:  nlShaper{},
		Addrs:   nlAddrs{},
		Exec:    syscall.Exec,
		Run:     runChild,
		Environ: os.Environ,
		Getenv:  os.Getenv,
		PodIPs:  func(pid int) ([]string, error) { return netinfo.PodIPs("/proc", pid) },
		HostIPs: func() []string { return netinfo.HostIPs("/proc") },
		Now:     time.Now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
		Out:   os.Stdout,
		Procs: procs{root: "/proc"},
	}
}

// Engine is podman's API for a helper: podapi alone, which dials
// nothing until the first request (podman's bindings would ask the service
// for its version first, a round trip in every helper). It is podunit's own
// podman service while that runs (it did start the pods' containers), else
// the user's podman.socket; a user manager where neither listens gets
// podman.socket started, as for up.
func Engine(ctx context.Context) (helper.Engine, error) {
	own, sock := podstate.PodmanSocket(podstate.DefaultDir()), podapi.SocketPath()
	if _, err := os.Stat(sock); err != nil && !podapi.Answers(own) {
		m, err := sdbus.Connect(ctx)
		if err != nil {
			return nil, err
		}
		defer m.Close()
		if err := m.StartUnit(ctx, "podman.socket"); err != nil {
			return nil, fmt.Errorf("podman's socket %s is not there, and starting podman.socket: %w", sock, err)
		}
	}
	return podapi.NewPreferring(own, sock), nil
}

// ProberPath is podunit-probe beside self (a build tree's bin/, or
// /usr/libexec/podunit/ for podunit-helper), else in ../libexec/podunit/
// (where the packages install it); empty when neither is there: the helper
// then runs its pods' probers itself.
func ProberPath(self string) string { return libexec(self, "podunit-probe") }

// HelperPath is podunit-helper, found as ProberPath finds podunit-probe;
// empty when it is not there: the units then run podunit's own helpers
// (podunit internal ...).
func HelperPath(self string) string { return libexec(self, "podunit-helper") }

func libexec(self, name string) string {
	dir := filepath.Dir(self)
	for _, p := range []string{filepath.Join(dir, name), filepath.Join(dir, "..", "libexec", "podunit", name)} {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return filepath.Clean(p)
		}
	}
	return ""
}

// runChild runs a child with this process's output. When ctx ends, the child
// gets SIGTERM (podman run passes it on to the container) and, 10 s later,
// SIGKILL.
func runChild(ctx context.Context, path string, argv, env []string) (int, error) {
	cmd := exec.CommandContext(ctx, path, argv[1:]...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	if err != nil {
		return 0, err
	}
	return 0, nil
}

// nlShaper shapes with netlink in the current network namespace.
type nlShaper struct{}

func (nlShaper) Apply(s netshape.Spec) (any, string, error) {
	st, err := nl.Apply(s)
	if err != nil {
		return nil, "", err
	}
	return st, st.String(), nil
}

func (nlShaper) Show() (any, string, error) {
	st, err := nl.Show()
	if err != nil {
		return nil, "", err
	}
	return st, st.String(), nil
}

// nlAddrs puts the service proxy's addresses on the interface of the default
// route of the current network namespace (the services container's eth0).
type nlAddrs struct{}

func (nlAddrs) SetAddrs(want []netip.Addr, keep netip.Prefix) error {
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return err
	}
	idx := 0
	for _, r := range routes {
		if r.Dst == nil || r.Dst.IP.IsUnspecified() {
			idx = r.LinkIndex
		}
	}
	if idx == 0 {
		return errors.New("no default route")
	}
	link, err := netlink.LinkByIndex(idx)
	if err != nil {
		return err
	}
	have, err := netlink.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return err
	}
	wanted := map[netip.Addr]bool{}
	for _, a := range want {
		wanted[a] = true
	}
	var errs []error
	for _, a := range have {
		ip, ok := netip.AddrFromSlice(a.IP.To4())
		ones, _ := a.Mask.Size()
		if !ok || ones != 32 || !keep.Contains(ip) {
			continue
		}
		if wanted[ip] {
			delete(wanted, ip)
			continue
		}
		errs = append(errs, netlink.AddrDel(link, &a))
	}
	for ip := range wanted {
		b := ip.As4()
		errs = append(errs, netlink.AddrAdd(link, &netlink.Addr{IPNet: &net.IPNet{IP: net.IP(b[:]), Mask: net.CIDRMask(32, 32)}}))
	}
	return errors.Join(errs...)
}
