package pod

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Namespaces and ServiceAccounts, which real manifests bundle with their pods.
// On one host a namespace needs no object (pods and objects are kept apart by
// their metadata.namespace alone) and there is no API server to issue service
// account tokens; what the objects do mean is honoured: a ServiceAccount's
// imagePullSecrets go to the pods that run as it, as Kubernetes' ServiceAccount
// admission does.
const (
	KindNamespace      = "Namespace"
	KindServiceAccount = "ServiceAccount"
)

// DefaultServiceAccount is the service account of a pod that names none. It
// exists in every namespace; a manifest may define it to give it
// imagePullSecrets.
const DefaultServiceAccount = "default"

// podSecurityLabels is the prefix of the Namespace labels of Pod Security
// admission, which has no counterpart on one host.
const podSecurityLabels = "pod-security.kubernetes.io/"

var namespaceRules = withMetadata(map[string]rule{
	"metadata.namespace": {support: Ignored, note: "a Namespace is not in a namespace"},
	"spec":               {support: Honoured},
	"spec.finalizers":    {support: Ignored, note: "no API server on one host"},
	"status":             {support: Ignored, subtree: true, note: "output-only"},
})

var serviceAccountRules = withMetadata(map[string]rule{
	"imagePullSecrets":             {support: Honoured, note: "pods that run as the service account and have no imagePullSecrets of their own pull with them"},
	"imagePullSecrets[*].name":     {support: Honoured},
	"secrets":                      {support: Ignored, subtree: true, note: "no API server on one host: no token Secrets"},
	"automountServiceAccountToken": {support: Honoured, note: "no token is mounted on this host (true: a warning)"},
})

func loadNamespace(generic any, js []byte, o *Objects) ([]string, field.ErrorList) {
	var n corev1.Namespace
	warns, errs := decodeStrict(generic, js, &n, namespaceRules)
	n.Namespace = "" // cluster-scoped
	n.Spec.Finalizers, n.Status = nil, corev1.NamespaceStatus{}
	o.Namespaces = append(o.Namespaces, &n)
	md := field.NewPath("metadata")
	if n.Name == "" {
		errs = append(errs, field.Required(md.Child("name"), ""))
	}
	for _, msg := range validation.IsDNS1123Label(n.Name) {
		if n.Name != "" {
			errs = append(errs, field.Invalid(md.Child("name"), n.Name, msg))
		}
	}
	errs = append(errs, validateLabels(n.Labels, md.Child("labels"))...)
	if len(errs) > 0 {
		return nil, errs
	}
	for _, k := range sortedStringKeys(n.Labels) {
		if strings.HasPrefix(k, podSecurityLabels) {
			warns = append(warns, fmt.Sprintf("%s: ignored: podunit does not enforce Pod Security Standards", md.Child("labels").Key(k)))
		}
	}
	return warns, nil
}

func loadServiceAccount(generic any, js []byte, o *Objects) ([]string, field.ErrorList) {
	var sa corev1.ServiceAccount
	warns, errs := decodeStrict(generic, js, &sa, serviceAccountRules)
	sa.Secrets = nil
	o.ServiceAccounts = append(o.ServiceAccounts, &sa)
	errs = append(errs, validateObjectMeta(sa.Name, sa.Namespace, sa.Labels)...)
	for i, r := range sa.ImagePullSecrets {
		for _, msg := range validation.IsDNS1123Subdomain(r.Name) {
			errs = append(errs, field.Invalid(field.NewPath("imagePullSecrets").Index(i).Child("name"), r.Name, msg))
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if t := sa.AutomountServiceAccountToken; t != nil && *t {
		warns = append(warns, "automountServiceAccountToken: true: ignored: there is no API server on one host to issue a token, none is mounted")
	}
	return warns, nil
}

// ServiceAccountName is the service account a pod runs as: its
// serviceAccountName, or the deprecated serviceAccount, or "default".
func ServiceAccountName(p *corev1.Pod) string {
	switch {
	case p.Spec.ServiceAccountName != "":
		return p.Spec.ServiceAccountName
	case p.Spec.DeprecatedServiceAccount != "":
		return p.Spec.DeprecatedServiceAccount
	}
	return DefaultServiceAccount
}

// bindServiceAccount does what Kubernetes' ServiceAccount admission does that
// means something on one host: a pod with no imagePullSecrets of its own gets
// those of its service account. A service account other than "default" that
// neither the manifest nor an earlier `up` defines is told of (Kubernetes
// would refuse the pod; podunit has no token to miss).
func bindServiceAccount(p *corev1.Pod, objs *Objects) (warns []string) {
	if t := p.Spec.AutomountServiceAccountToken; t != nil && *t {
		warns = append(warns, "spec.automountServiceAccountToken: true: ignored: there is no API server on one host to issue a token, none is mounted")
	}
	name := ServiceAccountName(p)
	sa := objs.ServiceAccount(p.Namespace, name)
	if sa == nil {
		if name == DefaultServiceAccount {
			return warns
		}
		path := "spec.serviceAccountName"
		if p.Spec.ServiceAccountName == "" {
			path = "spec.serviceAccount"
		}
		return append(warns, fmt.Sprintf("%s: no ServiceAccount %q in namespace %q (Kubernetes would refuse the pod): the pod runs without it", path, name, p.Namespace))
	}
	if len(p.Spec.ImagePullSecrets) == 0 && len(sa.ImagePullSecrets) > 0 {
		p.Spec.ImagePullSecrets = append([]corev1.LocalObjectReference(nil), sa.ImagePullSecrets...)
	}
	return warns
}

// The volume Kubernetes' ServiceAccount admission adds to a pod it creates
// (kube-api-access-xxxxx: the token, the cluster's CA, the namespace),
// mounted in every container. A pod exported from a cluster (kubectl get pod
// -o yaml) carries it.
const (
	admissionVolumePrefix = "kube-api-access-"
	rootCAConfigMap       = "kube-root-ca.crt"
)

// dropAdmissionToken takes the service account token volume a cluster added
// out of a pod document (and the containers' mounts of it), with a warning:
// there is no API server here to issue the token, and the pod as written did
// not ask for it. Any other projected token volume is the user's own and
// stays (to be refused by validation). It tells whether it changed obj.
func dropAdmissionToken(obj map[string]any) (warns []string, changed bool) {
	spec, _ := obj["spec"].(map[string]any)
	vols, _ := spec["volumes"].([]any)
	drop := map[string]bool{}
	var kept []any
	for i, v := range vols {
		vol, _ := v.(map[string]any)
		name, _ := vol["name"].(string)
		if !isAdmissionToken(vol) {
			kept = append(kept, v)
			continue
		}
		drop[name] = true
		warns = append(warns, fmt.Sprintf("spec.volumes[%d]: %s: ignored with its mounts: the service account token volume a cluster added when it created the pod (there is no API server on one host to issue a token)", i, name))
	}
	if len(drop) == 0 {
		return nil, false
	}
	if kept == nil {
		delete(spec, "volumes")
	} else {
		spec["volumes"] = kept
	}
	for _, list := range []string{"initContainers", "containers", "ephemeralContainers"} {
		cs, _ := spec[list].([]any)
		for _, c := range cs {
			ctr, _ := c.(map[string]any)
			mounts, ok := ctr["volumeMounts"].([]any)
			if !ok {
				continue
			}
			var keep []any
			for _, m := range mounts {
				mm, _ := m.(map[string]any)
				if n, _ := mm["name"].(string); !drop[n] {
					keep = append(keep, m)
				}
			}
			if keep == nil {
				delete(ctr, "volumeMounts")
			} else {
				ctr["volumeMounts"] = keep
			}
		}
	}
	return warns, true
}

// isAdmissionToken tells the volume ServiceAccount admission adds: named
// kube-api-access-*, projected from a service account token and nothing but
// the cluster's CA bundle and downward API files.
func isAdmissionToken(vol map[string]any) bool {
	name, _ := vol["name"].(string)
	proj, _ := vol["projected"].(map[string]any)
	srcs, _ := proj["sources"].([]any)
	if !strings.HasPrefix(name, admissionVolumePrefix) || len(vol) != 2 || len(srcs) == 0 {
		return false
	}
	token := false
	for _, s := range srcs {
		src, _ := s.(map[string]any)
		if len(src) != 1 {
			return false
		}
		switch {
		case src["serviceAccountToken"] != nil:
			token = true
		case src["configMap"] != nil:
			cm, _ := src["configMap"].(map[string]any)
			if n, _ := cm["name"].(string); n != rootCAConfigMap {
				return false
			}
		case src["downwardAPI"] != nil:
		default:
			return false
		}
	}
	return token
}
