package main

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"github.com/vishvananda/netlink"

	"github.com/podunit/podunit/helper"
	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/netinfo"
	"github.com/podunit/podunit/netshape"
	"github.com/podunit/podunit/netshape/nl"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/units/sdbus"
)

// internalCommand holds what podunit's units run; not for users, and it may
// change between versions. The command lines are helper/contract's: parsed
// there, not by flags defined here.
func internalCommand() *cli.Command {
	subs := []*cli.Command{genCommand()}
	for _, op := range contract.Ops {
		op := op
		subs = append(subs, &cli.Command{
			Name:            string(op),
			SkipFlagParsing: true,
			Action: func(c *cli.Context) error {
				cmd, err := contract.Parse(append([]string{string(op)}, c.Args().Slice()...))
				if err != nil {
					return cli.Exit(err.Error(), exitInvalid)
				}
				if cmd.Op == contract.OpJob || cmd.Op == contract.OpCronJob {
					return runJob(c.Context, cmd)
				}
				return runHelper(c.Context, cmd)
			},
		})
	}
	return &cli.Command{Name: "internal", Hidden: true, Usage: "helpers run by podunit's units", Subcommands: subs}
}

// runHelper runs one helper with the real systemd, podman and netlink; a stop
// of its unit (SIGTERM) cancels it.
func runHelper(ctx context.Context, cmd contract.Command) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	err := helperEnv().Main(ctx, cmd)
	var ee *helper.ErrExit
	if errors.As(err, &ee) {
		return cli.Exit(ee.Msg, ee.Code)
	}
	return err
}

// runJob runs a Job's controller, or a CronJob's run; a stop of its unit
// (SIGTERM) cancels it.
func runJob(ctx context.Context, cmd contract.Command) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	run := runJobController
	if cmd.Op == contract.OpCronJob {
		run = runCronJob
	}
	if err := run(ctx, cmd.Job); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

func helperEnv() *helper.Env {
	nsenter, err := exec.LookPath("nsenter")
	if err != nil {
		nsenter = "/usr/bin/nsenter"
	}
	return &helper.Env{
		StateDir: podstate.DefaultDir(),
		Self:     selfPath(),
		Prober:   proberPath(selfPath()),
		Nsenter:  nsenter,
		Systemd: func(ctx context.Context) (helper.Systemd, error) {
			m, err := sdbus.Connect(ctx)
			if err != nil {
				return nil, err
			}
			return m, nil
		},
		Engine: func(ctx context.Context) (helper.Engine, error) {
			p, err := connectPodman(ctx, nil)
			if err != nil {
				return nil, err
			}
			return p, nil
		},
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
		Out: os.Stdout,
	}
}

// proberPath is podunit-probe beside this binary (a build tree's bin/), else
// in ../libexec/podunit/ (where the packages install it); empty when
// neither is there: podunit then runs its pods' probers itself.
func proberPath(self string) string {
	dir := filepath.Dir(self)
	for _, p := range []string{filepath.Join(dir, "podunit-probe"), filepath.Join(dir, "..", "libexec", "podunit", "podunit-probe")} {
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
