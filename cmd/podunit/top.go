package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/podunit/podunit/runner"
	"github.com/podunit/podunit/units"
)

// topCommand is `kubectl top pod` for this host: each pod's CPU (over a
// short window) and memory, read from the cgroups of its units (systemd's
// accounting; no metrics server), with --containers for each container.
func topCommand() *cli.Command {
	return &cli.Command{
		Name:      "top",
		Usage:     "show the CPU and memory the pods use (--containers: each container), like kubectl top pod; top node: this host's",
		ArgsUsage: "[pod] [POD...] [--containers] [-l SELECTOR] [-n NAMESPACE] [--window 1s] | node [NAME]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "containers", Usage: "a line for each container (its unit's cgroup: the container, conmon and its helpers)"},
			&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Usage: "only the pods of this namespace"},
			selectorFlag(),
			&cli.DurationFlag{Name: "window", Value: time.Second, Usage: "the CPU is averaged over this long"},
		},
		Action: func(c *cli.Context) error {
			pos, vals, err := cmdFlags(c, false)
			if err != nil {
				return err
			}
			if len(pos) > 0 && slices.Contains(podTypes, pos[0]) {
				pos = pos[1:] // kubectl's top pod [NAME]
			}
			window, err := time.ParseDuration(vals["window"])
			if err != nil || window < 100*time.Millisecond {
				return fmt.Errorf("%w: --window %q: a duration of at least 100ms", errUsage, vals["window"])
			}
			if name, ok := nodeArg(pos); ok {
				if host := nodeName(); name != "" && name != host {
					return nodeNotFound(name, host)
				}
				return topNode(c.Context, c.App.Writer, "/proc", window)
			}
			if pos, err = podRefs(pos, false); err != nil {
				return err
			}
			sel, err := namesOrSelector(pos, vals["selector"])
			if err != nil {
				return err
			}
			return withRunner(c, time.Minute+window, func(ctx context.Context, r *runner.Runner) error {
				mgr, ok := r.Units.(cgrouper)
				if !ok {
					return errors.New("top needs the user manager's cgroup")
				}
				root, err := mgr.ControlGroup(ctx)
				if err != nil {
					return fmt.Errorf("reading the user manager's cgroup: %w", err)
				}
				sts, err := r.Status(ctx)
				if err != nil {
					return err
				}
				ns := vals["namespace"]
				var rows []topRow
				for _, st := range sts {
					if (len(pos) > 0 && !slices.Contains(pos, st.Name)) || (ns != "" && st.Namespace != ns) || !sel.Matches(labels.Set(st.Labels)) {
						continue
					}
					if st.Reason == runner.ReasonSchedulingGated {
						continue // nothing runs
					}
					if st.Phase == "Succeeded" || st.Phase == "Failed" {
						if slices.Contains(pos, st.Name) {
							return fmt.Errorf("pod %q has completed (%s): nothing of it runs to measure", st.Name, st.Phase)
						}
						continue // as metrics list only the pods that run
					}
					row := topRow{pod: st.Name, dir: podCgroup(root, st.Name)}
					if vals["containers"] == "true" {
						for _, cs := range st.Containers {
							if cs.State == "Running" {
								row.containers = append(row.containers, topRow{pod: st.Name, name: cs.Name, dir: filepath.Join(row.dir, cs.Unit)})
							}
						}
					}
					rows = append(rows, row)
				}
				for _, n := range pos {
					if !slices.ContainsFunc(rows, func(t topRow) bool { return t.pod == n }) {
						return fmt.Errorf("%w: %q", runner.ErrNotFound, n)
					}
				}
				if len(rows) == 0 {
					fmt.Fprintln(c.App.ErrWriter, noneFound(ns))
					return nil
				}
				measure(ctx, "/sys/fs/cgroup", rows, window)
				return printTop(c.App.Writer, rows, vals["containers"] == "true")
			})
		},
	}
}

// podCgroup is the cgroup of a pod's slice under the user manager's: systemd
// nests a slice under the slices its name's dashes make (podunit.slice), and
// a pod's name has its own dashes escaped.
func podCgroup(managerCgroup, pod string) string {
	return filepath.Join(managerCgroup, units.Prefix+".slice", units.SliceName(pod))
}

// topRow is one line of top: a pod (its slice) or one of its containers
// (its unit), with what was measured.
type topRow struct {
	pod, name  string
	dir        string // the cgroup, under the cgroup mount
	cpuMilli   int64  // -1: not measured
	memory     int64  // bytes of working set; -1: not known
	containers []topRow
}

// measure reads each cgroup's CPU time twice, window apart, and its memory.
func measure(ctx context.Context, mount string, rows []topRow, window time.Duration) {
	var all []*topRow
	for i := range rows {
		all = append(all, &rows[i])
		for j := range rows[i].containers {
			all = append(all, &rows[i].containers[j])
		}
	}
	before := make([]int64, len(all))
	for i, r := range all {
		before[i] = cpuUsec(filepath.Join(mount, r.dir))
	}
	start := time.Now()
	select {
	case <-ctx.Done():
	case <-time.After(window):
	}
	elapsed := time.Since(start)
	for i, r := range all {
		dir := filepath.Join(mount, r.dir)
		r.cpuMilli = -1
		if after := cpuUsec(dir); before[i] >= 0 && after >= before[i] {
			r.cpuMilli = (after - before[i]) * 1000 / elapsed.Microseconds()
		}
		r.memory = workingSet(dir)
	}
}

// cpuUsec is the CPU time a cgroup used (cpu.stat's usage_usec, there
// whether or not the cpu controller is enabled); -1 when unreadable.
func cpuUsec(dir string) int64 {
	data, err := os.ReadFile(filepath.Join(dir, "cpu.stat"))
	if err != nil {
		return -1
	}
	v, ok := statField(data, "usage_usec")
	if !ok {
		return -1
	}
	return v
}

// workingSet is a cgroup's memory as kubectl top reports it (cAdvisor's
// working set): memory.current less the inactive file cache; -1 where the
// memory controller is not enabled for it.
func workingSet(dir string) int64 {
	data, err := os.ReadFile(filepath.Join(dir, "memory.current"))
	if err != nil {
		return -1
	}
	cur, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return -1
	}
	if stat, err := os.ReadFile(filepath.Join(dir, "memory.stat")); err == nil {
		if inactive, ok := statField(stat, "inactive_file"); ok && inactive < cur {
			cur -= inactive
		}
	}
	return cur
}

// statField is the value of one "key value" line of a cgroup stat file.
func statField(data []byte, key string) (int64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok && k == key {
			n, err := strconv.ParseInt(v, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// printTop prints kubectl top pod's table: CPU in millicores, memory in Mi.
func printTop(w io.Writer, rows []topRow, containers bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	cpu := func(m int64) string {
		if m < 0 {
			return "<unknown>"
		}
		return fmt.Sprintf("%dm", m)
	}
	mem := func(b int64) string {
		if b < 0 {
			return "<unknown>"
		}
		return fmt.Sprintf("%dMi", b/(1<<20))
	}
	if containers {
		fmt.Fprintln(tw, "POD\tNAME\tCPU(cores)\tMEMORY(bytes)")
		for _, r := range rows {
			for _, c := range r.containers {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.pod, c.name, cpu(c.cpuMilli), mem(c.memory))
			}
		}
		return tw.Flush()
	}
	fmt.Fprintln(tw, "NAME\tCPU(cores)\tMEMORY(bytes)")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.pod, cpu(r.cpuMilli), mem(r.memory))
	}
	return tw.Flush()
}
