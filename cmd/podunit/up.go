package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/podunit/podunit/engine"
	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/runner"
	"github.com/podunit/podunit/units"
	"github.com/podunit/podunit/units/sdbus"
)

// InfraImage is built locally from the host's catatonit on first use.
const InfraImage = "localhost/podunit-infra:1"

func upCommand() *cli.Command {
	return &cli.Command{
		Name:      "up",
		Usage:     "start the pods of a manifest",
		ArgsUsage: "FILE (or - for standard input)",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "dry-run", Usage: "print the units that would be started, change nothing"},
			&cli.BoolFlag{Name: "replace", Usage: "stop and replace a running pod of the same name"},
			&cli.DurationFlag{Name: "timeout", Value: 5 * time.Minute, Usage: "give up (and clean up) after this long"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return fmt.Errorf("%w: podunit up FILE", errUsage)
			}
			m, err := loadManifest(c.Args().First())
			if err != nil {
				return err
			}
			for _, w := range m.Warnings {
				fmt.Fprintf(c.App.ErrWriter, "warning: %s\n", w)
			}
			labels := nodeLabels()
			var errs []error
			for _, p := range m.Pods {
				if err := pod.MatchNode(p, labels); err != nil {
					errs = append(errs, err)
				}
			}
			if len(errs) > 0 {
				return errors.Join(errs...)
			}
			opts := translateOptions()
			plans := make([]*units.Plan, len(m.Pods))
			for i, p := range m.Pods {
				o := opts
				o.UID = newUID()
				if !journalAvailable() {
					o.LogDir = podstate.LogDir(podstate.DefaultDir(), p.Name)
				}
				p.UID = typesUID(o.UID)
				if plans[i], err = units.Translate(p, m.Resolved[p.Name], o); err != nil {
					return err
				}
			}
			if c.Bool("dry-run") {
				for _, pl := range plans {
					fmt.Fprint(c.App.Writer, pl.Render())
				}
				return nil
			}
			return withRunner(c, c.Duration("timeout"), func(ctx context.Context, r *runner.Runner) error {
				if err := r.Engine.EnsureInfraImage(ctx, InfraImage); err != nil {
					return err
				}
				// All pods of a file, or none.
				if err := r.UpAll(ctx, m.Pods, plans, runner.UpOptions{Replace: c.Bool("replace")}); err != nil {
					return err
				}
				for _, p := range m.Pods {
					fmt.Fprintf(c.App.Writer, "pod/%s started (%s)\n", p.Name, units.SliceName(p.Name))
				}
				return nil
			})
		},
	}
}

func loadManifest(path string) (*pod.Manifest, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	m, err := pod.Load(data)
	if err != nil {
		if path != "-" {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return nil, err
	}
	return m, nil
}

func translateOptions() units.Options {
	self := selfPath()
	podman := podmanPath()
	host, _ := os.Hostname()
	o := units.Options{Podman: podman, Self: self, InfraImage: InfraImage, NodeName: host}
	return o
}

func journalAvailable() bool {
	_, err := os.Stat("/run/systemd/journal/socket")
	return err == nil
}

// nodeLabels are the labels this host carries for nodeSelector: the well-known
// ones Kubernetes sets on every node, and the user's own from
// ~/.config/podunit/node-labels (one key=value a line).
func nodeLabels() map[string]string {
	host, _ := os.Hostname()
	l := map[string]string{
		"kubernetes.io/hostname": host,
		"kubernetes.io/os":       runtime.GOOS,
		"kubernetes.io/arch":     runtime.GOARCH,
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return l
	}
	data, err := os.ReadFile(dir + "/podunit/node-labels")
	if err != nil {
		return l
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			l[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return l
}

func newUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// withRunner runs f with a connected runner, ending on Ctrl-C, SIGTERM or the
// timeout.
func withRunner(c *cli.Context, timeout time.Duration, f func(ctx context.Context, r *runner.Runner) error) error {
	ctx, cancel := context.WithTimeout(c.Context, timeout)
	defer cancel()
	// An interrupted command still cleans up: up rolls back, down finishes.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, closeFn, err := connect(ctx)
	if err != nil {
		return err
	}
	defer closeFn()
	return f(ctx, r)
}

// connect reaches the user's systemd manager and podman service, starting
// podman.socket when it is not listening yet.
func connect(ctx context.Context) (*runner.Runner, func(), error) {
	mgr, err := sdbus.Connect(ctx)
	if err != nil {
		return nil, nil, err
	}
	if _, err := os.Stat(engine.SocketPath()); err != nil {
		if err := mgr.StartUnit(ctx, "podman.socket"); err != nil {
			mgr.Close()
			return nil, nil, fmt.Errorf("starting podman.socket: %w", err)
		}
	}
	eng, err := engine.Connect(ctx)
	if err != nil {
		mgr.Close()
		return nil, nil, err
	}
	r := &runner.Runner{Units: mgr, Engine: eng, StateDir: podstate.DefaultDir(), Log: os.Stderr}
	return r, mgr.Close, nil
}

// podmanPath is podman's absolute path (systemd wants one in Exec lines).
func podmanPath() string {
	if p, err := exec.LookPath("podman"); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
	}
	return "/usr/bin/podman"
}

// selfPath is this binary's path: units call it for their hooks.
func selfPath() string {
	if p, err := os.Executable(); err == nil {
		return p
	}
	return "/usr/bin/podunit"
}
