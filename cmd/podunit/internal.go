package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/podunit/podunit/hooks"
	"github.com/podunit/podunit/runner"
	"github.com/podunit/podunit/units"
	"github.com/podunit/podunit/units/sdbus"
)

// internalCommand holds the helpers that podunit's units run; they are not for
// users and may change between versions.
func internalCommand() *cli.Command {
	podFlags := []cli.Flag{
		&cli.StringFlag{Name: "pod", Required: true},
		&cli.StringFlag{Name: "container", Required: true},
		&cli.IntFlag{Name: "grace", Value: 30, Usage: "terminationGracePeriodSeconds"},
		&cli.StringFlag{Name: "pre-stop", Usage: "the preStop handler, JSON"},
		&cli.BoolFlag{Name: "host-network"},
	}
	return &cli.Command{
		Name:   "internal",
		Hidden: true,
		Usage:  "helpers run by podunit's units",
		Subcommands: []*cli.Command{
			genCommand(),
			probeCommand(),
			tcpCheckCommand(),
			shapeCommand(),
			shapeHereCommand(),
			limitsCommand(),
			{
				Name:  "post-start",
				Usage: "ExecStartPost: put the limits on, record the start, run the postStart handler; on its failure kill the container",
				Flags: append(podFlags,
					&cli.StringFlag{Name: "handler", Usage: "the postStart handler, JSON"},
					&cli.DurationFlag{Name: "timeout", Value: time.Minute},
					&cli.StringSliceFlag{Name: "limit", Usage: "NAME=VALUE unit property to set now that the container runs"},
				),
				Action: postStart,
			},
			{
				Name:   "stop",
				Usage:  "ExecStop: preStop, then the stop signal, then SIGKILL when the grace period ends",
				Flags:  podFlags,
				Action: stopContainer,
			},
			{
				Name:      "run-init",
				Usage:     "ExecStart of an init container: run it to completion, retried with back-off when the pod's restartPolicy allows",
				ArgsUsage: "-- PODMAN RUN ARGS...",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "pod", Required: true},
					&cli.StringFlag{Name: "container", Required: true},
					&cli.BoolFlag{Name: "retry"},
				},
				Action: runInit,
			},
			{
				Name:  "http-get",
				Usage: "one HTTP GET in the current network namespace; exit 0 on a 2xx/3xx answer",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "url", Required: true},
					&cli.StringSliceFlag{Name: "header"},
					&cli.DurationFlag{Name: "timeout", Value: 10 * time.Second},
				},
				Action: func(c *cli.Context) error {
					var hs []hooks.Header
					for _, h := range c.StringSlice("header") {
						n, v, _ := strings.Cut(h, ":")
						hs = append(hs, hooks.Header{Name: strings.TrimSpace(n), Value: strings.TrimSpace(v)})
					}
					ctx, cancel := context.WithTimeout(c.Context, c.Duration("timeout"))
					defer cancel()
					if err := hooks.HTTPGetOnce(ctx, c.String("url"), hs); err != nil {
						return cli.Exit(err.Error(), 1)
					}
					return nil
				},
			},
		},
	}
}

type hookEnv struct {
	pod, container string
	stateDir       string
	target         hooks.Target
}

func newHookEnv(c *cli.Context) *hookEnv {
	self := selfPath()
	podman := podmanPath()
	pod, ctr := c.String("pod"), c.String("container")
	return &hookEnv{pod: pod, container: ctr, stateDir: runner.DefaultStateDir(), target: hooks.Target{
		Podman: podman, Self: self, Container: units.ContainerName(pod, ctr),
		Infra: units.InfraContainerName(pod), HostNetwork: c.Bool("host-network"),
	}}
}

func (h *hookEnv) event(typ, reason, format string, a ...any) {
	_ = runner.AppendEvent(h.stateDir, h.pod, runner.Event{Type: typ, Reason: reason, Container: h.container, Message: fmt.Sprintf(format, a...)})
}

func decodeFlag(c *cli.Context, name string) (*hooks.Handler, error) {
	if c.String(name) == "" {
		return nil, nil
	}
	return hooks.Decode(c.String(name))
}

func postStart(c *cli.Context) error {
	h := newHookEnv(c)
	if l := c.StringSlice("limit"); len(l) > 0 {
		if err := setLimits(c.Context, units.ContainerUnitName(h.pod, h.container), l, nil); err != nil {
			return fmt.Errorf("putting resource limits on: %w", err)
		}
	}
	handler, err := decodeFlag(c, "handler")
	if err != nil {
		return err
	}
	if handler == nil {
		h.event("Normal", "Started", "Started container %s", h.container)
		return nil
	}
	ctx, cancel := context.WithTimeout(c.Context, c.Duration("timeout"))
	err = hooks.Run(ctx, handler, h.target)
	cancel()
	if err == nil {
		h.event("Normal", "Started", "Started container %s (postStart %s succeeded)", h.container, handler)
		return nil
	}
	// The kubelet's answer to a failed postStart: an event, then the container is
	// killed, its preStop first, and restarted per restartPolicy. Here the preStop
	// runs now; then this command fails, and systemd sends the stop signal through
	// conmon, kills what is left when TimeoutStopSec runs out, and restarts the
	// unit per Restart=. (Stopping the container here instead would let conmon
	// exit first, and systemd would take the start for a success.)
	h.event("Warning", "FailedPostStartHook", "PostStartHook failed: %v", err)
	grace := time.Duration(c.Int("grace")) * time.Second
	h.event("Normal", "Killing", "Killing container %s: its postStart hook failed (reason %s, grace period %s)", h.container, hooks.ReasonHealth, grace)
	h.runPreStop(c, grace, hooks.ReasonHealth)
	return cli.Exit(fmt.Sprintf("postStart hook failed: %v", err), 1)
}

func stopContainer(c *cli.Context) error {
	h := newHookEnv(c)
	if os.Getenv("MAINPID") == "" {
		// systemd runs ExecStop even after the main process (conmon, which lives
		// as long as the container) is gone: the container exited, or a failed
		// postStart already killed it. There is nothing to stop, and no preStop
		// to run against a container that is not running.
		return nil
	}
	grace := time.Duration(c.Int("grace")) * time.Second
	reason := hooks.ReasonDelete
	if g, ok := runner.ReadStopRequest(h.stateDir, h.pod); ok {
		grace = g
	} else if h.infraStopping(c.Context) {
		reason = hooks.ReasonDependency
	}
	return h.stopSequence(c, grace, reason)
}

// infraStopping tells whether this stop comes from the pod's infra going down
// (a dependency) rather than from a request to stop this pod.
func (h *hookEnv) infraStopping(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	m, err := sdbus.Connect(ctx)
	if err != nil {
		return false
	}
	defer m.Close()
	stopping, err := m.Stopping(ctx, units.InfraUnitName(h.pod))
	return err == nil && stopping
}

// stopSequence is the kubelet's kill sequence: preStop (bounded by the grace
// period), then the stop signal with what is left of it (at least 2 s), then
// SIGKILL, which podman stop sends when its time runs out.
func (h *hookEnv) stopSequence(c *cli.Context, grace time.Duration, reason string) error {
	start := time.Now()
	h.event("Normal", "Killing", "Stopping container %s (reason %s, grace period %s)", h.container, reason, grace)
	h.runPreStop(c, grace, reason)
	left := hooks.SignalPhase(grace, time.Since(start))
	secs := strconv.Itoa(int(math.Ceil(left.Seconds())))
	out, err := exec.Command(h.target.Podman, "stop", "--ignore", "--time", secs, h.target.Container).CombinedOutput()
	if err != nil {
		return fmt.Errorf("podman stop %s: %v: %s", h.target.Container, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// runPreStop runs the preStop handler, if any, for at most the grace period,
// telling it why the container stops. A failure is an event, not an error:
// termination goes on.
func (h *hookEnv) runPreStop(c *cli.Context, grace time.Duration, reason string) {
	preStop, err := decodeFlag(c, "pre-stop")
	if err != nil {
		h.event("Warning", "FailedPreStopHook", "PreStopHook could not be read: %v", err)
		return
	}
	if preStop == nil || grace <= 0 {
		return
	}
	t := h.target
	t.Env = map[string]string{hooks.StopReasonEnv: reason}
	t.Headers = []hooks.Header{{Name: hooks.StopReasonHeader, Value: reason}}
	ctx, cancel := context.WithTimeout(c.Context, grace)
	defer cancel()
	if err := hooks.Run(ctx, preStop, t); err != nil {
		h.event("Warning", "FailedPreStopHook", "PreStopHook failed: %v", err)
	}
}

// Back-off between attempts of a failing init container, as the kubelet's:
// 10 s, doubling, at most 5 minutes.
const (
	initialBackOff = 10 * time.Second
	maxBackOff     = 5 * time.Minute
)

func runInit(c *cli.Context) error {
	argv := c.Args().Slice()
	if len(argv) == 0 {
		return fmt.Errorf("%w: run-init needs a command", errUsage)
	}
	h := newHookEnv(c)
	// A stop of the unit (SIGTERM to this process) ends the loop; the container
	// itself is stopped by the unit's ExecStop.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	backOff := initialBackOff
	for attempt := 1; ; attempt++ {
		h.event("Normal", "Started", "Started init container %s (attempt %d)", h.container, attempt)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			return err
		}
		select {
		case <-stop:
			return cli.Exit("stopped", 143)
		default:
		}
		if code == 0 {
			h.event("Normal", "Completed", "Init container %s completed", h.container)
			return nil
		}
		if !c.Bool("retry") {
			h.event("Warning", "Failed", "Init container %s exited with status %d; restartPolicy Never: the pod has failed", h.container, code)
			return cli.Exit("", code)
		}
		h.event("Warning", "BackOff", "Init container %s exited with status %d; back-off %s before restarting it", h.container, code, backOff)
		select {
		case <-time.After(backOff):
		case <-stop:
			return cli.Exit("stopped", 143)
		}
		if backOff *= 2; backOff > maxBackOff {
			backOff = maxBackOff
		}
	}
}
