package pod

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// A Deployment runs spec.replicas pods of its template on this host, as its
// ReplicaSet would on a cluster: each pod is named
// <deployment>-<pod-template-hash>-<5 characters>, carries the template's
// labels plus pod-template-hash, and names the ReplicaSet
// <deployment>-<hash> as its controller. There is no controller process:
// `podunit up` of the Deployment (or `podunit scale`) makes the pods match
// it, rolling a changed template out as the strategy says.
const (
	KindDeployment = "Deployment"
	// LabelPodTemplateHash tells a Deployment's pods of one template from
	// those of another, as the Deployment controller's label does.
	LabelPodTemplateHash = appsv1.DefaultDeploymentUniqueLabelKey
)

// Rollout defaults of apps/v1.
const (
	defaultProgressDeadline = 600
	defaultHistoryLimit     = 10
)

var deploymentRules = withMetadata(map[string]rule{
	"apiVersion":                     {support: Honoured},
	"spec":                           {support: Honoured},
	"spec.replicas":                  {support: Honoured},
	"spec.selector":                  {support: Honoured},
	"spec.selector.matchLabels":      {support: Honoured, subtree: true},
	"spec.selector.matchExpressions": {support: Honoured, subtree: true},
	// the template is judged as a pod, with the pod's rules
	"spec.template":                              {support: Honoured, subtree: true, note: "metadata and spec as those of a Pod (the fields without a prefix)"},
	"spec.strategy":                              {support: Honoured},
	"spec.strategy.type":                         {support: Honoured},
	"spec.strategy.rollingUpdate":                {support: Honoured},
	"spec.strategy.rollingUpdate.maxSurge":       {support: Honoured},
	"spec.strategy.rollingUpdate.maxUnavailable": {support: Honoured},
	"spec.minReadySeconds":                       {support: Honoured},
	"spec.progressDeadlineSeconds":               {support: Honoured},
	"spec.revisionHistoryLimit":                  {support: Ignored, note: "podunit keeps no old ReplicaSets: a rollout removes the old pods (a rollback is applying the old manifest)"},
	"spec.paused":                                {note: "podunit rolls a Deployment out when it is applied; there is no controller to pause"},
	"status":                                     {support: Ignored, subtree: true, note: "output-only"},
})

// loadDeployment decodes and validates a Deployment, adds it to o, and makes
// its pods, each with what validation resolved for it. Problems of the
// template are reported at their path under spec.template.
func loadDeployment(generic any, js []byte, o *Objects) (pods []*corev1.Pod, ress []*Resolved, warns []string, errs field.ErrorList) {
	var d appsv1.Deployment
	warns, errs = decodeStrict(generic, js, &d, deploymentRules)
	tmplWarns, tmplErrs := judgeTemplate(generic)
	warns, errs = append(warns, tmplWarns...), uniqueErrors(append(errs, tmplErrs...))
	if json.Unmarshal(js, &appsv1.Deployment{}) != nil {
		return nil, nil, nil, errs // values of the wrong type: nothing to validate
	}
	// Validation runs even after unknown fields were found, so that one
	// run tells every problem.
	defaultDeployment(&d)
	o.Deployments = append(o.Deployments, &d)
	if errs = append(errs, validateDeployment(&d)...); len(errs) > 0 {
		if *d.Spec.Replicas >= 0 {
			one := *d.DeepCopy()
			one.Spec.Replicas = ptrTo(int32(1))
			_, perrs := Resolve(DeploymentPods(&one)[0])
			// the pods' names are the Deployment's: told at metadata.name
			perrs = slices.DeleteFunc(perrs, func(e *field.Error) bool { return e.Field == "metadata.name" })
			errs = append(errs, templateErrors(perrs)...)
		}
		return nil, nil, nil, uniqueErrors(errs)
	}
	if d.Spec.Template.Name != "" {
		warns = append(warns, fmt.Sprintf("spec.template.metadata.name: ignored: a Deployment's pods are named after it (%s-%s-xxxxx)", d.Name, TemplateHash(&d.Spec.Template)))
	}
	if *d.Spec.Replicas == 0 {
		// no pod, but a template as valid as if there were one
		one := *d.DeepCopy()
		one.Spec.Replicas = ptrTo(int32(1))
		if _, perrs := Resolve(DeploymentPods(&one)[0]); len(perrs) > 0 {
			return nil, nil, nil, templateErrors(perrs)
		}
	}
	pods = DeploymentPods(&d)
	for i, p := range pods {
		res, perrs := Resolve(p)
		if len(perrs) > 0 {
			// every replica has the same problems: those of the first are told
			return nil, nil, nil, templateErrors(perrs)
		}
		pods[i], ress = p, append(ress, res)
	}
	return pods, ress, warns, nil
}

// judgeTemplate judges spec.template as the pod it makes, with the pod's
// rules.
func judgeTemplate(generic any) ([]string, field.ErrorList) {
	obj, _ := generic.(map[string]any)
	spec, _ := obj["spec"].(map[string]any)
	tmpl, ok := spec["template"].(map[string]any)
	if !ok {
		return nil, nil // missing or of the wrong shape: decodeStrict says so
	}
	p := map[string]any{"apiVersion": "v1", "kind": "Pod"}
	for k, v := range tmpl {
		p[k] = v
	}
	errs, warns := judgeFields(p, podType, podRules)
	return templateWarnings(warns), templateErrors(errs)
}

// templateWarnings puts a pod's warnings that start with a field path at
// that path in a Deployment.
func templateWarnings(warns []string) []string {
	out := make([]string, len(warns))
	for i, w := range warns {
		if strings.HasPrefix(w, "spec.") || strings.HasPrefix(w, "metadata.") {
			w = "spec.template." + w
		}
		out[i] = w
	}
	return out
}

// uniqueErrors drops the repeats of an error (the shape of a template is
// checked with the Deployment's and with the pod's rules).
func uniqueErrors(errs field.ErrorList) field.ErrorList {
	var out field.ErrorList
	seen := map[string]bool{}
	for _, e := range errs {
		if k := e.Error(); !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}

// templateErrors puts a pod's errors at their path in a Deployment.
func templateErrors(errs field.ErrorList) field.ErrorList {
	out := make(field.ErrorList, len(errs))
	for i, e := range errs {
		c := *e
		if c.Field == "" || c.Field == "<nil>" {
			c.Field = "spec.template"
		} else {
			c.Field = "spec.template." + c.Field
		}
		out[i] = &c
	}
	return out
}

func defaultDeployment(d *appsv1.Deployment) {
	if d.Spec.Replicas == nil {
		one := int32(1)
		d.Spec.Replicas = &one
	}
	if d.Spec.Strategy.Type == "" {
		d.Spec.Strategy.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if d.Spec.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if d.Spec.Strategy.RollingUpdate == nil {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		quarter := intstr.FromString("25%")
		if d.Spec.Strategy.RollingUpdate.MaxUnavailable == nil {
			d.Spec.Strategy.RollingUpdate.MaxUnavailable = &quarter
		}
		if d.Spec.Strategy.RollingUpdate.MaxSurge == nil {
			d.Spec.Strategy.RollingUpdate.MaxSurge = &quarter
		}
	}
	if d.Spec.ProgressDeadlineSeconds == nil {
		p := int32(defaultProgressDeadline)
		d.Spec.ProgressDeadlineSeconds = &p
	}
	if d.Spec.RevisionHistoryLimit == nil {
		h := int32(defaultHistoryLimit)
		d.Spec.RevisionHistoryLimit = &h
	}
	if d.Spec.Template.Spec.RestartPolicy == "" {
		d.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
	}
}

// validateDeployment checks what apps/v1 validation checks of a Deployment
// (its template is checked as a pod, by Resolve), and that its pods' names
// fit.
func validateDeployment(d *appsv1.Deployment) field.ErrorList {
	var errs field.ErrorList
	md := field.NewPath("metadata")
	if d.Name == "" {
		errs = append(errs, field.Required(md.Child("name"), ""))
	} else {
		// The name starts every pod's name, which must be a DNS label (a
		// long one is cut, as generateName cuts it: DeploymentPods).
		for _, msg := range validation.IsDNS1123Label(d.Name) {
			errs = append(errs, field.Invalid(md.Child("name"), d.Name, msg))
		}
	}
	errs = append(errs, validateLabels(d.Labels, md.Child("labels"))...)
	sp := field.NewPath("spec")
	if *d.Spec.Replicas < 0 {
		errs = append(errs, field.Invalid(sp.Child("replicas"), *d.Spec.Replicas, "must be greater than or equal to 0"))
	}
	errs = append(errs, validateWorkload(d.Spec.Selector, &d.Spec.Template, d.Spec.MinReadySeconds, d.Namespace, KindDeployment, []string{LabelPodTemplateHash})...)
	if pd := *d.Spec.ProgressDeadlineSeconds; pd <= d.Spec.MinReadySeconds {
		errs = append(errs, field.Invalid(sp.Child("progressDeadlineSeconds"), pd, "must be greater than minReadySeconds"))
	}
	st := sp.Child("strategy")
	switch d.Spec.Strategy.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if d.Spec.Strategy.RollingUpdate != nil {
			errs = append(errs, field.Forbidden(st.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"))
		}
	case appsv1.RollingUpdateDeploymentStrategyType:
		ru := st.Child("rollingUpdate")
		surge, serr := scaledValue(d.Spec.Strategy.RollingUpdate.MaxSurge, 100, true)
		if serr != "" {
			errs = append(errs, field.Invalid(ru.Child("maxSurge"), d.Spec.Strategy.RollingUpdate.MaxSurge.String(), serr))
		}
		unavail, uerr := scaledValue(d.Spec.Strategy.RollingUpdate.MaxUnavailable, 100, false)
		if uerr != "" {
			errs = append(errs, field.Invalid(ru.Child("maxUnavailable"), d.Spec.Strategy.RollingUpdate.MaxUnavailable.String(), uerr))
		}
		if serr == "" && uerr == "" && surge == 0 && unavail == 0 {
			errs = append(errs, field.Invalid(ru.Child("maxUnavailable"), d.Spec.Strategy.RollingUpdate.MaxUnavailable.String(), "may not be 0 when `maxSurge` is 0"))
		}
		if p := d.Spec.Strategy.RollingUpdate.MaxUnavailable; uerr == "" && p.Type == intstr.String && unavail > 100 {
			errs = append(errs, field.Invalid(ru.Child("maxUnavailable"), p.String(), "must not be greater than 100%"))
		}
	default:
		errs = append(errs, field.NotSupported(st.Child("type"), d.Spec.Strategy.Type, []string{string(appsv1.RecreateDeploymentStrategyType), string(appsv1.RollingUpdateDeploymentStrategyType)}))
	}
	return errs
}

// scaledValue is an int-or-percent of total: a non-negative integer, or a
// percentage ("25%"), rounded up for maxSurge and down for maxUnavailable,
// as the Deployment controller rounds them. It returns a message when the
// value is not one.
func scaledValue(v *intstr.IntOrString, total int, roundUp bool) (int, string) {
	if v == nil {
		return 0, ""
	}
	if v.Type == intstr.Int {
		if v.IntVal < 0 {
			return 0, "must be greater than or equal to 0"
		}
		return int(v.IntVal), ""
	}
	s, ok := strings.CutSuffix(v.StrVal, "%")
	n, err := strconv.Atoi(s)
	if !ok || err != nil || n < 0 {
		return 0, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
	}
	f := float64(n) * float64(total) / 100
	if roundUp {
		return int(math.Ceil(f)), ""
	}
	return int(math.Floor(f)), ""
}

// RolloutLimits are a RollingUpdate's maxSurge and maxUnavailable for
// replicas pods, as the controller resolves them: when both come to 0,
// maxUnavailable is 1. Recreate has 0 and 0: no pod more, and none
// unavailable counted while it runs.
func RolloutLimits(d *appsv1.Deployment) (surge, unavailable int) {
	ru := d.Spec.Strategy.RollingUpdate
	if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || ru == nil {
		return 0, 0
	}
	n := int(*d.Spec.Replicas)
	surge, _ = scaledValue(ru.MaxSurge, n, true)
	unavailable, _ = scaledValue(ru.MaxUnavailable, n, false)
	if surge == 0 && unavailable == 0 {
		unavailable = 1
	}
	return surge, unavailable
}

// TemplateHash is the pod-template-hash of a template: the same template
// always has the same one, a changed template another.
func TemplateHash(t *corev1.PodTemplateSpec) string {
	data, _ := json.Marshal(t) // a PodTemplateSpec always marshals; map keys in order
	h := fnv.New32a()
	h.Write(data)
	return rand.SafeEncodeString(strconv.FormatUint(uint64(h.Sum32()), 10))
}

// nameAlphabet is the alphabet of generated names (the one Kubernetes uses:
// no vowels, no 0, 1 or 3).
const nameAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// DeploymentPods are the pods of a Deployment, in order: the i-th pod of a
// template has the same name whenever the Deployment is applied, so that
// applying it again finds them.
func DeploymentPods(d *appsv1.Deployment) []*corev1.Pod {
	hash := TemplateHash(&d.Spec.Template)
	rs := ReplicaSetName(d.Name, hash)
	// As the API server's generateName: the ReplicaSet's name and "-", cut
	// to 58 characters, then five more. A cut name no longer tells the
	// Deployment apart, so its suffixes do.
	base, seed := rs+"-", d.Namespace+"/"+hash
	if len(base) > maxGeneratedBase {
		base, seed = base[:maxGeneratedBase], d.Namespace+"/"+d.Name+"/"+hash
	}
	used := map[string]bool{}
	var pods []*corev1.Pod
	for i := 0; i < int(*d.Spec.Replicas); i++ {
		var name string
		for salt := 0; name == "" || used[name]; salt++ {
			// the namespace counts: pod names are unique on the host
			name = base + nameSuffix(seed, i, salt)
		}
		used[name] = true
		p := &corev1.Pod{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Namespace:   d.Namespace,
				Labels:      map[string]string{LabelPodTemplateHash: hash},
				Annotations: copyMap(d.Spec.Template.Annotations),
				OwnerReferences: []metav1.OwnerReference{{
					APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs,
					Controller: ptrTo(true), BlockOwnerDeletion: ptrTo(true),
				}},
			},
			Spec: *d.Spec.Template.Spec.DeepCopy(),
		}
		for k, v := range d.Spec.Template.Labels {
			p.Labels[k] = v
		}
		SetDefaults(p)
		pods = append(pods, p)
	}
	return pods
}

// maxGeneratedBase is how much of a generated name precedes its five random
// characters, as Kubernetes' names.SimpleNameGenerator keeps: a pod's name
// stays a DNS label (63).
const maxGeneratedBase = validation.DNS1123LabelMaxLength - 5

// ReplicaSetName is the name of a Deployment's ReplicaSet for a template hash.
func ReplicaSetName(deployment, hash string) string { return deployment + "-" + hash }

func nameSuffix(hash string, i, salt int) string {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d/%d", hash, i, salt)
	v := h.Sum32()
	b := make([]byte, 5)
	for j := range b {
		b[j] = nameAlphabet[v%uint32(len(nameAlphabet))]
		v /= uint32(len(nameAlphabet))
	}
	return string(b)
}

// OwnerDeployment is the name of the Deployment a pod was made for, or "":
// its controller is a ReplicaSet named <deployment>-<its pod-template-hash>.
func OwnerDeployment(p *corev1.Pod) string {
	hash := p.Labels[LabelPodTemplateHash]
	if hash == "" {
		return ""
	}
	for _, o := range p.OwnerReferences {
		if o.Kind == "ReplicaSet" && o.Controller != nil && *o.Controller {
			if d, ok := strings.CutSuffix(o.Name, "-"+hash); ok && d != "" {
				return d
			}
		}
	}
	return ""
}

// Deployment finds a Deployment, or nil.
func (o *Objects) Deployment(ns, name string) *appsv1.Deployment {
	if o == nil {
		return nil
	}
	return find(o.Deployments, ns, name)
}

var podType = reflect.TypeOf(corev1.Pod{})

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func ptrTo[T any](v T) *T { return &v }

// validateWorkload checks what a Deployment and a StatefulSet share: a
// selector that selects the template's labels, the labels the controller
// sets (own) not set by hand, the template in the object's namespace, its
// restartPolicy Always, minReadySeconds.
func validateWorkload(sel *metav1.LabelSelector, tmpl *corev1.PodTemplateSpec, minReady int32, ns, kind string, own []string) field.ErrorList {
	var errs field.ErrorList
	sp := field.NewPath("spec")
	switch {
	case sel == nil:
		errs = append(errs, field.Required(sp.Child("selector"), ""))
	case len(sel.MatchLabels)+len(sel.MatchExpressions) == 0:
		errs = append(errs, field.Invalid(sp.Child("selector"), sel, "empty selector is invalid for "+strings.ToLower(kind)))
	default:
		s, err := metav1.LabelSelectorAsSelector(sel)
		switch {
		case err != nil:
			errs = append(errs, field.Invalid(sp.Child("selector"), sel, err.Error()))
		case !s.Matches(labels.Set(tmpl.Labels)):
			errs = append(errs, field.Invalid(sp.Child("template", "metadata", "labels"), tmpl.Labels, "`selector` does not match template `labels`"))
		}
	}
	for _, k := range own {
		if v, ok := tmpl.Labels[k]; ok {
			errs = append(errs, field.Invalid(sp.Child("template", "metadata", "labels").Key(k), v, "set by podunit, as by the "+kind+" controller"))
		}
	}
	if tns := tmpl.Namespace; tns != "" && tns != ns {
		errs = append(errs, field.Invalid(sp.Child("template", "metadata", "namespace"), tns, fmt.Sprintf("must be the %s's, %q", kind, ns)))
	}
	if rp := tmpl.Spec.RestartPolicy; rp != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(sp.Child("template", "spec", "restartPolicy"), string(rp), []string{string(corev1.RestartPolicyAlways)}))
	}
	if tmpl.Spec.ActiveDeadlineSeconds != nil {
		// the API server's words: a controller's pods run for good
		errs = append(errs, field.Forbidden(sp.Child("template", "spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in "+kind+" is not Supported"))
	}
	if minReady < 0 {
		errs = append(errs, field.Invalid(sp.Child("minReadySeconds"), minReady, "must be greater than or equal to 0"))
	}
	return errs
}
