package pod

import (
	"slices"
	"testing"
)

// A StatefulSet's pods have stable names from spec.ordinals.start, their
// name as hostname and the set's Service as subdomain, the controller's
// labels, the set as controller, and a claim of their own per template (in
// place of a template volume of that name), which the manifest then holds.
func TestStatefulSetPods(t *testing.T) {
	m, err := Load([]byte(`apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: team}
spec:
  replicas: 2
  ordinals: {start: 5}
  serviceName: db-headless
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: c, image: x:1, volumeMounts: [{name: data, mountPath: /data}]}]
      volumes: [{name: data, emptyDir: {}}]
  volumeClaimTemplates:
  - metadata: {name: data, labels: {tier: disk}}
    spec: {accessModes: [ReadWriteOnce]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Pods) != 2 {
		t.Fatalf("%d pods", len(m.Pods))
	}
	s := m.Objects.StatefulSets[0]
	for i, p := range m.Pods {
		name := []string{"db-5", "db-6"}[i]
		if p.Name != name || p.Namespace != "team" || p.Spec.Hostname != name || p.Spec.Subdomain != "db-headless" ||
			p.Labels[LabelPodName] != name || p.Labels[LabelPodIndex] != []string{"5", "6"}[i] || p.Labels[LabelRevision] != RevisionHash(s) || p.Labels["app"] != "db" {
			t.Errorf("pod %d: %s %+v hostname %s subdomain %s", i, p.Name, p.Labels, p.Spec.Hostname, p.Spec.Subdomain)
		}
		if OwnerStatefulSet(p) != "db" || SetOrdinal(p) != 5+i || OwnerDeployment(p) != "" {
			t.Errorf("pod %s: owner %q ordinal %d", p.Name, OwnerStatefulSet(p), SetOrdinal(p))
		}
		if len(p.Spec.Volumes) != 1 || p.Spec.Volumes[0].PersistentVolumeClaim == nil || p.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "data-"+name {
			t.Errorf("pod %s volumes: %+v", p.Name, p.Spec.Volumes)
		}
	}
	var claims []string
	for _, c := range m.Objects.Claims {
		claims = append(claims, c.Namespace+"/"+c.Name)
		if c.Labels["tier"] != "disk" || c.Labels["app"] != "db" {
			t.Errorf("claim %s labels %v", c.Name, c.Labels)
		}
	}
	if !slices.Equal(claims, []string{"team/data-db-5", "team/data-db-6"}) {
		t.Errorf("claims %v", claims)
	}
	// a changed template is another revision; the same one the same
	again := s.DeepCopy()
	if RevisionHash(again) != RevisionHash(s) {
		t.Error("the same template, another revision")
	}
	again.Spec.Template.Spec.Containers[0].Image = "x:2"
	if RevisionHash(again) == RevisionHash(s) {
		t.Error("a changed template, the same revision")
	}
}
