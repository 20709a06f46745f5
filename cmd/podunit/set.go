package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
	corev1 "k8s.io/api/core/v1"
)

// setCommand is kubectl set image: a Deployment's or StatefulSet's
// template gets new container images, and its pods roll out as its
// strategy says (a StatefulSet's OnDelete pods take it when they are
// taken down).
func setCommand() *cli.Command {
	nsFlag := &cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Usage: "the object's namespace (default: the only one of that name)"}
	return &cli.Command{
		Name:  "set",
		Usage: "change the images of a Deployment's or StatefulSet's containers, like kubectl set image; its pods roll out",
		Subcommands: []*cli.Command{{
			Name:      "image",
			Usage:     "set container images of a Deployment's or StatefulSet's template (CONTAINER=IMAGE; *=IMAGE for every container); its pods roll out",
			ArgsUsage: "deployment/NAME | statefulset/NAME  CONTAINER=IMAGE...",
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
				kind, name, ok := strings.Cut(pos[0], "/")
				if !ok || name == "" {
					return usage
				}
				images, err := parseImages(pos[1:])
				if err != nil {
					return err
				}
				ns := vals["namespace"]
				switch {
				case slices.Contains(deploymentTypes, strings.ToLower(kind)):
					d, err := oneNamed(deploymentsNamed, "deployment", name, ns)
					if err != nil {
						return err
					}
					d = d.DeepCopy()
					changed, err := setImages(&d.Spec.Template.Spec, images)
					if err != nil {
						return err
					} else if !changed {
						fmt.Fprintf(c.App.Writer, "deployment.apps/%s image unchanged\n", d.Name)
						return nil
					}
					if err := applyDeployment(c, d, false); err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "deployment.apps/%s image updated\n", d.Name)
					return nil
				case slices.Contains(statefulSetTypes, strings.ToLower(kind)):
					s, err := oneNamed(statefulSetsNamed, "statefulset", name, ns)
					if err != nil {
						return err
					}
					s = s.DeepCopy()
					changed, err := setImages(&s.Spec.Template.Spec, images)
					if err != nil {
						return err
					} else if !changed {
						fmt.Fprintf(c.App.Writer, "statefulset.apps/%s image unchanged\n", s.Name)
						return nil
					}
					if err := applyStatefulSet(c, s, false); err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "statefulset.apps/%s image updated\n", s.Name)
					return nil
				case slices.Contains(podTypes, strings.ToLower(kind)):
					return fmt.Errorf("%w: a pod's images change with its manifest: edit it and `podunit up --replace` it (the pod is made again); set image takes Deployments and StatefulSets", errUsage)
				}
				return usage
			},
		}},
	}
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
		found := false
		for _, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
			for i := range list {
				if ci.container == "*" || list[i].Name == ci.container {
					found = true
					changed = changed || list[i].Image != ci.image
					list[i].Image = ci.image
				}
			}
		}
		if !found {
			return false, fmt.Errorf("%w: unable to find container named %q", errUsage, ci.container)
		}
	}
	return changed, nil
}
