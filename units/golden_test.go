package units_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/podunit/podunit/cluster"
	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/units"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var goldenOptions = units.Options{
	Podman:        "/usr/bin/podman",
	Self:          "/usr/bin/podunit",
	Helper:        "/usr/libexec/podunit/podunit-helper",
	InfraImage:    "localhost/podunit-infra:test",
	NodeName:      "node1",
	UID:           "00000000-0000-4000-8000-000000000001",
	StateDir:      "/run/user/1000/podunit",
	ContainerLogs: "/home/u/.local/state/podunit/logs",
	SeccompDir:    "/home/u/.config/podunit/seccomp",
	Allocatable: corev1.ResourceList{"cpu": resource.MustParse("4"), "memory": resource.MustParse("8Gi"),
		"ephemeral-storage": resource.MustParse("100Gi")},
}

// TestGolden translates every testdata/<case>.yaml and compares the dry-run text
// (or, for a manifest podunit must refuse, the error) with <case>.golden / <case>.err.
func TestGolden(t *testing.T) {
	cases, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, in := range cases {
		name := strings.TrimSuffix(filepath.Base(in), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got, gotErr := translate(data, strings.HasPrefix(name, "net-"), strings.Contains(name, "apparmor"), strings.Contains(name, "selinux"))
			if gotErr != nil {
				got = gotErr.Error()
			}
			// No value of any Secret in the manifest shows, in plan or error.
			if m, err := pod.Load(data); err == nil {
				for _, s := range m.Objects.Secrets {
					for k, v := range s.Data {
						if len(v) >= 6 && strings.Contains(got, string(v)) {
							t.Errorf("the value of Secret %s key %s shows", s.Name, k)
						}
					}
				}
			}
			if strings.Contains(got, "s3cr") {
				t.Error("a secret value (s3cr...) shows")
			}
			base := strings.TrimSuffix(in, ".yaml")
			want := base + ".golden"
			if gotErr != nil {
				want, got = base+".err", gotErr.Error()+"\n"
				if !errors.Is(gotErr, pod.ErrInvalid) {
					t.Errorf("error does not wrap pod.ErrInvalid: %v", gotErr)
				}
			}
			if *update {
				os.Remove(base + ".golden")
				os.Remove(base + ".err")
				if err := os.WriteFile(want, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			exp, err := os.ReadFile(want)
			if err != nil {
				t.Fatalf("%v (got:\n%s)", err, got)
			}
			if string(exp) != got {
				t.Errorf("%s differs (run go test ./units -update to accept):\n--- want\n%s\n--- got\n%s", want, exp, got)
			}
		})
	}
}

// translate renders a manifest's plan; onNetwork puts its pods on the pod
// network (the cases named net-*), with its Services assigned addresses.
// translate renders a manifest's plans: on the pod network for cases named
// net-*, on a host with AppArmor for cases named *apparmor*, with SELinux for
// cases named *selinux*.
func translate(data []byte, onNetwork, appArmor, seLinux bool) (string, error) {
	m, err := pod.Load(data)
	if err != nil {
		return "", err
	}
	o := goldenOptions
	o.AppArmor, o.SELinux = appArmor, seLinux
	if onNetwork {
		o.PodNetwork = true
		if cs := cluster.Assign(m.Objects.Services, nil); cs != nil {
			return "", cs[0]
		}
		// this host (192.0.2.2) the load balancer, for a rootless user
		warns, cs := cluster.LoadBalancers(m.Objects.Services, nil, 1024, "192.0.2.2")
		if cs != nil {
			return "", cs[0]
		}
		m.Warnings = append(m.Warnings, warns...)
		o.Services = m.Objects.Services
	}
	var b strings.Builder
	for _, w := range m.Warnings {
		b.WriteString("# warning: " + w + "\n")
	}
	for _, p := range m.Pods {
		plan, err := units.Translate(p, m.Resolved[p.Name], o)
		if err != nil {
			return "", err
		}
		b.WriteString(plan.Render())
	}
	if onNetwork {
		// the service proxy's units, as up --dry-run shows them
		b.WriteString(units.ServicesFor(o, cluster.NodePorts(m.Objects.Services)).Render())
	}
	return b.String(), nil
}
