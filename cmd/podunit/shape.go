package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/podunit/podunit/hooks"
	"github.com/podunit/podunit/netshape"
	"github.com/podunit/podunit/netshape/nl"
	"github.com/podunit/podunit/runner"
	"github.com/podunit/podunit/units"
)

var shapeFlags = []cli.Flag{
	&cli.Uint64Flag{Name: "egress", Usage: "bits per second leaving the pod"},
	&cli.Uint64Flag{Name: "ingress", Usage: "bits per second entering the pod"},
	&cli.Uint64Flag{Name: "egress-burst", Usage: "bits"},
	&cli.Uint64Flag{Name: "ingress-burst", Usage: "bits"},
}

func specFrom(c *cli.Context) netshape.Spec {
	return netshape.Spec{
		EgressRateBitsPerSec: c.Uint64("egress"), IngressRateBitsPerSec: c.Uint64("ingress"),
		EgressBurstBits: c.Uint64("egress-burst"), IngressBurstBits: c.Uint64("ingress-burst"),
	}
}

// shapeCommand: the infra unit's helper. It finds the pod's network namespace
// and re-runs podunit inside it (shapeHereCommand) through podman's user
// namespace, which owns it.
func shapeCommand() *cli.Command {
	op := func(name, usage string, flags []cli.Flag) *cli.Command {
		return &cli.Command{Name: name, Usage: usage, Flags: flags, Action: func(c *cli.Context) error {
			pod := c.String("pod")
			out, err := inPodNetns(pod, name, c)
			if err != nil {
				if name == "remove" {
					return nil // no namespace, nothing shaped
				}
				return err
			}
			if name == "apply" {
				var st nl.State
				if json.Unmarshal(out, &st) == nil {
					_ = runner.AppendEvent(runner.DefaultStateDir(), pod, runner.Event{Reason: "Shaped", Message: describeShaping(&st)})
				}
			}
			os.Stdout.Write(out)
			return nil
		}}
	}
	return &cli.Command{
		Name:  "shape",
		Usage: "apply, remove or show a pod's bandwidth shaping",
		Flags: []cli.Flag{&cli.StringFlag{Name: "pod", Required: true}},
		Subcommands: []*cli.Command{
			op("apply", "shape the pod's default-route interface", shapeFlags),
			op("remove", "remove the shaping (idempotent)", nil),
			op("show", "print the shaping in effect, read from the kernel, as JSON", nil),
		},
	}
}

// inPodNetns runs `podunit internal shape-here OP` inside the pod's network
// namespace and returns what it printed.
func inPodNetns(pod, op string, c *cli.Context) ([]byte, error) {
	args := []string{"shape-here", op}
	if op == "apply" {
		for _, f := range []string{"egress", "ingress", "egress-burst", "ingress-burst"} {
			if v := c.Uint64(f); v > 0 {
				args = append(args, "--"+f, strconv.FormatUint(v, 10))
			}
		}
	}
	t := hooks.Target{Podman: podmanPath(), Self: selfPath(), Infra: units.InfraContainerName(pod)}
	out, err := hooks.InPodNetns(c.Context, t, args...)
	if err != nil {
		return nil, fmt.Errorf("pod %q: bandwidth %s: %v", pod, op, err)
	}
	return out, nil
}

// shapeHereCommand works in the network namespace it runs in.
func shapeHereCommand() *cli.Command {
	print := func(st *nl.State) error {
		enc := json.NewEncoder(os.Stdout)
		return enc.Encode(st)
	}
	return &cli.Command{
		Name:   "shape-here",
		Hidden: true,
		Subcommands: []*cli.Command{
			{Name: "apply", Flags: shapeFlags, Action: func(c *cli.Context) error {
				st, err := nl.Apply(specFrom(c))
				if err != nil {
					return err
				}
				return print(st)
			}},
			{Name: "remove", Action: func(c *cli.Context) error { return nl.Remove() }},
			{Name: "show", Action: func(c *cli.Context) error {
				st, err := nl.Show()
				if err != nil {
					return err
				}
				return print(st)
			}},
		},
	}
}

// describeShaping says what the kernel has, in tc's words.
func describeShaping(st *nl.State) string {
	var parts []string
	if e := st.Egress; e != nil {
		parts = append(parts, fmt.Sprintf("egress %s (tbf on %s, burst %d bytes, limit %d bytes)",
			netshape.FormatRate(e.RateBitsPerSec), e.Device, e.BurstBytes, e.LimitBytes))
	}
	if i := st.Ingress; i != nil {
		redirect := "NOT redirected"
		if st.Redirect {
			redirect = "redirected from " + st.Link + " ingress"
		}
		parts = append(parts, fmt.Sprintf("ingress %s (tbf on %s, %s, burst %d bytes, limit %d bytes)",
			netshape.FormatRate(i.RateBitsPerSec), i.Device, redirect, i.BurstBytes, i.LimitBytes))
	}
	if len(parts) == 0 {
		return "none on " + st.Link
	}
	return strings.Join(parts, "; ")
}
