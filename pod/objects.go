package pod

import (
	"encoding/json"
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Kinds of object podunit reads besides Pods.
const (
	KindConfigMap = "ConfigMap"
	KindSecret    = "Secret"
	KindClaim     = "PersistentVolumeClaim"
)

// Kinds lists every kind a manifest may hold, for messages.
var Kinds = []string{"Pod", KindDeployment, KindStatefulSet, KindDaemonSet, KindJob, KindCronJob, KindConfigMap, KindSecret, KindClaim, KindService, KindEndpoints, KindEndpointSlice, KindIngress, KindNetworkPolicy, KindLimitRange, KindResourceQuota, KindServiceAccount, KindNamespace, KindVolume}

// APIVersion is the apiVersion of a kind: apps/v1 for a Deployment, v1 for
// the others.
func APIVersion(kind string) string {
	if kind == KindDeployment || kind == KindStatefulSet || kind == KindDaemonSet {
		return "apps/v1"
	}
	if kind == KindJob || kind == KindCronJob {
		return "batch/v1"
	}
	if kind == KindIngress {
		return IngressAPIVersion
	}
	if kind == KindNetworkPolicy {
		return NetworkPolicyAPIVersion
	}
	if kind == KindEndpointSlice {
		return EndpointSliceAPIVersion
	}
	return "v1"
}

// MaxObjectSize is Kubernetes' limit on the data of one ConfigMap or Secret.
const MaxObjectSize = 1 << 20

// Objects are the configuration objects pods refer to: those a manifest
// defines, or those stored from an earlier `podunit up`, by namespace and name.
type Objects struct {
	ConfigMaps []*corev1.ConfigMap
	Secrets    []*corev1.Secret
	Claims     []*corev1.PersistentVolumeClaim
	Services   []*corev1.Service
	// Endpoints and EndpointSlices are the endpoints of Services without a
	// selector (by the Service's name, or the slice's LabelServiceName).
	Endpoints      []*corev1.Endpoints
	EndpointSlices []*discoveryv1.EndpointSlice
	// Ingresses route HTTP to Services through the service proxy.
	Ingresses []*networkingv1.Ingress
	// NetworkPolicies limit the traffic of the pods they select.
	NetworkPolicies []*networkingv1.NetworkPolicy
	// LimitRanges default and bound the resources of the pods and claims
	// of their namespace.
	LimitRanges []*corev1.LimitRange
	// ResourceQuotas bound what the pods and objects of their namespace
	// hold in all.
	ResourceQuotas []*corev1.ResourceQuota
	// ServiceAccounts give pods their imagePullSecrets; Namespaces (no
	// namespace of their own) are kept so that `up` and `down` of a file
	// account for every object it holds.
	ServiceAccounts []*corev1.ServiceAccount
	Namespaces      []*corev1.Namespace
	// Volumes (PersistentVolumes, cluster-scoped) are host directories
	// that claims bind to.
	Volumes []*corev1.PersistentVolume
	// Deployments are kept for `podunit get deployments` and `scale`, and
	// so that `down` of their file finds every pod they made.
	Deployments []*appsv1.Deployment
	// StatefulSets likewise; the claims their pods have are in Claims.
	StatefulSets []*appsv1.StatefulSet
	// DaemonSets likewise.
	DaemonSets []*appsv1.DaemonSet
	// Jobs run their pods through their controller units.
	Jobs []*batchv1.Job
	// CronJobs make Jobs through their timers.
	CronJobs []*batchv1.CronJob
}

// Len is the number of objects.
func (o *Objects) Len() int {
	if o == nil {
		return 0
	}
	return len(o.ConfigMaps) + len(o.Secrets) + len(o.Claims) + len(o.Services) + len(o.Endpoints) + len(o.EndpointSlices) + len(o.Ingresses) + len(o.NetworkPolicies) + len(o.LimitRanges) + len(o.ResourceQuotas) + len(o.ServiceAccounts) + len(o.Namespaces) + len(o.Volumes) + len(o.Deployments) + len(o.StatefulSets) + len(o.DaemonSets) + len(o.Jobs) + len(o.CronJobs)
}

// ConfigMap finds a ConfigMap, or nil.
func (o *Objects) ConfigMap(ns, name string) *corev1.ConfigMap {
	if o == nil {
		return nil
	}
	return find(o.ConfigMaps, ns, name)
}

// Secret finds a Secret, or nil.
func (o *Objects) Secret(ns, name string) *corev1.Secret {
	if o == nil {
		return nil
	}
	return find(o.Secrets, ns, name)
}

// Claim finds a PersistentVolumeClaim, or nil.
func (o *Objects) Claim(ns, name string) *corev1.PersistentVolumeClaim {
	if o == nil {
		return nil
	}
	return find(o.Claims, ns, name)
}

// Service finds a Service, or nil.
func (o *Objects) Service(ns, name string) *corev1.Service {
	if o == nil {
		return nil
	}
	return find(o.Services, ns, name)
}

// Ingress finds an Ingress, or nil.
func (o *Objects) Ingress(ns, name string) *networkingv1.Ingress {
	if o == nil {
		return nil
	}
	return find(o.Ingresses, ns, name)
}

// ServiceAccount finds a ServiceAccount, or nil.
func (o *Objects) ServiceAccount(ns, name string) *corev1.ServiceAccount {
	if o == nil {
		return nil
	}
	return find(o.ServiceAccounts, ns, name)
}

// Namespace finds a Namespace, or nil.
func (o *Objects) Namespace(name string) *corev1.Namespace {
	if o == nil {
		return nil
	}
	return find(o.Namespaces, "", name)
}

// Find finds an object of a kind ("ConfigMap", "Secret",
// "PersistentVolumeClaim", "Service", "ServiceAccount", "Namespace", as Each
// names them), or nil. A Namespace has the namespace "".
func (o *Objects) Find(kind, ns, name string) metav1.Object {
	var x metav1.Object
	switch kind {
	case KindConfigMap:
		if c := o.ConfigMap(ns, name); c != nil {
			x = c
		}
	case KindSecret:
		if s := o.Secret(ns, name); s != nil {
			x = s
		}
	case KindClaim:
		if c := o.Claim(ns, name); c != nil {
			x = c
		}
	case KindService:
		if s := o.Service(ns, name); s != nil {
			x = s
		}
	case KindEndpoints:
		if ep := find(o.Endpoints, ns, name); ep != nil {
			x = ep
		}
	case KindEndpointSlice:
		if es := find(o.EndpointSlices, ns, name); es != nil {
			x = es
		}
	case KindIngress:
		if in := o.Ingress(ns, name); in != nil {
			x = in
		}
	case KindNetworkPolicy:
		if np := find(o.NetworkPolicies, ns, name); np != nil {
			x = np
		}
	case KindLimitRange:
		if lr := find(o.LimitRanges, ns, name); lr != nil {
			x = lr
		}
	case KindResourceQuota:
		if q := find(o.ResourceQuotas, ns, name); q != nil {
			x = q
		}
	case KindServiceAccount:
		if s := o.ServiceAccount(ns, name); s != nil {
			x = s
		}
	case KindNamespace:
		if n := o.Namespace(name); n != nil {
			x = n
		}
	case KindVolume:
		if pv := o.Volume(name); pv != nil {
			x = pv
		}
	case KindDeployment:
		if d := o.Deployment(ns, name); d != nil {
			x = d
		}
	case KindStatefulSet:
		if st := o.StatefulSet(ns, name); st != nil {
			x = st
		}
	case KindDaemonSet:
		if ds := o.DaemonSet(ns, name); ds != nil {
			x = ds
		}
	case KindJob:
		if j := o.Job(ns, name); j != nil {
			x = j
		}
	case KindCronJob:
		if cj := o.CronJob(ns, name); cj != nil {
			x = cj
		}
	}
	return x
}

func find[T metav1.Object](list []T, ns, name string) T {
	x, _ := lookup(list, ns, name)
	return x
}

func lookup[T metav1.Object](list []T, ns, name string) (T, bool) {
	for _, x := range list {
		if x.GetNamespace() == ns && x.GetName() == name {
			return x, true
		}
	}
	var none T
	return none, false
}

// under appends the objects of list that top has none of the same namespace
// and name of.
func under[T metav1.Object](top, list []T) []T {
	out := append([]T{}, top...)
	for _, x := range list {
		if _, shadowed := lookup(top, x.GetNamespace(), x.GetName()); !shadowed {
			out = append(out, x)
		}
	}
	return out
}

// Over returns the objects of o, with those of top in place of any of the same
// kind, namespace and name: a manifest's own objects win over stored ones.
func Over(top, o *Objects) *Objects {
	if top == nil {
		top = &Objects{}
	}
	if o == nil {
		o = &Objects{}
	}
	return &Objects{
		ConfigMaps: under(top.ConfigMaps, o.ConfigMaps),
		Secrets:    under(top.Secrets, o.Secrets),
		Claims:     under(top.Claims, o.Claims),
		Services:   under(top.Services, o.Services),
		Ingresses:  under(top.Ingresses, o.Ingresses),

		Endpoints:      under(top.Endpoints, o.Endpoints),
		EndpointSlices: under(top.EndpointSlices, o.EndpointSlices),

		NetworkPolicies: under(top.NetworkPolicies, o.NetworkPolicies),
		LimitRanges:     under(top.LimitRanges, o.LimitRanges),
		ResourceQuotas:  under(top.ResourceQuotas, o.ResourceQuotas),

		ServiceAccounts: under(top.ServiceAccounts, o.ServiceAccounts),
		Namespaces:      under(top.Namespaces, o.Namespaces),
		Volumes:         under(top.Volumes, o.Volumes),
		Deployments:     under(top.Deployments, o.Deployments),
		StatefulSets:    under(top.StatefulSets, o.StatefulSets),
		DaemonSets:      under(top.DaemonSets, o.DaemonSets),
		Jobs:            under(top.Jobs, o.Jobs),
		CronJobs:        under(top.CronJobs, o.CronJobs),
	}
}

// Filter returns the objects keep keeps.
func (o *Objects) Filter(keep func(kind string, obj metav1.Object) bool) *Objects {
	var out Objects
	o.Each(func(kind string, obj metav1.Object) {
		if !keep(kind, obj) {
			return
		}
		switch x := obj.(type) {
		case *corev1.Namespace:
			out.Namespaces = append(out.Namespaces, x)
		case *corev1.PersistentVolume:
			out.Volumes = append(out.Volumes, x)
		case *corev1.LimitRange:
			out.LimitRanges = append(out.LimitRanges, x)
		case *corev1.ResourceQuota:
			out.ResourceQuotas = append(out.ResourceQuotas, x)
		case *corev1.ServiceAccount:
			out.ServiceAccounts = append(out.ServiceAccounts, x)
		case *corev1.ConfigMap:
			out.ConfigMaps = append(out.ConfigMaps, x)
		case *corev1.Secret:
			out.Secrets = append(out.Secrets, x)
		case *corev1.PersistentVolumeClaim:
			out.Claims = append(out.Claims, x)
		case *corev1.Service:
			out.Services = append(out.Services, x)
		case *corev1.Endpoints:
			out.Endpoints = append(out.Endpoints, x)
		case *discoveryv1.EndpointSlice:
			out.EndpointSlices = append(out.EndpointSlices, x)
		case *networkingv1.Ingress:
			out.Ingresses = append(out.Ingresses, x)
		case *networkingv1.NetworkPolicy:
			out.NetworkPolicies = append(out.NetworkPolicies, x)
		case *appsv1.Deployment:
			out.Deployments = append(out.Deployments, x)
		case *appsv1.StatefulSet:
			out.StatefulSets = append(out.StatefulSets, x)
		case *appsv1.DaemonSet:
			out.DaemonSets = append(out.DaemonSets, x)
		case *batchv1.Job:
			out.Jobs = append(out.Jobs, x)
		case *batchv1.CronJob:
			out.CronJobs = append(out.CronJobs, x)
		}
	})
	return &out
}

// Each calls f with every object and its kind, in the order Helm installs
// them: Namespaces, ServiceAccounts, ConfigMaps, Secrets, claims, Services,
// Deployments.
func (o *Objects) Each(f func(kind string, obj metav1.Object)) {
	for _, n := range o.Namespaces {
		f(KindNamespace, n)
	}
	for _, q := range o.ResourceQuotas {
		f(KindResourceQuota, q)
	}
	for _, lr := range o.LimitRanges {
		f(KindLimitRange, lr)
	}
	for _, s := range o.ServiceAccounts {
		f(KindServiceAccount, s)
	}
	for _, c := range o.ConfigMaps {
		f(KindConfigMap, c)
	}
	for _, s := range o.Secrets {
		f(KindSecret, s)
	}
	for _, pv := range o.Volumes {
		f(KindVolume, pv)
	}
	for _, c := range o.Claims {
		f(KindClaim, c)
	}
	for _, s := range o.Services {
		f(KindService, s)
	}
	for _, ep := range o.Endpoints {
		f(KindEndpoints, ep)
	}
	for _, es := range o.EndpointSlices {
		f(KindEndpointSlice, es)
	}
	for _, in := range o.Ingresses {
		f(KindIngress, in)
	}
	for _, np := range o.NetworkPolicies {
		f(KindNetworkPolicy, np)
	}
	for _, d := range o.Deployments {
		f(KindDeployment, d)
	}
	for _, st := range o.StatefulSets {
		f(KindStatefulSet, st)
	}
	for _, ds := range o.DaemonSets {
		f(KindDaemonSet, ds)
	}
	for _, j := range o.Jobs {
		f(KindJob, j)
	}
	for _, cj := range o.CronJobs {
		f(KindCronJob, cj)
	}
}

var metadataRules = map[string]rule{
	"apiVersion":                 {support: Honoured},
	"kind":                       {support: Honoured},
	"metadata":                   {support: Honoured},
	"metadata.name":              {support: Honoured},
	"metadata.namespace":         {support: Honoured},
	"metadata.labels":            {support: Honoured, subtree: true},
	"metadata.annotations":       {support: Honoured, subtree: true},
	"metadata.uid":               {support: Ignored, note: "output-only"},
	"metadata.resourceVersion":   {support: Ignored, note: "output-only"},
	"metadata.creationTimestamp": {support: Ignored, note: "output-only"},
	"metadata.generation":        {support: Ignored, note: "output-only"},
	"metadata.managedFields":     {support: Ignored, subtree: true, note: "output-only"},
	"metadata.selfLink":          {support: Ignored, note: "output-only"},
	"metadata.ownerReferences":   {support: Ignored, subtree: true, note: "a cluster's controllers have no meaning on one host (podunit's own Deployments name theirs without a uid)"},
	"metadata.finalizers":        {support: Ignored, note: "no API server on one host"},
	"metadata.generateName":      {support: Ignored, note: "metadata.name names it, as the API server does when both are set (podunit needs metadata.name)"},
}

// withMetadata adds the rules of apiVersion, kind and metadata to a kind's
// own rules; a kind's own rule for one of those paths wins.
func withMetadata(r map[string]rule) map[string]rule {
	for k, v := range metadataRules {
		if _, own := r[k]; !own {
			r[k] = v
		}
	}
	return r
}

var configMapRules = withMetadata(map[string]rule{
	"data":       {support: Honoured, subtree: true},
	"binaryData": {support: Honoured, subtree: true},
	"immutable":  {support: Ignored, note: "podunit replaces an object only when its manifest is applied again"},
})

var secretRules = withMetadata(map[string]rule{
	"data":       {support: Honoured, subtree: true},
	"stringData": {support: Honoured, subtree: true},
	"type":       {support: Honoured},
	"immutable":  {support: Ignored, note: "podunit replaces an object only when its manifest is applied again"},
})

var claimRules = withMetadata(map[string]rule{
	"spec":                           {support: Honoured},
	"spec.accessModes":               {support: Honoured},
	"spec.volumeMode":                {support: Honoured},
	"spec.resources":                 {support: Honoured},
	"spec.resources.requests":        {support: Honoured, subtree: true, note: "storage: what a PersistentVolume must hold to bind it; not a limit (a podman volume or a host directory has none: a warning says so for a podman volume)"},
	"spec.resources.limits":          {support: Ignored, subtree: true, note: "a podman volume on this host has no size limit"},
	"spec.storageClassName":          {support: Honoured, note: "the class of the PersistentVolume it binds to; a claim no PersistentVolume fits is a podman volume of its own, whatever its class"},
	"spec.volumeAttributesClassName": {support: Ignored, note: "every claim is a podman volume on this host"},
	"spec.selector":                  {support: Honoured, subtree: true, note: "the labels of the PersistentVolume it binds to"},
	"spec.volumeName":                {support: Honoured, note: "the PersistentVolume it binds to (set by podunit when it binds one)"},
	"spec.dataSource":                {note: "claims cannot be pre-populated on one host"},
	"spec.dataSourceRef":             {note: "claims cannot be pre-populated on one host"},
	"status":                         {support: Ignored, subtree: true, note: "output-only"},
})

// loadObject decodes and validates a ConfigMap, Secret or PersistentVolumeClaim,
// and adds it to o even when it is invalid (references to it are then not
// reported as missing).
func loadObject(kind string, generic any, js []byte, o *Objects) ([]string, field.ErrorList) {
	switch kind {
	case KindConfigMap:
		var cm corev1.ConfigMap
		warns, errs := decodeStrict(generic, js, &cm, configMapRules)
		o.ConfigMaps = append(o.ConfigMaps, &cm)
		if errs = append(errs, validateConfigMap(&cm)...); len(errs) > 0 {
			return nil, errs
		}
		return warns, nil
	case KindSecret:
		var s corev1.Secret
		warns, errs := decodeStrict(generic, js, &s, secretRules)
		if s.Type == "" {
			s.Type = corev1.SecretTypeOpaque
		}
		// stringData is write-only: merged into data, where it wins.
		for k, v := range s.StringData {
			if s.Data == nil {
				s.Data = map[string][]byte{}
			}
			s.Data[k] = []byte(v)
		}
		s.StringData = nil
		o.Secrets = append(o.Secrets, &s)
		if errs = append(errs, validateSecret(&s)...); len(errs) > 0 {
			return nil, errs
		}
		return warns, nil
	case KindClaim:
		var c corev1.PersistentVolumeClaim
		warns, errs := decodeStrict(generic, js, &c, claimRules)
		if c.Spec.VolumeMode == nil {
			m := corev1.PersistentVolumeFilesystem
			c.Spec.VolumeMode = &m
		}
		o.Claims = append(o.Claims, &c)
		if errs = append(errs, validateClaim(&c)...); len(errs) > 0 {
			return nil, errs
		}
		return warns, nil
	case KindService:
		var s corev1.Service
		warns, errs := decodeStrict(generic, js, &s, serviceRules)
		defaultService(&s)
		o.Services = append(o.Services, &s)
		w, verrs := validateService(&s)
		if errs = append(errs, verrs...); len(errs) > 0 {
			return nil, errs
		}
		return append(warns, w...), nil
	case KindEndpoints:
		return loadEndpoints(generic, js, o)
	case KindEndpointSlice:
		return loadEndpointSlice(generic, js, o)
	case KindIngress:
		return loadIngress(generic, js, o)
	case KindNetworkPolicy:
		return loadNetworkPolicy(generic, js, o)
	case KindLimitRange:
		return loadLimitRange(generic, js, o)
	case KindResourceQuota:
		return loadResourceQuota(generic, js, o)
	case KindServiceAccount:
		return loadServiceAccount(generic, js, o)
	case KindNamespace:
		return loadNamespace(generic, js, o)
	case KindVolume:
		return loadVolume(generic, js, o)
	}
	return nil, field.ErrorList{field.NotSupported(field.NewPath("kind"), kind, Kinds)}
}

// decodeStrict checks a document's shape and fields against a rule table and
// decodes it into out, in the namespace "default" when it names none.
func decodeStrict(generic any, js []byte, out metav1.Object, rules map[string]rule) ([]string, field.ErrorList) {
	warns, errs := judge(generic, out, rules)
	err := json.Unmarshal(js, out)
	if out.GetNamespace() == "" {
		out.SetNamespace("default")
	}
	if err != nil && len(errs) == 0 {
		return nil, field.ErrorList{field.Invalid(nil, nil, cleanJSONError(err))}
	}
	return warns, errs
}

func validateObjectMeta(name, ns string, labels map[string]string) field.ErrorList {
	var errs field.ErrorList
	md := field.NewPath("metadata")
	if name == "" {
		errs = append(errs, field.Required(md.Child("name"), ""))
	}
	for _, msg := range validation.IsDNS1123Subdomain(name) {
		if name != "" {
			errs = append(errs, field.Invalid(md.Child("name"), name, msg))
		}
	}
	for _, msg := range validation.IsDNS1123Label(ns) {
		errs = append(errs, field.Invalid(md.Child("namespace"), ns, msg))
	}
	return append(errs, validateLabels(labels, md.Child("labels"))...)
}

func validateConfigMap(cm *corev1.ConfigMap) field.ErrorList {
	errs := validateObjectMeta(cm.Name, cm.Namespace, cm.Labels)
	size := 0
	for _, k := range sortedStringKeys(cm.Data) {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(k), k, msg))
		}
		size += len(k) + len(cm.Data[k])
	}
	for _, k := range sortedByteKeys(cm.BinaryData) {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(field.NewPath("binaryData").Key(k), k, msg))
		}
		if _, dup := cm.Data[k]; dup {
			errs = append(errs, field.Invalid(field.NewPath("binaryData").Key(k), k, "duplicate of key in data"))
		}
		size += len(k) + len(cm.BinaryData[k])
	}
	if size > MaxObjectSize {
		errs = append(errs, field.TooLong(field.NewPath(""), "", MaxObjectSize))
		errs[len(errs)-1].Detail = fmt.Sprintf("the data of a ConfigMap must be at most %d bytes, this one has %d", MaxObjectSize, size)
	}
	return errs
}

// secretKeys are the keys Kubernetes requires of each secret type.
var secretKeys = map[corev1.SecretType][]string{
	corev1.SecretTypeDockercfg:        {corev1.DockerConfigKey},
	corev1.SecretTypeDockerConfigJson: {corev1.DockerConfigJsonKey},
	corev1.SecretTypeSSHAuth:          {corev1.SSHAuthPrivateKey},
	corev1.SecretTypeTLS:              {corev1.TLSCertKey, corev1.TLSPrivateKeyKey},
}

func validateSecret(s *corev1.Secret) field.ErrorList {
	errs := validateObjectMeta(s.Name, s.Namespace, s.Labels)
	size := 0
	for _, k := range sortedByteKeys(s.Data) {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(k), k, msg))
		}
		size += len(s.Data[k])
	}
	if size > MaxObjectSize {
		errs = append(errs, &field.Error{Type: field.ErrorTypeTooLong, Field: "data",
			Detail: fmt.Sprintf("the data of a Secret must be at most %d bytes, this one has %d", MaxObjectSize, size)})
	}
	tp := field.NewPath("type")
	switch s.Type {
	case corev1.SecretTypeServiceAccountToken:
		errs = append(errs, field.NotSupported(tp, string(s.Type), []string{"Opaque", "kubernetes.io/dockerconfigjson", "kubernetes.io/basic-auth", "kubernetes.io/tls", "..."}))
		errs[len(errs)-1].Detail = "there is no API server on one host to issue service account tokens"
	case corev1.SecretTypeBasicAuth:
		if len(s.Data[corev1.BasicAuthUsernameKey]) == 0 && len(s.Data[corev1.BasicAuthPasswordKey]) == 0 {
			errs = append(errs, field.Required(field.NewPath("data"), "a kubernetes.io/basic-auth secret needs username or password"))
		}
	}
	for _, k := range secretKeys[s.Type] {
		if _, ok := s.Data[k]; !ok {
			errs = append(errs, field.Required(field.NewPath("data").Key(k), fmt.Sprintf("a %s secret needs it", s.Type)))
		}
	}
	for _, k := range []string{corev1.DockerConfigJsonKey, corev1.DockerConfigKey} {
		if v, ok := s.Data[k]; ok && (s.Type == corev1.SecretTypeDockerConfigJson || s.Type == corev1.SecretTypeDockercfg) {
			var doc map[string]any
			if err := json.Unmarshal(v, &doc); err != nil {
				errs = append(errs, field.Invalid(field.NewPath("data").Key(k), "<secret data>", "must be JSON: "+err.Error()))
			}
		}
	}
	return errs
}

var accessModes = []string{string(corev1.ReadWriteOnce), string(corev1.ReadOnlyMany), string(corev1.ReadWriteMany), string(corev1.ReadWriteOncePod)}

func validateClaim(c *corev1.PersistentVolumeClaim) field.ErrorList {
	errs := validateObjectMeta(c.Name, c.Namespace, c.Labels)
	return append(errs, validateClaimSpec(&c.Spec, field.NewPath("spec"))...)
}

// validateClaimSpec checks a claim's spec: a PersistentVolumeClaim's, or
// the template of a pod's ephemeral volume.
func validateClaimSpec(s *corev1.PersistentVolumeClaimSpec, sp *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, m := range s.AccessModes {
		if !sets.New(accessModes...).Has(string(m)) {
			errs = append(errs, field.NotSupported(sp.Child("accessModes").Index(i), string(m), accessModes))
		}
	}
	if s.VolumeMode != nil && *s.VolumeMode != corev1.PersistentVolumeFilesystem {
		errs = append(errs, field.NotSupported(sp.Child("volumeMode"), string(*s.VolumeMode), []string{"Filesystem"}))
	}
	if q, ok := s.Resources.Requests[corev1.ResourceStorage]; ok && q.Cmp(resource.Quantity{}) <= 0 {
		errs = append(errs, field.Invalid(sp.Child("resources", "requests", "storage"), q.String(), "must be greater than zero"))
	}
	return errs
}

func sortedByteKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// dropOutputOnly clears what the API server writes and a manifest's author
// does not (a warning said it is ignored): an object's identity and history
// and its status. A manifest exported with `get -o yaml` then applies as
// the objects it shows, and what podunit stores of it is the author's part
// alone, as kubectl apply leaves the status to the cluster.
func dropOutputOnly(m *Manifest) {
	m.Objects.Each(func(_ string, obj metav1.Object) {
		clearIdentity(obj)
		switch x := obj.(type) {
		case *corev1.PersistentVolumeClaim:
			x.Status = corev1.PersistentVolumeClaimStatus{}
		case *corev1.PersistentVolume:
			x.Status = corev1.PersistentVolumeStatus{}
		case *corev1.Service:
			x.Status = corev1.ServiceStatus{}
		case *corev1.Namespace:
			x.Status = corev1.NamespaceStatus{}
		case *appsv1.Deployment:
			x.Status = appsv1.DeploymentStatus{}
		case *appsv1.StatefulSet:
			x.Status = appsv1.StatefulSetStatus{}
		case *appsv1.DaemonSet:
			x.Status = appsv1.DaemonSetStatus{}
		case *batchv1.Job:
			x.Status = batchv1.JobStatus{}
		case *batchv1.CronJob:
			x.Status = batchv1.CronJobStatus{}
		}
	})
	for _, p := range m.Pods {
		ClearOutputOnly(p)
	}
}

// ClearOutputOnly clears of a pod what the API server and the host give it:
// its identity and history, its node and its status. What is left is its
// author's part, which tells whether two pods are the same.
func ClearOutputOnly(p *corev1.Pod) {
	clearIdentity(p)
	p.Spec.NodeName = ""
	p.Status = corev1.PodStatus{}
}

// clearIdentity clears an object's identity and history, as the API server
// writes them.
func clearIdentity(o metav1.Object) {
	o.SetUID("")
	o.SetResourceVersion("")
	o.SetGeneration(0)
	o.SetCreationTimestamp(metav1.Time{})
	o.SetManagedFields(nil)
	o.SetSelfLink("")
	o.SetFinalizers(nil)
}
