package pod

import (
	"fmt"
	"math"
	"net"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podunit/podunit/hooks"
	"github.com/podunit/podunit/netshape"
)

// Validate checks a defaulted pod and returns every problem with its field path.
// It applies Kubernetes' rules for the fields podunit honours, plus podunit's own
// where one host differs from a cluster.
func Validate(p *corev1.Pod) field.ErrorList {
	_, errs := Resolve(p)
	return errs
}

// Resolved is what validation works out once, so that translation uses it as
// it is instead of working it out again: hooks and probes with their ports
// and defaults, the bandwidth, the postStart timeout.
type Resolved struct {
	Bandwidth        netshape.Spec
	PostStartTimeout time.Duration
	Containers       map[string]*ResolvedContainer // by name, init containers included
	// Volumes holds, by volume name, what the volumes that refer to
	// ConfigMaps, Secrets, the downward API and claims resolved to.
	Volumes map[string]*VolumeData
	// PullAuth is what spec.imagePullSecrets resolved to (nil: none).
	PullAuth *PullAuth
}

// ResolvedContainer holds one container's handlers and probes.
type ResolvedContainer struct {
	PostStart, PreStop *hooks.Handler
	Probes             []*hooks.Probe // startup, liveness, readiness, those that are set
	// EnvFrom are the variables of envFrom, in order, prefixed; EnvRefs the
	// values of env[i].valueFrom's configMapKeyRef and secretKeyRef, by i.
	EnvFrom []EnvValue
	EnvRefs map[int]EnvRef
}

// Container returns a container's resolved handlers (never nil).
func (r *Resolved) Container(name string) *ResolvedContainer {
	if c := r.Containers[name]; c != nil {
		return c
	}
	return &ResolvedContainer{}
}

// Resolve validates a defaulted pod like Validate and returns what it resolved;
// the result is only meaningful when there are no errors.
func Resolve(p *corev1.Pod) (*Resolved, field.ErrorList) {
	res := &Resolved{Containers: map[string]*ResolvedContainer{}, PostStartTimeout: hooks.DefaultPostStartTimeout}
	var errs field.ErrorList
	md := field.NewPath("metadata")
	switch {
	case p.Name == "":
		detail := ""
		if p.GenerateName != "" {
			detail = "podunit makes no name from metadata.generateName: a pod is found again by its name (kubectl apply refuses generateName too)"
		}
		errs = append(errs, field.Required(md.Child("name"), detail))
	default:
		// A label, not a subdomain: the name is the pod's hostname and part of
		// systemd unit and podman object names.
		for _, msg := range validation.IsDNS1123Label(p.Name) {
			errs = append(errs, field.Invalid(md.Child("name"), p.Name, msg))
		}
	}
	for _, msg := range validation.IsDNS1123Label(p.Namespace) {
		errs = append(errs, field.Invalid(md.Child("namespace"), p.Namespace, msg))
	}
	errs = append(errs, validateLabels(p.Labels, md.Child("labels"))...)
	errs = append(errs, ValidateAnnotations(p.Annotations, md.Child("annotations"))...)
	errs = append(errs, validateUnitNames(p)...)
	errs = append(errs, validateSpecWith(&p.Spec, field.NewPath("spec"), p.Annotations, res)...)
	errs = append(errs, validateNodeAffinity(p)...)
	errs = append(errs, validateGates(p)...)
	errs = append(errs, validateSysctls(&p.Spec, field.NewPath("spec"))...)
	errs = append(errs, validateSecurity(&p.Spec, field.NewPath("spec"))...)
	errs = append(errs, validatePodResources(&p.Spec, field.NewPath("spec"))...)
	return res, errs
}

// CreationAnnotations are the annotations podunit reads when it creates a
// pod (its bandwidth, its network): on a running pod they cannot change in
// place, as a cluster's network plugins read them only when the pod's
// sandbox is made.
var CreationAnnotations = []string{
	netshape.IngressAnnotation, netshape.EgressAnnotation,
	netshape.IngressBurstAnnotation, netshape.EgressBurstAnnotation,
	AnnotationNetwork,
}

// ValidateAnnotations checks annotations as Kubernetes does: each key a
// qualified name, all of them together at most 256 KiB.
func ValidateAnnotations(annotations map[string]string, fp *field.Path) field.ErrorList {
	var errs field.ErrorList
	size := 0
	for _, k := range sortedStringKeys(annotations) {
		for _, msg := range validation.IsQualifiedName(strings.ToLower(k)) {
			errs = append(errs, field.Invalid(fp.Key(k), k, msg))
		}
		size += len(k) + len(annotations[k])
	}
	if size > totalAnnotationSizeLimit {
		errs = append(errs, field.TooLong(fp, "", totalAnnotationSizeLimit))
	}
	return errs
}

// totalAnnotationSizeLimit is Kubernetes' bound on an object's annotations.
const totalAnnotationSizeLimit = 256 * 1024

// ValidateLabels checks labels as Kubernetes does (qualified names, label
// values), naming each bad one under fp.
func ValidateLabels(labels map[string]string, fp *field.Path) field.ErrorList {
	return validateLabels(labels, fp)
}

func validateLabels(labels map[string]string, fp *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, k := range sortedStringKeys(labels) {
		for _, msg := range validation.IsQualifiedName(k) {
			errs = append(errs, field.Invalid(fp.Key(k), k, msg))
		}
		for _, msg := range validation.IsValidLabelValue(labels[k]) {
			errs = append(errs, field.Invalid(fp.Key(k), labels[k], msg))
		}
	}
	return errs
}

// Signals a stopSignal may name, as Kubernetes accepts them on Linux.
var stopSignals = sets.New("SIGABRT", "SIGALRM", "SIGBUS", "SIGCHLD", "SIGCLD", "SIGCONT", "SIGFPE", "SIGHUP",
	"SIGILL", "SIGINT", "SIGIO", "SIGIOT", "SIGKILL", "SIGPIPE", "SIGPOLL", "SIGPROF", "SIGPWR", "SIGQUIT",
	"SIGSEGV", "SIGSTKFLT", "SIGSTOP", "SIGSYS", "SIGTERM", "SIGTRAP", "SIGTSTP", "SIGTTIN", "SIGTTOU",
	"SIGURG", "SIGUSR1", "SIGUSR2", "SIGVTALRM", "SIGWINCH", "SIGXCPU", "SIGXFSZ")

func validateProbes(c *corev1.Container, p *field.Path, kind string, rc *ResolvedContainer) field.ErrorList {
	var errs field.ErrorList
	for _, pr := range []struct {
		name, kind string
		probe      *corev1.Probe
	}{{"startupProbe", hooks.Startup, c.StartupProbe}, {"livenessProbe", hooks.Liveness, c.LivenessProbe}, {"readinessProbe", hooks.Readiness, c.ReadinessProbe}} {
		if pr.probe == nil {
			continue
		}
		if kind == "init" {
			errs = append(errs, field.Forbidden(p.Child(pr.name), "may not be set for init containers without restartPolicy: Always"))
			continue
		}
		rp, e := ResolveProbe(pr.probe, pr.kind, c, p.Child(pr.name))
		errs = append(errs, e...)
		if rp != nil {
			rc.Probes = append(rc.Probes, rp)
		}
	}
	return errs
}

func validateLifecycle(c *corev1.Container, s *corev1.PodSpec, p *field.Path, kind string, rc *ResolvedContainer) field.ErrorList {
	lc := c.Lifecycle
	if lc == nil {
		return nil
	}
	lp := p.Child("lifecycle")
	if kind == "init" {
		return field.ErrorList{field.Forbidden(lp, "may not be set for init containers without restartPolicy: Always")}
	}
	var errs field.ErrorList
	if lc.PostStart != nil {
		h, e := ResolveHandler(lc.PostStart, c, lp.Child("postStart"))
		errs = append(errs, e...)
		rc.PostStart = h
	}
	if lc.PreStop != nil {
		h, e := ResolveHandler(lc.PreStop, c, lp.Child("preStop"))
		errs = append(errs, e...)
		rc.PreStop = h
	}
	if sig := lc.StopSignal; sig != nil {
		if s.OS == nil || s.OS.Name == "" {
			errs = append(errs, field.Forbidden(lp.Child("stopSignal"), "may only be set when spec.os.name is set (as in Kubernetes)"))
		}
		name := string(*sig)
		if !stopSignals.Has(name) && !regexp.MustCompile(`^SIGRTM(IN|AX)([+-]([1-9]|1[0-5]))?$`).MatchString(name) {
			errs = append(errs, field.NotSupported(lp.Child("stopSignal"), name, []string{"SIGTERM", "SIGINT", "SIGQUIT", "SIGUSR1", "..."}))
		}
	}
	return errs
}

func validateSpecWith(s *corev1.PodSpec, sp *field.Path, annotations map[string]string, res *Resolved) field.ErrorList {
	var errs field.ErrorList
	switch s.RestartPolicy {
	case corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever:
	default:
		errs = append(errs, field.NotSupported(sp.Child("restartPolicy"), s.RestartPolicy,
			[]string{"Always", "OnFailure", "Never"}))
	}
	if g := s.TerminationGracePeriodSeconds; g != nil {
		errs = append(errs, CheckSeconds(*g, false, sp.Child("terminationGracePeriodSeconds"))...)
	}
	if d := s.ActiveDeadlineSeconds; d != nil && (*d < 1 || *d > math.MaxInt32) {
		errs = append(errs, field.Invalid(sp.Child("activeDeadlineSeconds"), *d, "must be between 1 and 2147483647, inclusive"))
	}
	if s.Hostname != "" {
		for _, msg := range validation.IsDNS1123Label(s.Hostname) {
			errs = append(errs, field.Invalid(sp.Child("hostname"), s.Hostname, msg))
		}
	}
	switch s.DNSPolicy {
	case corev1.DNSClusterFirst, corev1.DNSDefault, corev1.DNSClusterFirstWithHostNet:
	case corev1.DNSNone:
		if s.DNSConfig == nil {
			errs = append(errs, field.Required(sp.Child("dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None"))
		}
	default:
		errs = append(errs, field.NotSupported(sp.Child("dnsPolicy"), s.DNSPolicy,
			[]string{"ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"}))
	}
	errs = append(errs, validateDNSConfig(s.DNSConfig, sp.Child("dnsConfig"))...)
	if s.Subdomain != "" {
		for _, msg := range validation.IsDNS1123Label(s.Subdomain) {
			errs = append(errs, field.Invalid(sp.Child("subdomain"), s.Subdomain, msg))
		}
	}
	switch v := annotations[AnnotationNetwork]; v {
	case "", NetworkPod, NetworkSlirp:
		if v != "" && s.HostNetwork {
			errs = append(errs, field.Invalid(field.NewPath("metadata", "annotations").Key(AnnotationNetwork), v, "a pod with hostNetwork: true is on the host's network"))
		}
	default:
		errs = append(errs, field.NotSupported(field.NewPath("metadata", "annotations").Key(AnnotationNetwork), v, []string{NetworkPod, NetworkSlirp}))
	}
	for i, ha := range s.HostAliases {
		hp := sp.Child("hostAliases").Index(i)
		if net.ParseIP(ha.IP) == nil {
			errs = append(errs, field.Invalid(hp.Child("ip"), ha.IP, "must be a valid IP address"))
		}
		if len(ha.Hostnames) == 0 {
			errs = append(errs, field.Required(hp.Child("hostnames"), ""))
		}
		for j, h := range ha.Hostnames {
			for _, msg := range validation.IsDNS1123Subdomain(h) {
				errs = append(errs, field.Invalid(hp.Child("hostnames").Index(j), h, msg))
			}
		}
	}
	errs = append(errs, validateLabels(s.NodeSelector, sp.Child("nodeSelector"))...)
	if sc := s.SecurityContext; sc != nil {
		scp := sp.Child("securityContext")
		errs = append(errs, nonNegative(sc.RunAsUser, scp.Child("runAsUser"))...)
		errs = append(errs, nonNegative(sc.RunAsGroup, scp.Child("runAsGroup"))...)
		errs = append(errs, validateSeccomp(sc.SeccompProfile, scp.Child("seccompProfile"))...)
		if sc.RunAsNonRoot != nil && *sc.RunAsNonRoot && sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			errs = append(errs, field.Invalid(scp.Child("runAsUser"), 0, "must not be 0 when runAsNonRoot is true"))
		}
		for i, g := range sc.SupplementalGroups {
			if g < 0 {
				errs = append(errs, field.Invalid(scp.Child("supplementalGroups").Index(i), g, "must be greater than or equal to 0"))
			}
		}
	}

	if s.OS != nil && s.OS.Name != corev1.Linux {
		errs = append(errs, field.NotSupported(sp.Child("os", "name"), s.OS.Name, []string{"linux"}))
	}
	containerNames := sets.New[string]()
	for _, c := range append(append([]corev1.Container{}, s.InitContainers...), s.Containers...) {
		containerNames.Insert(c.Name)
	}
	vols, verrs := validateVolumes(s.Volumes, sp.Child("volumes"), containerNames)
	errs = append(errs, verrs...)

	cp := sp.Child("containers")
	if len(s.Containers) == 0 {
		errs = append(errs, field.Required(cp, "a pod needs at least one container"))
	}
	names := sets.New[string]()
	type hostPortKey struct {
		ip    string
		port  int32
		proto corev1.Protocol
	}
	hostPorts := map[hostPortKey]bool{}
	check := func(c *corev1.Container, p *field.Path, kind string) {
		if c.Name != "" && names.Has(c.Name) {
			errs = append(errs, field.Duplicate(p.Child("name"), c.Name))
		}
		names.Insert(c.Name)
		errs = append(errs, validateContainer(c, s, vols, p)...)
		rc := &ResolvedContainer{}
		res.Containers[c.Name] = rc
		errs = append(errs, validateLifecycle(c, s, p, kind, rc)...)
		errs = append(errs, validateProbes(c, p, kind, rc)...)
		for j, port := range c.Ports {
			if port.HostPort == 0 {
				continue
			}
			k := hostPortKey{port.HostIP, port.HostPort, port.Protocol}
			if hostPorts[k] {
				errs = append(errs, field.Duplicate(p.Child("ports").Index(j).Child("hostPort"), port.HostPort))
			}
			hostPorts[k] = true
			if s.HostNetwork && port.HostPort != port.ContainerPort {
				errs = append(errs, field.Invalid(p.Child("ports").Index(j).Child("hostPort"), port.HostPort,
					"must match containerPort when hostNetwork is true"))
			}
		}
	}
	for i := range s.InitContainers {
		c := &s.InitContainers[i]
		p := sp.Child("initContainers").Index(i)
		kind := "init"
		if c.RestartPolicy != nil {
			if *c.RestartPolicy != corev1.ContainerRestartPolicyAlways {
				errs = append(errs, field.NotSupported(p.Child("restartPolicy"), *c.RestartPolicy, []string{"Always"}))
			}
			kind = "sidecar"
		}
		check(c, p, kind)
	}
	for i := range s.Containers {
		c := &s.Containers[i]
		p := cp.Index(i)
		check(c, p, "app")
	}
	// resourceFieldRef may name another container of the pod.
	for i := range s.Containers {
		for j, e := range s.Containers[i].Env {
			if e.ValueFrom != nil && e.ValueFrom.ResourceFieldRef != nil {
				if n := e.ValueFrom.ResourceFieldRef.ContainerName; n != "" && !names.Has(n) {
					errs = append(errs, field.NotFound(cp.Index(i).Child("env").Index(j).Child("valueFrom", "resourceFieldRef", "containerName"), n))
				}
			}
		}
	}
	bw, bwErrs := BandwidthFromAnnotations(annotations)
	errs = append(errs, bwErrs...)
	res.Bandwidth = bw
	if !bw.Empty() && s.HostNetwork {
		errs = append(errs, field.Forbidden(field.NewPath("metadata", "annotations"),
			"bandwidth annotations cannot apply to a pod with hostNetwork: true (it would shape the host)"))
	}
	if v, ok := annotations[hooks.PostStartTimeoutAnnotation]; ok {
		if d, err := time.ParseDuration(v); err != nil || d <= 0 {
			errs = append(errs, field.Invalid(field.NewPath("metadata", "annotations").Key(hooks.PostStartTimeoutAnnotation), v,
				"must be a positive duration such as 30s or 2m"))
		} else {
			res.PostStartTimeout = d
		}
	}
	return errs
}

func nonNegative(v *int64, fp *field.Path) field.ErrorList {
	if v != nil && *v < 0 {
		return field.ErrorList{field.Invalid(fp, *v, "must be greater than or equal to 0")}
	}
	return nil
}

var hostPathTypes = []string{"", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"}

func validateVolumes(vols []corev1.Volume, vp *field.Path, containers sets.Set[string]) (map[string]*corev1.Volume, field.ErrorList) {
	var errs field.ErrorList
	byName := map[string]*corev1.Volume{}
	for i := range vols {
		v := &vols[i]
		p := vp.Index(i)
		if v.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), ""))
		}
		for _, msg := range validation.IsDNS1123Label(v.Name) {
			if v.Name != "" {
				errs = append(errs, field.Invalid(p.Child("name"), v.Name, msg))
			}
		}
		if _, dup := byName[v.Name]; dup {
			errs = append(errs, field.Duplicate(p.Child("name"), v.Name))
		}
		byName[v.Name] = v
		sources := 0
		if ed := v.EmptyDir; ed != nil {
			sources++
			switch ed.Medium {
			case corev1.StorageMediumDefault, corev1.StorageMediumMemory:
			default:
				errs = append(errs, field.NotSupported(p.Child("emptyDir", "medium"), ed.Medium, []string{"", "Memory"}))
			}
			if ed.SizeLimit != nil && ed.SizeLimit.Sign() <= 0 {
				errs = append(errs, field.Invalid(p.Child("emptyDir", "sizeLimit"), ed.SizeLimit.String(), "must be greater than zero"))
			}
		}
		if hp := v.HostPath; hp != nil {
			sources++
			if !path.IsAbs(hp.Path) {
				errs = append(errs, field.Invalid(p.Child("hostPath", "path"), hp.Path, "must be an absolute path"))
			}
			t := ""
			if hp.Type != nil {
				t = string(*hp.Type)
			}
			if !sets.New(hostPathTypes...).Has(t) {
				errs = append(errs, field.NotSupported(p.Child("hostPath", "type"), t, hostPathTypes[1:]))
			}
		}
		if cm := v.ConfigMap; cm != nil {
			sources++
			errs = append(errs, validateObjectName(cm.Name, p.Child("configMap", "name"))...)
			errs = append(errs, validateMode(cm.DefaultMode, p.Child("configMap", "defaultMode"))...)
			errs = append(errs, validateItems(cm.Items, p.Child("configMap", "items"), sets.New[string]())...)
		}
		if sec := v.Secret; sec != nil {
			sources++
			errs = append(errs, validateObjectName(sec.SecretName, p.Child("secret", "secretName"))...)
			errs = append(errs, validateMode(sec.DefaultMode, p.Child("secret", "defaultMode"))...)
			errs = append(errs, validateItems(sec.Items, p.Child("secret", "items"), sets.New[string]())...)
		}
		if da := v.DownwardAPI; da != nil {
			sources++
			errs = append(errs, validateMode(da.DefaultMode, p.Child("downwardAPI", "defaultMode"))...)
			errs = append(errs, validateDownwardItems(da.Items, p.Child("downwardAPI", "items"), containers, sets.New[string]())...)
		}
		if pr := v.Projected; pr != nil {
			sources++
			pp := p.Child("projected")
			errs = append(errs, validateMode(pr.DefaultMode, pp.Child("defaultMode"))...)
			paths := sets.New[string]()
			for j, src := range pr.Sources {
				sp := pp.Child("sources").Index(j)
				n := 0
				if src.ConfigMap != nil {
					n++
					errs = append(errs, validateObjectName(src.ConfigMap.Name, sp.Child("configMap", "name"))...)
					errs = append(errs, validateItems(src.ConfigMap.Items, sp.Child("configMap", "items"), paths)...)
				}
				if src.Secret != nil {
					n++
					errs = append(errs, validateObjectName(src.Secret.Name, sp.Child("secret", "name"))...)
					errs = append(errs, validateItems(src.Secret.Items, sp.Child("secret", "items"), paths)...)
				}
				if src.DownwardAPI != nil {
					n++
					errs = append(errs, validateDownwardItems(src.DownwardAPI.Items, sp.Child("downwardAPI", "items"), containers, paths)...)
				}
				if n > 1 || (n == 0 && src.ServiceAccountToken == nil && src.ClusterTrustBundle == nil) {
					errs = append(errs, field.Invalid(sp, "", "must have exactly one of configMap, secret, downwardAPI"))
				}
			}
		}
		if pvc := v.PersistentVolumeClaim; pvc != nil {
			sources++
			errs = append(errs, validateObjectName(pvc.ClaimName, p.Child("persistentVolumeClaim", "claimName"))...)
		}
		if im := v.Image; im != nil {
			sources++
			ip := p.Child("image")
			switch {
			case im.Reference == "":
				errs = append(errs, field.Required(ip.Child("reference"), ""))
			case strings.ContainsAny(im.Reference, " \t\n,"):
				errs = append(errs, field.Invalid(ip.Child("reference"), im.Reference, "must not contain whitespace or ','"))
			}
			errs = append(errs, validatePullPolicy(im.PullPolicy, ip.Child("pullPolicy"))...)
		}
		if ep := v.Ephemeral; ep != nil {
			sources++
			tp := p.Child("ephemeral", "volumeClaimTemplate")
			if ep.VolumeClaimTemplate == nil {
				errs = append(errs, field.Required(tp, ""))
			} else {
				errs = append(errs, validateClaimSpec(&ep.VolumeClaimTemplate.Spec, tp.Child("spec"))...)
			}
		}
		if sources == 0 && v.VolumeSource == (corev1.VolumeSource{}) {
			errs = append(errs, field.Required(p, "a volume source (emptyDir, hostPath, configMap, secret, downwardAPI, projected, persistentVolumeClaim, ephemeral or image)"))
		} else if sources > 1 {
			errs = append(errs, field.Forbidden(p, "may not specify more than one volume source"))
		}
	}
	return byName, errs
}

// A memory-backed emptyDir is a tmpfs that podman mounts for each container
// that uses it whole: there is no directory on the host to take a part of.
const memorySubPath = "not supported by podunit on an emptyDir of medium Memory (a tmpfs podman mounts only whole)"

func memoryEmptyDir(v *corev1.Volume) bool {
	return v.EmptyDir != nil && v.EmptyDir.Medium == corev1.StorageMediumMemory
}

var (
	capName = regexp.MustCompile(`^(CAP_)?[A-Z][A-Z0-9_]*$`)
	// fieldRefs resolved when the pod is translated.
	staticFieldRefs = sets.New("metadata.name", "metadata.namespace", "metadata.uid",
		"spec.nodeName", "spec.serviceAccountName")
	// envFieldRefs are the fields env may read: the static ones and the
	// pod's and host's addresses, filled in when the container starts.
	envFieldRefs = staticFieldRefs.Union(sets.New("status.podIP", "status.podIPs", "status.hostIP", "status.hostIPs"))
	labelRef     = regexp.MustCompile(`^metadata\.(labels|annotations)\['([^']+)'\]$`)
)

func validateContainer(c *corev1.Container, s *corev1.PodSpec, vols map[string]*corev1.Volume, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if c.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	} else {
		for _, msg := range validation.IsDNS1123Label(c.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), c.Name, msg))
		}
	}
	if strings.TrimSpace(c.Image) == "" {
		errs = append(errs, field.Required(p.Child("image"), ""))
	} else if strings.ContainsAny(c.Image, " \t\n") {
		errs = append(errs, field.Invalid(p.Child("image"), c.Image, "must not contain white space"))
	}
	errs = append(errs, validatePullPolicy(c.ImagePullPolicy, p.Child("imagePullPolicy"))...)
	if c.WorkingDir != "" && !path.IsAbs(c.WorkingDir) {
		errs = append(errs, field.Invalid(p.Child("workingDir"), c.WorkingDir, "must be an absolute path"))
	}
	portNames := sets.New[string]()
	for i, port := range c.Ports {
		pp := p.Child("ports").Index(i)
		if port.Name != "" {
			for _, msg := range validation.IsValidPortName(port.Name) {
				errs = append(errs, field.Invalid(pp.Child("name"), port.Name, msg))
			}
			if portNames.Has(port.Name) {
				errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
			}
			portNames.Insert(port.Name)
		}
		if port.ContainerPort < 1 || port.ContainerPort > 65535 {
			errs = append(errs, field.Invalid(pp.Child("containerPort"), port.ContainerPort, "must be between 1 and 65535, inclusive"))
		}
		if port.HostPort < 0 || port.HostPort > 65535 {
			errs = append(errs, field.Invalid(pp.Child("hostPort"), port.HostPort, "must be between 1 and 65535, inclusive"))
		}
		switch port.Protocol {
		case corev1.ProtocolTCP, corev1.ProtocolUDP:
		default:
			errs = append(errs, field.NotSupported(pp.Child("protocol"), port.Protocol, []string{"TCP", "UDP"}))
		}
		if port.HostIP != "" && net.ParseIP(port.HostIP) == nil {
			errs = append(errs, field.Invalid(pp.Child("hostIP"), port.HostIP, "must be a valid IP address"))
		}
	}
	for i, e := range c.Env {
		ep := p.Child("env").Index(i)
		if e.Name == "" {
			errs = append(errs, field.Required(ep.Child("name"), ""))
		}
		for _, msg := range validation.IsEnvVarName(e.Name) {
			if e.Name != "" {
				errs = append(errs, field.Invalid(ep.Child("name"), e.Name, msg))
			}
		}
		if e.ValueFrom == nil {
			continue
		}
		vf, vp := e.ValueFrom, ep.Child("valueFrom")
		if e.Value != "" {
			errs = append(errs, field.Invalid(ep.Child("valueFrom"), "", "may not be specified when `value` is not empty"))
		}
		n := 0
		for _, set := range []bool{vf.FieldRef != nil, vf.ResourceFieldRef != nil, vf.ConfigMapKeyRef != nil, vf.SecretKeyRef != nil} {
			if set {
				n++
			}
		}
		switch {
		case n > 1:
			errs = append(errs, field.Invalid(vp, "", "may not have more than one field specified at a time"))
		case vf.ConfigMapKeyRef != nil:
			errs = append(errs, validateKeyRef(vf.ConfigMapKeyRef.Name, vf.ConfigMapKeyRef.Key, vp.Child("configMapKeyRef"))...)
		case vf.SecretKeyRef != nil:
			errs = append(errs, validateKeyRef(vf.SecretKeyRef.Name, vf.SecretKeyRef.Key, vp.Child("secretKeyRef"))...)
		case vf.FieldRef != nil:
			fr := vf.FieldRef
			if fr.APIVersion != "v1" {
				errs = append(errs, field.NotSupported(vp.Child("fieldRef", "apiVersion"), fr.APIVersion, []string{"v1"}))
			}
			if !envFieldRefs.Has(fr.FieldPath) && !labelRef.MatchString(fr.FieldPath) {
				errs = append(errs, field.NotSupported(vp.Child("fieldRef", "fieldPath"), fr.FieldPath,
					append(sets.List(envFieldRefs), "metadata.labels['<KEY>']", "metadata.annotations['<KEY>']")))
			}
		case vf.ResourceFieldRef != nil:
			if !slices.Contains(resourceFieldRefs, vf.ResourceFieldRef.Resource) {
				errs = append(errs, field.NotSupported(vp.Child("resourceFieldRef", "resource"), vf.ResourceFieldRef.Resource, resourceFieldRefs))
			}
			if d := vf.ResourceFieldRef.Divisor; !d.IsZero() && d.Sign() < 0 {
				errs = append(errs, field.Invalid(vp.Child("resourceFieldRef", "divisor"), d.String(), "must be positive"))
			}
		default:
			errs = append(errs, field.Required(vp, "fieldRef, resourceFieldRef, configMapKeyRef or secretKeyRef"))
		}
	}
	for i, ef := range c.EnvFrom {
		ep := p.Child("envFrom").Index(i)
		if ef.Prefix != "" {
			for _, msg := range validation.IsEnvVarName(ef.Prefix) {
				errs = append(errs, field.Invalid(ep.Child("prefix"), ef.Prefix, msg))
			}
		}
		switch {
		case ef.ConfigMapRef != nil && ef.SecretRef != nil:
			errs = append(errs, field.Invalid(ep, "", "may not have more than one field specified at a time"))
		case ef.ConfigMapRef != nil:
			errs = append(errs, validateObjectName(ef.ConfigMapRef.Name, ep.Child("configMapRef", "name"))...)
		case ef.SecretRef != nil:
			errs = append(errs, validateObjectName(ef.SecretRef.Name, ep.Child("secretRef", "name"))...)
		default:
			errs = append(errs, field.Required(ep, "configMapRef or secretRef"))
		}
	}
	mounts := sets.New[string]()
	for i, m := range c.VolumeMounts {
		mp := p.Child("volumeMounts").Index(i)
		v, ok := vols[m.Name]
		if !ok {
			errs = append(errs, field.NotFound(mp.Child("name"), m.Name))
		}
		if !path.IsAbs(m.MountPath) {
			errs = append(errs, field.Invalid(mp.Child("mountPath"), m.MountPath, "must be an absolute path"))
		} else if mounts.Has(path.Clean(m.MountPath)) {
			errs = append(errs, field.Invalid(mp.Child("mountPath"), m.MountPath, "must be unique"))
		}
		mounts.Insert(path.Clean(m.MountPath))
		if ok && v.Image != nil {
			if m.SubPath != "" || m.SubPathExpr != "" {
				errs = append(errs, field.Forbidden(mp.Child("subPath"), "not supported with an image volume: podman mounts the whole image"))
			}
			if strings.Contains(m.MountPath, ",") {
				errs = append(errs, field.Invalid(mp.Child("mountPath"), m.MountPath, "must not contain ',' for an image volume (podman's mount syntax)"))
			}
		}
		errs = append(errs, validatePropagation(m.MountPropagation, c, ok && v.Image != nil, mp.Child("mountPropagation"))...)
		if m.SubPath != "" {
			if path.IsAbs(m.SubPath) || strings.Split(m.SubPath, "/")[0] == ".." || strings.Contains(m.SubPath, "/../") || strings.HasSuffix(m.SubPath, "/..") {
				errs = append(errs, field.Invalid(mp.Child("subPath"), m.SubPath, "must be a relative path without '..'"))
			} else if ok && memoryEmptyDir(v) {
				errs = append(errs, field.Forbidden(mp.Child("subPath"), memorySubPath))
			}
		}
		if m.SubPathExpr != "" {
			if m.SubPath != "" {
				errs = append(errs, field.Invalid(mp.Child("subPathExpr"), m.SubPathExpr, "subPathExpr and subPath are mutually exclusive"))
			} else if path.IsAbs(m.SubPathExpr) {
				errs = append(errs, field.Invalid(mp.Child("subPathExpr"), m.SubPathExpr, "must be a relative path"))
			} else if ok && memoryEmptyDir(v) {
				errs = append(errs, field.Forbidden(mp.Child("subPathExpr"), memorySubPath))
			}
		}
	}
	if tp := c.TerminationMessagePath; tp != "" {
		switch tpp := p.Child("terminationMessagePath"); {
		case !path.IsAbs(tp):
			errs = append(errs, field.Invalid(tpp, tp, "must be an absolute path"))
		case strings.Contains(tp, ":"):
			errs = append(errs, field.Invalid(tpp, tp, "may not contain ':' (podman's mount syntax)"))
		case mounts.Has(path.Clean(tp)):
			errs = append(errs, field.Invalid(tpp, tp, "a volumeMount is mounted at this path"))
		}
	}
	switch c.TerminationMessagePolicy {
	case "", corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError:
	default:
		errs = append(errs, field.NotSupported(p.Child("terminationMessagePolicy"), c.TerminationMessagePolicy,
			[]string{string(corev1.TerminationMessageReadFile), string(corev1.TerminationMessageFallbackToLogsOnError)}))
	}
	errs = append(errs, validateResources(&c.Resources, p.Child("resources"))...)
	if sc := c.SecurityContext; sc != nil {
		scp := p.Child("securityContext")
		errs = append(errs, nonNegative(sc.RunAsUser, scp.Child("runAsUser"))...)
		errs = append(errs, nonNegative(sc.RunAsGroup, scp.Child("runAsGroup"))...)
		if caps := sc.Capabilities; caps != nil {
			for i, c := range caps.Add {
				if !capName.MatchString(string(c)) && c != "ALL" {
					errs = append(errs, field.Invalid(scp.Child("capabilities", "add").Index(i), string(c), "must be a capability name such as NET_ADMIN"))
				}
			}
			for i, c := range caps.Drop {
				if !capName.MatchString(string(c)) && c != "ALL" {
					errs = append(errs, field.Invalid(scp.Child("capabilities", "drop").Index(i), string(c), "must be a capability name such as NET_RAW"))
				}
			}
		}
		errs = append(errs, validateSeccomp(sc.SeccompProfile, scp.Child("seccompProfile"))...)
		nonRoot := sc.RunAsNonRoot
		if nonRoot == nil && s.SecurityContext != nil {
			nonRoot = s.SecurityContext.RunAsNonRoot
		}
		if nonRoot != nil && *nonRoot && sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			errs = append(errs, field.Invalid(scp.Child("runAsUser"), 0, "must not be 0 when runAsNonRoot is true"))
		}
		if sc.Privileged != nil && *sc.Privileged && sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
			errs = append(errs, field.Invalid(scp, "", "cannot set allowPrivilegeEscalation to false and privileged to true"))
		}
	}
	return errs
}

// validatePropagation checks a mount's mountPropagation as the API server
// does: one of the three modes, Bidirectional for a privileged container
// only; podman mounts an image volume without propagation.
func validatePropagation(mode *corev1.MountPropagationMode, c *corev1.Container, image bool, fp *field.Path) field.ErrorList {
	if mode == nil {
		return nil
	}
	switch *mode {
	case corev1.MountPropagationNone:
		return nil
	case corev1.MountPropagationHostToContainer:
	case corev1.MountPropagationBidirectional:
		if c.SecurityContext == nil || c.SecurityContext.Privileged == nil || !*c.SecurityContext.Privileged {
			return field.ErrorList{field.Forbidden(fp, "Bidirectional mount propagation is available only to privileged containers")}
		}
	default:
		return field.ErrorList{field.NotSupported(fp, *mode, []string{string(corev1.MountPropagationBidirectional), string(corev1.MountPropagationHostToContainer), string(corev1.MountPropagationNone)})}
	}
	if image {
		return field.ErrorList{field.Forbidden(fp, "not supported with an image volume: podman mounts an image without propagation")}
	}
	return nil
}

// resourceFieldRefs are the resources the downward API gives a container.
var resourceFieldRefs = []string{"limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu", "requests.ephemeral-storage", "requests.memory"}

// maxCPU and maxMemory bound cpu and memory by what systemd and the kernel take: the
// kernel's cpu.max quota must stay under 2^44 µs per 100 ms period (100M CPUs
// are 1e13 µs), and memory is bytes in 63 bits.
var (
	maxCPU    = resource.MustParse("100M")
	maxMemory = *resource.NewQuantity(math.MaxInt64, resource.BinarySI)
)

func validateResources(r *corev1.ResourceRequirements, rp *field.Path) field.ErrorList {
	return checkResources(r, rp, false)
}

// checkResources checks requests and limits of cpu and memory; a container's
// (pod false) may also have ephemeral-storage and extended resources.
func checkResources(r *corev1.ResourceRequirements, rp *field.Path, pod bool) field.ErrorList {
	var errs field.ErrorList
	if !pod {
		errs = append(errs, validateExtended(r, rp)...)
	}
	// as in Kubernetes: a pod's own resources are cpu and memory
	supported := []string{"cpu", "memory"}
	if !pod {
		supported = append(supported, "ephemeral-storage")
	}
	check := func(list corev1.ResourceList, lp *field.Path, limits bool) {
		for _, name := range sortedStringKeys(list) {
			q := list[corev1.ResourceName(name)]
			switch rn := corev1.ResourceName(name); {
			case rn == corev1.ResourceCPU, rn == corev1.ResourceMemory:
			case rn == corev1.ResourceEphemeralStorage && !pod:
			case IsExtendedResource(rn) && !pod:
				continue // validateExtended
			default:
				errs = append(errs, field.NotSupported(lp.Key(name), name, supported))
				continue
			}
			if q.Sign() < 0 {
				errs = append(errs, field.Invalid(lp.Key(name), q.String(), "must be greater than or equal to 0"))
			} else if limits && q.Sign() == 0 {
				errs = append(errs, field.Invalid(lp.Key(name), q.String(), "must be greater than 0: a limit of 0 leaves the container nothing (leave the limit out for none)"))
			} else if corev1.ResourceName(name) == corev1.ResourceCPU && q.Cmp(maxCPU) > 0 {
				errs = append(errs, field.Invalid(lp.Key(name), q.String(), "must be at most 100M: more than the kernel's CPU quota can hold"))
			} else if corev1.ResourceName(name) != corev1.ResourceCPU && q.Cmp(maxMemory) >= 0 {
				// quantities beyond 63 bits were clamped to maxMemory when parsed
				errs = append(errs, field.Invalid(lp.Key(name), q.String(), "must be less than 8Ei bytes"))
			}
			if corev1.ResourceName(name) != corev1.ResourceCPU && q.MilliValue()%1000 != 0 {
				errs = append(errs, field.Invalid(lp.Key(name), q.String(), "must be a whole number of bytes"))
			}
		}
	}
	check(r.Limits, rp.Child("limits"), true)
	check(r.Requests, rp.Child("requests"), false)
	for name, req := range r.Requests {
		if lim, ok := r.Limits[name]; ok && req.Cmp(lim) > 0 && !IsExtendedResource(name) {
			errs = append(errs, field.Invalid(rp.Child("requests").Key(string(name)), req.String(),
				fmt.Sprintf("must be less than or equal to %s limit of %s", name, lim.String())))
		}
	}
	if len(r.Claims) > 0 {
		errs = append(errs, field.Forbidden(rp.Child("claims"), "not supported by podunit"))
	}
	return errs
}

func sortedStringKeys[M ~map[K]V, K ~string, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	return keys
}

func validateObjectName(name string, p *field.Path) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Subdomain(name) {
		errs = append(errs, field.Invalid(p, name, msg))
	}
	return errs
}

func validateKeyRef(name, key string, p *field.Path) field.ErrorList {
	errs := validateObjectName(name, p.Child("name"))
	if key == "" {
		return append(errs, field.Required(p.Child("key"), ""))
	}
	for _, msg := range validation.IsConfigMapKey(key) {
		errs = append(errs, field.Invalid(p.Child("key"), key, msg))
	}
	return errs
}

// validateMode checks a file mode as Kubernetes does: 0 to 0777.
func validateMode(m *int32, p *field.Path) field.ErrorList {
	if m != nil && (*m < 0 || *m > 0o777) {
		return field.ErrorList{field.Invalid(p, *m, "must be a number between 0 and 0777 (octal), both inclusive")}
	}
	return nil
}

// validateFilePath checks the path of a file in a volume: relative, no "..".
func validateFilePath(s string, p *field.Path, paths sets.Set[string]) field.ErrorList {
	var errs field.ErrorList
	switch {
	case s == "":
		errs = append(errs, field.Required(p, ""))
	case path.IsAbs(s):
		errs = append(errs, field.Invalid(p, s, "must be a relative path"))
	case strings.HasPrefix(s, ".."):
		errs = append(errs, field.Invalid(p, s, "must not start with '..'"))
	default:
		for _, part := range strings.Split(s, "/") {
			if part == ".." {
				errs = append(errs, field.Invalid(p, s, "must not contain '..'"))
				break
			}
		}
	}
	if len(errs) == 0 {
		if paths.Has(path.Clean(s)) {
			errs = append(errs, field.Duplicate(p, s))
		}
		paths.Insert(path.Clean(s))
	}
	return errs
}

func validateItems(items []corev1.KeyToPath, p *field.Path, paths sets.Set[string]) field.ErrorList {
	var errs field.ErrorList
	for i, it := range items {
		ip := p.Index(i)
		if it.Key == "" {
			errs = append(errs, field.Required(ip.Child("key"), ""))
		} else {
			for _, msg := range validation.IsConfigMapKey(it.Key) {
				errs = append(errs, field.Invalid(ip.Child("key"), it.Key, msg))
			}
		}
		errs = append(errs, validateFilePath(it.Path, ip.Child("path"), paths)...)
		errs = append(errs, validateMode(it.Mode, ip.Child("mode"))...)
	}
	return errs
}

// Field paths a downwardAPI volume file may show.
var downwardVolumeFields = sets.New("metadata.name", "metadata.namespace", "metadata.uid",
	"metadata.labels", "metadata.annotations")

func validateDownwardItems(items []corev1.DownwardAPIVolumeFile, p *field.Path, containers sets.Set[string], paths sets.Set[string]) field.ErrorList {
	var errs field.ErrorList
	for i, it := range items {
		ip := p.Index(i)
		errs = append(errs, validateFilePath(it.Path, ip.Child("path"), paths)...)
		errs = append(errs, validateMode(it.Mode, ip.Child("mode"))...)
		switch {
		case it.FieldRef != nil && it.ResourceFieldRef != nil:
			errs = append(errs, field.Invalid(ip, "", "fieldRef and resourceFieldRef can not be specified simultaneously"))
		case it.FieldRef != nil:
			fr := it.FieldRef
			if fr.APIVersion != "" && fr.APIVersion != "v1" {
				errs = append(errs, field.NotSupported(ip.Child("fieldRef", "apiVersion"), fr.APIVersion, []string{"v1"}))
			}
			if !downwardVolumeFields.Has(fr.FieldPath) && !labelRef.MatchString(fr.FieldPath) {
				errs = append(errs, field.NotSupported(ip.Child("fieldRef", "fieldPath"), fr.FieldPath,
					append(sets.List(downwardVolumeFields), "metadata.labels['<KEY>']", "metadata.annotations['<KEY>']")))
			}
		case it.ResourceFieldRef != nil:
			rp := ip.Child("resourceFieldRef")
			rr := it.ResourceFieldRef
			if rr.ContainerName == "" {
				errs = append(errs, field.Required(rp.Child("containerName"), "in a volume, the container must be named"))
			} else if !containers.Has(rr.ContainerName) {
				errs = append(errs, field.NotFound(rp.Child("containerName"), rr.ContainerName))
			}
			if !slices.Contains(resourceFieldRefs, rr.Resource) {
				errs = append(errs, field.NotSupported(rp.Child("resource"), rr.Resource, resourceFieldRefs))
			}
			if d := rr.Divisor; !d.IsZero() && d.Sign() < 0 {
				errs = append(errs, field.Invalid(rp.Child("divisor"), d.String(), "must be positive"))
			}
		default:
			errs = append(errs, field.Required(ip, "fieldRef or resourceFieldRef"))
		}
	}
	return errs
}

// validateDNSConfig applies the API server's limits on dnsConfig: at most 3
// nameservers, each an IP address; at most 32 search domains of 2048
// characters in all, each a DNS name; options with a name.
func validateDNSConfig(c *corev1.PodDNSConfig, fp *field.Path) field.ErrorList {
	if c == nil {
		return nil
	}
	var errs field.ErrorList
	if len(c.Nameservers) > 3 {
		errs = append(errs, field.Invalid(fp.Child("nameservers"), c.Nameservers, "must not have more than 3 nameservers"))
	}
	for i, n := range c.Nameservers {
		if net.ParseIP(n) == nil {
			errs = append(errs, field.Invalid(fp.Child("nameservers").Index(i), n, "must be a valid IP address"))
		}
	}
	if len(c.Searches) > 32 {
		errs = append(errs, field.Invalid(fp.Child("searches"), c.Searches, "must not have more than 32 search paths"))
	}
	total := 0
	for i, x := range c.Searches {
		total += len(x)
		for _, msg := range validation.IsDNS1123Subdomain(strings.TrimSuffix(x, ".")) {
			errs = append(errs, field.Invalid(fp.Child("searches").Index(i), x, msg))
		}
	}
	if total > 2048 {
		errs = append(errs, field.Invalid(fp.Child("searches"), c.Searches, "must not have more than 2048 characters (including spaces) in the search list"))
	}
	for i, o := range c.Options {
		if o.Name == "" {
			errs = append(errs, field.Required(fp.Child("options").Index(i).Child("name"), ""))
		}
		if strings.ContainsAny(o.Name, " \t\n:") || (o.Value != nil && strings.ContainsAny(*o.Value, " \t\n")) {
			errs = append(errs, field.Invalid(fp.Child("options").Index(i), o.Name, "must not contain spaces or colons"))
		}
	}
	return errs
}

// validatePullPolicy checks an imagePullPolicy (a container's, or an image
// volume's pullPolicy).
func validatePullPolicy(pp corev1.PullPolicy, fp *field.Path) field.ErrorList {
	switch pp {
	case corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
		return nil
	}
	return field.ErrorList{field.NotSupported(fp, pp, []string{"Always", "IfNotPresent", "Never"})}
}

// MaxUnitName is the longest unit name systemd takes.
const MaxUnitName = 255

// ContainerUnitNameLen is the length of a container's unit name,
// podunit-POD-CONTAINER.service, for a pod and container whose names are DNS
// labels: each "-" in them is written \x2d (units.ContainerUnitName).
func ContainerUnitNameLen(pod, container string) int {
	esc := func(s string) int { return len(s) + 3*strings.Count(s, "-") }
	return len("podunit-") + esc(pod) + len("-") + esc(container) + len(".service")
}

// validateUnitNames refuses a container whose unit name would be longer
// than systemd allows: two names of 63 characters fit, but not when many of
// their characters are "-" (the pod's other units are shorter).
func validateUnitNames(p *corev1.Pod) field.ErrorList {
	var errs field.ErrorList
	if len(validation.IsDNS1123Label(p.Name)) > 0 {
		return nil // reported as such
	}
	check := func(name string, fp *field.Path) {
		if len(validation.IsDNS1123Label(name)) > 0 {
			return
		}
		if n := ContainerUnitNameLen(p.Name, name); n > MaxUnitName {
			errs = append(errs, field.Invalid(fp.Child("name"), name, fmt.Sprintf(
				"with the pod's name, its systemd unit name podunit-POD-CONTAINER.service (each \"-\" written as \\x2d) would be %d characters, more than systemd's %d: shorten the pod's or the container's name, or use fewer \"-\"", n, MaxUnitName)))
		}
	}
	sp := field.NewPath("spec")
	for i, c := range p.Spec.InitContainers {
		check(c.Name, sp.Child("initContainers").Index(i))
	}
	for i, c := range p.Spec.Containers {
		check(c.Name, sp.Child("containers").Index(i))
	}
	for i, c := range p.Spec.EphemeralContainers {
		check(c.Name, sp.Child("ephemeralContainers").Index(i))
	}
	return errs
}
