package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/podunit/podunit/podstate"
)

// runOptions are kubectl run's: what the one container of the pod is.
type runOptions struct {
	image, pullPolicy, restart, namespace string
	env, annotations                      []string
	labels                                string
	port                                  string
	command, privileged, expose           bool
	stdin, tty                            bool
	args                                  []string // after the name: the container's args, or its command with --command
}

// runObjects are the pod kubectl run makes of o (one container named as
// the pod, labelled run=NAME unless --labels says otherwise) and, with
// --expose, a ClusterIP Service of its port (pure: tested). Bad values are
// usage errors naming the flag.
func runObjects(name string, o runOptions) (*corev1.Pod, *corev1.Service, error) {
	if msgs := validation.IsDNS1123Label(name); len(msgs) > 0 {
		return nil, nil, fmt.Errorf("%w: pod name %q: %s", errUsage, name, strings.Join(msgs, "; "))
	}
	if o.image == "" {
		return nil, nil, fmt.Errorf("%w: --image is required (podunit run NAME --image IMAGE [-- ARGS...])", errUsage)
	}
	p := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: o.namespace, Labels: map[string]string{"run": name}},
		Spec: corev1.PodSpec{
			Containers:    []corev1.Container{{Name: name, Image: o.image}},
			RestartPolicy: corev1.RestartPolicyAlways,
		},
	}
	c := &p.Spec.Containers[0]
	if o.labels != "" {
		l, err := labels.ConvertSelectorToLabelsMap(o.labels)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: --labels %q: %v", errUsage, o.labels, err)
		}
		p.Labels = l
	}
	for _, a := range o.annotations {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, nil, fmt.Errorf("%w: --annotations %q: KEY=VALUE", errUsage, a)
		}
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		p.Annotations[k] = v
	}
	for _, e := range o.env {
		k, v, ok := strings.Cut(e, "=")
		if !ok || k == "" {
			return nil, nil, fmt.Errorf("%w: --env %q: KEY=VALUE", errUsage, e)
		}
		c.Env = append(c.Env, corev1.EnvVar{Name: k, Value: v})
	}
	switch o.restart {
	case "", "Always":
	case "OnFailure", "Never":
		p.Spec.RestartPolicy = corev1.RestartPolicy(o.restart)
	default:
		return nil, nil, fmt.Errorf("%w: --restart %q: Always, OnFailure or Never", errUsage, o.restart)
	}
	switch o.pullPolicy {
	case "":
	case "Always", "IfNotPresent", "Never":
		c.ImagePullPolicy = corev1.PullPolicy(o.pullPolicy)
	default:
		return nil, nil, fmt.Errorf("%w: --image-pull-policy %q: Always, IfNotPresent or Never", errUsage, o.pullPolicy)
	}
	if o.port != "" {
		n, err := strconv.Atoi(o.port)
		if err != nil || n < 1 || n > 65535 {
			return nil, nil, fmt.Errorf("%w: --port %q: a port number (1-65535)", errUsage, o.port)
		}
		c.Ports = []corev1.ContainerPort{{ContainerPort: int32(n)}}
	}
	c.Stdin, c.TTY = o.stdin, o.tty
	if o.privileged {
		yes := true
		c.SecurityContext = &corev1.SecurityContext{Privileged: &yes}
	}
	if o.command {
		if len(o.args) == 0 {
			return nil, nil, fmt.Errorf("%w: --command needs the command after the name (podunit run NAME --image IMAGE --command -- CMD ARGS...)", errUsage)
		}
		c.Command = o.args
	} else {
		c.Args = o.args
	}
	if !o.expose {
		return p, nil, nil
	}
	if len(c.Ports) == 0 {
		return nil, nil, fmt.Errorf("%w: --expose needs --port", errUsage)
	}
	port := c.Ports[0].ContainerPort
	s := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: o.namespace},
		Spec: corev1.ServiceSpec{
			Selector: p.Labels,
			Ports:    []corev1.ServicePort{{Port: port, TargetPort: intstr.FromInt32(port)}},
		},
	}
	return p, s, nil
}

// runCommand is kubectl run: a pod of one container from an image, started
// as up starts a manifest's (the manifest is shown by --dry-run=client -o
// yaml, ready to be kept in a file).
func runCommand() *cli.Command {
	return &cli.Command{
		Name:                   "run",
		UseShortOptionHandling: true, // -it, to say it is not supported
		Usage:                  "start a pod of one container from an image, like kubectl run (--dry-run=client -o yaml prints its manifest)",
		ArgsUsage:              "NAME --image IMAGE [--env K=V]... [--port P] [--labels k=v,...] [--restart Always|OnFailure|Never] [--command] [-- ARGS...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "image", Usage: "the container's image"},
			&cli.StringSliceFlag{Name: "env", Usage: "an environment variable, KEY=VALUE (again for more)"},
			&cli.StringFlag{Name: "port", Usage: "the port the container listens on (a containerPort)"},
			&cli.BoolFlag{Name: "expose", Usage: "also a ClusterIP Service of NAME for --port"},
			&cli.StringFlag{Name: "labels", Aliases: []string{"l"}, Usage: "the pod's labels, k=v,... (default run=NAME)"},
			&cli.StringSliceFlag{Name: "annotations", Usage: "an annotation, KEY=VALUE (again for more)"},
			&cli.StringFlag{Name: "restart", Value: "Always", Usage: "the pod's restartPolicy: Always, OnFailure or Never"},
			&cli.StringFlag{Name: "image-pull-policy", Usage: "Always, IfNotPresent or Never"},
			&cli.BoolFlag{Name: "command", Usage: "the arguments after NAME are the container's command, not its args"},
			&cli.BoolFlag{Name: "privileged", Usage: "run the container privileged"},
			&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Usage: "the pod's namespace"},
			&cli.StringFlag{Name: "dry-run", Usage: "client: print what would be started, start nothing (with -o yaml|json: the manifest)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "with --dry-run=client: yaml, json or name"},
			&cli.BoolFlag{Name: "wait", Usage: "return once the pod is Ready, as up --wait"},
			&cli.BoolFlag{Name: "stdin", Aliases: []string{"i"}, Usage: "keep the container's standard input open and attach to it (podunit attach)"},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "give the container a terminal"},
			&cli.BoolFlag{Name: "rm", Usage: "with -i: remove the pod once the session ends"},
			&cli.BoolFlag{Name: "attach", Usage: "attach to the container once it runs (with -i, the default)"},
		},
		Action: func(c *cli.Context) error {
			pos, vals, err := cmdFlags(c, true)
			if err != nil {
				return err
			}
			if len(pos) == 0 {
				return fmt.Errorf("%w: podunit run NAME --image IMAGE [-- ARGS...]", errUsage)
			}
			stdin, tty := vals["stdin"] == "true", vals["tty"] == "true"
			// kubectl's --attach: by default as -i says
			attachTo := stdin
			if attachGiven(c) {
				attachTo = vals["attach"] == "true"
			}
			if tty && attachTo && (!stdin || !term.IsTerminal(int(os.Stdin.Fd()))) && dryRunNone(vals["dry-run"]) {
				// kubectl's words: the container gets no terminal
				fmt.Fprintln(c.App.ErrWriter, "Unable to use a TTY - input is not a terminal or the right kind of file")
				tty = false
			}
			if vals["rm"] == "true" && !attachTo {
				return fmt.Errorf("%w: --rm removes the pod when the session ends: it needs -i (or --attach)", errUsage)
			}
			dry, out := vals["dry-run"], vals["output"]
			switch dry {
			case "", "none", "client", "server":
			default:
				return fmt.Errorf("%w: --dry-run %q: none, client or server", errUsage, dry)
			}
			if out != "" && out != "yaml" && out != "json" && out != "name" {
				return fmt.Errorf("%w: -o %q: yaml, json or name", errUsage, out)
			}
			if out != "" && (dry == "" || dry == "none") {
				return fmt.Errorf("%w: -o prints the manifest of --dry-run=client; podunit get pod NAME -o %s shows a running one", errUsage, out)
			}
			split := func(s string) []string {
				if s == "" {
					return nil
				}
				return strings.Split(s, "\n")
			}
			p, s, err := runObjects(pos[0], runOptions{
				image: vals["image"], pullPolicy: vals["image-pull-policy"], restart: vals["restart"], namespace: vals["namespace"],
				env: split(vals["env"]), annotations: split(vals["annotations"]), labels: vals["labels"], port: vals["port"],
				command: vals["command"] == "true", privileged: vals["privileged"] == "true", expose: vals["expose"] == "true",
				stdin: stdin, tty: tty, args: pos[1:],
			})
			if err != nil {
				return err
			}
			var objs []any
			if s != nil {
				objs = append(objs, s)
			}
			objs = append(objs, p)
			manifest, err := runManifest(objs)
			if err != nil {
				return err
			}
			if dry == "client" || dry == "server" {
				switch out {
				case "yaml":
					_, err = c.App.Writer.Write(manifest)
					return err
				case "json":
					for _, o := range objs {
						data, err := json.MarshalIndent(o, "", "    ")
						if err != nil {
							return err
						}
						fmt.Fprintf(c.App.Writer, "%s\n", data)
					}
					return nil
				}
				if s != nil {
					fmt.Fprintf(c.App.Writer, "service/%s created (dry run)\n", s.Name)
				}
				if out == "name" {
					fmt.Fprintf(c.App.Writer, "pod/%s\n", p.Name)
					return nil
				}
				fmt.Fprintf(c.App.Writer, "pod/%s created (dry run)\n", p.Name)
				return nil
			}
			argv := []string{c.App.Name, "up"}
			if vals["wait"] == "true" {
				argv = append(argv, "--wait")
			}
			if err := upFrom(c, manifest, append(argv, "-")); err != nil || !attachTo {
				return err
			}
			code, err := runAttached(c, p, stdin, vals["rm"] == "true")
			if vals["rm"] == "true" {
				if derr := c.App.RunContext(c.Context, []string{c.App.Name, "down", p.Name}); derr != nil && err == nil {
					err = derr
				}
			}
			if err == nil && code != 0 {
				return cli.Exit("", code)
			}
			return err
		},
	}
}

func dryRunNone(v string) bool { return v == "" || v == "none" }

// attachGiven tells whether --attach was given (--attach=false overrides
// -i), before the arguments or among them (not in the command after --).
func attachGiven(c *cli.Context) bool {
	if c.IsSet("attach") {
		return true
	}
	for _, a := range c.Args().Slice() {
		if a == "--" {
			break
		}
		if a == "--attach" || strings.HasPrefix(a, "--attach=") {
			return true
		}
	}
	return false
}

// upFrom runs up (argv) with the manifest on its standard input: its errors
// then name the pod and the field, no file. The terminal is the standard
// input again once up is done.
func upFrom(c *cli.Context, manifest []byte, argv []string) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	go func() { w.Write(manifest); w.Close() }()
	stdin := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = stdin; r.Close() }()
	return c.App.RunContext(c.Context, argv)
}

// runAttached waits for the pod's container to run and attaches to it, as
// kubectl run -i does; a container that ended first (a short command under
// restartPolicy Never) has its output printed instead. It says the
// container's exit status.
func runAttached(c *cli.Context, p *corev1.Pod, stdin, rm bool) (int, error) {
	dir := podstate.DefaultDir()
	ctx, cancel := context.WithTimeout(c.Context, 2*time.Minute)
	defer cancel()
	eng, err := connectPodman(ctx, nil)
	if err != nil {
		return 0, err
	}
	ctr, err := execTarget(dir, p.Name, "", nil)
	if err != nil {
		return 0, err
	}
	for {
		if pid, err := eng.ContainerPID(ctx, ctr.Podman); err == nil && pid > 0 {
			fmt.Fprintf(c.App.ErrWriter, "If you don't see a command prompt, try pressing enter.\n")
			code, err := attach(c.Context, p.Name, "", stdin, nil)
			if err != nil || p.Spec.RestartPolicy == corev1.RestartPolicyAlways {
				if err == nil && !rm {
					fmt.Fprintf(c.App.ErrWriter, "Session ended, resume using 'podunit attach %s -c %s -i -t' command when the pod is running\n", p.Name, ctr.Name)
				}
				return 0, err
			}
			// the container ended (or was detached from): its exit status
			// once its clean-up recorded it
			for i := 0; i < 100; i++ {
				if run, err := podstate.LoadRun(dir, p.Name, ctr.Name); err == nil && !run.Finished.IsZero() && run.Started.IsZero() {
					return run.ExitCode, nil
				}
				if pid, err := eng.ContainerPID(ctx, ctr.Podman); err == nil && pid > 0 && i > 20 {
					return code, nil // detached: it runs on
				}
				time.Sleep(100 * time.Millisecond)
			}
			return code, nil
		}
		if run, err := podstate.LoadRun(dir, p.Name, ctr.Name); err == nil && !run.Finished.IsZero() && run.Started.IsZero() {
			// ended before we could attach: its output, as kubectl shows it
			if err := c.App.RunContext(c.Context, []string{c.App.Name, "logs", p.Name}); err != nil {
				return 0, err
			}
			return run.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("pod %q: its container did not start in time (see podunit describe %s)", p.Name, p.Name)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// runManifest is the objects as one YAML manifest, as kubectl run
// --dry-run=client -o yaml prints them.
func runManifest(objs []any) ([]byte, error) {
	var b strings.Builder
	for i, o := range objs {
		data, err := yaml.Marshal(o)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(data)
	}
	return []byte(b.String()), nil
}
