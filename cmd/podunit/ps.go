package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/runner"
)

func psCommand() *cli.Command {
	return &cli.Command{
		Name:      "ps",
		Usage:     "list pods (those named, or all) with their phase; -a or -o wide adds containers",
		ArgsUsage: "[POD...] [-a] [-o wide|json] [-n NAMESPACE | -A]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show each container's state, restarts and unit"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "wide or json"},
			&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Usage: "only the pods of this namespace"},
			&cli.BoolFlag{Name: "all-namespaces", Aliases: []string{"A"}, Usage: "the pods of every namespace, as without -n (kubectl's -A)"},
			selectorFlag(),
		},
		Action: func(c *cli.Context) error {
			names, err := flagsAnywhere(c)
			if err != nil {
				return err
			}
			if names, err = podRefs(names, c.String("selector") != ""); err != nil {
				return err
			}
			sel, err := namesOrSelector(names, c.String("selector"))
			if err != nil {
				return err
			}
			if c.String("namespace") != "" && c.Bool("all-namespaces") {
				return fmt.Errorf("%w: -n and -A exclude each other", errUsage)
			}
			out := c.String("output")
			if out != "" && out != "wide" && out != "json" {
				return fmt.Errorf("%w: --output must be wide or json", errUsage)
			}
			return withRunner(c, time.Minute, func(ctx context.Context, r *runner.Runner) error {
				pods, err := r.Status(ctx)
				if err != nil {
					return err
				}
				if ns := c.String("namespace"); ns != "" {
					pods = slices.DeleteFunc(pods, func(p runner.PodStatus) bool { return p.Namespace != ns })
				}
				pods = slices.DeleteFunc(pods, func(p runner.PodStatus) bool { return !sel.Matches(labels.Set(p.Labels)) })
				if len(names) > 0 {
					pods = slices.DeleteFunc(pods, func(p runner.PodStatus) bool { return !slices.Contains(names, p.Name) })
					for _, n := range names {
						if !slices.ContainsFunc(pods, func(p runner.PodStatus) bool { return p.Name == n }) {
							return fmt.Errorf("%w: %q", runner.ErrNotFound, n)
						}
					}
				}
				for i := range pods {
					pods[i].Persistent = persistent(pods[i].Name)
				}
				if out == "json" {
					enc := json.NewEncoder(c.App.Writer)
					enc.SetIndent("", "  ")
					if pods == nil {
						return enc.Encode([]any{})
					}
					return enc.Encode(pods)
				}
				w := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
				wide := c.Bool("all") || out == "wide"
				if !wide {
					fmt.Fprintln(w, "NAME\tNAMESPACE\tPHASE\tREADY\tRESTARTS\tAGE\tPERSISTENT")
					for _, p := range pods {
						phase := p.Phase
						if p.Reason != "" {
							phase = p.Reason // kubectl's STATUS: SchedulingGated
						}
						fmt.Fprintf(w, "%s\t%s\t%s\t%d/%d\t%d\t%s\t%s\n", p.Name, p.Namespace, phase, p.Ready, p.Total, p.Restarts, age(p.Created), yesNo(p.Persistent))
					}
					return w.Flush()
				}
				fmt.Fprintln(w, "POD\tCONTAINER\tSTATE\tREASON\tEXIT\tRESTARTS\tUNIT")
				for _, p := range pods {
					fmt.Fprintf(w, "%s\t-\t%s\t\t\t%d\t%s\n", p.Name, p.Phase, p.Restarts, p.Unit)
					for _, cs := range p.Containers {
						exit := ""
						if cs.ExitCode != nil {
							exit = strconv.Itoa(*cs.ExitCode)
						}
						reason := cs.Reason
						if cs.Message != "" {
							reason += " (" + cs.Message + ")"
						}
						fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", p.Name, cs.Name, cs.State, reason, exit, cs.Restarts, cs.Unit)
					}
				}
				return w.Flush()
			})
		},
	}
}

// age is kubectl's AGE: how long ago t was, as kubectl words it ("2m30s").
func age(t time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(t))
}

func fieldsCommand() *cli.Command {
	return &cli.Command{
		Name:  "fields",
		Usage: "list every Pod field podunit honours, ignores with a warning, or rejects",
		Action: func(c *cli.Context) error {
			w := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "FIELD\tSUPPORT\tNOTE")
			for _, l := range pod.SupportedFields() {
				fmt.Fprintln(w, strings.ReplaceAll(l, "\t", "\t"))
			}
			fmt.Fprintln(w, "(any other field)\trejected\tnot supported by podunit")
			return w.Flush()
		},
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
