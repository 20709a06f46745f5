package objstore

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
)

// Every kind is stored and read back, a Namespace apart from the namespaced
// objects (even from those of a namespace named "namespace"), and forgotten.
func TestObjectsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	meta := func(ns, name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
	o := &pod.Objects{
		ConfigMaps:      []*corev1.ConfigMap{{ObjectMeta: meta("namespace", "cm"), Data: map[string]string{"k": "v"}}},
		Secrets:         []*corev1.Secret{{ObjectMeta: meta("default", "s"), Data: map[string][]byte{"k": []byte("v")}}},
		ServiceAccounts: []*corev1.ServiceAccount{{ObjectMeta: meta("namespace", "sa"), ImagePullSecrets: []corev1.LocalObjectReference{{Name: "s"}}}},
		Namespaces:      []*corev1.Namespace{{ObjectMeta: meta("", "namespace")}, {ObjectMeta: meta("", "configmap")}},
	}
	if err := SaveObjects(dir, o); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "objects", "_cluster", "namespace", "namespace.json")); err != nil {
		t.Errorf("a Namespace is stored apart: %v", err)
	}
	back, err := LoadObjects(dir)
	if err != nil {
		t.Fatal(err)
	}
	if back.Len() != 5 || back.ConfigMap("namespace", "cm") == nil || back.Secret("default", "s") == nil ||
		back.Namespace("namespace") == nil || back.Namespace("configmap") == nil {
		t.Fatalf("read back: %+v", back)
	}
	if sa := back.ServiceAccount("namespace", "sa"); sa == nil || len(sa.ImagePullSecrets) != 1 {
		t.Fatalf("service account read back: %+v", sa)
	}
	removed, err := RemoveObjects(dir, &pod.Objects{Namespaces: o.Namespaces[:1], ServiceAccounts: o.ServiceAccounts})
	if err != nil {
		t.Fatal(err)
	}
	if len(removed.Namespaces) != 1 || len(removed.ServiceAccounts) != 1 {
		t.Errorf("removed: %+v", removed)
	}
	left, err := LoadObjects(dir)
	if err != nil {
		t.Fatal(err)
	}
	if left.Len() != 3 || left.Namespace("configmap") == nil || left.Namespace("namespace") != nil || left.ServiceAccount("namespace", "sa") != nil {
		t.Errorf("left: %+v", left)
	}
}

// An object stored gets its creationTimestamp; applied again (a manifest
// brings none), it keeps the first, and the object applied is given it, so
// that it compares equal to what is stored.
func TestCreationKept(t *testing.T) {
	dir := t.TempDir()
	first := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "cm"}, Data: map[string]string{"k": "1"}}
	before := time.Now().Add(-time.Second)
	if err := SaveObjects(dir, &pod.Objects{ConfigMaps: []*corev1.ConfigMap{first}}); err != nil {
		t.Fatal(err)
	}
	created := first.CreationTimestamp
	if created.Time.Before(before) || created.Time.After(time.Now()) {
		t.Fatalf("creationTimestamp %v, want now", created)
	}
	stored, _ := LoadObjects(dir)
	if c := stored.ConfigMap("default", "cm"); c == nil || !c.CreationTimestamp.Equal(&created) {
		t.Fatalf("stored: %+v", c)
	}
	// an old stored copy: a second later, the object applied again, changed
	old := metav1.NewTime(created.Add(-time.Hour))
	stored.ConfigMaps[0].CreationTimestamp = old
	if err := SaveObjects(dir, stored); err != nil {
		t.Fatal(err)
	}
	again := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "cm"}, Data: map[string]string{"k": "2"}}
	if err := SaveObjects(dir, &pod.Objects{ConfigMaps: []*corev1.ConfigMap{again}}); err != nil {
		t.Fatal(err)
	}
	if !again.CreationTimestamp.Equal(&old) {
		t.Errorf("applied again: creationTimestamp %v, want the stored %v", again.CreationTimestamp, old)
	}
	back, _ := LoadObjects(dir)
	if c := back.ConfigMap("default", "cm"); c == nil || c.Data["k"] != "2" || !c.CreationTimestamp.Equal(&old) {
		t.Errorf("read back: %+v", c)
	}
}

// A NetworkPolicy stored is where the helpers look for one without reading
// it (podstate.NetworkPoliciesStored), and read back by LoadNetworkPolicies;
// forgotten, it is no longer seen.
func TestNetworkPoliciesWhereHelpersLook(t *testing.T) {
	dir := t.TempDir()
	if podstate.NetworkPoliciesStored(dir) {
		t.Fatal("a policy seen in an empty directory")
	}
	o := &pod.Objects{NetworkPolicies: []*networkingv1.NetworkPolicy{{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "deny"}}},
		Namespaces: []*corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{"team": "a"}}}}}
	if err := SaveObjects(dir, o); err != nil {
		t.Fatal(err)
	}
	if !podstate.NetworkPoliciesStored(dir) {
		t.Error("a stored policy is not seen")
	}
	nps, err := LoadNetworkPolicies(dir)
	if err != nil || len(nps) != 1 || nps[0].Name != "deny" {
		t.Errorf("policies read back: %v %v", nps, err)
	}
	nss, err := LoadNamespaces(dir)
	if err != nil || len(nss) != 1 || nss[0].Labels["team"] != "a" {
		t.Errorf("namespaces read back: %v %v", nss, err)
	}
	if _, err := RemoveObjects(dir, &pod.Objects{NetworkPolicies: o.NetworkPolicies}); err != nil {
		t.Fatal(err)
	}
	if podstate.NetworkPoliciesStored(dir) {
		t.Error("a forgotten policy is still seen")
	}
}

// Written endpoints are stored where the service proxy reads and watches
// them, and LoadObjects reads them back for get and down.
func TestEndpointsWhereTheProxyLooks(t *testing.T) {
	dir := t.TempDir()
	o := &pod.Objects{
		Endpoints: []*corev1.Endpoints{{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "db"},
			Subsets: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: "192.0.2.5"}}}}}},
		EndpointSlices: []*discoveryv1.EndpointSlice{{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "db-1"}, AddressType: discoveryv1.AddressTypeIPv4}},
	}
	if err := SaveObjects(dir, o); err != nil {
		t.Fatal(err)
	}
	eps, es, err := LoadEndpoints(dir)
	if err != nil || len(eps) != 1 || eps[0].Subsets[0].Addresses[0].IP != "192.0.2.5" || len(es) != 1 || es[0].Name != "db-1" {
		t.Errorf("read back: %v %v %v", eps, es, err)
	}
	watched := ServicesDirs(dir)
	for _, kind := range []string{pod.KindEndpoints, pod.KindEndpointSlice} {
		if !slices.Contains(watched, ObjectDir(dir, "shop", kind)) {
			t.Errorf("%s: %s not watched: %v", kind, ObjectDir(dir, "shop", kind), watched)
		}
	}
	all, err := LoadObjects(dir)
	if err != nil || len(all.Endpoints) != 1 || len(all.EndpointSlices) != 1 {
		t.Errorf("LoadObjects: %+v %v", all, err)
	}
	removed, err := RemoveObjects(dir, o)
	if err != nil || len(removed.Endpoints) != 1 || len(removed.EndpointSlices) != 1 {
		t.Errorf("removed: %+v %v", removed, err)
	}
	if eps, es, _ := LoadEndpoints(dir); len(eps)+len(es) != 0 {
		t.Errorf("after removal: %v %v", eps, es)
	}
}
