package objstore

import (
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podunit/podunit/pod"
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
