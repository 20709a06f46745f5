package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/podunit/podunit/cluster"
	"github.com/podunit/podunit/pod"
)

// The stored copy of a pod holds the pod and exactly the objects it refers
// to, and loads back into the same pod.
func TestStoredManifestRoundTrip(t *testing.T) {
	m, err := pod.Load([]byte(`
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {greeting: hello}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: unrelated}
data: {x: "1"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {token: s3cret}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  containers:
  - name: app
    image: localhost/app:1
    env: [{name: TOKEN, valueFrom: {secretKeyRef: {name: creds, key: token}}}]
    envFrom: [{configMapRef: {name: cfg}}]
    volumeMounts: [{name: d, mountPath: /d}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
---
apiVersion: v1
kind: Service
metadata: {name: web-svc}
spec: {type: NodePort, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: other-svc}
spec: {selector: {app: other}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Secret
metadata: {name: web-tls}
type: kubernetes.io/tls
stringData: {tls.crt: "C", tls.key: "K"}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web-ing}
spec:
  tls: [{hosts: [web.example], secretName: web-tls}]
  rules:
  - host: web.example
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web-svc, port: {number: 80}}}}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: other-ing}
spec:
  defaultBackend: {service: {name: other-svc, port: {number: 80}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-in}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{ipBlock: {cidr: 192.0.2.0/24}}], ports: [{port: 8080}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: other-np}
spec: {podSelector: {matchLabels: {app: other}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if cs := cluster.Assign(m.Objects.Services, nil); cs != nil {
		t.Fatal(cs[0])
	}
	p := m.Pods[0]
	p.UID = "1234"
	data, err := storedManifest(p, &m.Objects)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for _, want := range []string{"name: cfg", "name: creds", "kind: PersistentVolumeClaim", "kind: Pod",
		"name: web-svc", "clusterIP: 10.96.0.11", "nodePort: 30000", "name: web-ing", "name: web-tls", "name: web-in", "cidr: 192.0.2.0/24"} {
		if !strings.Contains(s, want) {
			t.Errorf("stored copy lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "unrelated") || strings.Contains(s, "1234") || strings.Contains(s, "other-svc") || strings.Contains(s, "other-ing") || strings.Contains(s, "other-np") {
		t.Errorf("stored copy holds what the pod does not need:\n%s", s)
	}
	back, err := pod.Load(data)
	if err != nil {
		t.Fatalf("stored copy does not load: %v\n%s", err, s)
	}
	if len(back.Pods) != 1 || !reflect.DeepEqual(back.Pods[0].Spec, p.Spec) || back.Objects.Len() != 7 {
		t.Errorf("round trip changed the pod:\n%+v\n%+v", back.Pods[0].Spec, p.Spec)
	}
	if len(back.Warnings) > len(m.Warnings) {
		t.Errorf("stored copy loads with new warnings: %v (first load: %v)", back.Warnings, m.Warnings)
	}
}

// A pod whose claim is bound to a PersistentVolume keeps the volume in its
// stored copy: after a reboot the claim is bound to it again.
func TestStoredManifestKeepsVolume(t *testing.T) {
	m, err := pod.LoadSources([]pod.Source{{Data: []byte(`
apiVersion: v1
kind: PersistentVolume
metadata: {name: disk}
spec: {storageClassName: manual, capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], hostPath: {path: /srv/disk}}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: unrelated}
spec: {storageClassName: other, capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], hostPath: {path: /srv/other}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {storageClassName: manual, accessModes: [ReadWriteOnce]}
---
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers: [{name: app, image: localhost/app:1, volumeMounts: [{name: d, mountPath: /d}]}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
`)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := storedManifest(m.Pods[0], &m.Objects)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(data); !strings.Contains(s, "kind: PersistentVolume\n") || !strings.Contains(s, "path: /srv/disk") || !strings.Contains(s, "volumeName: disk") || strings.Contains(s, "unrelated") {
		t.Errorf("stored copy:\n%s", s)
	}
	back, err := pod.LoadSources([]pod.Source{{Data: data}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Objects.Claims) != 1 || back.Objects.Claims[0].Spec.VolumeName != "disk" || back.Resolved["web"].Volumes["d"].Volume == nil {
		t.Errorf("the claim after the round trip: %+v", back.Objects.Claims)
	}
}
