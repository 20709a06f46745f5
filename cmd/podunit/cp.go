package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/podunit/podunit/podstate"
)

// cpCommand is kubectl cp: files between this host and a container of a pod
// (POD:PATH on one side), through podman cp: no tar needed in the image.
func cpCommand() *cli.Command {
	return &cli.Command{
		Name:      "cp",
		Usage:     "copy files between this host and a pod's container, like kubectl cp (POD:PATH on one side)",
		ArgsUsage: "SRC DEST [-c CONTAINER] (one of them POD:PATH, or NAMESPACE/POD:PATH)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "container", Aliases: []string{"c"}, Usage: "the container (default: the one its kubectl.kubernetes.io/default-container annotation names, else its first app container)"},
			namespaceFlag(),
		},
		Action: func(c *cli.Context) error {
			pos, vals, err := cmdFlags(c, false)
			if err != nil {
				return err
			}
			if len(pos) != 2 {
				return fmt.Errorf("%w: podunit cp SRC DEST (one of them POD:PATH)", errUsage)
			}
			podArg := -1
			args := make([]string, 2)
			for i, a := range pos {
				ns, pod, path, ok := splitPodPath(a)
				if !ok {
					args[i] = a
					continue
				}
				if podArg >= 0 {
					return fmt.Errorf("%w: podunit cp copies between this host and a pod: only one side is POD:PATH", errUsage)
				}
				podArg = i
				if ns == "" {
					ns = vals["namespace"]
				}
				if err := inNamespace(pod, ns); err != nil {
					return err
				}
				ctr, err := execTarget(podstate.DefaultDir(), pod, vals["container"], c.App.ErrWriter)
				if err != nil {
					return err
				}
				args[i] = ctr.Podman + ":" + path
			}
			if podArg < 0 {
				return fmt.Errorf("%w: podunit cp: one side is POD:PATH", errUsage)
			}
			podman := podmanPath()
			return syscall.Exec(podman, []string{podman, "cp", args[0], args[1]}, os.Environ())
		},
	}
}

// splitPodPath reads kubectl cp's [NAMESPACE/]POD:PATH. A local path with a
// colon is written with a slash before it (./a:b), as for kubectl.
func splitPodPath(s string) (ns, pod, path string, ok bool) {
	ref, path, found := strings.Cut(s, ":")
	if !found || ref == "" || path == "" || strings.HasPrefix(s, "/") || strings.HasPrefix(s, ".") {
		return "", "", "", false
	}
	if n, p, slash := strings.Cut(ref, "/"); slash {
		if strings.Contains(p, "/") || n == "" || p == "" {
			return "", "", "", false
		}
		return n, p, path, true
	}
	return "", ref, path, true
}
