package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/podunit/podunit/hooks"
	"github.com/podunit/podunit/runner"
	"github.com/podunit/podunit/units"
	"github.com/podunit/podunit/units/sdbus"
)

func probeCommand() *cli.Command {
	return &cli.Command{
		Name:  "probe",
		Usage: "run a container's liveness, readiness and startup probes for as long as it exists",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "pod", Required: true},
			&cli.StringFlag{Name: "container", Required: true},
			&cli.IntFlag{Name: "grace", Value: 30},
			&cli.StringFlag{Name: "pre-stop"},
			&cli.BoolFlag{Name: "host-network"},
			&cli.StringFlag{Name: "probes", Required: true, Usage: "JSON"},
		},
		Action: runProbes,
	}
}

func tcpCheckCommand() *cli.Command {
	return &cli.Command{
		Name:  "tcp-check",
		Usage: "one TCP connection in the current network namespace",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Required: true},
			&cli.DurationFlag{Name: "timeout", Value: time.Second},
		},
		Action: func(c *cli.Context) error {
			ctx, cancel := context.WithTimeout(c.Context, c.Duration("timeout"))
			defer cancel()
			if err := hooks.DialOnce(ctx, c.String("addr")); err != nil {
				return cli.Exit(err.Error(), 1)
			}
			return nil
		},
	}
}

// runProbes is the kubelet's prober for one container, run by the container's
// probe unit (bound to the container's unit). For every run of the container:
// the startup probe until it succeeds, then liveness and readiness, each on
// its own period after initialDelaySeconds. A failed liveness or startup probe
// kills the container (preStop first, stop reason Health); systemd restarts it
// per restartPolicy.
func runProbes(c *cli.Context) error {
	h := newHookEnv(c)
	probes, err := hooks.DecodeProbes(c.String("probes"))
	if err != nil {
		return err
	}
	unit := units.ContainerUnitName(h.pod, h.container)
	var startup, liveness, readiness *hooks.Probe
	for _, p := range probes {
		switch p.Kind {
		case hooks.Startup:
			startup = p
		case hooks.Liveness:
			liveness = p
		case hooks.Readiness:
			readiness = p
		}
	}
	setReady := func(v bool) {
		path := runner.ReadyFile(h.stateDir, h.pod, h.container)
		_ = os.MkdirAll(filepath.Dir(path), 0o700)
		_ = os.WriteFile(path, []byte(fmt.Sprint(v)), 0o600)
	}
	ctx := c.Context
	mgr, err := sdbus.Connect(ctx)
	if err != nil {
		return err
	}
	defer mgr.Close()
	// running returns the unit's activation time while it is active.
	running := func() (time.Time, bool) {
		sts, err := mgr.List(ctx, unit)
		if err != nil || len(sts) != 1 || sts[0].ActiveState != "active" {
			return time.Time{}, false
		}
		return sts[0].ActiveEnter, true
	}
	var lastRun time.Time
	for {
		setReady(false)
		// Wait for a new run of the container.
		var started time.Time
		for {
			if t, ok := running(); ok && !t.Equal(lastRun) {
				started = t
				break
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(500 * time.Millisecond):
			}
		}
		lastRun = started
		reason := probeRun(ctx, h, c, started, startup, liveness, readiness, setReady, running)
		if reason == "" {
			continue // the container went away on its own; wait for its next run
		}
		// Kill it: preStop with reason Health, then the stop signal; systemd
		// restarts it (or not) per restartPolicy.
		grace := time.Duration(c.Int("grace")) * time.Second
		for _, p := range []*hooks.Probe{startup, liveness} {
			if p != nil && p.Grace != nil && reason == p.Kind {
				grace = *p.Grace
			}
		}
		setReady(false)
		if _, ok := running(); ok {
			_ = h.stopSequence(c, grace, hooks.ReasonHealth)
		}
	}
}

// probeRun probes one run of the container. It returns the kind of probe that
// failed ("" when the container stopped by itself).
func probeRun(ctx context.Context, h *hookEnv, c *cli.Context, started time.Time, startup, liveness, readiness *hooks.Probe,
	setReady func(bool), running func() (time.Time, bool)) string {
	type state struct {
		p    *hooks.Probe
		r    *hooks.Result
		next time.Time
	}
	var states []*state
	add := func(p *hooks.Probe) {
		if p != nil {
			states = append(states, &state{p: p, r: hooks.NewResult(p), next: started.Add(p.InitialDelay)})
		}
	}
	add(startup)
	startupDone := startup == nil
	if startupDone {
		add(liveness)
		add(readiness)
		if readiness == nil {
			setReady(true)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return ""
		case <-time.After(200 * time.Millisecond):
		}
		if t, ok := running(); !ok || !t.Equal(started) {
			return ""
		}
		now := time.Now()
		for _, s := range states {
			if now.Before(s.next) {
				continue
			}
			s.next = now.Add(s.p.Period)
			// The timeout is the probe's own; podman's start-up (for exec, and
			// for entering the pod's network namespace) comes on top of it.
			pctx, cancel := context.WithTimeout(ctx, s.p.Timeout+probeOverhead)
			err := hooks.Run(pctx, &s.p.Handler, h.target)
			cancel()
			if err != nil {
				h.event("Warning", "Unhealthy", "%s probe failed: %v", capitalize(s.p.Kind), err)
			}
			changed := s.r.Observe(err == nil)
			switch s.p.Kind {
			case hooks.Startup:
				if err == nil && !startupDone {
					// the first success hands over to liveness and readiness
					startupDone = true
					states = states[:0]
					add(liveness)
					add(readiness)
					if readiness == nil {
						setReady(true)
					}
					break
				}
				if err != nil && s.r.Failures() >= s.p.FailureThreshold {
					h.event("Normal", "Killing", "Container %s failed startup probe, will be restarted", h.container)
					return hooks.Startup
				}
			case hooks.Liveness:
				if changed && !s.r.OK() {
					h.event("Normal", "Killing", "Container %s failed liveness probe, will be restarted", h.container)
					return hooks.Liveness
				}
			case hooks.Readiness:
				if changed {
					setReady(s.r.OK())
				}
			}
		}
	}
}

// probeOverhead is what podman exec or podman unshare take to start.
const probeOverhead = 2 * time.Second

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
