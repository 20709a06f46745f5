package pod

import (
	"encoding/json"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// A DaemonSet runs one pod of its template on every node that its template
// fits; this host is the one node, so it runs one pod, or none when the
// template's nodeSelector or required node affinity does not match the
// host (`up` says so). The pod is named <daemonset>-<5 characters>, carries
// the template's labels plus controller-revision-hash, and names the
// DaemonSet as its controller. As for a Deployment, there is no controller
// process: `podunit up` of the DaemonSet makes its pod match it, replacing
// a pod of another template as spec.updateStrategy says.
const KindDaemonSet = "DaemonSet"

var daemonSetRules = withMetadata(map[string]rule{
	"apiVersion":                        {support: Honoured},
	"spec":                              {support: Honoured},
	"spec.selector":                     {support: Honoured},
	"spec.selector.matchLabels":         {support: Honoured, subtree: true},
	"spec.selector.matchExpressions":    {support: Honoured, subtree: true},
	"spec.template":                     {support: Honoured, subtree: true, note: "metadata and spec as those of a Pod (the fields without a prefix)"},
	"spec.updateStrategy":               {support: Honoured},
	"spec.updateStrategy.type":          {support: Honoured, note: "RollingUpdate: the pod of another template is replaced when the DaemonSet is applied (removed first, or, with maxSurge, once the new one is available); OnDelete: the new template when the pod is taken down"},
	"spec.updateStrategy.rollingUpdate": {support: Honoured},
	"spec.updateStrategy.rollingUpdate.maxUnavailable": {support: Honoured},
	"spec.updateStrategy.rollingUpdate.maxSurge":       {support: Honoured, note: "on one node, any surge starts the new pod before the old one goes"},
	"spec.minReadySeconds":                             {support: Honoured},
	"spec.revisionHistoryLimit":                        {support: Ignored, note: "podunit keeps no ControllerRevisions: a rollback is applying the old manifest"},
	"status":                                           {support: Ignored, subtree: true, note: "output-only"},
})

// loadDaemonSet decodes and validates a DaemonSet, adds it to o, and makes
// its pod, with what validation resolved for it. Problems of the template
// are reported at their path under spec.template.
func loadDaemonSet(generic any, js []byte, o *Objects) (pods []*corev1.Pod, ress []*Resolved, warns []string, errs field.ErrorList) {
	var ds appsv1.DaemonSet
	warns, errs = decodeStrict(generic, js, &ds, daemonSetRules)
	tmplWarns, tmplErrs := judgeTemplate(generic)
	warns, errs = append(warns, tmplWarns...), uniqueErrors(append(errs, tmplErrs...))
	if json.Unmarshal(js, &appsv1.DaemonSet{}) != nil {
		return nil, nil, nil, errs // values of the wrong type: nothing to validate
	}
	DefaultDaemonSet(&ds)
	o.DaemonSets = append(o.DaemonSets, &ds)
	errs = append(errs, validateDaemonSet(&ds)...)
	p := DaemonSetPod(&ds)
	res, perrs := Resolve(p)
	// the pod's name is the DaemonSet's: told at metadata.name
	perrs = slices.DeleteFunc(perrs, func(e *field.Error) bool { return e.Field == "metadata.name" })
	if errs = append(errs, templateErrors(perrs)...); len(errs) > 0 {
		return nil, nil, nil, uniqueErrors(errs)
	}
	if ds.Spec.Template.Name != "" {
		warns = append(warns, fmt.Sprintf("spec.template.metadata.name: ignored: a DaemonSet's pod is named after it (%s-xxxxx)", ds.Name))
	}
	return []*corev1.Pod{p}, []*Resolved{res}, warns, nil
}

// DefaultDaemonSet sets what apps/v1 defaults in a DaemonSet.
func DefaultDaemonSet(ds *appsv1.DaemonSet) {
	us := &ds.Spec.UpdateStrategy
	if us.Type == "" {
		us.Type = appsv1.RollingUpdateDaemonSetStrategyType
	}
	if us.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if us.RollingUpdate == nil {
			us.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
		}
		if us.RollingUpdate.MaxUnavailable == nil {
			one := intstr.FromInt32(1)
			us.RollingUpdate.MaxUnavailable = &one
		}
		if us.RollingUpdate.MaxSurge == nil {
			zero := intstr.FromInt32(0)
			us.RollingUpdate.MaxSurge = &zero
		}
	}
	if ds.Spec.RevisionHistoryLimit == nil {
		ds.Spec.RevisionHistoryLimit = ptrTo(int32(defaultHistoryLimit))
	}
	if ds.Spec.Template.Spec.RestartPolicy == "" {
		ds.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
	}
}

// validateDaemonSet checks what apps/v1 validation checks of a DaemonSet
// (its template is checked as a pod, by Resolve), and that its pod's name
// fits.
func validateDaemonSet(ds *appsv1.DaemonSet) field.ErrorList {
	var errs field.ErrorList
	md := field.NewPath("metadata")
	if ds.Name == "" {
		errs = append(errs, field.Required(md.Child("name"), ""))
	} else {
		// the name starts the pod's name, a DNS label (a long one is cut)
		for _, msg := range validation.IsDNS1123Label(ds.Name) {
			errs = append(errs, field.Invalid(md.Child("name"), ds.Name, msg))
		}
	}
	errs = append(errs, validateLabels(ds.Labels, md.Child("labels"))...)
	errs = append(errs, validateWorkload(ds.Spec.Selector, &ds.Spec.Template, ds.Spec.MinReadySeconds, ds.Namespace, KindDaemonSet, []string{LabelRevision})...)
	us := field.NewPath("spec", "updateStrategy")
	switch ds.Spec.UpdateStrategy.Type {
	case appsv1.OnDeleteDaemonSetStrategyType:
	case appsv1.RollingUpdateDaemonSetStrategyType:
		ru := ds.Spec.UpdateStrategy.RollingUpdate
		rp := us.Child("rollingUpdate")
		unavail, uerr := scaledValue(ru.MaxUnavailable, 100, true)
		if uerr != "" {
			errs = append(errs, field.Invalid(rp.Child("maxUnavailable"), ru.MaxUnavailable.String(), uerr))
		} else if p := ru.MaxUnavailable; p.Type == intstr.String && unavail > 100 {
			errs = append(errs, field.Invalid(rp.Child("maxUnavailable"), p.String(), "must not be greater than 100%"))
		}
		surge, serr := scaledValue(ru.MaxSurge, 100, true)
		if serr != "" {
			errs = append(errs, field.Invalid(rp.Child("maxSurge"), ru.MaxSurge.String(), serr))
		} else if p := ru.MaxSurge; p.Type == intstr.String && surge > 100 {
			errs = append(errs, field.Invalid(rp.Child("maxSurge"), p.String(), "must not be greater than 100%"))
		}
		switch {
		case uerr != "" || serr != "":
		case unavail > 0 && surge > 0:
			errs = append(errs, field.Invalid(rp.Child("maxSurge"), ru.MaxSurge.String(), "may not be set when maxUnavailable is non-zero"))
		case unavail == 0 && surge == 0:
			errs = append(errs, field.Required(rp.Child("maxUnavailable"), "cannot be 0 when maxSurge is 0"))
		}
	default:
		errs = append(errs, field.NotSupported(us.Child("type"), string(ds.Spec.UpdateStrategy.Type), []string{string(appsv1.OnDeleteDaemonSetStrategyType), string(appsv1.RollingUpdateDaemonSetStrategyType)}))
	}
	return errs
}

// DaemonSetSurge tells whether a DaemonSet's new pod starts before its old
// one goes: a RollingUpdate with a maxSurge (on one node, any surge rounds
// up to a pod; the controller then keeps maxUnavailable at 0).
func DaemonSetSurge(ds *appsv1.DaemonSet) bool {
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || ru == nil {
		return false
	}
	surge, _ := scaledValue(ru.MaxSurge, 1, true)
	return surge > 0
}

// DaemonSetPod is the pod of a DaemonSet on this host: the same template
// always gives the same name, so that applying it again finds it.
func DaemonSetPod(ds *appsv1.DaemonSet) *corev1.Pod {
	hash := TemplateHash(&ds.Spec.Template)
	base := ds.Name + "-"
	if len(base) > maxGeneratedBase {
		base = base[:maxGeneratedBase]
	}
	p := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			// the namespace counts: pod names are unique on the host
			Name:        base + nameSuffix(ds.Namespace+"/"+ds.Name+"/"+hash, 0, 0),
			Namespace:   ds.Namespace,
			Labels:      map[string]string{LabelRevision: hash},
			Annotations: copyMap(ds.Spec.Template.Annotations),
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "apps/v1", Kind: KindDaemonSet, Name: ds.Name,
				Controller: ptrTo(true), BlockOwnerDeletion: ptrTo(true),
			}},
		},
		Spec: *ds.Spec.Template.Spec.DeepCopy(),
	}
	for k, v := range ds.Spec.Template.Labels {
		p.Labels[k] = v
	}
	SetDefaults(p)
	return p
}

// OwnerDaemonSet is the name of the DaemonSet a pod was made for, or "".
func OwnerDaemonSet(p *corev1.Pod) string {
	if c := metav1.GetControllerOfNoCopy(p); c != nil && c.Kind == KindDaemonSet && p.Labels[LabelRevision] != "" {
		return c.Name
	}
	return ""
}

// DaemonSetRollout is a DaemonSet's surge update as the rollout of one
// replica that a Deployment's rules run (its Kind says whose): the new pod
// starts, and once it is available (minReadySeconds) the old one goes.
func DaemonSetRollout(ds *appsv1.DaemonSet) *appsv1.Deployment {
	one, zero := intstr.FromInt32(1), intstr.FromInt32(0)
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: KindDaemonSet},
		ObjectMeta: metav1.ObjectMeta{Name: ds.Name, Namespace: ds.Namespace},
		Spec: appsv1.DeploymentSpec{
			Replicas:                ptrTo(int32(1)),
			MinReadySeconds:         ds.Spec.MinReadySeconds,
			ProgressDeadlineSeconds: ptrTo(int32(defaultProgressDeadline)),
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &one, MaxUnavailable: &zero}},
		},
	}
}

// DaemonSet finds a DaemonSet, or nil.
func (o *Objects) DaemonSet(ns, name string) *appsv1.DaemonSet {
	if o == nil {
		return nil
	}
	return find(o.DaemonSets, ns, name)
}
