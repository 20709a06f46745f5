// Package objstore keeps the Kubernetes objects `podunit up` applied (apart
// from pods), for later manifests to refer to.
package objstore

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
)

// The ConfigMaps, Secrets, PersistentVolumeClaims, Services, ServiceAccounts,
// Namespaces and Deployments `podunit up` applied, for
// pods of later manifests to refer to: one file (0600) per object under
// objects/<namespace>/<kind>/, in the runtime directory (a tmpfs: Secrets
// never reach a disk).
func objectFile(dir, ns, kind, name string) string {
	if ns == "" {
		// a Namespace: "_" is in no namespace's name
		ns = clusterScoped
	}
	return filepath.Join(dir, "objects", ns, strings.ToLower(kind), name+".json")
}

const clusterScoped = "_cluster"

// ObjectDir is where the stored objects of a kind in a namespace are: what
// to watch to learn that one changed.
func ObjectDir(dir, ns, kind string) string { return filepath.Dir(objectFile(dir, ns, kind, "x")) }

// ObjectApplied is when a stored object was last applied (zero when it is
// not stored): ns is "" for a Namespace.
func ObjectApplied(dir, kind, ns, name string) time.Time {
	fi, err := os.Stat(objectFile(dir, ns, kind, name))
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

// SaveObjects stores objects, replacing those of the same kind, namespace
// and name. Each gets its creationTimestamp, as the API server gives it: when
// it was first stored, kept when it is applied again (the object is changed
// in place, so that it compares equal to its stored copy).
func SaveObjects(dir string, o *pod.Objects) error {
	now := metav1.NewTime(time.Now().UTC().Truncate(time.Second))
	var errs []error
	o.Each(func(kind string, obj metav1.Object) {
		path := objectFile(dir, obj.GetNamespace(), kind, obj.GetName())
		if c := obj.GetCreationTimestamp(); c.IsZero() {
			created := storedCreation(path)
			if created.IsZero() {
				created = now
			}
			obj.SetCreationTimestamp(created)
		}
		data, err := json.Marshal(obj)
		if err == nil {
			err = podstate.WriteAtomic(path, data)
		}
		errs = append(errs, err)
	})
	return errors.Join(errs...)
}

// storedCreation is the creationTimestamp of the object stored at path (zero:
// none, or stored by a podunit that gave none).
func storedCreation(path string) metav1.Time {
	var stored struct {
		Metadata metav1.ObjectMeta `json:"metadata"`
	}
	if data, err := os.ReadFile(path); err == nil && json.Unmarshal(data, &stored) == nil {
		return stored.Metadata.CreationTimestamp
	}
	return metav1.Time{}
}

// RemoveObjects forgets objects; it returns those that were stored.
func RemoveObjects(dir string, o *pod.Objects) (*pod.Objects, error) {
	var removed pod.Objects
	var errs []error
	o.Each(func(kind string, obj metav1.Object) {
		err := os.Remove(objectFile(dir, obj.GetNamespace(), kind, obj.GetName()))
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			return
		}
		switch x := obj.(type) {
		case *corev1.ConfigMap:
			removed.ConfigMaps = append(removed.ConfigMaps, x)
		case *corev1.Secret:
			removed.Secrets = append(removed.Secrets, x)
		case *corev1.PersistentVolumeClaim:
			removed.Claims = append(removed.Claims, x)
		case *corev1.Service:
			removed.Services = append(removed.Services, x)
		case *corev1.Endpoints:
			removed.Endpoints = append(removed.Endpoints, x)
		case *discoveryv1.EndpointSlice:
			removed.EndpointSlices = append(removed.EndpointSlices, x)
		case *networkingv1.Ingress:
			removed.Ingresses = append(removed.Ingresses, x)
		case *networkingv1.NetworkPolicy:
			removed.NetworkPolicies = append(removed.NetworkPolicies, x)
		case *corev1.LimitRange:
			removed.LimitRanges = append(removed.LimitRanges, x)
		case *corev1.ResourceQuota:
			removed.ResourceQuotas = append(removed.ResourceQuotas, x)
		case *corev1.ServiceAccount:
			removed.ServiceAccounts = append(removed.ServiceAccounts, x)
		case *corev1.Namespace:
			removed.Namespaces = append(removed.Namespaces, x)
		case *corev1.PersistentVolume:
			removed.Volumes = append(removed.Volumes, x)
		case *appsv1.Deployment:
			removed.Deployments = append(removed.Deployments, x)
		case *appsv1.StatefulSet:
			removed.StatefulSets = append(removed.StatefulSets, x)
		case *appsv1.DaemonSet:
			removed.DaemonSets = append(removed.DaemonSets, x)
		case *batchv1.Job:
			removed.Jobs = append(removed.Jobs, x)
		case *batchv1.CronJob:
			removed.CronJobs = append(removed.CronJobs, x)
		}
	})
	return &removed, errors.Join(errs...)
}

// decodeInto appends the object data holds to list.
func decodeInto[T any](data []byte, list *[]*T) error {
	var x T
	if err := json.Unmarshal(data, &x); err != nil {
		return err
	}
	*list = append(*list, &x)
	return nil
}

// LoadObjects reads every stored object.
func LoadObjects(dir string) (*pod.Objects, error) {
	var o pod.Objects
	root := filepath.Join(dir, "objects")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return filepath.SkipDir
		}
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		switch filepath.Base(filepath.Dir(path)) {
		case strings.ToLower(pod.KindConfigMap):
			return decodeInto(data, &o.ConfigMaps)
		case strings.ToLower(pod.KindSecret):
			return decodeInto(data, &o.Secrets)
		case strings.ToLower(pod.KindClaim):
			return decodeInto(data, &o.Claims)
		case strings.ToLower(pod.KindService):
			return decodeInto(data, &o.Services)
		case strings.ToLower(pod.KindEndpoints):
			return decodeInto(data, &o.Endpoints)
		case strings.ToLower(pod.KindEndpointSlice):
			return decodeInto(data, &o.EndpointSlices)
		case strings.ToLower(pod.KindIngress):
			return decodeInto(data, &o.Ingresses)
		case strings.ToLower(pod.KindNetworkPolicy):
			return decodeInto(data, &o.NetworkPolicies)
		case strings.ToLower(pod.KindResourceQuota):
			return decodeInto(data, &o.ResourceQuotas)
		case strings.ToLower(pod.KindLimitRange):
			return decodeInto(data, &o.LimitRanges)
		case strings.ToLower(pod.KindServiceAccount):
			return decodeInto(data, &o.ServiceAccounts)
		case strings.ToLower(pod.KindVolume):
			return decodeInto(data, &o.Volumes)
		case strings.ToLower(pod.KindNamespace):
			return decodeInto(data, &o.Namespaces)
		case strings.ToLower(pod.KindDeployment):
			return decodeInto(data, &o.Deployments)
		case strings.ToLower(pod.KindStatefulSet):
			return decodeInto(data, &o.StatefulSets)
		case strings.ToLower(pod.KindDaemonSet):
			return decodeInto(data, &o.DaemonSets)
		case strings.ToLower(pod.KindJob):
			return decodeInto(data, &o.Jobs)
		case strings.ToLower(pod.KindCronJob):
			return decodeInto(data, &o.CronJobs)
		}
		return nil
	})
	return &o, err
}

// ServicesDirs are the directories that hold the stored Services, their
// Endpoints and EndpointSlices, Ingresses,
// Secrets (an Ingress's certificates), NetworkPolicies and Namespaces (their
// labels), and those they are made in: what to watch to learn that one
// came, went or changed.
func ServicesDirs(dir string) []string {
	root := filepath.Dir(filepath.Dir(filepath.Dir(objectFile(dir, "ns", pod.KindService, "x"))))
	out := []string{root}
	nss, _ := os.ReadDir(root)
	for _, ns := range nss {
		if ns.IsDir() {
			nsDir := filepath.Join(root, ns.Name())
			out = append(out, nsDir)
			for _, kind := range []string{pod.KindService, pod.KindEndpoints, pod.KindEndpointSlice, pod.KindIngress, pod.KindSecret, pod.KindNetworkPolicy, pod.KindNamespace} {
				out = append(out, ObjectDir(dir, ns.Name(), kind))
			}
		}
	}
	return out
}

// LoadServices reads the stored Services only (the service proxy reads them
// at every change of the state: no Secret is opened for it).
func LoadServices(dir string) ([]*corev1.Service, error) {
	return loadKind[corev1.Service](dir, pod.KindService)
}

// LoadEndpoints reads the stored Endpoints and EndpointSlices only.
func LoadEndpoints(dir string) ([]*corev1.Endpoints, []*discoveryv1.EndpointSlice, error) {
	eps, err := loadKind[corev1.Endpoints](dir, pod.KindEndpoints)
	if err != nil {
		return nil, nil, err
	}
	slices, err := loadKind[discoveryv1.EndpointSlice](dir, pod.KindEndpointSlice)
	return eps, slices, err
}

// LoadIngresses reads the stored Ingresses only.
func LoadIngresses(dir string) ([]*networkingv1.Ingress, error) {
	return loadKind[networkingv1.Ingress](dir, pod.KindIngress)
}

// LoadNetworkPolicies reads the stored NetworkPolicies only.
func LoadNetworkPolicies(dir string) ([]*networkingv1.NetworkPolicy, error) {
	return loadKind[networkingv1.NetworkPolicy](dir, pod.KindNetworkPolicy)
}

// LoadNamespaces reads the stored Namespaces only.
func LoadNamespaces(dir string) ([]*corev1.Namespace, error) {
	return loadKind[corev1.Namespace](dir, pod.KindNamespace)
}

// LoadSecret reads one stored Secret (nil when there is none).
func LoadSecret(dir, ns, name string) (*corev1.Secret, time.Time, error) {
	path := objectFile(dir, ns, pod.KindSecret, name)
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, time.Time{}, nil
		}
		return nil, time.Time{}, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, time.Time{}, err
	}
	var s corev1.Secret
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, time.Time{}, err
	}
	return &s, fi.ModTime(), nil
}

// loadKind reads the stored objects of one kind, in every namespace.
func loadKind[T any](dir, kind string) ([]*T, error) {
	paths, err := filepath.Glob(objectFile(dir, "*", kind, "*"))
	if err != nil {
		return nil, err
	}
	var out []*T
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // removed meanwhile
		}
		var x T
		if json.Unmarshal(data, &x) == nil {
			out = append(out, &x)
		}
	}
	return out, nil
}
