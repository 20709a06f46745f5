package pod

import (
	"cmp"
	"fmt"
	"path"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// A PersistentVolume is a directory of this host (hostPath or local) that a
// claim binds to, as Kubernetes binds a claim to a statically made volume:
// the claim's pods mount that directory instead of a podman volume of the
// claim's own. The binding is kept in the claim (spec.volumeName), so that
// it lasts: a claim stays bound to its volume, or to its podman volume,
// until it goes. Its data is never removed by podunit (reclaim policy
// Retain).
const KindVolume = "PersistentVolume"

const volumeSourceNote = "podunit binds claims to directories of this host only (hostPath, local)"

var volumeRules = withMetadata(map[string]rule{
	"apiVersion":                         {support: Honoured},
	"spec":                               {support: Honoured},
	"spec.capacity":                      {support: Honoured, subtree: true, note: "storage: what claims are matched against (not a quota: a host directory has no size limit)"},
	"spec.accessModes":                   {support: Honoured},
	"spec.storageClassName":              {support: Honoured, note: "a claim binds to a volume of its own class (none: a volume of none)"},
	"spec.volumeMode":                    {support: Honoured},
	"spec.hostPath":                      {support: Honoured},
	"spec.hostPath.path":                 {support: Honoured},
	"spec.hostPath.type":                 {support: Honoured},
	"spec.local":                         {support: Honoured},
	"spec.local.path":                    {support: Honoured, note: "a directory that must exist"},
	"spec.nodeAffinity":                  {support: Ignored, subtree: true, note: "this host is the one node: the volume's directory is on it"},
	"spec.persistentVolumeReclaimPolicy": {support: Honoured, note: "Retain (the default): the directory and its data stay when the claim goes; podunit never deletes a host directory, so Delete and Recycle are refused"},
	"spec.claimRef":                      {support: Honoured, note: "the volume is kept for that claim (namespace and name)"},
	"spec.claimRef.namespace":            {support: Honoured},
	"spec.claimRef.name":                 {support: Honoured},
	"spec.claimRef.apiVersion":           {support: Honoured},
	"spec.claimRef.kind":                 {support: Honoured},
	"spec.claimRef.uid":                  {support: Ignored, note: "output-only: a cluster's binding"},
	"spec.claimRef.resourceVersion":      {support: Ignored, note: "output-only: a cluster's binding"},
	"spec.mountOptions":                  {note: "a bind mount of a host directory takes no mount options"},
	"spec.nfs":                           {note: volumeSourceNote},
	"spec.csi":                           {note: volumeSourceNote},
	"spec.iscsi":                         {note: volumeSourceNote},
	"spec.fc":                            {note: volumeSourceNote},
	"status":                             {support: Ignored, subtree: true, note: "output-only"},
})

// loadVolume decodes and validates a PersistentVolume and adds it to o.
func loadVolume(generic any, js []byte, o *Objects) ([]string, field.ErrorList) {
	var pv corev1.PersistentVolume
	warns, errs := decodeStrict(generic, js, &pv, volumeRules)
	pv.Namespace = "" // cluster-scoped
	pv.Status = corev1.PersistentVolumeStatus{}
	if pv.Spec.PersistentVolumeReclaimPolicy == "" {
		pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
	}
	if pv.Spec.VolumeMode == nil {
		m := corev1.PersistentVolumeFilesystem
		pv.Spec.VolumeMode = &m
	}
	if cr := pv.Spec.ClaimRef; cr != nil {
		cr.UID, cr.ResourceVersion = "", ""
	}
	o.Volumes = append(o.Volumes, &pv)
	if errs = append(errs, validateVolume(&pv)...); len(errs) > 0 {
		return nil, errs
	}
	return warns, nil
}

// validateVolume checks what the API server checks of a PersistentVolume
// podunit can bind, and refuses what it would not honour.
func validateVolume(pv *corev1.PersistentVolume) field.ErrorList {
	var errs field.ErrorList
	md, sp := field.NewPath("metadata"), field.NewPath("spec")
	if pv.Name == "" {
		errs = append(errs, field.Required(md.Child("name"), ""))
	}
	for _, msg := range validation.IsDNS1123Subdomain(pv.Name) {
		if pv.Name != "" {
			errs = append(errs, field.Invalid(md.Child("name"), pv.Name, msg))
		}
	}
	errs = append(errs, validateLabels(pv.Labels, md.Child("labels"))...)
	if q, ok := pv.Spec.Capacity[corev1.ResourceStorage]; !ok {
		errs = append(errs, field.Required(sp.Child("capacity", "storage"), ""))
	} else if q.Cmp(resource.Quantity{}) <= 0 {
		errs = append(errs, field.Invalid(sp.Child("capacity", "storage"), q.String(), "must be greater than zero"))
	}
	for k := range pv.Spec.Capacity {
		if k != corev1.ResourceStorage {
			errs = append(errs, field.NotSupported(sp.Child("capacity").Key(string(k)), string(k), []string{string(corev1.ResourceStorage)}))
		}
	}
	if len(pv.Spec.AccessModes) == 0 {
		errs = append(errs, field.Required(sp.Child("accessModes"), ""))
	}
	for i, m := range pv.Spec.AccessModes {
		if !sets.New(accessModes...).Has(string(m)) {
			errs = append(errs, field.NotSupported(sp.Child("accessModes").Index(i), string(m), accessModes))
		}
	}
	if *pv.Spec.VolumeMode != corev1.PersistentVolumeFilesystem {
		errs = append(errs, field.NotSupported(sp.Child("volumeMode"), string(*pv.Spec.VolumeMode), []string{"Filesystem"}))
	}
	switch rp := pv.Spec.PersistentVolumeReclaimPolicy; rp {
	case corev1.PersistentVolumeReclaimRetain:
	case corev1.PersistentVolumeReclaimDelete, corev1.PersistentVolumeReclaimRecycle:
		errs = append(errs, field.Forbidden(sp.Child("persistentVolumeReclaimPolicy"), fmt.Sprintf("%s: podunit never removes the data of a host directory; use Retain", rp)))
	default:
		errs = append(errs, field.NotSupported(sp.Child("persistentVolumeReclaimPolicy"), string(rp), []string{"Delete", "Recycle", "Retain"}))
	}
	hp, local := pv.Spec.HostPath, pv.Spec.Local
	switch {
	case hp != nil && local != nil:
		errs = append(errs, field.Forbidden(sp.Child("local"), "may not specify more than 1 volume type"))
	case hp != nil:
		if !path.IsAbs(hp.Path) {
			errs = append(errs, field.Invalid(sp.Child("hostPath", "path"), hp.Path, "must be an absolute path"))
		}
		if hp.Type != nil && !sets.New(hostPathTypes...).Has(string(*hp.Type)) {
			errs = append(errs, field.NotSupported(sp.Child("hostPath", "type"), string(*hp.Type), hostPathTypes[1:]))
		}
	case local != nil:
		if !path.IsAbs(local.Path) {
			errs = append(errs, field.Invalid(sp.Child("local", "path"), local.Path, "must be an absolute path"))
		}
		if local.FSType != nil {
			errs = append(errs, field.Forbidden(sp.Child("local", "fsType"), "podunit mounts a directory, not a block device"))
		}
	default:
		errs = append(errs, field.Required(sp, "a volume source: hostPath or local ("+volumeSourceNote+")"))
	}
	if cr := pv.Spec.ClaimRef; cr != nil {
		cp := sp.Child("claimRef")
		if cr.Name == "" {
			errs = append(errs, field.Required(cp.Child("name"), ""))
		}
		if cr.Namespace == "" {
			errs = append(errs, field.Required(cp.Child("namespace"), ""))
		}
		if cr.Kind != "" && cr.Kind != KindClaim {
			errs = append(errs, field.NotSupported(cp.Child("kind"), cr.Kind, []string{KindClaim}))
		}
	}
	return errs
}

// VolumePath is the host directory a PersistentVolume is, and the
// hostPath type it is checked as when a pod starts (a local volume's
// directory must exist).
func VolumePath(pv *corev1.PersistentVolume) (dir, hostPathType string) {
	if hp := pv.Spec.HostPath; hp != nil {
		if hp.Type != nil {
			hostPathType = string(*hp.Type)
		}
		return hp.Path, hostPathType
	}
	if pv.Spec.Local != nil {
		return pv.Spec.Local.Path, string(corev1.HostPathDirectory)
	}
	return "", ""
}

// Volume finds a PersistentVolume, or nil.
func (o *Objects) Volume(name string) *corev1.PersistentVolume {
	if o == nil {
		return nil
	}
	return find(o.Volumes, "", name)
}

// bindClaims binds the manifest's claims (in o) to PersistentVolumes, as
// Kubernetes' binder does, and returns the problems of those that cannot
// bind. A claim applied before keeps what it was bound to (known: the
// stored objects): its volume, or its podman volume. A new claim names its
// volume (spec.volumeName), is the one a volume is kept for (claimRef), or
// binds to the smallest volume of its class that no other claim has,
// offers its access modes and at least its request, and its selector
// selects; with none, it is a podman volume of its own, as a cluster's
// provisioner would make one.
func bindClaims(o, known *Objects) (map[*corev1.PersistentVolumeClaim]field.ErrorList, []string) {
	var warns []string
	for _, c := range o.Claims {
		if stored := known.Claim(c.Namespace, c.Name); stored != nil && c.Spec.VolumeName == "" {
			c.Spec.VolumeName = stored.Spec.VolumeName
		}
	}
	all := Over(o, known)
	taken := map[string]string{} // volume -> namespace/name of its claim
	for _, c := range all.Claims {
		if c.Spec.VolumeName != "" {
			taken[c.Spec.VolumeName] = c.Namespace + "/" + c.Name
		}
	}
	claims := slices.Clone(o.Claims)
	slices.SortFunc(claims, func(a, b *corev1.PersistentVolumeClaim) int {
		return cmp.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	errs := map[*corev1.PersistentVolumeClaim]field.ErrorList{}
	for _, c := range claims {
		key := c.Namespace + "/" + c.Name
		vp := field.NewPath("spec", "volumeName")
		if name := c.Spec.VolumeName; name != "" {
			pv := all.Volume(name)
			stored := known.Claim(c.Namespace, c.Name)
			switch {
			case stored != nil && stored.Spec.VolumeName == name:
				// bound before: it stays so
				if pv == nil {
					errs[c] = append(errs[c], field.NotFound(vp, name))
				}
			case pv == nil:
				errs[c] = append(errs[c], field.NotFound(vp, name))
			case taken[name] != key:
				errs[c] = append(errs[c], field.Invalid(vp, name, fmt.Sprintf("persistentvolume %q is bound to claim %s", name, taken[name])))
			default:
				if why := volumeMisfit(c, pv); why != "" {
					errs[c] = append(errs[c], field.Invalid(vp, name, why))
				}
			}
			continue
		}
		if known.Claim(c.Namespace, c.Name) != nil {
			continue // a podman volume of its own since it was first applied
		}
		var best *corev1.PersistentVolume
		for _, pv := range all.Volumes {
			if _, ok := taken[pv.Name]; ok || volumeMisfit(c, pv) != "" {
				continue
			}
			if cr := pv.Spec.ClaimRef; cr != nil {
				best = pv // kept for it: no other will do
				break
			}
			if best == nil {
				best = pv
				continue
			}
			size, bestSize := volumeSize(pv), volumeSize(best)
			if d := size.Cmp(bestSize); d < 0 || (d == 0 && pv.Name < best.Name) {
				best = pv
			}
		}
		if _, ok := c.Spec.Resources.Requests[corev1.ResourceStorage]; ok && best == nil {
			warns = append(warns, fmt.Sprintf("persistentvolumeclaim %q: spec.resources.requests: ignored: a podman volume on this host has no size limit", c.Name))
		}
		switch {
		case best != nil:
			c.Spec.VolumeName = best.Name
			taken[best.Name] = key
		case c.Spec.Selector != nil:
			warns = append(warns, fmt.Sprintf("persistentvolumeclaim %q: spec.selector: no PersistentVolume fits: a podman volume of its own", c.Name))
		case c.Spec.StorageClassName != nil && *c.Spec.StorageClassName != "":
			warns = append(warns, fmt.Sprintf("persistentvolumeclaim %q: spec.storageClassName: no PersistentVolume of class %q fits: a podman volume of its own", c.Name, *c.Spec.StorageClassName))
		}
	}
	return errs, warns
}

func volumeSize(pv *corev1.PersistentVolume) resource.Quantity {
	return pv.Spec.Capacity[corev1.ResourceStorage]
}

// volumeMisfit says why a volume cannot be a claim's ("": it can): it is
// kept for another claim, or its class, access modes, capacity or labels
// do not match what the claim asks.
func volumeMisfit(c *corev1.PersistentVolumeClaim, pv *corev1.PersistentVolume) string {
	if cr := pv.Spec.ClaimRef; cr != nil && (cr.Namespace != c.Namespace || cr.Name != c.Name) {
		return fmt.Sprintf("persistentvolume %q is kept for claim %s/%s (spec.claimRef)", pv.Name, cr.Namespace, cr.Name)
	}
	class := ""
	if c.Spec.StorageClassName != nil {
		class = *c.Spec.StorageClassName
	}
	if class != pv.Spec.StorageClassName {
		return fmt.Sprintf("persistentvolume %q is of storage class %q, the claim asks for %q", pv.Name, pv.Spec.StorageClassName, class)
	}
	for _, m := range c.Spec.AccessModes {
		if !slices.Contains(pv.Spec.AccessModes, m) {
			return fmt.Sprintf("persistentvolume %q does not offer access mode %s", pv.Name, m)
		}
	}
	size := volumeSize(pv)
	if want, ok := c.Spec.Resources.Requests[corev1.ResourceStorage]; ok && size.Cmp(want) < 0 {
		return fmt.Sprintf("persistentvolume %q holds %s, the claim asks for %s", pv.Name, size.String(), want.String())
	}
	if c.Spec.Selector != nil {
		sel, err := metav1.LabelSelectorAsSelector(c.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(pv.Labels)) {
			return fmt.Sprintf("the claim's selector does not select persistentvolume %q", pv.Name)
		}
	}
	return ""
}
