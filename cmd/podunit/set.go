package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/podstate/objstore"
)

// setCommand is kubectl set image and set env: a Deployment's or
// StatefulSet's template gets new container images or environment, and its
// pods roll out as its strategy says (a StatefulSet's OnDelete pods take it
// when they are taken down).
func setCommand() *cli.Command {
	nsFlag := &cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Usage: "the object's namespace (default: the only one of that name)"}
	return &cli.Command{
		Name:  "set",
		Usage: "change the images or environment of a Deployment's, StatefulSet's or DaemonSet's containers, like kubectl set image|env; its pods roll out",
		Subcommands: []*cli.Command{{
			Name:      "image",
			Usage:     "set container images of a Deployment's, StatefulSet's or DaemonSet's template (CONTAINER=IMAGE; *=IMAGE for every container); its pods roll out",
			ArgsUsage: "deployment/NAME | statefulset/NAME | daemonset/NAME  CONTAINER=IMAGE...",
			Flags:     []cli.Flag{nsFlag},
			Action: func(c *cli.Context) error {
				pos, vals, err := cmdFlags(c, false)
				if err != nil {
					return err
				}
				usage := fmt.Errorf("%w: podunit set image deployment/NAME|statefulset/NAME CONTAINER=IMAGE... (*=IMAGE: every container)", errUsage)
				if len(pos) < 2 {
					return usage
				}
				images, err := parseImages(pos[1:])
				if err != nil {
					return err
				}
				return editTemplate(c, pos[0], vals["namespace"], "image", usage, func(spec *corev1.PodSpec) (bool, error) {
					return setImages(spec, images)
				})
			},
		}, {
			Name:      "env",
			Usage:     "set (KEY=VALUE) or remove (KEY-) environment variables of a Deployment's, StatefulSet's or DaemonSet's containers, like kubectl set env; its pods roll out (--list: print them)",
			ArgsUsage: "deployment/NAME | statefulset/NAME  KEY=VALUE... KEY-... [-c CONTAINER] | --list",
			Flags: []cli.Flag{nsFlag,
				&cli.StringFlag{Name: "containers", Aliases: []string{"c"}, Value: "*", Usage: "the containers to change (a name, or * for every one, init containers too)"},
				&cli.BoolFlag{Name: "list", Usage: "print the containers' environment instead"},
			},
			Action: func(c *cli.Context) error {
				pos, vals, err := cmdFlags(c, false)
				if err != nil {
					return err
				}
				usage := fmt.Errorf("%w: podunit set env deployment/NAME|statefulset/NAME KEY=VALUE... KEY-... [-c CONTAINER], or --list", errUsage)
				if len(pos) < 1 {
					return usage
				}
				containers := vals["containers"]
				if containers == "" {
					containers = "*"
				}
				if vals["list"] == "true" {
					if len(pos) > 1 {
						return fmt.Errorf("%w: --list takes no KEY=VALUE", errUsage)
					}
					return editTemplate(c, pos[0], vals["namespace"], "", usage, func(spec *corev1.PodSpec) (bool, error) {
						return false, listEnv(c.App.Writer, spec, containers)
					})
				}
				set, remove, err := parseEnvArgs(pos[1:])
				if err != nil {
					return err
				}
				return editTemplate(c, pos[0], vals["namespace"], "env", usage, func(spec *corev1.PodSpec) (bool, error) {
					return setEnv(spec, containers, set, remove)
				})
			},
		}},
	}
}

// editTemplate changes the template of a stored Deployment, StatefulSet or DaemonSet
// (ref: TYPE/NAME) with edit and applies it, as up applies it (its pods roll
// out), saying "<kind>.apps/NAME <what> updated", or unchanged. what ""
// only looks (edit changes nothing).
func editTemplate(c *cli.Context, ref, ns, what string, usage error, edit func(*corev1.PodSpec) (bool, error)) error {
	kind, name, ok := strings.Cut(ref, "/")
	if !ok || name == "" {
		return usage
	}
	// the object found: its word, name and template, and how it is applied
	var word string
	var tmpl *corev1.PodTemplateSpec
	var apply func() error
	switch kind = strings.ToLower(kind); {
	case slices.Contains(deploymentTypes, kind):
		d, err := oneNamed(deploymentsNamed, "deployment", name, ns)
		if err != nil {
			return err
		}
		d = d.DeepCopy()
		word, tmpl, apply = "deployment.apps", &d.Spec.Template, func() error { return applyDeployment(c, d, false) }
	case slices.Contains(statefulSetTypes, kind):
		st, err := oneNamed(statefulSetsNamed, "statefulset", name, ns)
		if err != nil {
			return err
		}
		st = st.DeepCopy()
		word, tmpl, apply = "statefulset.apps", &st.Spec.Template, func() error { return applyStatefulSet(c, st, false) }
	case slices.Contains(daemonSetTypes, kind):
		ds, err := oneNamed(func(name, ns string) ([]*appsv1.DaemonSet, error) {
			known, err := objstore.LoadObjects(podstate.DefaultDir())
			if err != nil {
				return nil, err
			}
			return named(known.DaemonSets, name, ns), nil
		}, "daemonset", name, ns)
		if err != nil {
			return err
		}
		ds = ds.DeepCopy()
		word, tmpl, apply = "daemonset.apps", &ds.Spec.Template, func() error { return applyDaemonSet(c, ds, false) }
	case slices.Contains(podTypes, kind):
		return fmt.Errorf("%w: a pod's containers change with its manifest: edit it and `podunit up --replace` it (the pod is made again); set takes Deployments, StatefulSets and DaemonSets", errUsage)
	default:
		return usage
	}
	changed, err := edit(&tmpl.Spec)
	if err != nil || what == "" {
		return err
	}
	if !changed {
		fmt.Fprintf(c.App.Writer, "%s/%s %s unchanged\n", word, name, what)
		return nil
	}
	if err := apply(); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "%s/%s %s updated\n", word, name, what)
	return nil
}

// oneNamed is the one stored object of a name (in namespace ns, or in any
// when ns is ""): not found, or a usage error when several namespaces
// have one.
func oneNamed[T any](named func(name, ns string) ([]T, error), kind, name, ns string) (T, error) {
	var none T
	found, err := named(name, ns)
	switch {
	case err != nil:
		return none, err
	case len(found) == 0:
		return none, notFound{kind: kind, name: name, ns: ns}
	case len(found) > 1:
		return none, fmt.Errorf("%w: %s %q is in several namespaces: say which with -n", errUsage, kind, name)
	}
	return found[0], nil
}

// containerImage is one CONTAINER=IMAGE of set image.
type containerImage struct{ container, image string }

// parseImages reads CONTAINER=IMAGE arguments (pure, tested).
func parseImages(args []string) ([]containerImage, error) {
	var out []containerImage
	for _, a := range args {
		c, img, ok := strings.Cut(a, "=")
		if !ok || c == "" || strings.TrimSpace(img) == "" || img != strings.TrimSpace(img) {
			return nil, fmt.Errorf("%w: %q: set image takes CONTAINER=IMAGE (*=IMAGE for every container)", errUsage, a)
		}
		if slices.ContainsFunc(out, func(x containerImage) bool { return x.container == c }) {
			return nil, fmt.Errorf("%w: container %q is given twice", errUsage, c)
		}
		out = append(out, containerImage{c, img})
	}
	return out, nil
}

// setImages sets the images of a template's containers (init containers
// too; * every one), as kubectl set image does; a name that is none of
// its containers is an error, as kubectl's "unable to find container".
// It tells whether any image changed (pure, tested).
func setImages(spec *corev1.PodSpec, images []containerImage) (bool, error) {
	changed := false
	for _, ci := range images {
		err := eachContainer(spec, ci.container, func(c *corev1.Container) {
			changed = changed || c.Image != ci.image
			c.Image = ci.image
		})
		if err != nil {
			return false, err
		}
	}
	return changed, nil
}

// eachContainer calls f with each of a template's containers named which
// (* every one), init containers first, as kubectl set picks them; none of
// that name is kubectl's "unable to find container".
func eachContainer(spec *corev1.PodSpec, which string, f func(*corev1.Container)) error {
	found := false
	for _, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range list {
			if which == "*" || list[i].Name == which {
				found = true
				f(&list[i])
			}
		}
	}
	if !found {
		return fmt.Errorf("%w: unable to find container named %q", errUsage, which)
	}
	return nil
}

// parseEnvArgs reads KEY=VALUE and KEY- arguments of set env (pure,
// tested): names as Kubernetes takes them (C_IDENTIFIER-like: no '='), in
// the order given.
func parseEnvArgs(args []string) (set []corev1.EnvVar, remove []string, err error) {
	if len(args) == 0 {
		return nil, nil, fmt.Errorf("%w: set env takes KEY=VALUE or KEY- (or --list)", errUsage)
	}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		switch {
		case ok && k != "":
			if errs := validation.IsEnvVarName(k); len(errs) > 0 {
				return nil, nil, fmt.Errorf("%w: %q: %s", errUsage, k, strings.Join(errs, "; "))
			}
			set = slices.DeleteFunc(set, func(e corev1.EnvVar) bool { return e.Name == k })
			set = append(set, corev1.EnvVar{Name: k, Value: v})
		case !ok && strings.HasSuffix(a, "-") && len(a) > 1:
			remove = append(remove, strings.TrimSuffix(a, "-"))
		default:
			return nil, nil, fmt.Errorf("%w: %q: set env takes KEY=VALUE or KEY-", errUsage, a)
		}
	}
	return set, remove, nil
}

// setEnv sets and removes environment variables of a template's containers
// whose name is which (* every one, init containers too), as kubectl set
// env: a variable set replaces one of its name (a valueFrom too), a new
// one goes last. It tells whether anything changed (pure, tested).
func setEnv(spec *corev1.PodSpec, which string, set []corev1.EnvVar, remove []string) (bool, error) {
	changed := false
	err := eachContainer(spec, which, func(c *corev1.Container) {
		for _, e := range set {
			if j := slices.IndexFunc(c.Env, func(x corev1.EnvVar) bool { return x.Name == e.Name }); j >= 0 {
				if c.Env[j].Value != e.Value || c.Env[j].ValueFrom != nil {
					c.Env[j], changed = e, true
				}
			} else {
				c.Env, changed = append(c.Env, e), true
			}
		}
		n := len(c.Env)
		c.Env = slices.DeleteFunc(c.Env, func(x corev1.EnvVar) bool { return slices.Contains(remove, x.Name) })
		changed = changed || len(c.Env) != n
	})
	return changed && err == nil, err
}

// listEnv prints the environment of a template's containers as kubectl set
// env --list does: a comment naming each container, KEY=VALUE lines, and
// where a value comes from for the others (a Secret's value is never read).
func listEnv(w io.Writer, spec *corev1.PodSpec, which string) error {
	return eachContainer(spec, which, func(c *corev1.Container) {
		fmt.Fprintf(w, "# container %s\n", c.Name)
		for _, e := range c.Env {
			switch f := e.ValueFrom; {
			case f == nil:
				fmt.Fprintf(w, "%s=%s\n", e.Name, e.Value)
			case f.ConfigMapKeyRef != nil:
				fmt.Fprintf(w, "# %s from configmap %s, key %s\n", e.Name, f.ConfigMapKeyRef.Name, f.ConfigMapKeyRef.Key)
			case f.SecretKeyRef != nil:
				fmt.Fprintf(w, "# %s from secret %s, key %s\n", e.Name, f.SecretKeyRef.Name, f.SecretKeyRef.Key)
			case f.FieldRef != nil:
				fmt.Fprintf(w, "# %s from field path %s\n", e.Name, f.FieldRef.FieldPath)
			case f.ResourceFieldRef != nil:
				fmt.Fprintf(w, "# %s from resource %s\n", e.Name, f.ResourceFieldRef.Resource)
			default:
				fmt.Fprintf(w, "# %s from a source\n", e.Name)
			}
		}
		for _, ef := range c.EnvFrom {
			switch {
			case ef.ConfigMapRef != nil:
				fmt.Fprintf(w, "# all keys of configmap %s (prefix %q)\n", ef.ConfigMapRef.Name, ef.Prefix)
			case ef.SecretRef != nil:
				fmt.Fprintf(w, "# all keys of secret %s (prefix %q)\n", ef.SecretRef.Name, ef.Prefix)
			}
		}
	})
}
