package pod

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// clusterKind is a kind that has a meaning only in a cluster. A manifest may
// hold it (a chart's output does): podunit skips the object with a warning
// saying why, after checking it is one.
type clusterKind struct {
	apiVersions []string
	note        string
}

const noAPIServer = "it grants access to the Kubernetes API, which this host does not serve (no pod gets a token)"

var clusterKinds = map[string]clusterKind{
	"Role":                    {[]string{"rbac.authorization.k8s.io/v1"}, noAPIServer},
	"RoleBinding":             {[]string{"rbac.authorization.k8s.io/v1"}, noAPIServer},
	"ClusterRole":             {[]string{"rbac.authorization.k8s.io/v1"}, noAPIServer},
	"ClusterRoleBinding":      {[]string{"rbac.authorization.k8s.io/v1"}, noAPIServer},
	"PodDisruptionBudget":     {[]string{"policy/v1"}, "it limits evictions and drains, and nothing evicts pods on this host"},
	"PriorityClass":           {[]string{"scheduling.k8s.io/v1"}, "scheduling has no meaning on one host"},
	"IngressClass":            {[]string{"networking.k8s.io/v1"}, "the service proxy is this host's only ingress controller: it serves every Ingress, whatever its class"},
	"HorizontalPodAutoscaler": {[]string{"autoscaling/v2", "autoscaling/v1"}, "nothing scales pods on this host: a Deployment runs spec.replicas pods (`podunit scale` changes them)"},
}

// refusedKinds are kinds podunit does not run, with what to do instead.
var refusedKinds = map[string]string{
	"ReplicaSet":   "apply it as a Deployment of that template: podunit makes its ReplicaSet's pods",
	"StorageClass": "a claim no PersistentVolume fits is a podman volume on this host, whatever its storageClassName; remove it to run the rest",
}

// loadClusterKind checks an object of a cluster-only kind (apiVersion, a
// name) and returns the warning that it is skipped.
func loadClusterKind(kind string, ck clusterKind, obj map[string]any) ([]string, field.ErrorList) {
	var errs field.ErrorList
	api, _ := obj["apiVersion"].(string)
	if !slices.Contains(ck.apiVersions, api) {
		errs = append(errs, field.NotSupported(field.NewPath("apiVersion"), api, ck.apiVersions))
	}
	md, _ := obj["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	np := field.NewPath("metadata", "name")
	if name == "" {
		errs = append(errs, field.Required(np, ""))
	}
	for _, msg := range validation.NameIsDNSSubdomain(name, false) {
		if name != "" {
			errs = append(errs, field.Invalid(np, name, msg))
		}
	}
	return []string{fmt.Sprintf("ignored: %s", ck.note)}, errs
}

// refusedKind is the error for a kind podunit does not run.
func refusedKind(kind string) field.ErrorList {
	if note, ok := refusedKinds[kind]; ok {
		return field.ErrorList{field.Forbidden(field.NewPath("kind"), fmt.Sprintf("%s is not supported by podunit: %s", kind, note))}
	}
	return field.ErrorList{field.NotSupported(field.NewPath("kind"), kind, Kinds)}
}

// knownKinds names every kind a manifest may hold, those podunit skips too,
// for messages.
func knownKinds() string {
	skipped := make([]string, 0, len(clusterKinds))
	for k := range clusterKinds {
		skipped = append(skipped, k)
	}
	slices.Sort(skipped)
	return strings.Join(Kinds, ", ") + " (and, skipped with a warning, " + strings.Join(skipped, ", ") + ")"
}
