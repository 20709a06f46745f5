package main

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/podstate/objstore"
	"github.com/podunit/podunit/runner"
)

// How kubectl names pods: its type words, also before a slash (pod/web).
var podTypes = []string{"pod", "pods", "po"}

var serviceTypes = []string{"service", "services", "svc"}

// kubectl's other kinds, which a pod argument cannot name: a usage error
// says so rather than "pod not found: deployment/web".
var otherTypes = []string{
	"deployment", "deployments", "deploy", "replicaset", "replicasets", "rs",
	"statefulset", "statefulsets", "sts", "daemonset", "daemonsets", "ds",
	"job", "jobs", "cronjob", "cronjobs", "cj", "node", "nodes", "no",
	"configmap", "configmaps", "cm", "secret", "secrets",
	"persistentvolumeclaim", "persistentvolumeclaims", "pvc",
	"persistentvolume", "persistentvolumes", "pv",
	"namespace", "namespaces", "ns", "serviceaccount", "serviceaccounts", "sa",
	"ingress", "ingresses", "ing",
}

func selectorFlag() cli.Flag {
	return &cli.StringFlag{Name: "selector", Aliases: []string{"l"},
		Usage: "the pods whose labels match, as kubectl's -l (app=web,tier!=db; env in (a,b); !canary)"}
}

// podRefs reads pod arguments the ways kubectl takes them: NAME, TYPE/NAME
// (pod/web, pods/web, po/web: what podunit itself prints), or a type word
// before the names (`wait pod web`). The type word alone counts as one only
// when a selector names the pods (`wait pod -l app=web`): without, it is a
// pod's name. Another kind (svc/web, deployment/web) is a usage error.
func podRefs(args []string, selector bool) ([]string, error) {
	if len(args) > 0 && slices.Contains(podTypes, args[0]) && (len(args) > 1 || selector) {
		args = args[1:]
	}
	out := make([]string, 0, len(args))
	for _, a := range args {
		kind, name, ok := strings.Cut(a, "/")
		switch {
		case !ok:
			out = append(out, a)
		case slices.Contains(podTypes, strings.ToLower(kind)) && name != "":
			out = append(out, name)
		case slices.Contains(serviceTypes, strings.ToLower(kind)) || slices.Contains(otherTypes, strings.ToLower(kind)):
			return nil, fmt.Errorf("%w: %s is not a pod (this command takes pods: NAME or pod/NAME)", errUsage, a)
		default:
			out = append(out, a) // a file's path, for down; otherwise not found
		}
	}
	return out, nil
}

// parseSelector is kubectl's -l: equality (app=web, app==web, app!=web),
// sets (env in (a,b), env notin (c)) and existence (canary, !canary).
func parseSelector(s string) (labels.Selector, error) {
	sel, err := labels.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%w: -l %q: %v", errUsage, s, err)
	}
	return sel, nil
}

// namesOrSelector is the selector of a command given names or -l (one or
// the other, as in kubectl): everything when there is none.
func namesOrSelector(names []string, selector string) (labels.Selector, error) {
	if selector == "" {
		return labels.Everything(), nil
	}
	if len(names) > 0 {
		return nil, fmt.Errorf("%w: names and -l exclude each other, as in kubectl (got %s)", errUsage, strings.Join(names, ", "))
	}
	return parseSelector(selector)
}

// selectPods resolves the pods a command is about: those named, or, with a
// selector, those podunit runs whose labels match it, in namespace ns (any
// when ""), by name. Names and a selector together are a usage error, as in
// kubectl.
func selectPods(names []string, selector, ns string) ([]string, error) {
	if selector == "" {
		return names, nil
	}
	sel, err := namesOrSelector(names, selector)
	if err != nil {
		return nil, err
	}
	pods, err := runner.KnownPods(podstate.DefaultDir())
	if err != nil {
		return nil, err
	}
	return matching(pods, sel, ns), nil
}

// matching are the names of the pods in namespace ns ("": any) whose labels
// sel matches, sorted.
func matching(pods []*corev1.Pod, sel labels.Selector, ns string) []string {
	var out []string
	for _, p := range pods {
		if (ns == "" || p.Namespace == ns) && sel.Matches(labels.Set(p.Labels)) {
			out = append(out, p.Name)
		}
	}
	sort.Strings(out)
	return out
}

// noneFound is kubectl's answer when nothing matches: "No resources found"
// (in the namespace), on standard error.
func noneFound(ns string) string {
	if ns != "" {
		return "No resources found in namespace " + ns + "."
	}
	return "No resources found."
}

// podRef is one pod argument, NAME or pod/NAME.
func podRef(a string) (string, error) {
	refs, err := podRefs([]string{a}, false)
	if err != nil {
		return "", err
	}
	return refs[0], nil
}

// onePodRef is podRef for a command that works on one pod (logs, exec,
// port-forward): deployment/NAME is one of its pods (the first by name), as
// kubectl picks one; w hears which.
func onePodRef(a, ns string, w io.Writer) (string, error) {
	kind, name := "statefulset", statefulSetRef(a)
	if name == "" {
		kind, name = "deployment", deploymentRef(a)
	}
	if name == "" {
		kind, name = "job", jobRef(a)
	}
	if name == "" {
		kind, name = "daemonset", typedRef(a, daemonSetTypes)
	}
	if name == "" {
		return podRef(a)
	}
	known, err := objstore.LoadObjects(podstate.DefaultDir())
	if err != nil {
		return "", err
	}
	recorded, err := runner.RecordedPods(podstate.DefaultDir())
	if err != nil {
		return "", err
	}
	var pods []string
	if sets := named(known.StatefulSets, name, ns); kind == "statefulset" && len(sets) > 0 {
		// the set's first pod, by ordinal
		pods = setPods(recorded, sets[0])
		slices.SortFunc(pods, func(a, b string) int { return setOrdinalOf(a) - setOrdinalOf(b) })
	} else if ds := named(known.Deployments, name, ns); kind == "deployment" && len(ds) > 0 {
		pods = ownedPods(recorded, ds[0])
		sort.Strings(pods)
	} else if dss := named(known.DaemonSets, name, ns); kind == "daemonset" && len(dss) > 0 {
		pods = daemonSetPods(recorded, dss[0])
		sort.Strings(pods)
	} else if js := named(known.Jobs, name, ns); kind == "job" && len(js) > 0 {
		// the Job's pods, the first made first (kubectl picks one)
		st, err := objstore.LoadJobState(podstate.DefaultDir(), js[0].Namespace, js[0].Name)
		if err != nil {
			return "", err
		}
		if pods, err = (&runner.Runner{StateDir: podstate.DefaultDir()}).JobPodNames(js[0].Namespace, st.UID); err != nil {
			return "", err
		}
	} else {
		return "", notFound{kind: kind, name: name, ns: ns}
	}
	if len(pods) == 0 {
		return "", fmt.Errorf("%w: %s %q has no pod", runner.ErrNotFound, kind, name)
	}
	if len(pods) > 1 {
		fmt.Fprintf(w, "Found %d pods, using pod/%s\n", len(pods), pods[0])
	}
	return pods[0], nil
}
