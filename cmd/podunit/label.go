package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/podstate/objstore"
	"github.com/podunit/podunit/runner"
)

// labelCommand is kubectl label for running pods: the Services select them by
// their new labels at once, and downwardAPI volumes of metadata.labels show
// them, as in Kubernetes; the containers' environment keeps what it had.
// `label node NODE` labels this host, the one node (labelNode).
func labelCommand() *cli.Command {
	return metaCommand(metaEdit{
		name: "label", word: "label", plural: "labels", done: "labeled",
		usage: "add, change (--overwrite) or remove (KEY-) labels of running pods, or of this host (label node NODE: what nodeSelector matches), like kubectl label",
		args:  "POD|pod/POD... | -l SELECTOR | node NODE  KEY=VALUE... KEY-... [--overwrite]",
		validate: func(set map[string]string) field.ErrorList {
			return pod.ValidateLabels(set, field.NewPath("metadata", "labels"))
		},
		edit: (*runner.Runner).Relabel,
	})
}

// annotateCommand is kubectl annotate for running pods: downwardAPI volumes
// of metadata.annotations show the new ones, as in Kubernetes. Those podunit
// reads when it makes a pod (its bandwidth, its network) are refused: they
// change when the pod is made again.
func annotateCommand() *cli.Command {
	return metaCommand(metaEdit{
		name: "annotate", word: "annotation", plural: "annotations", done: "annotated",
		usage: "add, change (--overwrite) or remove (KEY-) annotations of running pods, like kubectl annotate",
		args:  "POD|pod/POD... | -l SELECTOR  KEY=VALUE... KEY-... [--overwrite]",
		validate: func(set map[string]string) field.ErrorList {
			errs := pod.ValidateAnnotations(set, field.NewPath("metadata", "annotations"))
			for _, k := range pod.CreationAnnotations {
				if _, ok := set[k]; ok {
					errs = append(errs, field.Forbidden(field.NewPath("metadata", "annotations").Key(k), "read when the pod is made: apply its manifest with the new value and --replace"))
				}
			}
			return errs
		},
		edit: (*runner.Runner).Annotate,
	})
}

// metaEdit is what label and annotate each change.
type metaEdit struct {
	name, word, plural, done, usage string
	args                            string // the command's ArgsUsage
	validate                        func(set map[string]string) field.ErrorList
	edit                            func(r *runner.Runner, ctx context.Context, name string, set map[string]string, remove []string, overwrite bool) (*corev1.Pod, bool, error)
}

// check validates the keys and values to set and the keys to remove.
func (m metaEdit) check(set map[string]string, remove []string) error {
	removing := map[string]string{}
	for _, k := range remove {
		removing[k] = ""
	}
	if errs := append(m.validate(set), m.validate(removing)...); len(errs) > 0 {
		return fmt.Errorf("%w: %v", errUsage, errs.ToAggregate())
	}
	return nil
}

// addEdit takes a KEY=VALUE argument into set, or, where removable, a KEY-
// one into remove; false: a is neither.
func addEdit(a string, set map[string]string, remove *[]string, removable bool) bool {
	if k, v, ok := strings.Cut(a, "="); ok {
		set[k] = v
		return true
	}
	if removable && strings.HasSuffix(a, "-") {
		*remove = append(*remove, strings.TrimSuffix(a, "-"))
		return true
	}
	return false
}

// labelNodeArgs is `label node NODE KEY=VALUE... KEY-...`: this host's labels,
// which nodeSelector and node affinity match (labelNode); the DaemonSets
// whose fit that changes start or remove their pod (refitDaemonSets).
func (m metaEdit) labelNodeArgs(c *cli.Context, node string, args []string, vals map[string]string) error {
	set := map[string]string{}
	var remove []string
	for _, a := range args {
		if !addEdit(a, set, &remove, true) {
			return fmt.Errorf("%w: %q: one node (this host), then KEY=VALUE and KEY-", errUsage, a)
		}
	}
	if len(set)+len(remove) == 0 || vals["selector"] != "" {
		return fmt.Errorf("%w: podunit label node NODE KEY=VALUE... KEY-... [--overwrite]", errUsage)
	}
	if err := m.check(set, remove); err != nil {
		return err
	}
	before := nodeLabels()
	changed, err := labelNode(c.App.Writer, node, set, remove, vals["overwrite"] == "true")
	if err != nil || !changed {
		return err
	}
	return refitDaemonSets(c, before, nodeLabels())
}

func metaCommand(m metaEdit) *cli.Command {
	return &cli.Command{
		Name:      m.name,
		Usage:     m.usage,
		ArgsUsage: m.args,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "overwrite", Usage: "change the value of " + aOrAn(m.word) + " the pod has"},
			namespaceFlag(),
			selectorFlag(),
		},
		Action: func(c *cli.Context) error {
			pos, vals, err := cmdFlags(c, false)
			if err != nil {
				return err
			}
			if m.name == "label" {
				if node, rest, ok := nodeLabelTarget(pos); ok {
					return m.labelNodeArgs(c, node, rest, vals)
				}
			}
			var names []string
			set := map[string]string{}
			var remove []string
			for _, a := range pos {
				// KEY- only after a pod (a pod's name may end in "-")
				if addEdit(a, set, &remove, len(names)+len(set)+len(remove) > 0 && !strings.Contains(a, "/")) {
					continue
				}
				if len(set)+len(remove) > 0 {
					return fmt.Errorf("%w: %q: pods first, then KEY=VALUE and KEY-", errUsage, a)
				}
				names = append(names, a)
			}
			if names, err = podRefs(names, vals["selector"] != ""); err != nil {
				return err
			}
			if len(set)+len(remove) == 0 || (len(names) == 0 && vals["selector"] == "") {
				return fmt.Errorf("%w: podunit %s POD... KEY=VALUE... KEY-...", errUsage, m.name)
			}
			if err := m.check(set, remove); err != nil {
				return err
			}
			if names, err = selectPods(names, vals["selector"], vals["namespace"]); err != nil {
				return err
			}
			for _, n := range names {
				if err := inNamespace(n, vals["namespace"]); err != nil {
					return err
				}
			}
			return withRunner(c, time.Minute, func(ctx context.Context, r *runner.Runner) error {
				dir := podstate.DefaultDir()
				for _, n := range names {
					p, changed, err := m.edit(r, ctx, n, set, remove, vals["overwrite"] == "true")
					if err != nil {
						return err
					}
					if !changed {
						fmt.Fprintf(c.App.Writer, "pod/%s not %s\n", n, m.done)
						continue
					}
					known, err := objstore.LoadObjects(dir)
					if err != nil {
						return err
					}
					// the new ones reach downwardAPI volumes and the stored copy
					if err := refreshPod(ctx, dir, p, known, translateOptions(), "with the pod's new "+m.plural); err != nil {
						fmt.Fprintf(c.App.ErrWriter, "warning: pod %q: its volumes keep the %s they had: %v\n", n, m.plural, err)
					}
					if running, err := runner.RecordedPods(dir); err == nil {
						refreshStored(c.App.ErrWriter, running, known)
					} else {
						fmt.Fprintf(c.App.ErrWriter, "warning: the enabled pods' stored copies were not refreshed: %v\n", err)
					}
					fmt.Fprintf(c.App.Writer, "pod/%s %s\n", n, m.done)
				}
				return nil
			})
		},
	}
}

// aOrAn is a word with its article.
func aOrAn(word string) string {
	if strings.ContainsRune("aeiou", rune(word[0])) {
		return "an " + word
	}
	return "a " + word
}
