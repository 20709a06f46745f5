package units

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/podunit/podunit/pod"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "1", "B": "two", "EMPTY": ""}
	lookup := func(n string) (string, bool) { v, ok := vars[n]; return v, ok }
	for _, c := range []struct{ name, in, want string }{
		{"plain", "hello", "hello"},
		{"defined", "$(A)", "1"},
		{"two refs", "$(A)-$(B)", "1-two"},
		{"empty value", "x$(EMPTY)y", "xy"},
		{"undefined stays", "$(NOPE)", "$(NOPE)"},
		{"escaped ref", "$$(A)", "$(A)"},
		{"double dollar", "$$", "$"},
		{"shell var untouched", "$HOME", "$HOME"},
		{"braces untouched", "${A}", "${A}"},
		{"trailing dollar", "cost $", "cost $"},
		{"unclosed", "$(A", "$(A"},
		{"escaped then ref", "$$$(A)", "$1"},
		{"nested parens", "$(A)(B)", "1(B)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Expand(c.in, lookup); got != c.want {
				t.Errorf("Expand(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestUnitNames(t *testing.T) {
	for _, c := range []struct{ pod, ctr, unit string }{
		{"web", "app", `podunit-web-app.service`},
		{"my-app", "web-server", `podunit-my\x2dapp-web\x2dserver.service`},
		{"a-b", "c", `podunit-a\x2db-c.service`},
		{"a", "b-c", `podunit-a-b\x2dc.service`},
	} {
		if got := ContainerUnitName(c.pod, c.ctr); got != c.unit {
			t.Errorf("ContainerUnitName(%q, %q) = %q, want %q", c.pod, c.ctr, got, c.unit)
		}
		p, ctr, ok := ParseUnitName(c.unit)
		if !ok || p != c.pod || ctr != c.ctr {
			t.Errorf("ParseUnitName(%q) = %q, %q, %v", c.unit, p, ctr, ok)
		}
	}
	if p, c, ok := ParseUnitName(InfraUnitName("my-app")); !ok || p != "my-app" || c != "" {
		t.Errorf("infra unit parses as %q %q %v", p, c, ok)
	}
	for _, bad := range []string{"podunit.slice", "other-web.service", `podunit-a-b-c.service`, `podunit-\xZZ.service`, ProberUnitName("web"), ProberUnitName("a-b")} {
		if _, _, ok := ParseUnitName(bad); ok {
			t.Errorf("ParseUnitName(%q) accepted", bad)
		}
	}
	if SliceName("my-app") != `podunit-my\x2dapp.slice` {
		t.Errorf("slice name %q", SliceName("my-app"))
	}
	// The podman names of two pods never collide: "_" is not in a DNS label.
	if ContainerName("a-b", "c") == ContainerName("a", "b-c") {
		t.Error("container names collide")
	}
}

func TestCPUWeight(t *testing.T) {
	for _, c := range []struct {
		milli int64
		want  uint64
	}{{0, 1}, {1, 1}, {100, 4}, {250, 10}, {1000, 39}, {2000, 79}, {1000000, 10000}} {
		if got := cpuWeight(c.milli); got != c.want {
			t.Errorf("cpuWeight(%dm) = %d, want %d", c.milli, got, c.want)
		}
	}
}

func TestQuoteExecArg(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain", "plain"},
		{"", `""`},
		{"two words", `"two words"`},
		{`say "hi"`, `"say \"hi\""`},
		{"$HOME", "$$HOME"},
		{"50%", "50%%"},
		{";", `";"`},
		{"a\nb", `"a\nb"`},
		{`back\slash`, `"back\\slash"`},
	} {
		if got := QuoteExecArg(c.in); got != c.want {
			t.Errorf("QuoteExecArg(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestResourceValue(t *testing.T) {
	q := resource.MustParse
	c := &corev1.Container{Resources: corev1.ResourceRequirements{
		Limits:   corev1.ResourceList{"cpu": q("1500m"), "memory": q("100Mi")},
		Requests: corev1.ResourceList{"memory": q("10M"), "ephemeral-storage": q("1Gi")},
	}}
	bare := &corev1.Container{}
	node := Options{Allocatable: corev1.ResourceList{"cpu": q("4"), "memory": q("8Gi"), "ephemeral-storage": q("100Gi")}}
	podLimits := &corev1.PodSpec{Resources: &corev1.ResourceRequirements{Limits: corev1.ResourceList{"memory": q("256Mi")}}}
	for _, x := range []struct {
		p        *corev1.PodSpec
		c        *corev1.Container
		o        Options
		res, div string
		want     string
	}{
		{&corev1.PodSpec{}, c, Options{}, "limits.cpu", "", "2"}, // rounded up to whole CPUs
		{&corev1.PodSpec{}, c, Options{}, "limits.cpu", "1m", "1500"},
		{&corev1.PodSpec{}, c, Options{}, "limits.memory", "1Mi", "100"},
		{&corev1.PodSpec{}, c, Options{}, "limits.memory", "", "104857600"},
		{&corev1.PodSpec{}, c, Options{}, "requests.memory", "1Ki", "9766"},
		{&corev1.PodSpec{}, c, Options{}, "requests.cpu", "1m", "1500"}, // a request defaults to the limit
		{&corev1.PodSpec{}, c, Options{}, "requests.ephemeral-storage", "1Mi", "1024"},
		// a limit not set: the pod's, else the node's allocatable
		{&corev1.PodSpec{}, c, node, "limits.ephemeral-storage", "1Gi", "100"},
		{&corev1.PodSpec{}, bare, node, "limits.cpu", "", "4"},
		{&corev1.PodSpec{}, bare, node, "limits.memory", "1Mi", "8192"},
		{podLimits, bare, node, "limits.memory", "1Mi", "256"},
		{podLimits, bare, node, "limits.cpu", "1m", "4000"},
		{&corev1.PodSpec{}, bare, Options{}, "limits.memory", "", "0"}, // not known
		// a request not set, nor its limit: 0
		{&corev1.PodSpec{}, bare, node, "requests.cpu", "", "0"},
		{podLimits, bare, node, "requests.memory", "", "0"},
	} {
		rr := &corev1.ResourceFieldSelector{Resource: x.res}
		if x.div != "" {
			rr.Divisor = q(x.div)
		}
		got, err := resourceValue(x.p, x.c, rr, x.o)
		if err != nil || got != x.want {
			t.Errorf("%s / %q = %q (%v), want %q", x.res, x.div, got, err, x.want)
		}
	}
}

// pod's validation counts a container's unit name as ContainerUnitName
// writes it, and a pod's own units fit systemd's limit whatever its name.
func TestUnitNameLengths(t *testing.T) {
	dashes := strings.Repeat("a-", 31) + "a" // 63 characters, 31 of them "-"
	for _, c := range [][2]string{{"web", "app"}, {"my-app", "web-server"}, {dashes, "c"}, {dashes, dashes}, {"p", strings.Repeat("b", 63)}} {
		if got, want := pod.ContainerUnitNameLen(c[0], c[1]), len(ContainerUnitName(c[0], c[1])); got != want {
			t.Errorf("ContainerUnitNameLen(%q, %q) = %d, ContainerUnitName's is %d", c[0], c[1], got, want)
		}
	}
	for _, name := range []string{SliceName(dashes), InfraUnitName(dashes), ProberUnitName(dashes), DeadlineUnitName(dashes), EndUnitName(dashes)} {
		if len(name) > pod.MaxUnitName {
			t.Errorf("%s: %d characters", name, len(name))
		}
	}
}

// Without podunit-helper (a `go install` of podunit alone) the units run
// podunit's own helper commands; with it, every pod helper runs it.
func TestHelperPathFallsBackToSelf(t *testing.T) {
	m, err := pod.Load([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: [{name: app, image: img}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ helper, want string }{{"", "/usr/bin/podunit"}, {"/usr/libexec/podunit/podunit-helper", "/usr/libexec/podunit/podunit-helper"}} {
		o := Options{Podman: "/usr/bin/podman", Self: "/usr/bin/podunit", Helper: c.helper, InfraImage: "infra"}
		plan, err := Translate(m.Pods[0], m.Resolved["web"], o)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range plan.Units() {
			for _, p := range u.Properties {
				execs, ok := p.Value.([]Exec)
				if !ok {
					continue
				}
				for _, e := range execs {
					if e.Argv[0] != c.want && e.Argv[0] != "/usr/bin/podman" {
						t.Errorf("helper %q: %s %s runs %s", c.helper, u.Name, p.Name, e.Argv[0])
					}
				}
			}
		}
		if got := plan.Infra.Property("ExecStart").Value.([]Exec)[0].Argv[0]; got != c.want {
			t.Errorf("helper %q: the infra runs %s", c.helper, got)
		}
	}
}
