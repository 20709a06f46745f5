package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"k8s.io/client-go/util/jsonpath"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/runner"
	"github.com/podunit/podunit/units"
)

// execCommand is `kubectl exec` for a pod of this host: the command runs in
// the container through podman exec, which keeps the terminal (and its size)
// and hands back the command's exit status as podunit's own.
func execCommand() *cli.Command {
	return &cli.Command{
		Name:                   "exec",
		Usage:                  "run a command in a running container of a pod (the first app container by default)",
		ArgsUsage:              "POD [-c CONTAINER] [-i] [-t] -- COMMAND [ARG...]",
		UseShortOptionHandling: true, // -it
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "container", Aliases: []string{"c"}, Usage: "the container (default: the one its kubectl.kubernetes.io/default-container annotation names, else its first app container)"},
			&cli.BoolFlag{Name: "stdin", Aliases: []string{"i"}, Usage: "pass standard input to the command"},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "give the command a terminal"},
			namespaceFlag(),
		},
		Action: func(c *cli.Context) error {
			// kubectl's order (POD, then flags, then -- COMMAND) as well as
			// flags first
			pos, vals, err := cmdFlags(c, true)
			if err != nil {
				return err
			}
			if len(pos) < 2 {
				return fmt.Errorf("%w: podunit exec POD [-c CONTAINER] [-i] [-t] -- COMMAND [ARG...]", errUsage)
			}
			podName, cmd := pos[0], pos[1:]
			if podName, err = onePodRef(podName, vals["namespace"], c.App.ErrWriter); err != nil {
				return err
			}
			if err := inNamespace(podName, vals["namespace"]); err != nil {
				return err
			}
			ctr, err := execTarget(podstate.DefaultDir(), podName, vals["container"], c.App.ErrWriter)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(c.Context, 30*time.Second)
			defer cancel()
			eng, err := connectPodman(ctx, nil)
			if err != nil {
				return err
			}
			if pid, err := eng.ContainerPID(ctx, ctr.Podman); err != nil || pid <= 0 {
				if done, ok := podstate.LoadCompletion(podstate.DefaultDir(), podName); ok {
					// kubectl's words
					return fmt.Errorf("cannot exec into a container in a completed pod; current phase is %s", done.Phase)
				}
				return fmt.Errorf("container %s of pod %q is not running (see podunit describe %s)", ctr.Name, podName, podName)
			}
			podman := podmanPath()
			argv := []string{podman, "exec"}
			if vals["stdin"] == "true" {
				argv = append(argv, "--interactive")
			}
			if vals["tty"] == "true" {
				argv = append(argv, "--tty")
			}
			argv = append(argv, ctr.Podman)
			argv = append(argv, cmd...)
			return syscall.Exec(podman, argv, os.Environ())
		},
	}
}

// namespaceFlag is kubectl's -n for the commands that name a pod: pod names
// are unique on this host, so it only checks that the pod is in that
// namespace.
func namespaceFlag() cli.Flag {
	return &cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Usage: "the pod's namespace, as kubectl's -n (a pod of another namespace is not found)"}
}

// inNamespace tells a pod that is not in namespace ns ("": any) as not
// found, as kubectl does.
func inNamespace(podName, ns string) error {
	if ns == "" {
		return nil
	}
	rt, err := podstate.LoadRuntime(podstate.DefaultDir(), podName)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: %q in namespace %q", runner.ErrNotFound, podName, ns)
		}
		return err
	}
	if rt.Namespace != ns {
		return fmt.Errorf("%w: %q in namespace %q (pod %q is in namespace %q)", runner.ErrNotFound, podName, ns, podName, rt.Namespace)
	}
	return nil
}

// DefaultContainerAnnotation names the container kubectl's exec, logs,
// attach and cp pick when none is named.
const DefaultContainerAnnotation = "kubectl.kubernetes.io/default-container"

// execTarget finds the container exec runs in: the one named, else the one
// the pod's kubectl.kubernetes.io/default-container annotation names, else
// the pod's first app container, as kubectl picks it. As kubectl, it tells
// warn (when not nil) which container it picked of several without being
// told, and of an annotation that names none of the pod's.
func execTarget(dir, podName, name string, warn io.Writer) (*contract.Container, error) {
	rt, err := podstate.LoadRuntime(dir, podName)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %q", runner.ErrNotFound, podName)
		}
		return nil, err
	}
	defaulted := name == ""
	if defaulted {
		if p, err := (&runner.Runner{StateDir: dir}).Pod(podName); err == nil {
			if d := p.Annotations[DefaultContainerAnnotation]; d != "" {
				if slices.ContainsFunc(rt.Containers, func(c contract.Container) bool { return c.Name == d }) {
					name, defaulted = d, false
				} else if warn != nil {
					fmt.Fprintf(warn, "Default container name %q not found in pod %s\n", d, podName)
				}
			}
		}
	}
	var names []string
	var found *contract.Container
	for i := range rt.Containers {
		c := &rt.Containers[i]
		if c.Kind == contract.KindInfra {
			continue
		}
		names = append(names, c.Name)
		if found == nil && ((name == "" && c.Kind == contract.KindApp) || (name != "" && c.Name == name)) {
			found = c
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%w: pod %q has no container %q (it has %s)", runner.ErrNotFound, podName, name, strings.Join(names, ", "))
	}
	if defaulted && len(names) > 1 && warn != nil {
		fmt.Fprintf(warn, "Defaulted container %q out of: %s\n", found.Name, allContainerNames(rt.Containers))
	}
	return found, nil
}

// allContainerNames lists a pod's containers as kubectl does: the app
// containers, then the init containers (sidecars among them) and the
// ephemeral ones, marked so.
func allContainerNames(cs []contract.Container) string {
	var app, init, ephem []string
	for _, c := range cs {
		switch c.Kind {
		case contract.KindApp:
			app = append(app, c.Name)
		case contract.KindInit, contract.KindSidecar:
			init = append(init, c.Name+" (init)")
		case contract.KindEphemeral:
			ephem = append(ephem, c.Name+" (ephem)")
		}
	}
	return strings.Join(slices.Concat(app, init, ephem), ", ")
}

// Conditions `wait --for` understands, as kubectl names them.
var waitConditions = []string{"condition=Ready", "condition=ContainersReady", "condition=Initialized", "condition=PodScheduled", "delete"}

// errTimeout: a wait ran out of time (exit 4, as up --wait).
type errTimeout struct{ msg string }

func (e errTimeout) Error() string { return e.msg }
func (e errTimeout) ExitCode() int { return exitPodFailed }

func waitCommand() *cli.Command {
	return &cli.Command{
		Name:      "wait",
		Usage:     "wait until pods meet a condition (Ready, ContainersReady, Initialized) or are deleted",
		ArgsUsage: "POD...|-l SELECTOR --for=condition=Ready|delete [--timeout 30s]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "for", Value: "condition=Ready", Usage: strings.Join(waitConditions, ", ") + " (condition=NAME=false: until it is not met), or jsonpath={PATH}=VALUE (jsonpath={PATH}: until it has a value)"},
			&cli.DurationFlag{Name: "timeout", Value: 30 * time.Second, Usage: "give up after this long (exit 4)"},
			namespaceFlag(),
			selectorFlag(),
		},
		Action: func(c *cli.Context) error {
			pos, vals, err := cmdFlags(c, false)
			if err != nil {
				return err
			}
			sel := vals["selector"]
			if isJobArg(pos) {
				return waitJob(c)
			}
			if isDeploymentArg(pos) {
				return waitDeployment(c)
			}
			if pos, err = podRefs(pos, sel != ""); err != nil {
				return err
			}
			if len(pos) == 0 && sel == "" {
				return fmt.Errorf("%w: podunit wait POD...|-l SELECTOR|deployment/NAME --for=condition=Ready|Available|delete", errUsage)
			}
			if pos, err = selectPods(pos, sel, vals["namespace"]); err != nil {
				return err
			}
			if len(pos) == 0 {
				if vals["for"] == "delete" {
					return nil // nothing left to wait for
				}
				return fmt.Errorf("%w: no pod matches -l %s", runner.ErrNotFound, sel)
			}
			for _, p := range pos {
				if err := inNamespace(p, vals["namespace"]); err != nil && vals["for"] != "delete" {
					return err
				}
			}
			cond := vals["for"]
			timeout, err := time.ParseDuration(vals["timeout"])
			if err != nil || timeout < 0 {
				return fmt.Errorf("%w: --timeout %q: a duration such as 30s or 2m", errUsage, vals["timeout"])
			}
			if _, err := parseWaitFor(cond); err != nil {
				return err
			}
			return withRunner(c, timeout+30*time.Second, func(ctx context.Context, r *runner.Runner) error {
				return waitFor(ctx, r, pos, cond, timeout, func(p string) {
					fmt.Fprintf(c.App.Writer, "pod/%s condition met\n", p)
				})
			})
		},
	}
}

// waitFor polls the pods' status until each meets cond, telling done about
// each, or the timeout passes. A pod that does not exist fails at once,
// unless the wait is for its deletion.
func waitFor(ctx context.Context, r *runner.Runner, pods []string, cond string, timeout time.Duration, done func(string)) error {
	spec, err := parseWaitFor(cond)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	left := append([]string(nil), pods...)
	why := map[string]string{}
	for first := true; ; first = false {
		sts, err := r.Status(ctx)
		if err != nil {
			return err
		}
		byName := map[string]*runner.PodStatus{}
		for i := range sts {
			byName[sts[i].Name] = &sts[i]
		}
		var still []string
		for _, p := range left {
			var met bool
			var reason string
			if spec.path != nil && byName[p] != nil {
				met, reason, err = podMatchesPath(ctx, r, p, spec)
			} else {
				met, reason, err = podMeets(byName[p], p, spec, first)
			}
			if err != nil {
				return err
			}
			if met {
				done(p)
				continue
			}
			if r.Progress != nil && reason != why[p] {
				fmt.Fprintf(r.Progress, "pod/%s: waiting for %s: %s\n", p, strings.TrimPrefix(cond, "condition="), reason)
			}
			why[p] = reason
			still = append(still, p)
		}
		left = still
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			var parts []string
			for _, p := range left {
				parts = append(parts, fmt.Sprintf("%s (%s)", p, why[p]))
			}
			return errTimeout{fmt.Sprintf("timed out after %s waiting for %s: %s", timeout, cond, strings.Join(parts, ", "))}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// waitSpec is wait's --for, as kubectl takes it: delete, a condition that
// is to be True (or False: condition=Ready=false), or a JSONPath of the
// pod (get -o json's fields) that is to have a value, or one value.
type waitSpec struct {
	text      string
	delete    bool
	condition string // podscheduled, initialized, containersready, ready
	want      bool   // the condition's status waited for
	path      *jsonpath.JSONPath
	value     string // the JSONPath's value waited for ("": any)
	hasValue  bool
}

func parseWaitFor(s string) (waitSpec, error) {
	w := waitSpec{text: s, want: true}
	usage := fmt.Errorf("%w: --for must be one of %s, condition=NAME=false, or jsonpath={PATH}[=VALUE] (got %q)", errUsage, strings.Join(waitConditions, ", "), s)
	switch {
	case s == "delete":
		w.delete = true
		return w, nil
	case strings.HasPrefix(s, "condition="):
		name, status, hasStatus := strings.Cut(strings.TrimPrefix(s, "condition="), "=")
		w.condition = strings.ToLower(name)
		if !slices.Contains([]string{"podscheduled", "initialized", "containersready", "ready"}, w.condition) {
			return w, usage
		}
		if hasStatus {
			switch strings.ToLower(status) {
			case "true":
			case "false":
				w.want = false
			default:
				return w, fmt.Errorf("%w: --for %s: a condition's status is true or false", errUsage, s)
			}
		}
		return w, nil
	case strings.HasPrefix(s, "jsonpath="):
		expr := strings.TrimPrefix(s, "jsonpath=")
		if end := strings.LastIndex(expr, "}"); strings.HasPrefix(expr, "{") && end > 0 {
			if rest := expr[end+1:]; rest != "" {
				if !strings.HasPrefix(rest, "=") {
					return w, usage
				}
				w.value, w.hasValue = rest[1:], true
			}
			expr = expr[:end+1]
		} else {
			// kubectl's relaxed form: .status.phase=Running
			path, value, ok := strings.Cut(expr, "=")
			expr, w.value, w.hasValue = "{"+path+"}", value, ok
		}
		j, err := parseJSONPath(expr)
		if err != nil {
			return w, fmt.Errorf("%w: --for %s: %v", errUsage, s, err)
		}
		w.path = j
		return w, nil
	}
	return w, usage
}

// podMeets tells whether a pod (nil: not there) meets a condition, and if
// not, why, in a few words.
func podMeets(st *runner.PodStatus, name string, spec waitSpec, first bool) (bool, string, error) {
	if spec.delete {
		if st == nil {
			return true, "", nil
		}
		return false, "phase " + st.Phase, nil
	}
	if st == nil {
		if first {
			return false, "", fmt.Errorf("%w: %q", runner.ErrNotFound, name)
		}
		return false, "", fmt.Errorf("pod %q was deleted while waiting for %s", name, spec.text)
	}
	var met bool
	var reason string
	switch spec.condition {
	case "podscheduled":
		met = true
	case "initialized":
		met, reason = initialized(st), "initializing"
	default: // ready, containersready
		met, reason = st.Phase == "Running" && allReady(st), fmt.Sprintf("phase %s, %d/%d ready", st.Phase, st.Ready, st.Total)
	}
	if !spec.want {
		return !met, "met", nil
	}
	if !met && (st.Phase == "Failed" || st.Phase == "Succeeded") {
		// it never becomes ready again: say so now, as kubectl's wait cannot
		return false, "", errTimeout{fmt.Sprintf("pod %q is %s: it will not meet %s", name, st.Phase, spec.text)}
	}
	return met, reason, nil
}

// podMatchesPath tells whether a pod's JSONPath has a value (the one
// waited for, if any), and if not, what it has.
func podMatchesPath(ctx context.Context, r *runner.Runner, name string, spec waitSpec) (bool, string, error) {
	pods, err := currentPods(ctx, r, []string{name})
	if err != nil || len(pods) != 1 {
		return false, "not readable yet", nil
	}
	generic, err := asJSON(pods[0])
	if err != nil {
		return false, "", err
	}
	res, err := spec.path.FindResults(generic)
	if err != nil {
		return false, "", fmt.Errorf("%w: --for %s: %v", errUsage, spec.text, err)
	}
	var vals []string
	for _, r := range res {
		for _, v := range r {
			vals = append(vals, fmt.Sprint(v.Interface()))
		}
	}
	switch {
	case len(vals) == 0:
		return false, "no value", nil
	case !spec.hasValue:
		return true, "", nil
	case len(vals) > 1:
		return false, "", fmt.Errorf("%w: --for %s: the path has %d values, one is needed to compare", errUsage, spec.text, len(vals))
	}
	return vals[0] == spec.value, "value " + vals[0], nil
}

// initialized is the pod condition Initialized: every init container has
// completed and every sidecar runs.
func initialized(st *runner.PodStatus) bool {
	// the kubelet's rules: a pod that completed, or one whose app container
	// has run (its sidecars may restart, or be stopped as it completes),
	// was initialized
	if st.Phase == "Succeeded" {
		return true
	}
	for _, c := range st.Containers {
		if c.Kind == units.KindApp && (c.State == "Running" || c.State == "Terminated" || c.Restarts > 0) {
			return true
		}
	}
	for _, c := range st.Containers {
		switch {
		case c.Kind == units.KindInit && !(c.State == "Terminated" && c.Reason == "Completed"):
			return false
		case c.Kind == units.KindSidecar && c.State != "Running":
			return false
		}
	}
	return true
}

// allReady: every app container and sidecar is ready.
func allReady(st *runner.PodStatus) bool { return st.Total > 0 && st.Ready == st.Total }

// interleaved reads flags that follow positional arguments, as kubectl takes
// them (`podunit exec POD -c C -- CMD`), which the CLI parser leaves among
// the arguments. names maps each spelling to the flag's name (several,
// comma-separated, for combined short flags); valued says which take a value
// (as the next argument or after "="). With command (exec), "--" ends the
// flags, and so does the second positional argument: the command and its own
// flags (`sh -c ...`) are never read as podunit's. Without it, an unknown
// flag is an error. A flag in multi may be repeated: its values are joined
// with newlines.
func interleaved(args []string, names map[string]string, valued, multi map[string]bool, command bool) ([]string, map[string]string, error) {
	var pos []string
	vals := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if command && (a == "--" || len(pos) == 2) {
			if a == "--" {
				i++
			}
			return append(pos, args[i:]...), vals, nil
		}
		key, val, hasVal := strings.Cut(a, "=")
		name, ok := names[key]
		if !ok && !hasVal {
			name, ok = shortCluster(a, names, valued)
		}
		if !ok || !strings.HasPrefix(a, "-") {
			if strings.HasPrefix(a, "-") && a != "-" && !command {
				return nil, nil, fmt.Errorf("%w: unknown flag %s", errUsage, a)
			}
			pos = append(pos, a)
			continue
		}
		for _, n := range strings.Split(name, ",") {
			if valued[n] && !hasVal {
				if i+1 >= len(args) {
					return nil, nil, fmt.Errorf("%w: %s needs a value", errUsage, key)
				}
				i++
				val = args[i]
			}
			switch {
			case valued[n] && multi[n] && vals[n] != "":
				vals[n] += "\n" + val
			case valued[n]:
				vals[n] = val
			case hasVal && (val == "true" || val == "false"):
				vals[n] = val // --attach=false
			default:
				vals[n] = "true"
			}
		}
	}
	return pos, vals, nil
}

// shortCluster reads combined short boolean flags ("-it") as their names
// ("stdin,tty").
func shortCluster(a string, names map[string]string, valued map[string]bool) (string, bool) {
	if len(a) < 3 || a[0] != '-' || a[1] == '-' {
		return "", false
	}
	var out []string
	for _, r := range a[1:] {
		n, ok := names["-"+string(r)]
		if !ok || valued[n] {
			return "", false
		}
		out = append(out, n)
	}
	return strings.Join(out, ","), true
}

// cmdFlags is a command's positional arguments and the value of each of its
// flags (as text: "true"/"false", durations as "30s"), wherever they stand:
// before the arguments (the CLI parser's) or among them (interleaved). The
// spellings and which flags take values come from the command's own flags.
func cmdFlags(c *cli.Context, command bool) ([]string, map[string]string, error) {
	names, valued, multi := flagTable(c)
	pos, vals, err := interleaved(c.Args().Slice(), names, valued, multi, command)
	if err != nil {
		return nil, nil, err
	}
	if err := helpAmong(c, vals); err != nil {
		return nil, nil, err
	}
	for _, f := range c.Command.Flags {
		n := f.Names()[0]
		switch {
		case multi[n]:
			// given before the arguments (the parser's) and among them
			if before := strings.Join(c.StringSlice(n), "\n"); before != "" && vals[n] != "" {
				vals[n] = before + "\n" + vals[n]
			} else if before != "" {
				vals[n] = before
			}
		case vals[n] == "":
			vals[n] = fmt.Sprint(c.Value(n))
		}
	}
	return pos, vals, nil
}

// flagTable is how a command's flags are spelled ("-o", "--output": their
// names), which take a value and which may be given more than once.
func flagTable(c *cli.Context) (names map[string]string, valued, multi map[string]bool) {
	names, valued, multi = map[string]string{}, map[string]bool{}, map[string]bool{}
	for _, f := range c.Command.Flags {
		all := f.Names()
		for _, n := range all {
			if len(n) == 1 {
				names["-"+n] = all[0]
			} else {
				names["--"+n] = all[0]
			}
		}
		if _, isBool := f.(*cli.BoolFlag); !isBool {
			valued[all[0]] = true
		}
		if _, isSlice := f.(*cli.StringSliceFlag); isSlice {
			multi[all[0]] = true
		}
	}
	return names, valued, multi
}

// helpAmong shows the command's help when --help (-h) stands among its
// arguments (`podunit port-forward web 8080:80 --help`), as kubectl does,
// and ends the command there (exit 0) instead of running it.
func helpAmong(c *cli.Context, vals map[string]string) error {
	if vals["help"] != "true" {
		return nil
	}
	parent := c // the app's context, where the command is found by name
	if l := c.Lineage(); len(l) > 1 {
		parent = l[1]
	}
	if err := cli.ShowCommandHelp(parent, c.Command.Name); err != nil {
		return err
	}
	return errHelpShown
}

// errHelpShown ends a command whose help was asked for: exit 0, no message.
var errHelpShown = errors.New("")

// flagsAnywhere lets a command's flags stand among its arguments too, as
// kubectl's do (`podunit down web --grace-period 0 --force`): those found
// there are set on c, where c.Bool and friends see them, and the other
// arguments are returned. An unknown flag is a usage error.
func flagsAnywhere(c *cli.Context) ([]string, error) {
	names, valued, multi := flagTable(c)
	pos, vals, err := interleaved(c.Args().Slice(), names, valued, multi, false)
	if err != nil {
		return nil, err
	}
	if err := helpAmong(c, vals); err != nil {
		return nil, err
	}
	for n, v := range vals {
		values := []string{v}
		if multi[n] {
			values = strings.Split(v, "\n") // each time it was given
		}
		for _, one := range values {
			if err := c.Set(n, one); err != nil {
				return nil, fmt.Errorf("%w: --%s %s: %v", errUsage, n, one, err)
			}
		}
	}
	return pos, nil
}

// eventsCommand is `kubectl get events` for this host's pods: every pod's
// events (or one pod's) in time order; -w goes on printing new ones until
// interrupted.
func eventsCommand() *cli.Command {
	return &cli.Command{
		Name:      "events",
		Usage:     "list the pods' events (one pod's with POD); -w keeps printing new ones",
		ArgsUsage: "[POD] [-w] [-o json]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "watch", Aliases: []string{"w"}, Usage: "go on printing new events until interrupted"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "json: one JSON object a line"},
		},
		Action: func(c *cli.Context) error {
			pos, vals, err := cmdFlags(c, false)
			if err != nil {
				return err
			}
			watch, out := vals["watch"] == "true", vals["output"]
			if len(pos) > 1 || (out != "" && out != "json") {
				return fmt.Errorf("%w: podunit events [POD] [-w] [-o json]", errUsage)
			}
			dir := podstate.DefaultDir()
			if len(pos) == 1 {
				if pos[0], err = podRef(pos[0]); err != nil {
					return err
				}
				if _, err := podstate.LoadRuntime(dir, pos[0]); err != nil {
					return fmt.Errorf("%w: %q", runner.ErrNotFound, pos[0])
				}
			}
			ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
			defer stop()
			seen := map[string]time.Time{} // pod: when its last event printed happened
			header := out == ""
			for {
				evs, err := newEvents(dir, pos, seen)
				if err != nil {
					return err
				}
				if header {
					fmt.Fprintf(c.App.Writer, "%-23s  %-7s  %-20s  %-24s  %s\n", "TIME", "TYPE", "REASON", "OBJECT", "MESSAGE")
					header = false
				}
				for _, e := range evs {
					if out == "json" {
						data, _ := json.Marshal(e)
						fmt.Fprintf(c.App.Writer, "%s\n", data)
						continue
					}
					fmt.Fprintf(c.App.Writer, "%-23s  %-7s  %-20s  %-24s  %s%s\n", e.Time.Local().Format("2006-01-02 15:04:05.000"), e.Type, e.Reason, e.Object, e.Message, timesOver(e.Event))
				}
				if !watch {
					return nil
				}
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(500 * time.Millisecond):
				}
			}
		},
	}
}

// podEvent is an event with the object it is about (pod/NAME or
// pod/NAME/CONTAINER).
type podEvent struct {
	podstate.Event
	Pod    string `json:"pod"`
	Object string `json:"object"`
}

// newEvents reads the events of the pods (all when none are named) that
// happened after those printed (seen), in time order.
func newEvents(dir string, pods []string, seen map[string]time.Time) ([]podEvent, error) {
	if len(pods) == 0 {
		ents, err := os.ReadDir(filepath.Join(dir, "pods"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		for _, e := range ents {
			pods = append(pods, e.Name())
		}
	}
	var out []podEvent
	for _, p := range pods {
		evs, err := podstate.Events(dir, p)
		if err != nil {
			return nil, err
		}
		if len(evs) == 0 {
			delete(seen, p) // gone, or replaced by a pod of the same name
		}
		last := seen[p]
		for _, e := range evs {
			if !e.Time.After(last) {
				continue // printed, or compacted into one printed
			}
			obj := "pod/" + p
			if e.Container != "" {
				obj += "/" + e.Container
			}
			out = append(out, podEvent{Event: e, Pod: p, Object: obj})
			if e.Time.After(seen[p]) {
				seen[p] = e.Time
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}
