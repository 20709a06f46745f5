package pod

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// A StatefulSet runs spec.replicas pods of its template with stable
// identities, as its controller would: pod i is <set>-<i> (from
// spec.ordinals.start), its hostname is its name and its subdomain the
// set's serviceName (so <pod>.<service>.<namespace>.svc.cluster.local
// resolves with a headless Service), and each of spec.volumeClaimTemplates
// gives it a claim of its own, <template>-<pod>, that outlives it. Its
// labels are the template's plus statefulset.kubernetes.io/pod-name,
// apps.kubernetes.io/pod-index and controller-revision-hash. As for a
// Deployment, there is no controller process: `podunit up` (or `scale`)
// makes the pods match the set, in its order.
const (
	KindStatefulSet = "StatefulSet"
	// LabelPodName, LabelPodIndex and LabelRevision are the labels the
	// StatefulSet controller gives its pods.
	LabelPodName  = appsv1.StatefulSetPodNameLabel
	LabelPodIndex = appsv1.PodIndexLabel
	LabelRevision = appsv1.ControllerRevisionHashLabelKey
)

var statefulSetRules = withMetadata(map[string]rule{
	"apiVersion":                                              {support: Honoured},
	"spec":                                                    {support: Honoured},
	"spec.replicas":                                           {support: Honoured},
	"spec.selector":                                           {support: Honoured},
	"spec.selector.matchLabels":                               {support: Honoured, subtree: true},
	"spec.selector.matchExpressions":                          {support: Honoured, subtree: true},
	"spec.template":                                           {support: Honoured, subtree: true, note: "metadata and spec as those of a Pod (the fields without a prefix)"},
	"spec.serviceName":                                        {support: Honoured, note: "the pods' subdomain: <pod>.<serviceName>.<namespace>.svc.cluster.local resolves with a headless Service of that name"},
	"spec.podManagementPolicy":                                {support: Honoured, note: "OrderedReady: each pod starts once the ones before it are Ready, and goes (scaled down) in reverse; Parallel: together"},
	"spec.updateStrategy":                                     {support: Honoured},
	"spec.updateStrategy.type":                                {support: Honoured, note: "RollingUpdate: the pods of another revision are replaced one at a time, the highest ordinal first, each new one Ready before the next; OnDelete: a pod takes the new template when it is taken down"},
	"spec.updateStrategy.rollingUpdate":                       {support: Honoured},
	"spec.updateStrategy.rollingUpdate.partition":             {support: Honoured, note: "pods of a lower ordinal keep their revision"},
	"spec.updateStrategy.rollingUpdate.maxUnavailable":        {note: "podunit replaces one pod at a time"},
	"spec.minReadySeconds":                                    {support: Honoured},
	"spec.ordinals":                                           {support: Honoured},
	"spec.ordinals.start":                                     {support: Honoured},
	"spec.volumeClaimTemplates":                               {support: Honoured, note: "each pod's claim <template>-<pod>: a podman volume kept when the pod goes"},
	"spec.volumeClaimTemplates[*].apiVersion":                 {support: Honoured},
	"spec.volumeClaimTemplates[*].kind":                       {support: Honoured},
	"spec.volumeClaimTemplates[*].metadata":                   {support: Honoured},
	"spec.volumeClaimTemplates[*].metadata.name":              {support: Honoured},
	"spec.volumeClaimTemplates[*].metadata.labels":            {support: Honoured, subtree: true},
	"spec.volumeClaimTemplates[*].metadata.annotations":       {support: Honoured, subtree: true},
	"spec.volumeClaimTemplates[*].metadata.creationTimestamp": {support: Ignored, note: "output-only"},
	"spec.volumeClaimTemplates[*].status":                     {support: Ignored, subtree: true, note: "output-only"},
	"spec.persistentVolumeClaimRetentionPolicy":               {support: Honoured},
	"spec.persistentVolumeClaimRetentionPolicy.whenDeleted":   {support: Honoured, note: "Retain keeps the claims when the set goes (down); Delete removes them and their data"},
	"spec.persistentVolumeClaimRetentionPolicy.whenScaled":    {support: Honoured, note: "Retain keeps the claims of the pods a scale-down removes; Delete removes them and their data"},
	"spec.revisionHistoryLimit":                               {support: Ignored, note: "podunit keeps no ControllerRevisions: a rollback is applying the old manifest"},
	"status":                                                  {support: Ignored, subtree: true, note: "output-only"},
})

func init() {
	for k, r := range claimRules {
		if k == "spec" || (len(k) > 5 && k[:5] == "spec.") {
			statefulSetRules["spec.volumeClaimTemplates[*]."+k] = r
		}
	}
}

// loadStatefulSet decodes and validates a StatefulSet, adds it and its
// pods' claims to o, and makes its pods, each with what validation
// resolved for it. Problems of the template are reported at their path
// under spec.template.
func loadStatefulSet(generic any, js []byte, o *Objects) (pods []*corev1.Pod, ress []*Resolved, warns []string, errs field.ErrorList) {
	var s appsv1.StatefulSet
	warns, errs = decodeStrict(generic, js, &s, statefulSetRules)
	tmplWarns, tmplErrs := judgeTemplate(generic)
	warns, errs = append(warns, tmplWarns...), uniqueErrors(append(errs, tmplErrs...))
	if json.Unmarshal(js, &appsv1.StatefulSet{}) != nil {
		return nil, nil, nil, errs
	}
	defaultStatefulSet(&s)
	o.StatefulSets = append(o.StatefulSets, &s)
	errs = append(errs, validateStatefulSet(&s)...)
	if len(errs) == 0 && *s.Spec.Replicas >= 0 {
		pods = SetPods(&s)
		check := pods
		if len(pods) == 0 {
			// no pod, but a template as valid as if there were one
			one := s.DeepCopy()
			one.Spec.Replicas = ptrTo(int32(1))
			check = SetPods(one)
		}
		for i, p := range check {
			res, perrs := Resolve(p)
			if len(perrs) > 0 {
				// the pods' names are the set's: told at metadata.name
				perrs = slices.DeleteFunc(perrs, func(e *field.Error) bool { return e.Field == "metadata.name" })
				errs = append(errs, templateErrors(perrs)...)
				break
			}
			if len(pods) > 0 {
				pods[i], ress = p, append(ress, res)
			}
		}
	}
	if len(errs) > 0 {
		return nil, nil, nil, uniqueErrors(errs)
	}
	o.Claims = append(o.Claims, SetClaims(&s)...)
	if s.Spec.Template.Name != "" {
		warns = append(warns, fmt.Sprintf("spec.template.metadata.name: ignored: a StatefulSet's pods are named after it (%s-0, %s-1, ...)", s.Name, s.Name))
	}
	return pods, ress, warns, nil
}

func defaultStatefulSet(s *appsv1.StatefulSet) {
	if s.Spec.Replicas == nil {
		s.Spec.Replicas = ptrTo(int32(1))
	}
	if s.Spec.PodManagementPolicy == "" {
		s.Spec.PodManagementPolicy = appsv1.OrderedReadyPodManagement
	}
	if s.Spec.UpdateStrategy.Type == "" {
		s.Spec.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
	}
	if s.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType {
		if s.Spec.UpdateStrategy.RollingUpdate == nil {
			s.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{}
		}
		if s.Spec.UpdateStrategy.RollingUpdate.Partition == nil {
			s.Spec.UpdateStrategy.RollingUpdate.Partition = ptrTo(int32(0))
		}
	}
	if s.Spec.PersistentVolumeClaimRetentionPolicy == nil {
		s.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{}
	}
	rp := s.Spec.PersistentVolumeClaimRetentionPolicy
	if rp.WhenDeleted == "" {
		rp.WhenDeleted = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if rp.WhenScaled == "" {
		rp.WhenScaled = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if s.Spec.RevisionHistoryLimit == nil {
		s.Spec.RevisionHistoryLimit = ptrTo(int32(defaultHistoryLimit))
	}
	if s.Spec.Template.Spec.RestartPolicy == "" {
		s.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
	}
	for i := range s.Spec.VolumeClaimTemplates {
		c := &s.Spec.VolumeClaimTemplates[i]
		if c.Spec.VolumeMode == nil {
			c.Spec.VolumeMode = ptrTo(corev1.PersistentVolumeFilesystem)
		}
	}
}

// validateStatefulSet checks what apps/v1 validation checks of a
// StatefulSet (its template is checked as a pod, by Resolve), and that its
// pods' names fit.
func validateStatefulSet(s *appsv1.StatefulSet) field.ErrorList {
	var errs field.ErrorList
	md := field.NewPath("metadata")
	sp := field.NewPath("spec")
	start := int32(0)
	if s.Spec.Ordinals != nil {
		start = s.Spec.Ordinals.Start
		if start < 0 {
			errs = append(errs, field.Invalid(sp.Child("ordinals", "start"), start, "must be greater than or equal to 0"))
		}
	}
	if s.Name == "" {
		errs = append(errs, field.Required(md.Child("name"), ""))
	} else {
		// The name starts every pod's name (and hostname), a DNS label.
		for _, msg := range validation.IsDNS1123Label(s.Name) {
			errs = append(errs, field.Invalid(md.Child("name"), s.Name, msg))
		}
		last := strconv.Itoa(int(start + max(*s.Spec.Replicas, 1) - 1))
		if n := len(s.Name) + 1 + len(last); n > validation.DNS1123LabelMaxLength && len(errs) == 0 {
			errs = append(errs, field.Invalid(md.Child("name"), s.Name, fmt.Sprintf("too long: its pods are named NAME-ORDINAL, at most %d characters", validation.DNS1123LabelMaxLength)))
		}
	}
	errs = append(errs, validateLabels(s.Labels, md.Child("labels"))...)
	if *s.Spec.Replicas < 0 {
		errs = append(errs, field.Invalid(sp.Child("replicas"), *s.Spec.Replicas, "must be greater than or equal to 0"))
	}
	if sn := s.Spec.ServiceName; sn != "" {
		for _, msg := range validation.IsDNS1123Label(sn) {
			errs = append(errs, field.Invalid(sp.Child("serviceName"), sn, msg))
		}
	}
	errs = append(errs, validateWorkload(s.Spec.Selector, &s.Spec.Template, s.Spec.MinReadySeconds, s.Namespace, KindStatefulSet, []string{LabelPodName, LabelPodIndex, LabelRevision})...)
	switch p := s.Spec.PodManagementPolicy; p {
	case appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement:
	default:
		errs = append(errs, field.NotSupported(sp.Child("podManagementPolicy"), p, []string{string(appsv1.OrderedReadyPodManagement), string(appsv1.ParallelPodManagement)}))
	}
	us := sp.Child("updateStrategy")
	switch s.Spec.UpdateStrategy.Type {
	case appsv1.RollingUpdateStatefulSetStrategyType:
		if p := s.Spec.UpdateStrategy.RollingUpdate.Partition; *p < 0 {
			errs = append(errs, field.Invalid(us.Child("rollingUpdate", "partition"), *p, "must be greater than or equal to 0"))
		}
	case appsv1.OnDeleteStatefulSetStrategyType:
		if s.Spec.UpdateStrategy.RollingUpdate != nil {
			errs = append(errs, field.Invalid(us.Child("rollingUpdate"), "", "only allowed for updateStrategy 'RollingUpdate'"))
		}
	default:
		errs = append(errs, field.NotSupported(us.Child("type"), s.Spec.UpdateStrategy.Type, []string{string(appsv1.RollingUpdateStatefulSetStrategyType), string(appsv1.OnDeleteStatefulSetStrategyType)}))
	}
	rp := sp.Child("persistentVolumeClaimRetentionPolicy")
	for _, w := range []struct {
		v    appsv1.PersistentVolumeClaimRetentionPolicyType
		name string
	}{{s.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted, "whenDeleted"}, {s.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled, "whenScaled"}} {
		switch w.v {
		case appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType:
		default:
			errs = append(errs, field.NotSupported(rp.Child(w.name), w.v, []string{"Retain", "Delete"}))
		}
	}
	tp := sp.Child("volumeClaimTemplates")
	names := map[string]bool{}
	for i := range s.Spec.VolumeClaimTemplates {
		c := &s.Spec.VolumeClaimTemplates[i]
		ip := tp.Index(i)
		switch {
		case c.Name == "":
			errs = append(errs, field.Required(ip.Child("metadata", "name"), ""))
		case names[c.Name]:
			errs = append(errs, field.Duplicate(ip.Child("metadata", "name"), c.Name))
		default:
			for _, msg := range validation.IsDNS1123Label(c.Name) {
				errs = append(errs, field.Invalid(ip.Child("metadata", "name"), c.Name, msg))
			}
		}
		names[c.Name] = true
		errs = append(errs, validateClaimSpec(&c.Spec, ip.Child("spec"))...)
	}
	return errs
}

// RevisionHash is the controller-revision-hash of a set's template: the
// same template always has the same one, a changed one another.
func RevisionHash(s *appsv1.StatefulSet) string {
	return s.Name + "-" + TemplateHash(&s.Spec.Template)
}

// SetOrdinals are the ordinals of a set's pods, in order.
func SetOrdinals(s *appsv1.StatefulSet) []int {
	start := 0
	if s.Spec.Ordinals != nil {
		start = int(s.Spec.Ordinals.Start)
	}
	var out []int
	for i := 0; i < int(*s.Spec.Replicas); i++ {
		out = append(out, start+i)
	}
	return out
}

// SetPodName is the name of a set's pod of an ordinal.
func SetPodName(set string, ordinal int) string { return set + "-" + strconv.Itoa(ordinal) }

// SetPods are the pods of a StatefulSet, in ordinal order.
func SetPods(s *appsv1.StatefulSet) []*corev1.Pod {
	rev := RevisionHash(s)
	var pods []*corev1.Pod
	for _, i := range SetOrdinals(s) {
		name := SetPodName(s.Name, i)
		p := &corev1.Pod{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Namespace:   s.Namespace,
				Labels:      map[string]string{LabelPodName: name, LabelPodIndex: strconv.Itoa(i), LabelRevision: rev},
				Annotations: copyMap(s.Spec.Template.Annotations),
				OwnerReferences: []metav1.OwnerReference{{
					APIVersion: "apps/v1", Kind: KindStatefulSet, Name: s.Name,
					Controller: ptrTo(true), BlockOwnerDeletion: ptrTo(true),
				}},
			},
			Spec: *s.Spec.Template.Spec.DeepCopy(),
		}
		for k, v := range s.Spec.Template.Labels {
			p.Labels[k] = v
		}
		p.Spec.Hostname, p.Spec.Subdomain = name, s.Spec.ServiceName
		// each claim template is a volume of the pod's own claim, in place
		// of a template volume of its name
		for _, c := range s.Spec.VolumeClaimTemplates {
			v := corev1.Volume{Name: c.Name, VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: SetClaimName(c.Name, name)}}}
			if j := slices.IndexFunc(p.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == c.Name }); j >= 0 {
				p.Spec.Volumes[j] = v
			} else {
				p.Spec.Volumes = append(p.Spec.Volumes, v)
			}
		}
		SetDefaults(p)
		pods = append(pods, p)
	}
	return pods
}

// SetClaimName is the claim a set's pod has of a claim template.
func SetClaimName(template, pod string) string { return template + "-" + pod }

// SetClaims are the claims of a set's pods: of each template, one per pod,
// labelled with the set's selector labels, as the controller makes them.
func SetClaims(s *appsv1.StatefulSet) []*corev1.PersistentVolumeClaim {
	var out []*corev1.PersistentVolumeClaim
	for _, i := range SetOrdinals(s) {
		for _, t := range s.Spec.VolumeClaimTemplates {
			c := &corev1.PersistentVolumeClaim{
				TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: KindClaim},
				ObjectMeta: metav1.ObjectMeta{Name: SetClaimName(t.Name, SetPodName(s.Name, i)), Namespace: s.Namespace,
					Labels: copyMap(t.Labels), Annotations: copyMap(t.Annotations)},
				Spec: *t.Spec.DeepCopy(),
			}
			if c.Labels == nil {
				c.Labels = map[string]string{}
			}
			if s.Spec.Selector != nil {
				for k, v := range s.Spec.Selector.MatchLabels {
					c.Labels[k] = v
				}
			}
			out = append(out, c)
		}
	}
	return out
}

// OwnerStatefulSet is the name of the StatefulSet a pod was made for, or "".
func OwnerStatefulSet(p *corev1.Pod) string {
	if p.Labels[LabelPodName] == "" {
		return ""
	}
	for _, o := range p.OwnerReferences {
		if o.Kind == KindStatefulSet && o.Controller != nil && *o.Controller {
			return o.Name
		}
	}
	return ""
}

// SetOrdinal is the ordinal of a set's pod, or -1.
func SetOrdinal(p *corev1.Pod) int {
	i, err := strconv.Atoi(p.Labels[LabelPodIndex])
	if err != nil {
		return -1
	}
	return i
}

// StatefulSet finds a StatefulSet, or nil.
func (o *Objects) StatefulSet(ns, name string) *appsv1.StatefulSet {
	if o == nil {
		return nil
	}
	return find(o.StatefulSets, ns, name)
}

// UsesClaim tells whether a pod's volumes name a claim (of its namespace).
func UsesClaim(p *corev1.Pod, claim string) bool {
	return slices.ContainsFunc(p.Spec.Volumes, func(v corev1.Volume) bool {
		return v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == claim
	})
}
