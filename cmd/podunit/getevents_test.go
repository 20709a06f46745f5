package main

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/podunit/podunit/cluster"
	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/podstate/objstore"
)

// get events: one Event for each run of identical events (count, first and
// last time), the container as the involved object's fieldPath (init and
// ephemeral containers too), the pod's namespace, in the order they last
// happened; -n and -l select.
func TestPodEvents(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	web := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "u1"}, Spec: corev1.PodSpec{
		InitContainers:      []corev1.Container{{Name: "setup"}},
		Containers:          []corev1.Container{{Name: "app"}},
		EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "dbg"}}},
	}}
	db := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "default"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "pg"}}}}
	for _, e := range []struct {
		pod string
		ev  podstate.Event
	}{
		{"web", podstate.Event{Time: at(0), Reason: "Scheduled", Message: "on this host"}},
		{"web", podstate.Event{Time: at(1), Reason: "Started", Container: "setup", Message: "Started container setup"}},
		{"db", podstate.Event{Time: at(2), Reason: "Started", Container: "pg", Message: "Started container pg"}},
		{"web", podstate.Event{Time: at(3), Type: "Warning", Reason: "BackOff", Container: "app", Message: "Back-off restarting"}},
		{"web", podstate.Event{Time: at(4), Reason: "Started", Container: "dbg", Message: "Started container dbg"}},
		{"web", podstate.Event{Time: at(9), Type: "Warning", Reason: "BackOff", Container: "app", Message: "Back-off restarting"}},
		{"gone", podstate.Event{Time: at(5), Reason: "Killing", Message: "of a pod with no record"}},
	} {
		if err := podstate.AppendEvent(dir, e.pod, e.ev); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := podEvents(dir, []*corev1.Pod{web, db}, "vm")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, fmt.Sprintf("%s/%s %s %s %s %d %s..%s", e.Namespace, e.InvolvedObject.Name, e.InvolvedObject.FieldPath, e.Type, e.Reason, e.Count,
			e.FirstTimestamp.Time.Sub(t0), e.LastTimestamp.Time.Sub(t0)))
	}
	want := []string{
		"shop/web  Normal Scheduled 1 0s..0s",
		"shop/web spec.initContainers{setup} Normal Started 1 1s..1s",
		"default/db spec.containers{pg} Normal Started 1 2s..2s",
		"shop/web spec.ephemeralContainers{dbg} Normal Started 1 4s..4s",
		"shop/web spec.containers{app} Warning BackOff 2 3s..9s",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if e := evs[0]; e.Name != fmt.Sprintf("web.%x", at(0).UnixNano()) || e.Source.Host != "vm" || e.InvolvedObject.UID != "u1" || e.APIVersion != "v1" || e.Kind != "Event" {
		t.Errorf("the first event's object: %+v", e)
	}
	if got, _ := eventsNamed(evs, "shop", selection{}); len(got) != 4 {
		t.Errorf("-n shop: %d events, want 4", len(got))
	}
	if got, _ := eventsNamed(evs, "", byLabels(labels.SelectorFromSet(labels.Set{"a": "b"}))); len(got) != 0 {
		t.Errorf("-l a=b: %d events, want none (events have no labels)", len(got))
	}

	var b bytes.Buffer
	if err := printEvents(&b, evs[3:], "", tableOpts{nsColumn: true}, true, at(69)); err != nil {
		t.Fatal(err)
	}
	table := "NAMESPACE   LAST SEEN   TYPE      REASON    OBJECT    MESSAGE\n" +
		"shop        65s         Normal    Started   pod/web   Started container dbg\n" +
		"shop        60s         Warning   BackOff   pod/web   Back-off restarting\n"
	if b.String() != table {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), table)
	}
	b.Reset()
	if err := printEvents(&b, evs[4:], "wide", tableOpts{}, true, at(69)); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(b.String(), "\n"); !strings.HasPrefix(lines[0], "LAST SEEN   TYPE      REASON    OBJECT    SUBOBJECT              SOURCE        MESSAGE               FIRST SEEN   COUNT   NAME") ||
		!strings.Contains(lines[1], "60s         Warning   BackOff   pod/web   spec.containers{app}   podunit, vm   Back-off restarting   66s          2       web.") {
		t.Errorf("-o wide:\n%s", b.String())
	}
}

// get namespaces: default always, those applied, those pods and objects are
// in; each with kubernetes.io/metadata.name; AGE from the Namespace's apply
// or else its oldest pod.
func TestNamespaces(t *testing.T) {
	dir := t.TempDir()
	objs := &pod.Objects{
		Namespaces: []*corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{"team": "a"}}}},
		ConfigMaps: []*corev1.ConfigMap{{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "tools"}}},
	}
	if err := objstore.SaveObjects(dir, objs); err != nil {
		t.Fatal(err)
	}
	pods := []*corev1.Pod{{ObjectMeta: metav1.ObjectMeta{Name: "w", Namespace: "web"}}}
	all, err := namespaces(dir, pods)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range all {
		names = append(names, n.Name+":"+n.Labels[corev1.LabelMetadataName]+":"+string(n.Status.Phase))
	}
	if got := strings.Join(names, " "); got != "default:default:Active shop:shop:Active tools:tools:Active web:web:Active" {
		t.Errorf("namespaces: %s", got)
	}
	if all[1].Labels["team"] != "a" || all[1].CreationTimestamp.IsZero() || !all[0].CreationTimestamp.IsZero() {
		t.Errorf("shop keeps its labels and has its apply time, default none: %+v %+v", all[1].ObjectMeta, all[0].ObjectMeta)
	}
	var b bytes.Buffer
	if err := printNamespaces(&b, &b, all, nil, byLabels(labels.SelectorFromSet(labels.Set{"team": "a"})), "", tableOpts{labels: true}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "NAME   STATUS   AGE") || !strings.Contains(b.String(), "shop   Active") || strings.Contains(b.String(), "default") ||
		!strings.Contains(b.String(), "kubernetes.io/metadata.name=shop,team=a") {
		t.Errorf("get ns -l team=a --show-labels:\n%s", b.String())
	}
	b.Reset()
	if err := printNamespaces(&b, &b, all, []string{"nope"}, selection{}, "", tableOpts{}, time.Now()); err == nil || err.Error() != `namespace "nope" not found` {
		t.Errorf("get ns nope: %v", err)
	}
}

// kubectl's ENDPOINTS column: ready addresses with each port, an address
// alone in a subset without ports, three at most.
func TestEndpointsColumn(t *testing.T) {
	addrs := func(ips ...string) []corev1.EndpointAddress {
		var out []corev1.EndpointAddress
		for _, ip := range ips {
			out = append(out, corev1.EndpointAddress{IP: ip})
		}
		return out
	}
	for _, c := range []struct {
		subsets []corev1.EndpointSubset
		want    string
	}{
		{nil, "<none>"},
		{[]corev1.EndpointSubset{{NotReadyAddresses: addrs("10.0.0.1"), Ports: []corev1.EndpointPort{{Port: 80}}}}, "<none>"},
		{[]corev1.EndpointSubset{{Addresses: addrs("10.0.0.1", "10.0.0.2")}}, "10.0.0.1,10.0.0.2"},
		{[]corev1.EndpointSubset{{Addresses: addrs("10.0.0.1"), Ports: []corev1.EndpointPort{{Port: 80}, {Port: 81}}}}, "10.0.0.1:80,10.0.0.1:81"},
		{[]corev1.EndpointSubset{{Addresses: addrs("10.0.0.1", "10.0.0.2"), Ports: []corev1.EndpointPort{{Port: 80}, {Port: 81}}}}, "10.0.0.1:80,10.0.0.2:80,10.0.0.1:81 + 1 more..."},
	} {
		if got := endpointsColumn(&corev1.Endpoints{Subsets: c.subsets}); got != c.want {
			t.Errorf("%+v: %q, want %q", c.subsets, got, c.want)
		}
	}
}

// describe's arguments for stored objects: a type word and names, or
// TYPE/NAME of one kind; anything else is not theirs.
func TestObjectArgs(t *testing.T) {
	for _, c := range []struct {
		args  []string
		kind  string
		names []string
		ok    bool
		err   bool
	}{
		{[]string{"svc", "web", "db"}, pod.KindService, []string{"web", "db"}, true, false},
		{[]string{"services"}, pod.KindService, nil, true, false},
		{[]string{"cm/app", "configmap/b"}, pod.KindConfigMap, []string{"app", "b"}, true, false},
		{[]string{"ns", "shop"}, pod.KindNamespace, []string{"shop"}, true, false},
		{[]string{"ep/web"}, kindEndpoints, []string{"web"}, true, false},
		{[]string{"secret", "pvc/x"}, "", nil, true, true},
		{[]string{"svc/web", "cm/app"}, "", nil, true, true},
		{[]string{"web"}, "", nil, false, false},
		{[]string{"pod/web"}, "", nil, false, false},
		{[]string{"deployment/web"}, "", nil, false, false},
		{nil, "", nil, false, false},
	} {
		kind, names, ok, err := objectArgs(c.args)
		if kind != c.kind || fmt.Sprint(names) != fmt.Sprint(c.names) || ok != c.ok || (err != nil) != c.err {
			t.Errorf("%v: %q %v %v %v", c.args, kind, names, ok, err)
		}
	}
}

// describe service: each port with its target, node port and endpoints.
func TestDescribeService(t *testing.T) {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Labels: map[string]string{"b": "2", "a": "1"}},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, ClusterIP: "10.96.0.11", Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080), NodePort: 30080, Protocol: corev1.ProtocolTCP}}}}
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "w1", Namespace: "default", Labels: map[string]string{"app": "web"}}}
	st := &cluster.State{Services: []*corev1.Service{s}, Pods: []cluster.Pod{{Spec: p, IP: netip.MustParseAddr("10.96.128.2"), Ready: true}}}
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	describeService(tw, s, st)
	tw.Flush()
	want := `Labels:                   a=1
                          b=2
Annotations:              <none>
Selector:                 app=web
Type:                     NodePort
IP Family Policy:         SingleStack
IP Families:              IPv4
IP:                       10.96.0.11
IPs:                      10.96.0.11
Port:                     http  80/TCP
TargetPort:               8080/TCP
NodePort:                 http  30080/TCP
Endpoints:                10.96.128.2:8080
Session Affinity:         None
External Traffic Policy:  Cluster
Internal Traffic Policy:  Cluster
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}
