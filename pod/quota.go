package pod

import (
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// KindResourceQuota is a ResourceQuota: how much the pods and objects of
// its namespace may hold in all, checked as the API server's ResourceQuota
// admission checks it when they are made.
const KindResourceQuota = "ResourceQuota"

var resourceQuotaRules = withMetadata(map[string]rule{
	"spec":               {support: Honoured},
	"spec.hard":          {support: Honoured, subtree: true},
	"spec.scopes":        {support: Honoured, note: "Terminating, NotTerminating, BestEffort, NotBestEffort"},
	"spec.scopeSelector": {note: "scopes does what one host can (there are no priority classes, and no pod affinity across namespaces)"},
	"status":             {support: Ignored, subtree: true, note: "output-only: podunit works it out"},
})

// quotaCounts are the objects a quota counts, by its resource name: the
// short names and the count/<resource>.<group> ones.
var quotaCounts = map[string]string{
	"pods": "Pod", "services": KindService, "configmaps": KindConfigMap, "secrets": KindSecret,
	"persistentvolumeclaims": KindClaim, "resourcequotas": KindResourceQuota,
	"count/pods": "Pod", "count/services": KindService, "count/configmaps": KindConfigMap, "count/secrets": KindSecret,
	"count/persistentvolumeclaims": KindClaim, "count/resourcequotas": KindResourceQuota,
	"count/serviceaccounts": KindServiceAccount, "count/endpoints": KindEndpoints, "count/limitranges": KindLimitRange,
	"count/deployments.apps": KindDeployment, "count/statefulsets.apps": KindStatefulSet, "count/daemonsets.apps": KindDaemonSet,
	"count/jobs.batch": KindJob, "count/cronjobs.batch": KindCronJob,
	"count/ingresses.networking.k8s.io": KindIngress, "count/networkpolicies.networking.k8s.io": KindNetworkPolicy,
	"count/endpointslices.discovery.k8s.io": KindEndpointSlice,
	// the ReplicaSets of the Deployments, as `get rs` shows them; podunit
	// runs no ReplicationController (it refuses the kind): always 0
	"count/replicasets.apps": "ReplicaSet",
	"replicationcontrollers": "ReplicationController", "count/replicationcontrollers": "ReplicationController",
}

// podResource is the pod resource a quota resource name sums ("" and false
// when it is none): cpu and memory (their requests), requests.X, limits.X.
func podResource(name string) (r corev1.ResourceName, limits, ok bool) {
	switch {
	case name == "cpu" || name == "memory" || name == "ephemeral-storage":
		return corev1.ResourceName(name), false, true
	case strings.HasPrefix(name, "requests."):
		rn := corev1.ResourceName(strings.TrimPrefix(name, "requests."))
		if rn == corev1.ResourceStorage {
			return "", false, false // claims'
		}
		return rn, false, rn == corev1.ResourceCPU || rn == corev1.ResourceMemory || rn == corev1.ResourceEphemeralStorage || IsExtendedResource(rn)
	case strings.HasPrefix(name, "limits."):
		rn := corev1.ResourceName(strings.TrimPrefix(name, "limits."))
		return rn, true, rn == corev1.ResourceCPU || rn == corev1.ResourceMemory || rn == corev1.ResourceEphemeralStorage
	}
	return "", false, false
}

// quotaScoped are the quota resources a scope may go with: the pods'.
func quotaScoped(name string) bool {
	_, _, ok := podResource(name)
	return ok || name == "pods" || name == "count/pods"
}

// loadResourceQuota decodes and validates a ResourceQuota as the API server
// does, for the resources podunit counts.
func loadResourceQuota(generic any, js []byte, o *Objects) ([]string, field.ErrorList) {
	var q corev1.ResourceQuota
	warns, errs := decodeStrict(generic, js, &q, resourceQuotaRules)
	q.Status = corev1.ResourceQuotaStatus{}
	o.ResourceQuotas = append(o.ResourceQuotas, &q)
	errs = append(errs, validateObjectMeta(q.Name, q.Namespace, q.Labels)...)
	hp := field.NewPath("spec", "hard")
	for _, k := range sortedStringKeys(q.Spec.Hard) {
		v := q.Spec.Hard[corev1.ResourceName(k)]
		_, _, isPod := podResource(k)
		_, isCount := quotaCounts[k]
		switch {
		case !isPod && !isCount && k != "requests.storage" && k != "services.nodeports" && k != "services.loadbalancers":
			errs = append(errs, field.NotSupported(hp.Key(k), k, []string{"pods", "cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory",
				"requests.ephemeral-storage", "limits.ephemeral-storage", "requests.<extended resource>", "services", "services.nodeports", "services.loadbalancers",
				"configmaps", "secrets", "persistentvolumeclaims", "requests.storage", "resourcequotas", "count/<resource>.<group>"}))
		case v.Sign() < 0:
			errs = append(errs, field.Invalid(hp.Key(k), v.String(), "must be greater than or equal to 0"))
		case (isCount || strings.HasPrefix(k, "services.")) && v.MilliValue()%1000 != 0:
			errs = append(errs, field.Invalid(hp.Key(k), v.String(), "must be an integer"))
		}
	}
	sp := field.NewPath("spec", "scopes")
	seen := map[corev1.ResourceQuotaScope]bool{}
	for i, s := range q.Spec.Scopes {
		switch s {
		case corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating, corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort:
		default:
			errs = append(errs, field.NotSupported(sp.Index(i), string(s), []string{"Terminating", "NotTerminating", "BestEffort", "NotBestEffort"}))
		}
		if seen[s] {
			errs = append(errs, field.Duplicate(sp.Index(i), string(s)))
		}
		seen[s] = true
	}
	if seen[corev1.ResourceQuotaScopeTerminating] && seen[corev1.ResourceQuotaScopeNotTerminating] || seen[corev1.ResourceQuotaScopeBestEffort] && seen[corev1.ResourceQuotaScopeNotBestEffort] {
		errs = append(errs, field.Invalid(sp, fmt.Sprint(q.Spec.Scopes), "conflicting scopes"))
	}
	if len(q.Spec.Scopes) > 0 {
		for _, k := range sortedStringKeys(q.Spec.Hard) {
			if !quotaScoped(k) || (seen[corev1.ResourceQuotaScopeBestEffort] && k != "pods" && k != "count/pods") {
				errs = append(errs, field.Invalid(hp.Key(k), k, fmt.Sprintf("unsupported scope applied to resource: %v", q.Spec.Scopes)))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return warns, nil
}

// inScope tells whether a quota's scopes take a pod in.
func inScope(q *corev1.ResourceQuota, p *corev1.Pod) bool {
	bestEffort := QOSClass(&p.Spec) == corev1.PodQOSBestEffort
	terminating := p.Spec.ActiveDeadlineSeconds != nil
	for _, s := range q.Spec.Scopes {
		switch {
		case s == corev1.ResourceQuotaScopeBestEffort && !bestEffort,
			s == corev1.ResourceQuotaScopeNotBestEffort && bestEffort,
			s == corev1.ResourceQuotaScopeTerminating && !terminating,
			s == corev1.ResourceQuotaScopeNotTerminating && terminating:
			return false
		}
	}
	return true
}

// QuotaUsage is what the pods (those that have not ended) and objects of a
// quota's namespace use of each resource it limits.
func QuotaUsage(q *corev1.ResourceQuota, pods []*corev1.Pod, o *Objects) corev1.ResourceList {
	used := corev1.ResourceList{}
	var mine []*corev1.Pod
	for _, p := range pods {
		if p.Namespace == q.Namespace && inScope(q, p) {
			mine = append(mine, p)
		}
	}
	counts := map[string]int{}
	o.Each(func(kind string, obj metav1.Object) {
		if obj.GetNamespace() == q.Namespace {
			counts[kind]++
		}
	})
	counts["Pod"] = len(mine)
	counts["ReplicaSet"] = replicaSetCount(q.Namespace, o.Deployments, pods)
	for name := range q.Spec.Hard {
		k := string(name)
		var sum resource.Quantity
		switch rn, limits, isPod := podResource(k); {
		case isPod:
			for _, p := range mine {
				var v resource.Quantity
				if limits {
					v, _ = PodLimits(&p.Spec, rn)
				} else {
					v, _ = PodRequests(&p.Spec, rn)
				}
				sum.Add(v)
			}
		case k == "requests.storage":
			for _, c := range o.Claims {
				if c.Namespace == q.Namespace {
					sum.Add(c.Spec.Resources.Requests[corev1.ResourceStorage])
				}
			}
		case k == "services.nodeports" || k == "services.loadbalancers":
			n := 0
			for _, s := range o.Services {
				if s.Namespace != q.Namespace {
					continue
				}
				if k == "services.loadbalancers" && s.Spec.Type == corev1.ServiceTypeLoadBalancer {
					n++
				}
				if k == "services.nodeports" && HasNodePorts(s) {
					n += len(s.Spec.Ports)
				}
			}
			sum = *resource.NewQuantity(int64(n), resource.DecimalSI)
		default:
			sum = *resource.NewQuantity(int64(counts[quotaCounts[k]]), resource.DecimalSI)
		}
		used[name] = sum
	}
	return used
}

// QuotaErrors are what the ResourceQuota admission refuses when the pods and
// objects of before become those of after: a new pod that does not say how
// much it asks for of what a quota limits (per field), and, per quota, the
// resources whose use would grow beyond its hard limit (exceeded: the
// message kubectl gives).
func QuotaErrors(quotas []*corev1.ResourceQuota, before, after []*corev1.Pod, beforeObjs, afterObjs *Objects, created []*corev1.Pod) (must map[*corev1.Pod]field.ErrorList, exceeded []string) {
	for _, q := range sortedQuotas(quotas) {
		for _, p := range created {
			if p.Namespace != q.Namespace || !inScope(q, p) {
				continue
			}
			if errs := unsaid(q, p); len(errs) > 0 {
				if must == nil {
					must = map[*corev1.Pod]field.ErrorList{}
				}
				must[p] = append(must[p], errs...)
			}
		}
		was, will := QuotaUsage(q, before, beforeObjs), QuotaUsage(q, after, afterObjs)
		var requested, used, limited []string
		for _, k := range sortedStringKeys(q.Spec.Hard) {
			rn := corev1.ResourceName(k)
			hard, w, n := q.Spec.Hard[rn], was[rn], will[rn]
			if n.Cmp(hard) > 0 && n.Cmp(w) > 0 {
				delta := n.DeepCopy()
				delta.Sub(w)
				requested = append(requested, k+"="+delta.String())
				used = append(used, k+"="+w.String())
				limited = append(limited, k+"="+hard.String())
			}
		}
		if len(requested) > 0 {
			exceeded = append(exceeded, fmt.Sprintf("exceeded quota: %s (namespace %s), requested: %s, used: %s, limited: %s",
				q.Name, q.Namespace, strings.Join(requested, ","), strings.Join(used, ","), strings.Join(limited, ",")))
		}
	}
	return must, exceeded
}

// unsaid are what a new pod does not say of the cpu, memory and
// ephemeral-storage a quota counts: a container (init containers too)
// without the request (or a limit it defaults to) or limit, where the pod as
// a whole does not say it.
func unsaid(q *corev1.ResourceQuota, p *corev1.Pod) field.ErrorList {
	var errs field.ErrorList
	for _, k := range sortedStringKeys(q.Spec.Hard) {
		rn, limits, isPod := podResource(k)
		if !isPod || IsExtendedResource(rn) {
			continue
		}
		if r := p.Spec.Resources; r != nil {
			_, inLimits := r.Limits[rn]
			_, inRequests := r.Requests[rn]
			if inLimits || (!limits && inRequests) {
				continue
			}
		}
		containersOf(p, func(c *corev1.Container, cp *field.Path, _ string) {
			list, has := "requests", false
			if limits {
				list = "limits"
				_, has = c.Resources.Limits[rn]
			} else {
				_, has = containerRequest(c, rn)
			}
			if !has {
				errs = append(errs, field.Required(cp.Child("resources", list).Key(string(rn)), fmt.Sprintf("resourcequota %q limits %s: each container must say it", q.Name, k)))
			}
		})
	}
	return errs
}

func sortedQuotas(qs []*corev1.ResourceQuota) []*corev1.ResourceQuota {
	out := append([]*corev1.ResourceQuota{}, qs...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// replicaSetCount is how many ReplicaSets the Deployments of a namespace have,
// as podunit shows them: one for each current template, and one for each
// other template whose pods still run.
func replicaSetCount(ns string, deps []*appsv1.Deployment, pods []*corev1.Pod) int {
	n := 0
	for _, d := range deps {
		if d.Namespace != ns {
			continue
		}
		hashes := map[string]bool{TemplateHash(&d.Spec.Template): true}
		for _, p := range pods {
			if p.Namespace == ns && OwnerDeployment(p) == d.Name {
				hashes[p.Labels[LabelPodTemplateHash]] = true
			}
		}
		n += len(hashes)
	}
	return n
}
