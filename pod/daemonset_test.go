package pod

import (
	"errors"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

const daemonSetDoc = `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: monitoring, labels: {app: agent}}
spec:
  selector: {matchLabels: {app: agent}}
  STRATEGY
  template:
    metadata: {labels: {app: agent, tier: node}, annotations: {a: b}}
    spec:
      tolerations: [{operator: Exists}]
      containers:
      - name: agent
        image: IMAGE
`

func daemonSetManifest(strategy, image string) string {
	return strings.NewReplacer("STRATEGY", strategy, "IMAGE", image).Replace(daemonSetDoc)
}

func TestDaemonSetPod(t *testing.T) {
	m, err := Load([]byte(daemonSetManifest("", "x:1")))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Pods) != 1 || len(m.Objects.DaemonSets) != 1 {
		t.Fatalf("%d pods, %d daemonsets; want 1, 1", len(m.Pods), len(m.Objects.DaemonSets))
	}
	ds, p := m.Objects.DaemonSets[0], m.Pods[0]
	hash := TemplateHash(&ds.Spec.Template)
	if !strings.HasPrefix(p.Name, "agent-") || len(p.Name) != len("agent-")+5 || strings.Contains(p.Name, hash) {
		t.Errorf("pod name %q: want agent-xxxxx", p.Name)
	}
	if p.Namespace != "monitoring" || OwnerDaemonSet(p) != "agent" || OwnerDeployment(p) != "" || OwnerStatefulSet(p) != "" {
		t.Errorf("pod %s/%s: owners %q %q %q", p.Namespace, p.Name, OwnerDaemonSet(p), OwnerDeployment(p), OwnerStatefulSet(p))
	}
	if p.Labels["app"] != "agent" || p.Labels["tier"] != "node" || p.Labels[LabelRevision] != hash || p.Annotations["a"] != "b" {
		t.Errorf("pod labels %v, annotations %v: want the template's and controller-revision-hash=%s", p.Labels, p.Annotations, hash)
	}
	// the defaults of apps/v1: RollingUpdate, maxUnavailable 1, no surge
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || ru == nil || ru.MaxUnavailable.String() != "1" || ru.MaxSurge.String() != "0" || DaemonSetSurge(ds) {
		t.Errorf("defaults: %+v", ds.Spec.UpdateStrategy)
	}
	// the same template, the same pod; another, another
	again, _ := Load([]byte(daemonSetManifest("", "x:1")))
	other, _ := Load([]byte(daemonSetManifest("", "x:2")))
	if again.Pods[0].Name != p.Name || other.Pods[0].Name == p.Name || other.Pods[0].Labels[LabelRevision] == hash {
		t.Errorf("pod names %s, %s (same template), %s (another)", p.Name, again.Pods[0].Name, other.Pods[0].Name)
	}
	// the tolerations are the template's, warned about at its path
	if !strings.Contains(strings.Join(m.Warnings, "\n"), `daemonset "agent": spec.template.spec.tolerations: ignored`) {
		t.Errorf("warnings %q", m.Warnings)
	}
}

func TestDaemonSetSurge(t *testing.T) {
	for strategy, want := range map[string]bool{
		"updateStrategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}":      true,
		"updateStrategy: {rollingUpdate: {maxSurge: '10%', maxUnavailable: 0}}":  true, // rounded up on one node
		"updateStrategy: {rollingUpdate: {maxUnavailable: '50%'}}":               false,
		"updateStrategy: {type: OnDelete}":                                       false,
		"updateStrategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 0}}":    false,
		"updateStrategy: {rollingUpdate: {maxSurge: '100%', maxUnavailable: 0}}": true,
	} {
		m, err := Load([]byte(daemonSetManifest(strategy, "x:1")))
		if err != nil {
			t.Errorf("%s: %v", strategy, err)
			continue
		}
		if got := DaemonSetSurge(m.Objects.DaemonSets[0]); got != want {
			t.Errorf("%s: surge %v, want %v", strategy, got, want)
		}
	}
}

func TestDaemonSetInvalid(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"surge and unavailable", daemonSetManifest("updateStrategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 1}}", "x:1"),
			"spec.updateStrategy.rollingUpdate.maxSurge: invalid value \"1\": may not be set when maxUnavailable is non-zero"},
		{"neither", daemonSetManifest("updateStrategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0}}", "x:1"),
			"spec.updateStrategy.rollingUpdate.maxUnavailable: required: cannot be 0 when maxSurge is 0"},
		{"above 100%", daemonSetManifest("updateStrategy: {rollingUpdate: {maxUnavailable: '150%'}}", "x:1"),
			"maxUnavailable: invalid value \"150%\": must not be greater than 100%"},
		{"a strategy type", daemonSetManifest("updateStrategy: {type: Recreate}", "x:1"),
			`spec.updateStrategy.type: unsupported value "Recreate"`},
		{"restartPolicy", daemonSetManifest("", "x:1\n      restartPolicy: Never"),
			`spec.template.spec.restartPolicy: unsupported value "Never"`},
		{"the controller's label", strings.Replace(daemonSetManifest("", "x:1"), "tier: node}", "tier: node, controller-revision-hash: abc}", 1),
			"spec.template.metadata.labels[controller-revision-hash]: invalid value \"abc\": set by podunit, as by the DaemonSet controller"},
		{"a selector that selects nothing of the template", strings.Replace(daemonSetManifest("", "x:1"), "{matchLabels: {app: agent}}", "{matchLabels: {app: other}}", 1),
			"spec.template.metadata.labels: invalid value"},
		{"a template's error at its path", daemonSetManifest("", ""),
			"spec.template.spec.containers[0].image: required"},
		{"an unknown field", daemonSetManifest("paused: true", "x:1"),
			"spec.paused: unknown field"},
		{"apiVersion", strings.Replace(daemonSetManifest("", "x:1"), "apps/v1", "extensions/v1beta1", 1),
			`apiVersion: unsupported value "extensions/v1beta1": supported values: "apps/v1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load([]byte(tc.doc))
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant an error with %q", err, tc.want)
			}
		})
	}
}

func TestDaemonSetNodeMisfits(t *testing.T) {
	m, err := Load([]byte(strings.Replace(daemonSetManifest("", "x:1"), "tolerations:", "nodeSelector: {disk: ssd}\n      tolerations:", 1)))
	if err != nil {
		t.Fatal(err)
	}
	p := DaemonSetPod(m.Objects.DaemonSets[0])
	if miss := NodeMisfits(p, map[string]string{"disk": "hdd"}); len(miss) != 1 || miss[0] != `spec.nodeSelector[disk]: wants "ssd", this host has "hdd"` {
		t.Errorf("misfits %q", miss)
	}
	if miss := NodeMisfits(p, map[string]string{"disk": "ssd"}); len(miss) != 0 {
		t.Errorf("misfits %q on a host that fits", miss)
	}
}
