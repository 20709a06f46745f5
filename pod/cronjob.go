package pod

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// A CronJob makes a Job of its jobTemplate at each time of its schedule,
// as the CronJob controller does, through a systemd timer of its own
// (units.CronJobTimer): its OnCalendar= expressions are the schedule's
// (Cron.CalendarSpecs), and the service it starts applies the Job.
const (
	KindCronJob = "CronJob"
	// MaxCronJobName: a CronJob's Jobs are <name>-<minutes since 1970>,
	// and a Job's name is a label value (63).
	MaxCronJobName = 52
	// AnnotationScheduled is when the CronJob scheduled a Job of it.
	AnnotationScheduled = "batch.kubernetes.io/cronjob-scheduled-timestamp"
)

var cronJobRules = withMetadata(map[string]rule{
	"apiVersion":                      {support: Honoured},
	"spec":                            {support: Honoured},
	"spec.schedule":                   {support: Honoured, note: "cron's five fields or a descriptor (@hourly...): the OnCalendar= of the CronJob's systemd timer"},
	"spec.timeZone":                   {support: Honoured, note: "an IANA time zone for the schedule (default: the host's)"},
	"spec.jobTemplate":                {support: Honoured, subtree: true, note: "metadata and spec as those of a Job"},
	"spec.concurrencyPolicy":          {support: Honoured, note: "Allow, Forbid (a time is skipped while a Job of it runs), Replace (the running Job goes)"},
	"spec.suspend":                    {support: Honoured, note: "no Job is made while it is true"},
	"spec.successfulJobsHistoryLimit": {support: Honoured, note: "how many completed Jobs are kept (3)"},
	"spec.failedJobsHistoryLimit":     {support: Honoured, note: "how many failed Jobs are kept (1)"},
	"spec.startingDeadlineSeconds":    {support: Ignored, note: "a time missed (the user's manager was not running) is not made up later, as with a deadline shorter than the time missed"},
	"status":                          {support: Ignored, subtree: true, note: "output-only"},
})

// loadCronJob decodes and validates a CronJob and adds it to o. Its
// jobTemplate is checked as the Job it makes, its problems told at
// spec.jobTemplate...; the sample is that Job's first pod, whose
// references are checked with the rest of the manifest.
func loadCronJob(generic any, js []byte, o *Objects) (sample *corev1.Pod, res *Resolved, warns []string, errs field.ErrorList) {
	var cj batchv1.CronJob
	warns, errs = decodeStrict(generic, js, &cj, cronJobRules)
	if json.Unmarshal(js, &batchv1.CronJob{}) != nil {
		return nil, nil, nil, errs
	}
	DefaultCronJob(&cj)
	o.CronJobs = append(o.CronJobs, &cj)
	errs = append(errs, validateCronJob(&cj)...)
	// the jobTemplate, as the Job it makes
	obj, _ := generic.(map[string]any)
	spec, _ := obj["spec"].(map[string]any)
	tmpl, ok := spec["jobTemplate"].(map[string]any)
	if !ok || len(validation.IsDNS1123Label(cj.Name)) > 0 {
		return nil, nil, nil, uniqueErrors(errs)
	}
	md, _ := tmpl["metadata"].(map[string]any)
	jobMeta := map[string]any{"name": CronJobJobName(cj.Name, time.Unix(0, 0)), "namespace": cj.Namespace}
	for k, v := range md {
		if k != "name" && k != "namespace" {
			jobMeta[k] = v
		}
	}
	jobDoc := map[string]any{"apiVersion": "batch/v1", "kind": KindJob, "metadata": jobMeta, "spec": tmpl["spec"]}
	jjs, err := json.Marshal(jobDoc)
	if err != nil {
		return nil, nil, nil, append(errs, field.InternalError(nil, err))
	}
	var scratch Objects
	sample, res, jwarns, jerrs := loadJob(jobDoc, jjs, &scratch)
	for _, w := range jwarns {
		warns = append(warns, "spec.jobTemplate."+w)
	}
	for _, e := range jerrs {
		c := *e
		if c.Field != "" && c.Field != "metadata.name" {
			c.Field = "spec.jobTemplate." + c.Field
			errs = append(errs, &c)
		}
	}
	if len(errs) > 0 {
		return nil, nil, nil, uniqueErrors(errs)
	}
	return sample, res, warns, nil
}

// DefaultCronJob sets what batch/v1 defaults of a CronJob.
func DefaultCronJob(cj *batchv1.CronJob) {
	if cj.Spec.ConcurrencyPolicy == "" {
		cj.Spec.ConcurrencyPolicy = batchv1.AllowConcurrent
	}
	if cj.Spec.Suspend == nil {
		cj.Spec.Suspend = ptrTo(false)
	}
	if cj.Spec.SuccessfulJobsHistoryLimit == nil {
		cj.Spec.SuccessfulJobsHistoryLimit = ptrTo(int32(3))
	}
	if cj.Spec.FailedJobsHistoryLimit == nil {
		cj.Spec.FailedJobsHistoryLimit = ptrTo(int32(1))
	}
}

// validateCronJob checks what batch/v1 validation checks of a CronJob (its
// jobTemplate is checked as a Job by loadCronJob).
func validateCronJob(cj *batchv1.CronJob) field.ErrorList {
	var errs field.ErrorList
	md := field.NewPath("metadata")
	switch {
	case cj.Name == "":
		errs = append(errs, field.Required(md.Child("name"), ""))
	case len(cj.Name) > MaxCronJobName:
		errs = append(errs, field.Invalid(md.Child("name"), cj.Name, fmt.Sprintf("must be no more than %d characters", MaxCronJobName)))
	default:
		for _, msg := range validation.IsDNS1123Label(cj.Name) {
			errs = append(errs, field.Invalid(md.Child("name"), cj.Name, msg))
		}
	}
	errs = append(errs, validateLabels(cj.Labels, md.Child("labels"))...)
	sp := field.NewPath("spec")
	if cj.Spec.Schedule == "" {
		errs = append(errs, field.Required(sp.Child("schedule"), ""))
	} else if _, err := ParseCron(cj.Spec.Schedule); err != nil {
		errs = append(errs, field.Invalid(sp.Child("schedule"), cj.Spec.Schedule, err.Error()))
	}
	if tz := cj.Spec.TimeZone; tz != nil {
		if _, err := time.LoadLocation(*tz); err != nil || *tz == "" || strings.EqualFold(*tz, "local") {
			errs = append(errs, field.Invalid(sp.Child("timeZone"), *tz, "unknown time zone"))
		}
	}
	switch cj.Spec.ConcurrencyPolicy {
	case batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent:
	default:
		errs = append(errs, field.NotSupported(sp.Child("concurrencyPolicy"), cj.Spec.ConcurrencyPolicy, []string{string(batchv1.AllowConcurrent), string(batchv1.ForbidConcurrent), string(batchv1.ReplaceConcurrent)}))
	}
	for name, v := range map[string]*int32{"successfulJobsHistoryLimit": cj.Spec.SuccessfulJobsHistoryLimit, "failedJobsHistoryLimit": cj.Spec.FailedJobsHistoryLimit} {
		if *v < 0 {
			errs = append(errs, field.Invalid(sp.Child(name), *v, "must be greater than or equal to 0"))
		}
	}
	if d := cj.Spec.StartingDeadlineSeconds; d != nil && *d < 0 {
		errs = append(errs, field.Invalid(sp.Child("startingDeadlineSeconds"), *d, "must be greater than or equal to 0"))
	}
	sortByField(errs)
	return errs
}

// CronJobJobName is the name of a CronJob's Job scheduled at t: the
// CronJob's name and the minutes since 1970, as the CronJob controller
// names it.
func CronJobJobName(cronJob string, t time.Time) string {
	return fmt.Sprintf("%s-%d", cronJob, t.Unix()/60)
}

// CronJobJob is the Job a CronJob makes for the time t.
func CronJobJob(cj *batchv1.CronJob, t time.Time) *batchv1.Job {
	j := &batchv1.Job{
		TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: KindJob},
		ObjectMeta: metav1.ObjectMeta{
			Name:        CronJobJobName(cj.Name, t),
			Namespace:   cj.Namespace,
			Labels:      copyMap(cj.Spec.JobTemplate.Labels),
			Annotations: copyMap(cj.Spec.JobTemplate.Annotations),
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "batch/v1", Kind: KindCronJob, Name: cj.Name,
				Controller: ptrTo(true), BlockOwnerDeletion: ptrTo(true),
			}},
		},
		Spec: *cj.Spec.JobTemplate.Spec.DeepCopy(),
	}
	if j.Annotations == nil {
		j.Annotations = map[string]string{}
	}
	j.Annotations[AnnotationScheduled] = t.UTC().Format(time.RFC3339)
	return j
}

// OwnerCronJob is the CronJob that made a Job ("": none).
func OwnerCronJob(j *batchv1.Job) string {
	if c := metav1.GetControllerOfNoCopy(j); c != nil && c.Kind == KindCronJob {
		return c.Name
	}
	return ""
}

// CronJob finds a CronJob, or nil.
func (o *Objects) CronJob(ns, name string) *batchv1.CronJob {
	if o == nil {
		return nil
	}
	return find(o.CronJobs, ns, name)
}
