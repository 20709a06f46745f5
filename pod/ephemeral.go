package pod

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// ephemeralForbidden are the fields Kubernetes forbids on an ephemeral
// container: it is never restarted, serves nothing and is never probed.
var ephemeralForbidden = []string{"ports", "livenessProbe", "readinessProbe", "startupProbe", "resources", "lifecycle", "resizePolicy", "restartPolicy"}

// ephemeralRules judge the fields of a debug container's partial spec
// (`podunit debug --custom`): a container's, with the forbidden ones left to
// ValidateEphemeral, which names them as Kubernetes does.
var ephemeralRules = func() map[string]rule {
	r := map[string]rule{"targetContainerName": {support: Honoured}}
	for k, v := range containerRules {
		r[k] = v
	}
	for _, f := range ephemeralForbidden {
		r[f] = rule{support: Honoured, subtree: true}
	}
	return r
}()

// Custom reads a debug container's partial spec (kubectl debug --custom: a
// Container in JSON or YAML) strictly, with field paths under
// spec.ephemeralContainers[i].
func Custom(data []byte, i int) (*corev1.EphemeralContainer, error) {
	fp := field.NewPath("spec", "ephemeralContainers").Index(i)
	fail := func(errs field.ErrorList) error {
		for _, e := range errs {
			if e.Field == "<nil>" || e.Field == "" {
				e.Field = fp.String()
			} else {
				e.Field = fp.String() + "." + e.Field
			}
		}
		return &ManifestError{Docs: []*DocumentError{{Kind: "EphemeralContainer", Errs: errs}}}
	}
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, fail(field.ErrorList{field.Invalid(nil, "", "not YAML or JSON: "+err.Error())})
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, fail(field.ErrorList{field.Invalid(nil, "", err.Error())})
	}
	if _, ok := generic.(map[string]any); !ok {
		return nil, fail(field.ErrorList{field.Invalid(nil, "", "must be a container: a map of its fields")})
	}
	if errs, _ := judgeFields(generic, reflect.TypeOf(corev1.EphemeralContainer{}), ephemeralRules); len(errs) > 0 {
		sortByField(errs)
		return nil, fail(errs)
	}
	var ec corev1.EphemeralContainer
	if err := json.Unmarshal(js, &ec); err != nil {
		return nil, fail(field.ErrorList{field.Invalid(nil, "", cleanJSONError(err))})
	}
	return &ec, nil
}

// AddEphemeral adds a debug container to a running pod as applied: defaults,
// then Kubernetes' rules for ephemeral containers (a unique name, a target
// that is one of the pod's containers, none of the forbidden fields) and
// podunit's for any container. The result resolves the new container for
// translation; the pod's own containers keep what they resolved at up.
func AddEphemeral(p *corev1.Pod, ec corev1.EphemeralContainer) (*corev1.Pod, int, *Resolved, error) {
	out := p.DeepCopy()
	out.Spec.EphemeralContainers = append(out.Spec.EphemeralContainers, ec)
	i := len(out.Spec.EphemeralContainers) - 1
	e := &out.Spec.EphemeralContainers[i]
	c := corev1.Container(e.EphemeralContainerCommon)
	defaultContainer(&c)
	e.EphemeralContainerCommon = corev1.EphemeralContainerCommon(c)
	fp := field.NewPath("spec", "ephemeralContainers").Index(i)

	var errs field.ErrorList
	for _, f := range ephemeralForbidden {
		v := reflect.ValueOf(e.EphemeralContainerCommon).FieldByNameFunc(func(n string) bool { return strings.EqualFold(n, f) })
		if v.IsValid() && !v.IsZero() {
			errs = append(errs, field.Forbidden(fp.Child(f), "cannot be set for an Ephemeral Container"))
		}
	}
	names := sets.New[string]()
	sidecars := sets.New[string]()
	for _, o := range p.Spec.InitContainers {
		names.Insert(o.Name)
		if o.RestartPolicy != nil && *o.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars.Insert(o.Name)
		}
	}
	for _, o := range p.Spec.Containers {
		names.Insert(o.Name)
	}
	for _, o := range p.Spec.EphemeralContainers {
		names.Insert(o.Name)
	}
	if names.Has(e.Name) {
		errs = append(errs, field.Duplicate(fp.Child("name"), e.Name))
	}
	if t := e.TargetContainerName; t != "" {
		ok := sidecars.Has(t)
		for _, o := range p.Spec.Containers {
			ok = ok || o.Name == t
		}
		if !ok {
			errs = append(errs, field.NotFound(fp.Child("targetContainerName"), t))
		}
	}
	for j, ev := range e.Env {
		if vf := ev.ValueFrom; vf != nil && (vf.ConfigMapKeyRef != nil || vf.SecretKeyRef != nil) {
			errs = append(errs, field.Forbidden(fp.Child("env").Index(j).Child("valueFrom"),
				"a debug container takes values and fieldRef; give the value with --env"))
		}
	}
	if len(e.EnvFrom) > 0 {
		errs = append(errs, field.Forbidden(fp.Child("envFrom"), "a debug container takes values and fieldRef; give them with --env"))
	}
	containerNames := names.Clone().Insert(e.Name)
	vols, _ := validateVolumes(p.Spec.Volumes, field.NewPath("spec", "volumes"), containerNames)
	c = corev1.Container(e.EphemeralContainerCommon)
	errs = append(errs, validateContainer(&c, &out.Spec, vols, fp)...)
	for j, m := range e.VolumeMounts {
		if m.SubPath != "" || m.SubPathExpr != "" {
			errs = append(errs, field.Forbidden(fp.Child("volumeMounts").Index(j).Child("subPath"), "cannot be set for an Ephemeral Container"))
		}
	}
	if len(errs) > 0 {
		sortByField(errs)
		return nil, 0, nil, &ManifestError{Docs: []*DocumentError{{Kind: "Pod", Name: p.Name, Errs: errs}}}
	}
	res := &Resolved{Containers: map[string]*ResolvedContainer{e.Name: {}}}
	return out, i, res, nil
}

// EphemeralName is kubectl debug's default name for a debug container:
// debugger- and five characters from suffix (random in the caller).
func EphemeralName(suffix string) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	var b strings.Builder
	for _, c := range []byte(suffix) {
		b.WriteByte(alphabet[int(c)%len(alphabet)])
		if b.Len() == 5 {
			break
		}
	}
	return fmt.Sprintf("debugger-%s", b.String())
}
