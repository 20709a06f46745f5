package units_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podunit/podunit/cluster"
	"github.com/podunit/podunit/helper"
	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/units"
)

// Every detached container the translator writes for the golden cases (the
// infra, app, sidecar and debug containers, and the service proxy) starts
// through podunit's podman service: the run helper's create request takes
// each of their flags. A flag
// the translator gains and the create request lacks fails here, rather than
// quietly sending those containers back to podman run.
func TestDetachedContainersAreLaunchable(t *testing.T) {
	cases, _ := filepath.Glob("testdata/*.yaml")
	checked := 0
	for _, in := range cases {
		data, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		m, err := pod.Load(data)
		if err != nil {
			continue // a refused manifest
		}
		o := goldenOptions
		name := filepath.Base(in)
		if strings.HasPrefix(name, "net-") {
			o.PodNetwork, o.Services = true, m.Objects.Services
		}
		o.AppArmor, o.SELinux = strings.Contains(name, "apparmor"), strings.Contains(name, "selinux")
		var args [][]string
		var envs []map[string]string
		for _, p := range m.Pods {
			plan, err := units.Translate(p, m.Resolved[p.Name], o)
			if err != nil {
				continue
			}
			all := append([]contract.Container{plan.Runtime.InfraSpec}, plan.Runtime.Containers...)
			for _, c := range all {
				if c.Kind == contract.KindInit {
					continue
				}
				env := map[string]string{}
				for _, e := range c.Env {
					env[e.Name] = e.Value
				}
				a := append([]string(nil), c.Args...)
				for _, sp := range c.SubPaths {
					// the run helper puts the volume's directory in place
					if sp.Volume != "" {
						a[sp.Arg] = strings.Replace(a[sp.Arg], contract.VolumeRef(sp.Volume), "/data/volumes/"+sp.Volume+"/_data", 1)
					}
				}
				args, envs = append(args, a), append(envs, env)
			}
		}
		if o.PodNetwork {
			svc := units.ServicesFor(o, cluster.NodePorts(m.Objects.Services))
			args, envs = append(args, svc.Run[1:]), append(envs, nil)
		}
		for i, a := range args {
			_, err := helper.SpecFromArgs(a, envs[i])
			line := strings.Join(a, " ")
			if err != nil {
				t.Errorf("%s: %v\n%s", name, err, line)
				continue
			}
			checked++
		}
	}
	t.Logf("%d command lines checked", checked)
	if checked < 50 {
		t.Errorf("only %d command lines checked", checked)
	}
}
