package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podlog"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/runner"
	"github.com/podunit/podunit/units"
)

// debugProfiles are kubectl debug's --profile values, as they shape an
// ephemeral container's security context.
var debugProfiles = []string{"general", "baseline", "restricted", "netadmin", "sysadmin", "legacy"}

// debugCommand is `kubectl debug POD --image IMG`: an ephemeral container in
// a running pod, in its network, IPC and UTS namespaces and, with --target,
// in that container's process namespace. It has a unit of its own in the
// pod's slice, is never restarted, and goes with the pod.
func debugCommand() *cli.Command {
	return &cli.Command{
		Name:                   "debug",
		Usage:                  "add an ephemeral debug container to a running pod",
		ArgsUsage:              "POD --image IMAGE [--target CONTAINER] [-c NAME] [-i] [-t] [--env K=V]... [--profile P] [--custom FILE] [-- COMMAND [ARG...]]",
		UseShortOptionHandling: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "image", Usage: "the debug container's image"},
			&cli.StringFlag{Name: "target", Usage: "share this container's process namespace (its processes are visible)"},
			&cli.StringFlag{Name: "container", Aliases: []string{"c"}, Usage: "the debug container's name (default: debugger-xxxxx)"},
			&cli.BoolFlag{Name: "stdin", Aliases: []string{"i"}, Usage: "keep standard input open, and attach to it"},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "give the container a terminal"},
			&cli.StringSliceFlag{Name: "env", Usage: "an environment variable, NAME=VALUE (repeat the flag for more)"},
			&cli.StringFlag{Name: "image-pull-policy", Usage: "Always, IfNotPresent or Never (default: Kubernetes' for the image's tag)"},
			&cli.StringFlag{Name: "profile", Value: "general", Usage: "security profile: " + strings.Join(debugProfiles, ", ")},
			&cli.StringFlag{Name: "custom", Usage: "a file with a partial container spec (JSON or YAML) applied over the rest"},
			&cli.BoolFlag{Name: "attach", Usage: "attach to the container once it runs (default: true with -i; --attach=false to leave it)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing but the container's output"},
			namespaceFlag(),
		},
		Action: func(c *cli.Context) error {
			pos, vals, err := cmdFlags(c, true)
			if err != nil {
				return err
			}
			if len(pos) < 1 {
				return fmt.Errorf("%w: podunit debug POD --image IMAGE [-- COMMAND]", errUsage)
			}
			podName, command := pos[0], pos[1:]
			if podName, err = podRef(podName); err != nil {
				return err
			}
			if err := inNamespace(podName, vals["namespace"]); err != nil {
				return err
			}
			if !slices.Contains(debugProfiles, vals["profile"]) { // before anything is touched
				return fmt.Errorf("%w: --profile %q: one of %s", errUsage, vals["profile"], strings.Join(debugProfiles, ", "))
			}
			attach := vals["stdin"] == "true"
			if given(c, "attach") {
				attach = vals["attach"] == "true"
			}
			quiet := vals["quiet"] == "true"
			var name string
			err = withRunner(c, 10*time.Minute, func(ctx context.Context, r *runner.Runner) error {
				applied, err := r.Pod(podName)
				if err != nil {
					return err
				}
				ec, defaulted, err := debugContainer(vals, command, len(applied.Spec.EphemeralContainers))
				if err != nil {
					return err
				}
				p, i, res, err := pod.AddEphemeral(applied, *ec)
				if err != nil {
					return err
				}
				o := translateOptions()
				o.UID = string(applied.UID)
				if !journalAvailable() {
					o.LogDir = podstate.LogDir(podstate.DefaultDir(), podName)
				}
				_, plan, err := units.TranslateEphemeral(p, i, res, o)
				if err != nil {
					return err
				}
				name = p.Spec.EphemeralContainers[i].Name
				if defaulted && !quiet {
					fmt.Fprintf(c.App.ErrWriter, "Defaulting debug container name to %s.\n", name)
				}
				return r.AddEphemeral(ctx, p, plan)
			})
			if err != nil {
				return err
			}
			if !attach {
				if !quiet {
					fmt.Fprintf(c.App.Writer, "pod/%s: debug container %s started (podunit exec %s -c %s, podunit logs %s -c %s)\n",
						podName, name, podName, name, podName, name)
				}
				return nil
			}
			ct, err := execTarget(podstate.DefaultDir(), podName, name, nil)
			if err != nil {
				return err
			}
			if vals["stdin"] != "true" {
				// nothing to send it: its output as it comes, until it ends
				return withRunner(c, 100*365*24*time.Hour, func(ctx context.Context, r *runner.Runner) error {
					if err := podlog.Follow(ctx, c.App.Writer, ct.Log, podlog.Options{Tail: -1}, 100*time.Millisecond, endedFor(ctx, r, podName, name)); err != nil {
						return err
					}
					return exitOf(ctx, r, podName, name)
				})
			}
			if !quiet && vals["tty"] == "true" {
				fmt.Fprintln(c.App.ErrWriter, "If you don't see a command prompt, try pressing enter.")
			}
			if err := attachTo(ct.Podman, ct.Log); err != nil {
				return err
			}
			// detached from, or ended: pass on its exit status once it has one
			return withRunner(c, time.Minute, func(ctx context.Context, r *runner.Runner) error {
				ended := endedFor(ctx, r, podName, name)
				for i := 0; i < 10 && !ended(); i++ {
					time.Sleep(time.Second / 2)
				}
				return exitOf(ctx, r, podName, name)
			})
		},
	}
}

// exitOf passes on how a container that ended did: its exit status.
func exitOf(ctx context.Context, r *runner.Runner, pod, container string) error {
	sts, err := r.Status(ctx)
	if err != nil {
		return err
	}
	if _, cs := containerIn(sts, pod, container); cs != nil && cs.ExitCode != nil && *cs.ExitCode != 0 {
		return cli.Exit("", *cs.ExitCode)
	}
	return nil
}

// attachTo connects the terminal (or standard input and output) to a running
// container through podman attach, which passes on the terminal's size as it
// changes. A container that ended before podman could attach has its output
// shown instead.
func attachTo(podmanName, log string) error {
	podman := podmanPath()
	cmd := exec.Command(podman, "attach", podmanName)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, &bytes.Buffer{}
	signal.Ignore(os.Interrupt) // the container's to handle, through the terminal
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ee.ExitCode() == 125 && log != "" {
			if perr := podlog.Print(os.Stdout, log, podlog.Options{Tail: -1}); perr == nil {
				return nil // it had ended: this was all of it
			}
		}
		os.Stderr.Write(cmd.Stderr.(*bytes.Buffer).Bytes())
		return cli.Exit("", ee.ExitCode())
	}
	return err
}

// given tells whether a flag was on the command line, before the arguments
// or among them.
func given(c *cli.Context, name string) bool {
	if c.IsSet(name) {
		return true
	}
	for _, a := range c.Args().Slice() {
		if a == "--" {
			break
		}
		if a == "--"+name || strings.HasPrefix(a, "--"+name+"=") {
			return true
		}
	}
	return false
}

// debugContainer is the ephemeral container the flags describe: the profile's
// security context, then --custom over it, as kubectl debug builds it.
// defaulted tells whether the name was made up.
func debugContainer(vals map[string]string, command []string, index int) (*corev1.EphemeralContainer, bool, error) {
	ec := &corev1.EphemeralContainer{}
	ec.Name = vals["container"]
	ec.Image = vals["image"]
	ec.TargetContainerName = vals["target"]
	ec.Stdin = vals["stdin"] == "true"
	ec.TTY = vals["tty"] == "true"
	ec.ImagePullPolicy = corev1.PullPolicy(vals["image-pull-policy"])
	if len(command) > 0 {
		ec.Command = command
	}
	if vals["env"] != "" {
		for _, kv := range strings.Split(vals["env"], "\n") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return nil, false, fmt.Errorf("%w: --env %q: NAME=VALUE", errUsage, kv)
			}
			ec.Env = append(ec.Env, corev1.EnvVar{Name: k, Value: v})
		}
	}
	if err := applyProfile(ec, vals["profile"]); err != nil {
		return nil, false, err
	}
	if f := vals["custom"]; f != "" {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, false, fmt.Errorf("%w: --custom: %v", errUsage, err)
		}
		if _, err := pod.Custom(data, index); err != nil { // strict: unknown and unsupported fields
			return nil, false, fmt.Errorf("--custom %s: %w", f, err)
		}
		if err := mergeCustom(ec, data); err != nil {
			return nil, false, fmt.Errorf("--custom %s: %w", f, err)
		}
	}
	if ec.Image == "" {
		return nil, false, fmt.Errorf("%w: --image is required (or image in --custom)", errUsage)
	}
	defaulted := ec.Name == ""
	if defaulted {
		var b [5]byte
		_, _ = rand.Read(b[:])
		ec.Name = pod.EphemeralName(string(b[:]))
	}
	return ec, defaulted, nil
}

// applyProfile sets what kubectl debug's profile sets on an ephemeral
// container.
func applyProfile(ec *corev1.EphemeralContainer, profile string) error {
	sc := func() *corev1.SecurityContext {
		if ec.SecurityContext == nil {
			ec.SecurityContext = &corev1.SecurityContext{}
		}
		return ec.SecurityContext
	}
	addCaps := func(caps ...corev1.Capability) {
		s := sc()
		if s.Capabilities == nil {
			s.Capabilities = &corev1.Capabilities{}
		}
		s.Capabilities.Add = append(s.Capabilities.Add, caps...)
	}
	switch profile {
	case "legacy", "baseline":
	case "general", "":
		if ec.TargetContainerName != "" {
			addCaps("SYS_PTRACE") // to look into the target's processes
		}
	case "restricted":
		t, f := true, false
		s := sc()
		s.RunAsNonRoot, s.AllowPrivilegeEscalation = &t, &f
		s.Capabilities = &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}
		s.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	case "netadmin":
		addCaps("NET_ADMIN", "NET_RAW")
	case "sysadmin":
		t := true
		sc().Privileged = &t
	default:
		return fmt.Errorf("%w: --profile %q: one of %s", errUsage, profile, strings.Join(debugProfiles, ", "))
	}
	return nil
}

// mergeCustom lays a partial container spec over ec: maps merge, anything
// else (lists included) is replaced.
func mergeCustom(ec *corev1.EphemeralContainer, data []byte) error {
	base, err := json.Marshal(ec)
	if err != nil {
		return err
	}
	var b, o map[string]any
	if err := json.Unmarshal(base, &b); err != nil {
		return err
	}
	if err := yaml.Unmarshal(data, &o); err != nil {
		return err
	}
	merged, err := json.Marshal(mergeMaps(b, o))
	if err != nil {
		return err
	}
	*ec = corev1.EphemeralContainer{}
	return json.Unmarshal(merged, ec)
}

func mergeMaps(base, over map[string]any) map[string]any {
	for k, v := range over {
		bm, ok1 := base[k].(map[string]any)
		om, ok2 := v.(map[string]any)
		if ok1 && ok2 {
			base[k] = mergeMaps(bm, om)
		} else {
			base[k] = v
		}
	}
	return base
}
