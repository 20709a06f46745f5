package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/podlog"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/runner"
)

// logsCommand is `kubectl logs`: a container's output from the files its runs
// wrote (podlog), with kubectl's flags in kubectl's order or flags first.
func logsCommand() *cli.Command {
	return &cli.Command{
		Name:      "logs",
		Usage:     "print a container's logs (the first app container by default)",
		ArgsUsage: "POD [CONTAINER] | -l SELECTOR [-c CONTAINER] [-f] [-p] [--tail N] [--since 10m] [--since-time T] [--timestamps] [--all-containers] [--prefix]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "container", Aliases: []string{"c"}},
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "go on printing new output, across restarts, until interrupted or the container ends for good"},
			&cli.BoolFlag{Name: "previous", Aliases: []string{"p"}, Usage: "the output of the run before the last restart"},
			&cli.StringFlag{Name: "tail", Usage: "the last N lines only (default: all; with -l, 10, as kubectl's)"},
			&cli.StringFlag{Name: "since", Usage: "only lines newer than a duration (10m)"},
			&cli.StringFlag{Name: "since-time", Usage: "only lines from this time on (RFC 3339)"},
			&cli.BoolFlag{Name: "timestamps", Usage: "each line with its time"},
			&cli.BoolFlag{Name: "all-containers", Usage: "every container of the pod: init containers, sidecars, app and debug containers"},
			&cli.BoolFlag{Name: "prefix", Usage: "each line with its source ([pod/POD/CONTAINER])"},
			namespaceFlag(),
			&cli.StringFlag{Name: "selector", Aliases: []string{"l"}, Usage: "the pods whose labels match, as kubectl's -l: each one's output in turn (-f: together)"},
		},
		Action: func(c *cli.Context) error {
			pos, vals, err := cmdFlags(c, false)
			if err != nil {
				return err
			}
			selector := vals["selector"]
			if len(pos) == 2 && vals["container"] == "" && selector == "" {
				vals["container"], pos = pos[1], pos[:1]
			}
			if (selector == "" && len(pos) != 1) || (selector != "" && len(pos) != 0) {
				return fmt.Errorf("%w: podunit logs POD [-c CONTAINER], or logs -l SELECTOR", errUsage)
			}
			if selector != "" && vals["tail"] == "" {
				vals["tail"] = "10" // kubectl's default for a selector
			}
			o, err := logOptions(vals, time.Now())
			if err != nil {
				return err
			}
			pods := pos
			if len(pos) == 1 {
				name, err := onePodRef(pos[0], vals["namespace"], c.App.ErrWriter)
				if err != nil {
					return err
				}
				if err := inNamespace(name, vals["namespace"]); err != nil {
					return err
				}
				pods = []string{name}
			} else if pods, err = selectPods(nil, selector, vals["namespace"]); err != nil {
				return err
			} else if len(pods) == 0 {
				fmt.Fprintln(c.App.ErrWriter, noneFound(vals["namespace"]))
				return nil
			}
			w := &lockedWriter{w: c.App.Writer}
			var printers []*logPrinter
			var ctrs [][]*contract.Container
			for _, podName := range pods {
				var cs []*contract.Container
				if vals["all-containers"] == "true" {
					rt, err := podstate.LoadRuntime(podstate.DefaultDir(), podName)
					if err != nil {
						if errors.Is(err, os.ErrNotExist) {
							return fmt.Errorf("%w: %q", runner.ErrNotFound, podName)
						}
						return err
					}
					for i := range rt.Containers {
						cs = append(cs, &rt.Containers[i])
					}
				} else {
					ct, err := execTarget(podstate.DefaultDir(), podName, vals["container"], c.App.ErrWriter)
					if err != nil {
						return err
					}
					cs = []*contract.Container{ct}
				}
				if cs[0].Log == "" {
					// a pod started before podunit kept its containers' output
					if len(pods) > 1 {
						return fmt.Errorf("pod %q was started by an earlier podunit: podunit logs %s shows its output", podName, podName)
					}
					return legacyLogs(podName, cs, vals)
				}
				printers = append(printers, &logPrinter{pod: podName, o: o, w: w,
					previous: vals["previous"] == "true", all: vals["all-containers"] == "true", prefix: vals["prefix"] == "true"})
				ctrs = append(ctrs, cs)
			}
			if vals["follow"] != "true" || vals["previous"] == "true" {
				var errs []error
				for i, lg := range printers {
					errs = append(errs, lg.print(ctrs[i]))
				}
				return errors.Join(errs...)
			}
			return withRunner(c, 100*365*24*time.Hour, func(ctx context.Context, r *runner.Runner) error {
				var wg sync.WaitGroup
				errs := make([]error, len(printers))
				for i, lg := range printers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						errs[i] = lg.follow(ctx, r, ctrs[i])
					}()
				}
				wg.Wait()
				return errors.Join(errs...)
			})
		},
	}
}

// logOptions reads --tail, --since, --since-time, --timestamps and --prefix.
func logOptions(vals map[string]string, now time.Time) (podlog.Options, error) {
	o := podlog.Options{Tail: -1, Timestamps: vals["timestamps"] == "true"}
	if t := vals["tail"]; t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < -1 {
			return o, fmt.Errorf("%w: --tail %q: a number of lines (-1 for all)", errUsage, t)
		}
		o.Tail = n
	}
	if s := vals["since"]; s != "" {
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			o.Since = now.Add(-d)
		} else if ts, err := time.Parse(time.RFC3339, s); err == nil {
			o.Since = ts // as podman logs takes it
		} else {
			return o, fmt.Errorf("%w: --since %q: a duration such as 10m or 1h", errUsage, s)
		}
	}
	if s := vals["since-time"]; s != "" {
		if vals["since"] != "" {
			return o, fmt.Errorf("%w: --since and --since-time: only one of them", errUsage)
		}
		ts, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return o, fmt.Errorf("%w: --since-time %q: a time such as 2026-11-23T10:00:00Z", errUsage, s)
		}
		o.Since = ts
	}
	return o, nil
}

// logPrinter prints the logs of one pod's containers.
type logPrinter struct {
	pod      string
	o        podlog.Options
	w        io.Writer
	previous bool
	all      bool // --all-containers: those without output are passed over
	prefix   bool // each line starts with [pod/POD/CONTAINER]
}

func (l *logPrinter) options(ct *contract.Container) podlog.Options {
	o := l.o
	if l.prefix {
		o.Prefix = fmt.Sprintf("[pod/%s/%s] ", l.pod, ct.Name)
	}
	return o
}

// print prints each container's output in turn, as kubectl does.
func (l *logPrinter) print(ctrs []*contract.Container) error {
	for _, ct := range ctrs {
		path := ct.Log
		if l.previous {
			path = podlog.Previous(path)
		}
		err := podlog.Print(l.w, path, l.options(ct))
		if errors.Is(err, os.ErrNotExist) {
			if l.all {
				continue
			}
			if l.previous {
				return fmt.Errorf("previous terminated container %q in pod %q not found (it has not restarted)", ct.Name, l.pod)
			}
			return fmt.Errorf("container %q in pod %q is waiting to start: it has no output yet (see podunit describe %s)", ct.Name, l.pod, l.pod)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// follow prints every container's output as it comes, until each has ended
// for good (a finished init container, a container that will not restart),
// the pod is gone, or the user interrupts.
func (l *logPrinter) follow(ctx context.Context, r *runner.Runner, ctrs []*contract.Container) error {
	var wg sync.WaitGroup
	errs := make([]error, len(ctrs))
	for i, ct := range ctrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ended := endedFor(ctx, r, l.pod, ct.Name)
			errs[i] = podlog.Follow(ctx, l.w, ct.Log, l.options(ct), 250*time.Millisecond, ended)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// endedFor tells (checked once a second) whether a container has ended for
// good: the pod is gone, or the container is Terminated twice in a row (a
// restart passes through no such state, but twice rules out a glimpse of one).
func endedFor(ctx context.Context, r *runner.Runner, pod, container string) func() bool {
	var last time.Time
	terminated := 0
	return func() bool {
		if time.Since(last) < time.Second {
			return false
		}
		last = time.Now()
		sts, err := r.Status(ctx)
		if err != nil {
			return false
		}
		found, cs := containerIn(sts, pod, container)
		if !found {
			return true // the pod is gone
		}
		if cs != nil && cs.State == "Terminated" {
			terminated++
		} else {
			terminated = 0
		}
		return terminated >= 2
	}
}

// containerIn finds a pod's container in the pods' status: found says
// whether the pod is there; cs is nil when the container is not.
func containerIn(sts []runner.PodStatus, pod, container string) (found bool, cs *runner.ContainerStatus) {
	for i := range sts {
		if sts[i].Name != pod {
			continue
		}
		for j := range sts[i].Containers {
			if sts[i].Containers[j].Name == container {
				return true, &sts[i].Containers[j]
			}
		}
		return true, nil
	}
	return false, nil
}

// lockedWriter keeps lines of containers followed at once whole.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// legacyLogs shows the logs of a pod started by an earlier podunit through
// podman logs (no --previous: those runs were not kept).
func legacyLogs(pod string, ctrs []*contract.Container, vals map[string]string) error {
	if vals["previous"] == "true" {
		return fmt.Errorf("pod %q was started by an earlier podunit, which kept no previous runs (podunit up --replace keeps them from now on)", pod)
	}
	podman := podmanPath()
	argv := []string{podman, "logs"}
	if t := vals["tail"]; t != "" {
		argv = append(argv, "--tail", t)
	}
	if s := vals["since"]; s != "" {
		argv = append(argv, "--since", s)
	}
	for _, f := range [][2]string{{"follow", "--follow"}, {"timestamps", "--timestamps"}, {"prefix", "--names"}} {
		if vals[f[0]] == "true" {
			argv = append(argv, f[1])
		}
	}
	if len(ctrs) > 1 && vals["prefix"] != "true" {
		argv = append(argv, "--names")
	}
	for _, ct := range ctrs {
		argv = append(argv, ct.Podman)
	}
	return syscall.Exec(podman, argv, os.Environ())
}
