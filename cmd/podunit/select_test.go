package main

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPodRefs(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		selector bool
		want     []string
		err      string
	}{
		{args: []string{"web"}, want: []string{"web"}},
		{args: []string{"pod/web", "pods/db", "po/x"}, want: []string{"web", "db", "x"}},
		{args: []string{"pod", "web", "db"}, want: []string{"web", "db"}},
		{args: []string{"pods"}, selector: true, want: []string{}},
		{args: []string{"pod"}, want: []string{"pod"}}, // a pod named pod
		{args: []string{"examples/web.yaml"}, want: []string{"examples/web.yaml"}},
		{args: []string{"svc/web"}, err: "svc/web is not a pod"},
		{args: []string{"web", "deployment/web"}, err: "deployment/web is not a pod"},
	} {
		got, err := podRefs(tc.args, tc.selector)
		if tc.err != "" {
			if err == nil || !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: error %v, want usage error %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%v: %q, %v; want %q", tc.args, got, err, tc.want)
		}
	}
}

func TestGetArgs(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		kind  string
		names []string
		err   bool
	}{
		{args: []string{"pods"}, kind: "pods"},
		{args: []string{"po", "a", "b"}, kind: "pods", names: []string{"a", "b"}},
		{args: []string{"svc", "dns"}, kind: "services", names: []string{"dns"}},
		{args: []string{"pod/a", "pods/b"}, kind: "pods", names: []string{"a", "b"}},
		{args: []string{"service/dns"}, kind: "services", names: []string{"dns"}},
		{args: []string{"deploy/a", "deployment/b"}, kind: "deployments", names: []string{"a", "b"}},
		{args: []string{"deployments"}, kind: "deployments"},
		{args: []string{"all"}, kind: "pods[] services[] daemonsets[] deployments[] replicasets[] statefulsets[] jobs[] cronjobs[]"},
		{args: []string{"all", "web"}, err: true},
		{args: []string{"pods,svc"}, kind: "pods[] services[]"},
		{args: []string{"svc,po,ep", "a", "b"}, kind: "services[a b] pods[a b] endpoints[a b]"},
		{args: []string{"all,cm"}, kind: "pods[] services[] daemonsets[] deployments[] replicasets[] statefulsets[] jobs[] cronjobs[] configmaps[]"},
		{args: []string{"pods,svc,pods"}, kind: "pods[] services[]"},
		{args: []string{"pods,rs"}, kind: "pods[] replicasets[]"},
		{args: []string{"pods,ds"}, kind: "pods[] daemonsets[]"},
		{args: []string{"pods,ingress"}, kind: "pods[] ingresses[]"},
		{args: []string{"pods,netpol"}, kind: "pods[] networkpolicies[]"},
		{args: []string{"endpointslices,endpoints"}, kind: "endpointslices[] endpoints[]"},
		{args: []string{"endpointslice/db-1", "ep/db"}, kind: "endpointslices[db-1] endpoints[db]"},
		{args: []string{"pods,hpa"}, err: true},
		{args: []string{"pods,"}, err: true},
		{args: []string{"pod/a", "svc/b", "pod/c"}, kind: "pods[a c] services[b]"},
		{args: []string{"deploy/a", "pod/b"}, kind: "deployments[a] pods[b]"},
		{args: []string{"pods", "pod/a"}, err: true},
		{args: []string{"rs/a"}, kind: "replicasets", names: []string{"a"}},
		{args: []string{"job/a"}, kind: "jobs", names: []string{"a"}},
		{args: []string{"cronjob/a"}, kind: "cronjobs", names: []string{"a"}},
		{args: []string{"daemonset/a"}, kind: "daemonsets", names: []string{"a"}},
		{args: []string{"ing/a"}, kind: "ingresses", names: []string{"a"}},
		{args: []string{"networkpolicy/a"}, kind: "networkpolicies", names: []string{"a"}},
		{args: []string{"horizontalpodautoscaler/a"}, err: true},
		{args: []string{"pod/"}, err: true},
		{args: []string{"nodes"}, kind: "nodes"},
		{args: []string{"no", "box"}, kind: "nodes", names: []string{"box"}},
		{args: []string{"node/box"}, kind: "nodes", names: []string{"box"}},
		{args: []string{"ds"}, kind: "daemonsets"},
		{args: []string{"hpa"}, err: true},
		{args: nil, err: true},
	} {
		groups, err := getArgs(tc.args)
		if tc.err {
			if !errors.Is(err, errUsage) {
				t.Errorf("%v: %v, want a usage error", tc.args, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if strings.Contains(tc.kind, "[") { // several kinds: kind[names] ...
			var got []string
			for _, g := range groups {
				got = append(got, g.kind+"["+strings.Join(g.names, " ")+"]")
			}
			if strings.Join(got, " ") != tc.kind {
				t.Errorf("%v: %v; want %v", tc.args, got, tc.kind)
			}
			continue
		}
		if len(groups) != 1 || groups[0].kind != tc.kind || !slices.Equal(groups[0].names, tc.names) {
			t.Errorf("%v: %+v; want %v %q", tc.args, groups, tc.kind, tc.names)
		}
	}
}

func TestMatching(t *testing.T) {
	mk := func(name, ns string, l map[string]string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: l}}
	}
	pods := []*corev1.Pod{
		mk("web", "default", map[string]string{"app": "web", "tier": "fe"}),
		mk("db", "default", map[string]string{"app": "db", "tier": "be"}),
		mk("canary", "shop", map[string]string{"app": "web", "canary": "yes"}),
		mk("bare", "default", nil),
	}
	for _, tc := range []struct {
		sel, ns string
		want    []string
	}{
		{sel: "app=web", want: []string{"canary", "web"}},
		{sel: "app==web", ns: "default", want: []string{"web"}},
		{sel: "app!=web", want: []string{"bare", "db"}},
		{sel: "tier in (fe,be)", want: []string{"db", "web"}},
		{sel: "tier notin (fe)", want: []string{"bare", "canary", "db"}},
		{sel: "canary", want: []string{"canary"}},
		{sel: "!canary,app", want: []string{"db", "web"}},
		{sel: "app=web,tier=be"},
	} {
		sel, err := parseSelector(tc.sel)
		if err != nil {
			t.Fatalf("%s: %v", tc.sel, err)
		}
		if got := matching(pods, sel, tc.ns); !slices.Equal(got, tc.want) {
			t.Errorf("-l %s -n %q: %q, want %q", tc.sel, tc.ns, got, tc.want)
		}
	}
	if _, err := parseSelector("app in web"); !errors.Is(err, errUsage) {
		t.Errorf("a bad selector: %v", err)
	}
}

func TestStructuredOutput(t *testing.T) {
	mk := func(name, ip string, l map[string]string) any {
		return &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}, Status: corev1.PodStatus{PodIP: ip}}
	}
	pods := []any{mk("web", "10.96.128.2", map[string]string{"app": "web"}), mk("db", "", nil)}
	for _, tc := range []struct {
		format string
		single bool
		objs   []any
		want   string
	}{
		{format: "jsonpath={.items[*].metadata.name}", objs: pods, want: "web db"},
		{format: "jsonpath={.status.podIP}", single: true, objs: pods[:1], want: "10.96.128.2"},
		{format: "jsonpath={.kind} {.metadata.name}{'\\n'}", single: true, objs: pods[:1], want: "Pod web\n"},
		{format: `jsonpath={range .items[*]}{.metadata.name}={.metadata.labels.app}{"\n"}{end}`, objs: pods, want: "web=web\ndb=\n"},
		{format: "jsonpath={.status.nothing}", single: true, objs: pods[:1], want: ""},
		{format: "jsonpath-as-json={.items[*].metadata.name}", objs: pods, want: "[\n    \"web\",\n    \"db\"\n]\n"},
		{format: "custom-columns=NAME:.metadata.name,IP:status.podIP,APP:{.metadata.labels.app}", objs: pods,
			want: "NAME   IP            APP\nweb    10.96.128.2   web\ndb     <none>        <none>\n"},
		{format: "json", objs: nil, want: "{\n    \"apiVersion\": \"v1\",\n    \"kind\": \"List\",\n    \"items\": []\n}\n"},
	} {
		var b bytes.Buffer
		done, err := printStructured(&b, tc.objs, tc.single, tc.format)
		if !done || err != nil || b.String() != tc.want {
			t.Errorf("-o %s: %v %v\n%q\nwant\n%q", tc.format, done, err, b.String(), tc.want)
		}
	}
	if done, _ := printStructured(&bytes.Buffer{}, pods, false, "wide"); done {
		t.Error("wide is a table, not a structured format")
	}
	for _, bad := range []string{"jsonpath={.items[", "custom-columns=", "custom-columns=NAME", "table", "go-template={{.}}"} {
		if err := validOutput(bad); !errors.Is(err, errUsage) {
			t.Errorf("-o %s: %v, want a usage error", bad, err)
		}
	}
	for _, good := range []string{"", "json", "yaml", "wide", "name", "jsonpath={.a}", "custom-columns=A:.a"} {
		if err := validOutput(good); err != nil {
			t.Errorf("-o %s: %v", good, err)
		}
	}
}
