package pod

import (
	"errors"
	"strings"
	"testing"
)

const volumesDoc = `apiVersion: v1
kind: PersistentVolume
metadata: {name: small, labels: {speed: slow}}
spec: {storageClassName: manual, capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], hostPath: {path: /srv/small}}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: big}
spec: {storageClassName: manual, capacity: {storage: 10Gi}, accessModes: [ReadWriteOnce, ReadWriteMany], hostPath: {path: /srv/big, type: DirectoryOrCreate}}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: kept}
spec: {storageClassName: manual, capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], local: {path: /srv/kept}, claimRef: {namespace: default, name: owner}}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: plain}
spec: {capacity: {storage: 5Gi}, accessModes: [ReadWriteOnce], hostPath: {path: /srv/plain}}
`

func claimDoc(name, spec string) string {
	return "---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: " + name + "}\nspec: " + spec + "\n"
}

func boundTo(m *Manifest) map[string]string {
	out := map[string]string{}
	for _, c := range m.Objects.Claims {
		out[c.Name] = c.Spec.VolumeName
	}
	return out
}

func TestClaimsBindToVolumes(t *testing.T) {
	doc := volumesDoc +
		claimDoc("large", "{storageClassName: manual, accessModes: [ReadWriteOnce], resources: {requests: {storage: 3Gi}}}") +
		claimDoc("tiny", "{storageClassName: manual, accessModes: [ReadWriteOnce], resources: {requests: {storage: 500Mi}}}") +
		claimDoc("owner", "{storageClassName: manual, accessModes: [ReadWriteOnce]}") +
		claimDoc("classless", "{accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}") +
		claimDoc("fast", "{storageClassName: fast, accessModes: [ReadWriteOnce]}") +
		claimDoc("shared", "{storageClassName: manual, accessModes: [ReadWriteMany]}")
	m, err := LoadSources([]Source{{Name: "a.yaml", Data: []byte(doc)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := boundTo(m)
	// the smallest that fits; the one kept for a claim goes to it alone; a
	// claim of no class to a volume of none; the others are podman volumes
	for claim, want := range map[string]string{"large": "big", "tiny": "small", "owner": "kept", "classless": "plain", "fast": "", "shared": ""} {
		if got[claim] != want {
			t.Errorf("claim %s bound to %q, want %q (all: %v)", claim, got[claim], want, got)
		}
	}
	if w := strings.Join(m.Warnings, "\n"); !strings.Contains(w, `persistentvolumeclaim "fast": spec.storageClassName: no PersistentVolume of class "fast" fits: a podman volume of its own`) {
		t.Errorf("warnings %q", m.Warnings)
	}

	// applied again over what is stored: each claim keeps its binding, a
	// claim stored as a podman volume stays one though a volume now fits
	known := &m.Objects
	again, err := LoadSources([]Source{{Name: "a.yaml", Data: []byte(volumesDoc +
		claimDoc("fast", "{storageClassName: manual, accessModes: [ReadWriteOnce]}") +
		claimDoc("large", "{storageClassName: manual, accessModes: [ReadWriteOnce], resources: {requests: {storage: 3Gi}}}"))}}, known)
	if err != nil {
		t.Fatal(err)
	}
	if got := boundTo(again); got["large"] != "big" || got["fast"] != "" {
		t.Errorf("applied again: %v", got)
	}
	// a new claim that would fit the volume a stored claim has, applied
	// with that claim: it does not take it
	more, err := LoadSources([]Source{{Name: "b.yaml", Data: []byte(
		claimDoc("large", "{storageClassName: manual, accessModes: [ReadWriteOnce], resources: {requests: {storage: 3Gi}}}") +
			claimDoc("another", "{storageClassName: manual, accessModes: [ReadWriteOnce], resources: {requests: {storage: 3Gi}}}"))}}, known)
	if err != nil {
		t.Fatal(err)
	}
	if got := boundTo(more); got["large"] != "big" || got["another"] != "" {
		t.Errorf("a new claim beside a bound one: %v", got)
	}
}

func TestClaimVolumeNameChecked(t *testing.T) {
	for _, tc := range []struct{ name, claims, want string }{
		{"a volume that is not there", claimDoc("c", "{volumeName: nope, storageClassName: manual, accessModes: [ReadWriteOnce]}"),
			`spec.volumeName: not found: nope`},
		{"a volume of another class", claimDoc("c", "{volumeName: small, accessModes: [ReadWriteOnce]}"),
			`spec.volumeName: invalid value "small": persistentvolume "small" is of storage class "manual", the claim asks for ""`},
		{"a volume too small", claimDoc("c", "{volumeName: small, storageClassName: manual, accessModes: [ReadWriteOnce], resources: {requests: {storage: 2Gi}}}"),
			`persistentvolume "small" holds 1Gi, the claim asks for 2Gi`},
		{"a volume kept for another claim", claimDoc("c", "{volumeName: kept, storageClassName: manual, accessModes: [ReadWriteOnce]}"),
			`persistentvolume "kept" is kept for claim default/owner (spec.claimRef)`},
		{"a volume two claims name", claimDoc("a", "{volumeName: big, storageClassName: manual, accessModes: [ReadWriteOnce]}") + claimDoc("b", "{volumeName: big, storageClassName: manual, accessModes: [ReadWriteOnce]}"),
			`persistentvolume "big" is bound to claim default/`},
		{"a selector", claimDoc("c", "{volumeName: big, storageClassName: manual, accessModes: [ReadWriteOnce], selector: {matchLabels: {speed: slow}}}"),
			`the claim's selector does not select persistentvolume "big"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadSources([]Source{{Name: "a.yaml", Data: []byte(volumesDoc + tc.claims)}}, nil)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "persistentvolumeclaim") {
				t.Errorf("got %v\nwant an error of the claim with %q", err, tc.want)
			}
		})
	}
}

func TestVolumeInvalid(t *testing.T) {
	pv := func(spec string) string {
		return "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: v}\nspec: " + spec + "\n"
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"Delete", pv("{capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], hostPath: {path: /srv}, persistentVolumeReclaimPolicy: Delete}"),
			"spec.persistentVolumeReclaimPolicy: Delete: podunit never removes the data of a host directory"},
		{"nfs", pv("{capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], nfs: {server: a, path: /x}}"),
			"spec.nfs: not supported by podunit: podunit binds claims to directories of this host only"},
		{"no source", pv("{capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce]}"),
			"spec: required: a volume source: hostPath or local"},
		{"a relative path", pv("{capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], hostPath: {path: srv}}"),
			`spec.hostPath.path: invalid value "srv": must be an absolute path`},
		{"no capacity", pv("{accessModes: [ReadWriteOnce], hostPath: {path: /srv}}"),
			"spec.capacity.storage: required"},
		{"no access modes", pv("{capacity: {storage: 1Gi}, hostPath: {path: /srv}}"),
			"spec.accessModes: required"},
		{"a claimRef without a namespace", pv("{capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], hostPath: {path: /srv}, claimRef: {name: c}}"),
			"spec.claimRef.namespace: required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load([]byte(tc.doc))
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant an error with %q", err, tc.want)
			}
		})
	}
}
