package pod

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// A Job runs pods of its template to completion, as the Job controller
// would: up to spec.parallelism at a time until spec.completions of them
// succeeded (Indexed: one for each index), a failed pod replaced after the
// controller's back-off (10 s, doubling, at most 6 minutes) until
// spec.backoffLimit failures, the whole bounded by activeDeadlineSeconds.
// Unlike a Deployment's, its pods are not made by `podunit up`: the Job's
// controller unit makes them (runner.RunJob), as they are needed. Each is
// named <job>-<5 characters> (Indexed: <job>-<index>-<5 characters>), with
// the template's labels plus batch.kubernetes.io/job-name and
// batch.kubernetes.io/controller-uid (and their short forms).
const (
	KindJob = "Job"
	// Labels the Job controller gives its pods.
	LabelJobName       = batchv1.JobNameLabel
	LabelControllerUID = batchv1.ControllerUidLabel
	LabelJobIndex      = batchv1.JobCompletionIndexAnnotation
	labelJobNameShort  = "job-name"
	labelUIDShort      = "controller-uid"
	// JobIndexEnv is the variable an Indexed Job's containers find their
	// index in.
	JobIndexEnv = "JOB_COMPLETION_INDEX"
)

// Limits of batch/v1 validation.
const (
	maxJobParallelism = 100000
	defaultBackoff    = 6
)

var jobRules = withMetadata(map[string]rule{
	"apiVersion":                   {support: Honoured},
	"spec":                         {support: Honoured},
	"spec.template":                {support: Honoured, subtree: true, note: "metadata and spec as those of a Pod (the fields without a prefix); restartPolicy OnFailure or Never"},
	"spec.parallelism":             {support: Honoured, note: "how many of its pods run at once"},
	"spec.completions":             {support: Honoured, note: "how many must succeed (unset: the first success, once every pod ended)"},
	"spec.completionMode":          {support: Honoured, note: "NonIndexed, or Indexed: a pod for each index 0..completions-1, in JOB_COMPLETION_INDEX and the batch.kubernetes.io/job-completion-index annotation, hostname <job>-<index>"},
	"spec.backoffLimit":            {support: Honoured, note: "failed pods (restartPolicy Never), or container restarts (OnFailure), before the Job fails"},
	"spec.activeDeadlineSeconds":   {support: Honoured, note: "from the Job's start: then its running pods are removed and it fails (DeadlineExceeded)"},
	"spec.ttlSecondsAfterFinished": {support: Honoured, note: "that long after it completed or failed, the Job and its pods are removed"},
	"spec.suspend":                 {support: Honoured, note: "no pods run while it is true (those running are removed); applied false again, the Job goes on"},
	"spec.podReplacementPolicy":    {support: Honoured, note: "podunit replaces a pod once it has ended: TerminatingOrFailed and Failed both mean that here"},
	"spec.selector":                {support: Honoured, subtree: true, note: "generated from the controller-uid, as the API server does without manualSelector (one it generated, in an exported Job, is dropped with its labels)"},
	"spec.manualSelector":          {support: Honoured, note: "false only: podunit generates the selector"},
	"spec.podFailurePolicy":        {note: "podunit counts every failed pod against backoffLimit"},
	"spec.backoffLimitPerIndex":    {note: "podunit counts failures for the whole Job (backoffLimit)"},
	"spec.maxFailedIndexes":        {note: "podunit counts failures for the whole Job (backoffLimit)"},
	"spec.successPolicy":           {note: "a Job succeeds when its completions did"},
	"spec.managedBy":               {note: "podunit's controller manages every Job it runs"},
	"status":                       {support: Ignored, subtree: true, note: "output-only"},
})

// loadJob decodes and validates a Job and adds it to o. Its template is
// checked as the pod it makes (the first), returned as sample (with what
// validation resolved) so that its references are checked with the rest of
// the manifest; no pod is returned to start.
func loadJob(generic any, js []byte, o *Objects) (sample *corev1.Pod, res *Resolved, warns []string, errs field.ErrorList) {
	var j batchv1.Job
	warns, errs = decodeStrict(generic, js, &j, jobRules)
	tmplWarns, tmplErrs := judgeTemplate(generic)
	warns, errs = append(warns, tmplWarns...), uniqueErrors(append(errs, tmplErrs...))
	if json.Unmarshal(js, &batchv1.Job{}) != nil {
		return nil, nil, nil, errs
	}
	warns = keepOwnOwners(&j.ObjectMeta, warns) // a CronJob's of this host stays
	warns = append(warns, dropGeneratedSelector(&j)...)
	DefaultJob(&j)
	o.Jobs = append(o.Jobs, &j)
	errs = append(errs, validateJob(&j)...)
	if j.Spec.Template.Name != "" {
		warns = append(warns, fmt.Sprintf("spec.template.metadata.name: ignored: a Job's pods are named after it (%s-xxxxx)", j.Name))
		j.Spec.Template.Name = ""
	}
	if len(validation.IsDNS1123Label(j.Name)) > 0 {
		return nil, nil, nil, uniqueErrors(errs)
	}
	sample = JobPod(&j, "sample", 0, "xxxxx")
	res, perrs := Resolve(sample)
	// the pods' names are the Job's: told at metadata.name
	perrs = slices.DeleteFunc(perrs, func(e *field.Error) bool { return e.Field == "metadata.name" })
	if errs = uniqueErrors(append(errs, templateErrors(perrs)...)); len(errs) > 0 {
		return nil, nil, nil, errs
	}
	return sample, res, warns, nil
}

// controllerLabels are the labels the Job controller gives a Job's pods
// (and the API server its template).
var controllerLabels = []string{LabelJobName, LabelControllerUID, labelJobNameShort, labelUIDShort}

// dropGeneratedSelector drops the selector and template labels that the
// API server generated for a Job exported from a cluster (kubectl get job
// -o yaml): podunit generates its own.
func dropGeneratedSelector(j *batchv1.Job) (warns []string) {
	sel := j.Spec.Selector
	if sel == nil || len(sel.MatchExpressions) > 0 || len(sel.MatchLabels) == 0 || (j.Spec.ManualSelector != nil && *j.Spec.ManualSelector) {
		return nil
	}
	for k := range sel.MatchLabels {
		if k != LabelControllerUID && k != labelUIDShort {
			return nil
		}
	}
	j.Spec.Selector = nil
	warns = append(warns, "spec.selector: ignored: the API server's, generated from its controller-uid; podunit generates the Job's own")
	for _, k := range controllerLabels {
		if _, ok := j.Spec.Template.Labels[k]; ok {
			delete(j.Spec.Template.Labels, k)
			warns = append(warns, fmt.Sprintf("spec.template.metadata.labels[%s]: ignored: the Job controller's; podunit sets its own", k))
		}
	}
	return warns
}

// DefaultJob sets what batch/v1 defaults of a Job.
func DefaultJob(j *batchv1.Job) {
	if j.Spec.Completions == nil && j.Spec.Parallelism == nil {
		j.Spec.Completions = ptrTo(int32(1))
	}
	if j.Spec.Parallelism == nil {
		j.Spec.Parallelism = ptrTo(int32(1))
	}
	if j.Spec.BackoffLimit == nil {
		j.Spec.BackoffLimit = ptrTo(int32(defaultBackoff))
	}
	if j.Spec.CompletionMode == nil {
		m := batchv1.NonIndexedCompletion
		j.Spec.CompletionMode = &m
	}
	if j.Spec.Suspend == nil {
		j.Spec.Suspend = ptrTo(false)
	}
	if j.Spec.PodReplacementPolicy == nil {
		p := batchv1.TerminatingOrFailed
		j.Spec.PodReplacementPolicy = &p
	}
}

// validateJob checks what batch/v1 validation checks of a Job; its
// template is checked as a pod by Resolve.
func validateJob(j *batchv1.Job) field.ErrorList {
	var errs field.ErrorList
	md := field.NewPath("metadata")
	if j.Name == "" {
		errs = append(errs, field.Required(md.Child("name"), ""))
	} else {
		// the name is its pods' label value and starts their names
		for _, msg := range validation.IsDNS1123Label(j.Name) {
			errs = append(errs, field.Invalid(md.Child("name"), j.Name, msg))
		}
	}
	errs = append(errs, validateLabels(j.Labels, md.Child("labels"))...)
	sp := field.NewPath("spec")
	nonNegative := func(v *int32, name string) {
		if v != nil && *v < 0 {
			errs = append(errs, field.Invalid(sp.Child(name), *v, "must be greater than or equal to 0"))
		}
	}
	nonNegative(j.Spec.Parallelism, "parallelism")
	nonNegative(j.Spec.Completions, "completions")
	nonNegative(j.Spec.BackoffLimit, "backoffLimit")
	nonNegative(j.Spec.TTLSecondsAfterFinished, "ttlSecondsAfterFinished")
	if p := j.Spec.Parallelism; p != nil && *p > maxJobParallelism {
		errs = append(errs, field.Invalid(sp.Child("parallelism"), *p, fmt.Sprintf("must be less than or equal to %d", maxJobParallelism)))
	}
	if a := j.Spec.ActiveDeadlineSeconds; a != nil && *a <= 0 {
		errs = append(errs, field.Invalid(sp.Child("activeDeadlineSeconds"), *a, "must be greater than 0"))
	}
	switch *j.Spec.CompletionMode {
	case batchv1.NonIndexedCompletion:
	case batchv1.IndexedCompletion:
		if j.Spec.Completions == nil {
			errs = append(errs, field.Required(sp.Child("completions"), fmt.Sprintf("when completion mode is %s", batchv1.IndexedCompletion)))
		} else if *j.Spec.Completions > maxJobParallelism {
			errs = append(errs, field.Invalid(sp.Child("completions"), *j.Spec.Completions, fmt.Sprintf("must be less than or equal to %d when completion mode is %s", maxJobParallelism, batchv1.IndexedCompletion)))
		}
	default:
		errs = append(errs, field.NotSupported(sp.Child("completionMode"), *j.Spec.CompletionMode, []string{string(batchv1.NonIndexedCompletion), string(batchv1.IndexedCompletion)}))
	}
	switch *j.Spec.PodReplacementPolicy {
	case batchv1.TerminatingOrFailed, batchv1.Failed:
	default:
		errs = append(errs, field.NotSupported(sp.Child("podReplacementPolicy"), *j.Spec.PodReplacementPolicy, []string{string(batchv1.TerminatingOrFailed), string(batchv1.Failed)}))
	}
	if j.Spec.ManualSelector != nil && *j.Spec.ManualSelector {
		errs = append(errs, field.NotSupported(sp.Child("manualSelector"), true, []string{"false"}))
	}
	if j.Spec.Selector != nil {
		errs = append(errs, field.Invalid(sp.Child("selector"), metav1.FormatLabelSelector(j.Spec.Selector), "`selector` will be auto-generated"))
	}
	tmpl := sp.Child("template")
	for _, k := range controllerLabels {
		if v, ok := j.Spec.Template.Labels[k]; ok {
			errs = append(errs, field.Invalid(tmpl.Child("metadata", "labels").Key(k), v, "set by podunit, as by the Job controller"))
		}
	}
	if tns := j.Spec.Template.Namespace; tns != "" && tns != j.Namespace {
		errs = append(errs, field.Invalid(tmpl.Child("metadata", "namespace"), tns, fmt.Sprintf("must be the Job's, %q", j.Namespace)))
	}
	switch rp := j.Spec.Template.Spec.RestartPolicy; rp {
	case corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever:
	case "":
		errs = append(errs, field.Required(tmpl.Child("spec", "restartPolicy"), "a Job's pods run to completion: OnFailure or Never"))
	default:
		errs = append(errs, field.NotSupported(tmpl.Child("spec", "restartPolicy"), rp, []string{string(corev1.RestartPolicyOnFailure), string(corev1.RestartPolicyNever)}))
	}
	return errs
}

// JobIndexed tells whether a Job's pods have an index each.
func JobIndexed(j *batchv1.Job) bool {
	return j.Spec.CompletionMode != nil && *j.Spec.CompletionMode == batchv1.IndexedCompletion
}

// JobPod is a pod of a Job, as its controller makes it: uid is the Job's
// controller-uid, index its completion index (Indexed Jobs only), suffix
// the five characters that end its name.
func JobPod(j *batchv1.Job, uid string, index int, suffix string) *corev1.Pod {
	base := j.Name + "-"
	if JobIndexed(j) {
		base += strconv.Itoa(index) + "-"
	}
	if len(base) > maxGeneratedBase {
		base = base[:maxGeneratedBase]
	}
	p := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        base + suffix,
			Namespace:   j.Namespace,
			Labels:      map[string]string{},
			Annotations: copyMap(j.Spec.Template.Annotations),
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "batch/v1", Kind: KindJob, Name: j.Name,
				Controller: ptrTo(true), BlockOwnerDeletion: ptrTo(true),
			}},
		},
		Spec: *j.Spec.Template.Spec.DeepCopy(),
	}
	for k, v := range j.Spec.Template.Labels {
		p.Labels[k] = v
	}
	p.Labels[LabelJobName], p.Labels[labelJobNameShort] = j.Name, j.Name
	p.Labels[LabelControllerUID], p.Labels[labelUIDShort] = uid, uid
	if JobIndexed(j) {
		i := strconv.Itoa(index)
		p.Labels[LabelJobIndex] = i
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		p.Annotations[LabelJobIndex] = i
		if p.Spec.Hostname == "" {
			p.Spec.Hostname = j.Name + "-" + i
			if len(p.Spec.Hostname) > validation.DNS1123LabelMaxLength {
				p.Spec.Hostname = ""
			}
		}
		env := corev1.EnvVar{Name: JobIndexEnv, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
			APIVersion: "v1", FieldPath: fmt.Sprintf("metadata.annotations['%s']", LabelJobIndex)}}}
		for _, cs := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
			for i := range cs {
				cs[i].Env = append([]corev1.EnvVar{env}, cs[i].Env...)
			}
		}
	}
	SetDefaults(p)
	return p
}

// OwnerJob is the Job that made a pod ("": none).
func OwnerJob(p *corev1.Pod) string {
	if c := metav1.GetControllerOfNoCopy(p); c != nil && c.Kind == KindJob && p.Labels[LabelJobName] != "" {
		return c.Name
	}
	return ""
}

// Job finds a Job, or nil.
func (o *Objects) Job(ns, name string) *batchv1.Job {
	if o == nil {
		return nil
	}
	return find(o.Jobs, ns, name)
}
