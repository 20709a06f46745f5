package pod

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// EnvValue is one environment variable a container gets from a ConfigMap or
// Secret. A Secret's value is never shown: Secret marks it.
type EnvValue struct {
	Name   string
	Value  string
	Secret bool
}

// EnvRef is what env[i].valueFrom.configMapKeyRef or secretKeyRef resolved to;
// Skip: an optional reference to what does not exist, so the variable is not set.
type EnvRef struct {
	EnvValue
	Skip bool
}

// VolumeData is what a configMap, secret, downwardAPI, projected or
// persistentVolumeClaim volume resolved to.
type VolumeData struct {
	// Files are written into the volume's directory before the pod starts.
	Files []VolumeFile
	// Claim backs a persistentVolumeClaim volume; Volume is the
	// PersistentVolume it is bound to (nil: a podman volume of its own).
	Claim  *corev1.PersistentVolumeClaim
	Volume *corev1.PersistentVolume
}

// VolumeFile is one file of a volume: literal data, or a downward API value
// that translation fills in (it knows the pod's uid and resources).
type VolumeFile struct {
	Path             string
	Mode             int32
	Data             []byte
	Secret           bool
	FieldRef         *corev1.ObjectFieldSelector
	ResourceFieldRef *corev1.ResourceFieldSelector
}

// DefaultFileMode is the mode of a volume file when the manifest gives none.
const DefaultFileMode = 0o644

// bind resolves a validated pod's references to ConfigMaps, Secrets and
// PersistentVolumeClaims against objs, as the kubelet does when it starts the
// pod: env, envFrom and volumes. It returns warnings for what the kubelet
// skips with an event (envFrom keys that are not valid variable names).
// BindVolumes is what the configMap, secret, downwardAPI and projected
// volumes of a pod as applied hold with the objects objs: for a running pod
// whose ConfigMap or Secret changed, as the kubelet refreshes its volumes.
func BindVolumes(p *corev1.Pod, objs *Objects) (map[string]*VolumeData, field.ErrorList) {
	out := map[string]*VolumeData{}
	var errs field.ErrorList
	for i := range p.Spec.Volumes {
		v := &p.Spec.Volumes[i]
		vd, e := bindVolume(v, p.Namespace, objs, field.NewPath("spec", "volumes").Index(i))
		errs = append(errs, e...)
		if vd != nil {
			out[v.Name] = vd
		}
	}
	return out, errs
}

func bind(p *corev1.Pod, res *Resolved, objs *Objects) ([]string, field.ErrorList) {
	warns := bindServiceAccount(p, objs)
	var errs field.ErrorList
	ns := p.Namespace
	sp := field.NewPath("spec")
	each := func(list []corev1.Container, fp *field.Path) {
		for i := range list {
			c := &list[i]
			cp := fp.Index(i)
			rc := res.Containers[c.Name]
			if rc == nil {
				rc = &ResolvedContainer{}
				res.Containers[c.Name] = rc
			}
			if _, ok := c.Resources.Limits[corev1.ResourceEphemeralStorage]; ok {
				// The kubelet evicts a pod whose container outgrows it.
				warns = append(warns, fmt.Sprintf("%s: not enforced: podman's container storage has no per-container quota here, and podunit does not evict the pod as the kubelet does when its writable layers, logs and emptyDirs outgrow their limits",
					cp.Child("resources", "limits").Key(string(corev1.ResourceEphemeralStorage))))
			}
			for j, m := range c.VolumeMounts {
				if m.MountPropagation != nil && *m.MountPropagation == corev1.MountPropagationBidirectional {
					// rootless podman's mounts live in the user's namespace
					warns = append(warns, fmt.Sprintf("%s: Bidirectional: mounts the container makes there reach podman's rootless mount namespace (other containers mounting the path with propagation see them), not the host's",
						cp.Child("volumeMounts").Index(j).Child("mountPropagation")))
				}
			}
			w, e := bindEnv(c, rc, ns, objs, cp)
			warns = append(warns, w...)
			errs = append(errs, e...)
		}
	}
	each(p.Spec.InitContainers, sp.Child("initContainers"))
	each(p.Spec.Containers, sp.Child("containers"))
	pa, e := bindPullSecrets(p, objs)
	errs = append(errs, e...)
	res.PullAuth = pa
	res.Volumes = map[string]*VolumeData{}
	for i := range p.Spec.Volumes {
		v := &p.Spec.Volumes[i]
		if ed := v.EmptyDir; ed != nil && ed.SizeLimit != nil && ed.Medium != corev1.StorageMediumMemory {
			// The kubelet evicts a pod whose emptyDir outgrows it; a podman
			// volume on this host has no quota to enforce it with.
			warns = append(warns, fmt.Sprintf("%s: not enforced on an emptyDir on disk (a podman volume has no size limit here); medium: Memory gives a hard limit",
				sp.Child("volumes").Index(i).Child("emptyDir", "sizeLimit")))
		}
		vd, e := bindVolume(v, ns, objs, sp.Child("volumes").Index(i))
		errs = append(errs, e...)
		if vd != nil {
			res.Volumes[v.Name] = vd
		}
	}
	return warns, errs
}

func optional(b *bool) bool { return b != nil && *b }

func bindEnv(c *corev1.Container, rc *ResolvedContainer, ns string, objs *Objects, cp *field.Path) ([]string, field.ErrorList) {
	var warns []string
	var errs field.ErrorList
	for i, ef := range c.EnvFrom {
		ep := cp.Child("envFrom").Index(i)
		var data map[string]string
		secret := false
		var invalid []string
		switch {
		case ef.ConfigMapRef != nil:
			cm := objs.ConfigMap(ns, ef.ConfigMapRef.Name)
			if cm == nil {
				if !optional(ef.ConfigMapRef.Optional) {
					errs = append(errs, notFound(ep.Child("configMapRef", "name"), KindConfigMap, ns, ef.ConfigMapRef.Name))
				}
				continue
			}
			data = cm.Data
		case ef.SecretRef != nil:
			s := objs.Secret(ns, ef.SecretRef.Name)
			if s == nil {
				if !optional(ef.SecretRef.Optional) {
					errs = append(errs, notFound(ep.Child("secretRef", "name"), KindSecret, ns, ef.SecretRef.Name))
				}
				continue
			}
			secret = true
			data = map[string]string{}
			for k, v := range s.Data {
				data[k] = string(v)
			}
		}
		for _, k := range sortedStringKeys(data) {
			name := ef.Prefix + k
			if len(validation.IsEnvVarName(name)) > 0 {
				invalid = append(invalid, name)
				continue
			}
			rc.EnvFrom = append(rc.EnvFrom, EnvValue{Name: name, Value: data[k], Secret: secret})
		}
		if len(invalid) > 0 {
			// The kubelet skips them and says so in an event.
			warns = append(warns, fmt.Sprintf("%s: skipped keys that are not valid environment variable names: %s",
				ep, strings.Join(invalid, ", ")))
		}
	}
	for i, e := range c.Env {
		if e.ValueFrom == nil {
			continue
		}
		vp := cp.Child("env").Index(i).Child("valueFrom")
		kind, name, key, opt, rp := KindConfigMap, "", "", (*bool)(nil), vp.Child("configMapKeyRef")
		switch r := e.ValueFrom; {
		case r.ConfigMapKeyRef != nil:
			name, key, opt = r.ConfigMapKeyRef.Name, r.ConfigMapKeyRef.Key, r.ConfigMapKeyRef.Optional
		case r.SecretKeyRef != nil:
			kind, name, key, opt, rp = KindSecret, r.SecretKeyRef.Name, r.SecretKeyRef.Key, r.SecretKeyRef.Optional, vp.Child("secretKeyRef")
		default:
			continue
		}
		ref := EnvRef{EnvValue: EnvValue{Name: e.Name, Secret: kind == KindSecret}, Skip: true}
		data, found, ferrs := objectData(objs, kind, ns, name, opt, rp.Child("name"))
		errs = append(errs, ferrs...)
		if v, ok := data[key]; ok {
			ref.Value, ref.Skip = string(v), false
		} else if found && !optional(opt) {
			errs = append(errs, field.NotFound(rp.Child("key"), fmt.Sprintf("key %q in %s %s/%s", key, kind, ns, name)))
		}
		rc.setRef(i, ref)
	}
	return warns, errs
}

// objectData finds the data of the ConfigMap (data and binaryData) or Secret
// a reference names. A missing one is an error at p unless it is optional.
func objectData(objs *Objects, kind, ns, name string, opt *bool, p *field.Path) (map[string][]byte, bool, field.ErrorList) {
	switch kind {
	case KindConfigMap:
		if cm := objs.ConfigMap(ns, name); cm != nil {
			return configMapData(cm), true, nil
		}
	case KindSecret:
		if s := objs.Secret(ns, name); s != nil {
			return s.Data, true, nil
		}
	}
	if optional(opt) {
		return nil, false, nil
	}
	return nil, false, field.ErrorList{notFound(p, kind, ns, name)}
}

func (rc *ResolvedContainer) setRef(i int, r EnvRef) {
	if rc.EnvRefs == nil {
		rc.EnvRefs = map[int]EnvRef{}
	}
	rc.EnvRefs[i] = r
}

func notFound(p *field.Path, kind, ns, name string) *field.Error {
	return field.NotFound(p, fmt.Sprintf("%s %s/%s (define it in the manifest, or `podunit up` a manifest that does, first)", kind, ns, name))
}

func mode(m *int32, def int32) int32 {
	if m != nil {
		return *m
	}
	return def
}

// keyFiles lays out a ConfigMap's or Secret's keys as files: every key, or the
// items asked for.
func keyFiles(data map[string][]byte, items []corev1.KeyToPath, defMode int32, secret, opt bool,
	ip *field.Path, what string) ([]VolumeFile, field.ErrorList) {
	var files []VolumeFile
	var errs field.ErrorList
	if len(items) == 0 {
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			files = append(files, VolumeFile{Path: k, Mode: defMode, Data: data[k], Secret: secret})
		}
		return files, nil
	}
	for j, it := range items {
		d, ok := data[it.Key]
		if !ok {
			if !opt {
				errs = append(errs, field.NotFound(ip.Index(j).Child("key"), fmt.Sprintf("key %q in %s", it.Key, what)))
			}
			continue
		}
		files = append(files, VolumeFile{Path: it.Path, Mode: mode(it.Mode, defMode), Data: d, Secret: secret})
	}
	return files, errs
}

func configMapData(cm *corev1.ConfigMap) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range cm.Data {
		out[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		out[k] = v
	}
	return out
}

func downwardFiles(items []corev1.DownwardAPIVolumeFile, defMode int32) []VolumeFile {
	var files []VolumeFile
	for _, it := range items {
		files = append(files, VolumeFile{Path: it.Path, Mode: mode(it.Mode, defMode), FieldRef: it.FieldRef, ResourceFieldRef: it.ResourceFieldRef})
	}
	return files
}

// objectFiles are the files of a configMap or secret volume, or projection:
// at p, the object's name is in the field nameField, the items in "items".
func objectFiles(objs *Objects, kind, ns, name string, items []corev1.KeyToPath, opt *bool, defMode int32,
	p *field.Path, nameField string) ([]VolumeFile, field.ErrorList) {
	data, found, errs := objectData(objs, kind, ns, name, opt, p.Child(nameField))
	if !found {
		return nil, errs
	}
	return keyFiles(data, items, defMode, kind == KindSecret, optional(opt), p.Child("items"), fmt.Sprintf("%s %s/%s", kind, ns, name))
}

func bindVolume(v *corev1.Volume, ns string, objs *Objects, vp *field.Path) (*VolumeData, field.ErrorList) {
	switch {
	case v.ConfigMap != nil:
		src := v.ConfigMap
		files, errs := objectFiles(objs, KindConfigMap, ns, src.Name, src.Items, src.Optional,
			mode(src.DefaultMode, DefaultFileMode), vp.Child("configMap"), "name")
		return &VolumeData{Files: files}, errs
	case v.Secret != nil:
		src := v.Secret
		files, errs := objectFiles(objs, KindSecret, ns, src.SecretName, src.Items, src.Optional,
			mode(src.DefaultMode, DefaultFileMode), vp.Child("secret"), "secretName")
		return &VolumeData{Files: files}, errs
	case v.DownwardAPI != nil:
		return &VolumeData{Files: downwardFiles(v.DownwardAPI.Items, mode(v.DownwardAPI.DefaultMode, DefaultFileMode))}, nil
	case v.Projected != nil:
		vd := &VolumeData{}
		var errs field.ErrorList
		def := mode(v.Projected.DefaultMode, DefaultFileMode)
		for j, src := range v.Projected.Sources {
			sp := vp.Child("projected", "sources").Index(j)
			var files []VolumeFile
			var e field.ErrorList
			switch {
			case src.ConfigMap != nil:
				files, e = objectFiles(objs, KindConfigMap, ns, src.ConfigMap.Name, src.ConfigMap.Items, src.ConfigMap.Optional,
					def, sp.Child("configMap"), "name")
			case src.Secret != nil:
				files, e = objectFiles(objs, KindSecret, ns, src.Secret.Name, src.Secret.Items, src.Secret.Optional,
					def, sp.Child("secret"), "name")
			case src.DownwardAPI != nil:
				files = downwardFiles(src.DownwardAPI.Items, def)
			}
			vd.Files, errs = append(vd.Files, files...), append(errs, e...)
		}
		return vd, errs
	case v.PersistentVolumeClaim != nil:
		src := v.PersistentVolumeClaim
		c := objs.Claim(ns, src.ClaimName)
		if c == nil {
			return nil, field.ErrorList{notFound(vp.Child("persistentVolumeClaim", "claimName"), KindClaim, ns, src.ClaimName)}
		}
		vd := &VolumeData{Claim: c}
		if name := c.Spec.VolumeName; name != "" {
			if vd.Volume = objs.Volume(name); vd.Volume == nil {
				return nil, field.ErrorList{field.Invalid(vp.Child("persistentVolumeClaim", "claimName"), src.ClaimName,
					fmt.Sprintf("the claim is bound to persistentvolume %q, which does not exist", name))}
			}
		}
		return vd, nil
	}
	return nil, nil
}
