package pod

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Manifest is the content of one or more manifest files: its pods in file
// order, with defaults applied and validated, the ConfigMaps, Secrets and
// PersistentVolumeClaims it defines, and the warnings about fields that were
// accepted but have no effect.
type Manifest struct {
	Pods    []*corev1.Pod
	Objects Objects
	// Warnings
	Warnings []string
	// Resolved holds, by pod name, what validation resolved for translation.
	Resolved map[string]*Resolved
	// Unlimited holds, by pod name, the pods LimitRanges changed as they
	// were written: a pod that runs so, made before the LimitRange, is
	// unchanged (the admission acts when a pod is made, not on one that runs).
	Unlimited map[string]*corev1.Pod
}

// Source is one manifest file; Name is empty when there is only one.
type Source struct {
	Name string
	Data []byte
	// Namespace, when set, is the namespace of the objects that name none
	// (kubectl's -n); one that names another is an error. Namespaces
	// themselves are in none.
	Namespace string
}

// Load parses a multi-document YAML (or JSON) manifest. It returns every problem of
// every document at once, wrapped as ErrInvalid; no pod is returned unless all are
// valid, so a caller never acts on half a file.
func Load(data []byte) (*Manifest, error) { return LoadSources([]Source{{Data: data}}, nil) }

// LoadSources loads the documents of several files as one manifest. Pods may
// refer to the ConfigMaps, Secrets and claims of any of them, and to those in
// known (stored by an earlier `podunit up`); a manifest's own win.
func LoadSources(srcs []Source, known *Objects) (*Manifest, error) {
	return loadSources(srcs, known, true)
}

// LoadNames is LoadSources for a caller that only needs the manifest's pods
// and objects by name (`podunit down FILE`): references are not resolved, so
// a pod whose ConfigMap is gone can still be stopped.
func LoadNames(srcs []Source) (*Manifest, error) { return loadSources(srcs, nil, false) }

func loadSources(srcs []Source, known *Objects, bindRefs bool) (*Manifest, error) {
	m := &Manifest{Resolved: map[string]*Resolved{}}
	var merr ManifestError
	type seen struct {
		file      string
		doc, item int
		// owner: the Deployment or StatefulSet (ownerKind) that made the
		// pod ("": none); its first pod speaks for all (they have the same
		// problems)
		owner, ownerKind string
		first            bool
	}
	names := map[string]seen{}
	podDoc := map[string]seen{}
	var broken []loaded // invalid pods, whose references are checked too
	type jobSample struct {
		pod        *corev1.Pod
		res        *Resolved
		file       string
		doc, item  int
		kind, name string
		prefix     string
	}
	var samples []jobSample
	var invalid Objects // invalid objects, which are not reported as missing
	entriesOf := make([][]entry, len(srcs))
	for k, src := range srcs {
		docs, err := splitDocuments(src.Data)
		if err != nil {
			merr.Docs = append(merr.Docs, &DocumentError{File: src.Name, Errs: field.ErrorList{field.Invalid(nil, nil, err.Error())}})
			continue
		}
		for i, doc := range docs {
			items, lerrs, isList := listItems(doc)
			switch {
			case len(lerrs) > 0:
				merr.Docs = append(merr.Docs, &DocumentError{File: src.Name, Doc: i + 1, Kind: "List", Errs: lerrs})
			case isList:
				for j, item := range items {
					entriesOf[k] = append(entriesOf[k], entry{item, i, j + 1})
				}
			default:
				entriesOf[k] = append(entriesOf[k], entry{doc, i, 0})
			}
		}
	}
	workloads := manifestWorkloads(srcs, entriesOf)
	for k, src := range srcs {
		for _, e := range entriesOf[k] {
			i, doc := e.doc, e.data
			if by := madeByWorkload(e.data, src.Namespace, workloads); by != "" {
				// what a Deployment or StatefulSet of this manifest makes
				// itself (as `get all -o yaml` exports it): applied through it
				m.Warnings = append(m.Warnings, by)
				continue
			}
			var objs Objects
			d := loadDocument(doc, &objs, src.Namespace)
			d.err.File, d.err.Doc, d.err.Item = src.Name, i+1, e.item
			if len(d.err.Errs) > 0 {
				invalid = *Over(&objs, &invalid)
				merr.Docs = append(merr.Docs, d.err)
				if len(d.pods) == 1 && d.kind == "Pod" {
					broken = append(broken, d)
				}
				continue
			}
			key := d.kind + "/" + d.namespace + "/" + d.name
			if first, dup := names[key]; dup {
				where := fmt.Sprintf("document %d", first.doc)
				if first.file != "" {
					where = first.file + " " + where
				}
				merr.Docs = append(merr.Docs, &DocumentError{File: src.Name, Doc: i + 1, Item: e.item, Kind: d.kind, Name: d.name, Errs: field.ErrorList{
					field.Duplicate(field.NewPath("metadata", "name"), fmt.Sprintf("%s (also %s)", d.name, where)),
				}})
				continue
			}
			names[key] = seen{file: src.Name, doc: i + 1, item: e.item}
			if d.sample != nil {
				samples = append(samples, jobSample{d.sample, d.sampleRes, src.Name, i + 1, e.item, d.kind, d.name, d.samplePrefix})
			}
			m.Objects = *Over(&m.Objects, &objs)
			label := strings.ToLower(d.kind)
			for _, w := range d.warns {
				m.Warnings = append(m.Warnings, fmt.Sprintf("%s %q: %s", label, d.name, w))
			}
			for j, p := range d.pods {
				if first, dup := podDoc[p.Name]; dup {
					// Pods share one host: their names must differ across namespaces too.
					merr.Docs = append(merr.Docs, &DocumentError{File: src.Name, Doc: i + 1, Item: e.item, Kind: d.kind, Name: d.name, Errs: field.ErrorList{
						field.Duplicate(field.NewPath("metadata", "name"), fmt.Sprintf("%s (also document %d)", p.Name, first.doc)),
					}})
					break
				}
				at := seen{file: src.Name, doc: i + 1, item: e.item, first: j == 0}
				if d.kind == KindDeployment || d.kind == KindStatefulSet || d.kind == KindDaemonSet {
					at.owner, at.ownerKind = d.name, d.kind
				}
				podDoc[p.Name] = at
				m.Pods = append(m.Pods, p)
				m.Resolved[p.Name] = d.ress[j]
			}
		}
	}
	if len(merr.Docs) > 0 {
		all := Over(Over(&m.Objects, &invalid), known)
		for _, d := range broken {
			_, errs := bind(d.pods[0], d.ress[0], all)
			d.err.Errs = append(d.err.Errs, errs...)
			sortByField(d.err.Errs)
		}
		return nil, &merr
	}
	if len(m.Pods) == 0 && m.Objects.Len() == 0 {
		ignored := ""
		if len(m.Warnings) > 0 {
			// kinds ignored with a warning (RBAC and the like): say so
			ignored = "; what it holds is ignored:\n  " + strings.Join(m.Warnings, "\n  ")
		}
		return nil, fmt.Errorf("%w: nothing in the manifest to run or store (it may hold %s)%s", ErrInvalid, strings.Join(Kinds, ", "), ignored)
	}
	dropOutputOnly(m)
	if !bindRefs {
		return m, nil
	}
	// Claims bind to PersistentVolumes once every document is read.
	bindErrs, bindWarns := bindClaims(&m.Objects, known)
	m.Warnings = append(m.Warnings, bindWarns...)
	for _, c := range m.Objects.Claims {
		if errs := bindErrs[c]; len(errs) > 0 {
			at := names[KindClaim+"/"+c.Namespace+"/"+c.Name]
			merr.Docs = append(merr.Docs, &DocumentError{File: at.file, Doc: at.doc, Item: at.item, Kind: KindClaim, Name: c.Name, Errs: errs})
		}
	}
	// References are resolved once every document is read: any order works.
	all := Over(&m.Objects, known)
	for _, c := range m.Objects.Claims {
		if errs := CheckClaimLimits(c, all.LimitRanges); len(errs) > 0 {
			at := names[KindClaim+"/"+c.Namespace+"/"+c.Name]
			merr.Docs = append(merr.Docs, &DocumentError{File: at.file, Doc: at.doc, Item: at.item, Kind: KindClaim, Name: c.Name, Errs: errs})
		}
	}
	for _, p := range m.Pods {
		// the namespace's LimitRanges, as the pod is made (every pod of a
		// Deployment gets its defaults; the first speaks for the errors)
		written, limitErrs := limitPod(p, all.LimitRanges)
		if written != nil {
			if m.Unlimited == nil {
				m.Unlimited = map[string]*corev1.Pod{}
			}
			m.Unlimited[p.Name] = written
		}
		warns, errs := bind(p, m.Resolved[p.Name], all)
		errs = append(errs, limitErrs...)
		at := podDoc[p.Name]
		kind, name, label := "Pod", p.Name, fmt.Sprintf("pod %q", p.Name)
		if at.owner != "" {
			if !at.first {
				continue // the same as its first pod's
			}
			kind, name, label = at.ownerKind, at.owner, fmt.Sprintf("%s %q", strings.ToLower(at.ownerKind), at.owner)
			errs = templateErrors(errs)
			warns = templateWarnings(warns)
		}
		for _, w := range warns {
			m.Warnings = append(m.Warnings, fmt.Sprintf("%s: %s", label, w))
		}
		if len(errs) > 0 {
			sortByField(errs)
			merr.Docs = append(merr.Docs, &DocumentError{File: at.file, Doc: at.doc, Item: at.item, Kind: kind, Name: name, Errs: errs})
		}
	}
	for _, sm := range samples {
		_, limitErrs := limitPod(sm.pod, all.LimitRanges)
		warns, errs := bind(sm.pod, sm.res, all)
		errs = append(errs, limitErrs...)
		label := fmt.Sprintf("%s %q", strings.ToLower(sm.kind), sm.name)
		for _, w := range warns {
			if strings.HasPrefix(w, "spec.") || strings.HasPrefix(w, "metadata.") {
				w = sm.prefix + w
			}
			m.Warnings = append(m.Warnings, fmt.Sprintf("%s: %s", label, w))
		}
		for _, e := range errs {
			e.Field = strings.TrimSuffix(sm.prefix+e.Field, ".")
		}
		if len(errs) > 0 {
			sortByField(errs)
			merr.Docs = append(merr.Docs, &DocumentError{File: sm.file, Doc: sm.doc, Item: sm.item, Kind: sm.kind, Name: sm.name, Errs: errs})
		}
	}
	if len(merr.Docs) > 0 {
		return nil, &merr
	}
	return m, nil
}

// peeked is what madeByWorkload reads of an object before it is loaded.
type peeked struct {
	Kind     string            `json:"kind"`
	Metadata metav1.ObjectMeta `json:"metadata"`
}

func peek(data []byte, namespace string) (p peeked, ok bool) {
	if yaml.Unmarshal(data, &p) != nil || p.Metadata.Name == "" {
		return p, false
	}
	if p.Metadata.Namespace == "" {
		p.Metadata.Namespace = namespace
	}
	if p.Metadata.Namespace == "" {
		p.Metadata.Namespace = metav1.NamespaceDefault
	}
	return p, true
}

// manifestWorkloads are the Deployments, StatefulSets and Jobs of the
// manifest, as KIND/NAMESPACE/NAME.
func manifestWorkloads(srcs []Source, entriesOf [][]entry) map[string]bool {
	out := map[string]bool{}
	for k, es := range entriesOf {
		for _, e := range es {
			if p, ok := peek(e.data, srcs[k].Namespace); ok && (p.Kind == KindDeployment || p.Kind == KindStatefulSet || p.Kind == KindDaemonSet || p.Kind == KindJob) {
				out[p.Kind+"/"+p.Metadata.Namespace+"/"+p.Metadata.Name] = true
			}
		}
	}
	return out
}

// madeByWorkload tells, as a warning, when an object is one that a
// Deployment, StatefulSet or Job of the manifest makes (workloads): a pod
// of its ReplicaSet, of the set or of the Job, or its ReplicaSet. `get all -o yaml` exports
// them beside their owner; applied again, the owner makes them, as a
// cluster's controllers would. "": none.
func madeByWorkload(data []byte, namespace string, workloads map[string]bool) string {
	if len(workloads) == 0 {
		return ""
	}
	p, ok := peek(data, namespace)
	if !ok || (p.Kind != "Pod" && p.Kind != "ReplicaSet") {
		return ""
	}
	owner := metav1.GetControllerOfNoCopy(&p.Metadata)
	if owner == nil {
		return ""
	}
	ns := p.Metadata.Namespace
	var kind, name string
	switch {
	case p.Kind == "ReplicaSet" && owner.Kind == KindDeployment:
		kind, name = KindDeployment, owner.Name
	case p.Kind == "Pod" && owner.Kind == "ReplicaSet":
		hash := p.Metadata.Labels[LabelPodTemplateHash]
		d, ok := strings.CutSuffix(owner.Name, "-"+hash)
		if hash == "" || !ok {
			return ""
		}
		kind, name = KindDeployment, d
	case p.Kind == "Pod" && (owner.Kind == KindStatefulSet || owner.Kind == KindDaemonSet):
		kind, name = owner.Kind, owner.Name
	case p.Kind == "Pod" && owner.Kind == KindJob:
		kind, name = KindJob, owner.Name
	default:
		return ""
	}
	if !workloads[kind+"/"+ns+"/"+name] {
		return ""
	}
	return fmt.Sprintf("%s %q: ignored: %s %q of this manifest makes it", strings.ToLower(p.Kind), p.Metadata.Name, strings.ToLower(kind), name)
}

// keepOwnOwners drops an object's owners from a cluster (they have a uid),
// which its warnings say are ignored; podunit's own (no uid: a Deployment's,
// a StatefulSet's, a Job's or a CronJob's of this host) stay, and when
// every owner stays there is nothing to warn about.
func keepOwnOwners(m *metav1.ObjectMeta, warns []string) []string {
	n := len(m.OwnerReferences)
	if n == 0 {
		return warns
	}
	m.OwnerReferences = slices.DeleteFunc(m.OwnerReferences, func(o metav1.OwnerReference) bool { return o.UID != "" })
	if len(m.OwnerReferences) == n {
		warns = slices.DeleteFunc(warns, func(w string) bool { return strings.HasPrefix(w, "metadata.ownerReferences:") })
	}
	return warns
}

// entry is one object of a file: a document, or an item of a List.
type entry struct {
	data []byte
	doc  int // the document's 0-based position in the file
	item int // 1 + its index in the List's items; 0: not in a List
}

// listItems: when doc is a v1 List (what `kubectl get -o yaml` writes for
// several objects), its items, each as a document of its own; only
// apiVersion, kind, metadata and items may be set on the List itself.
func listItems(doc []byte) (items [][]byte, errs field.ErrorList, isList bool) {
	js, err := yaml.YAMLToJSONStrict(doc) // strict: a duplicate key in an item is not lost
	if err != nil {
		return nil, nil, false // loadDocument says what is wrong with it
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(js, &obj) != nil {
		return nil, nil, false
	}
	var kind, apiVersion string
	_ = json.Unmarshal(obj["kind"], &kind)
	if kind != "List" {
		return nil, nil, false
	}
	_ = json.Unmarshal(obj["apiVersion"], &apiVersion)
	if apiVersion != "v1" {
		errs = append(errs, field.NotSupported(field.NewPath("apiVersion"), apiVersion, []string{"v1"}))
	}
	for k := range obj {
		if !slices.Contains([]string{"apiVersion", "kind", "metadata", "items"}, k) {
			errs = append(errs, field.Forbidden(field.NewPath(k), "not supported by podunit"))
		}
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(obj["items"], &raw); err != nil && obj["items"] != nil {
		errs = append(errs, field.Invalid(field.NewPath("items"), nil, "must be a list of objects"))
	}
	if len(errs) > 0 {
		sortByField(errs)
		return nil, errs, true
	}
	for _, r := range raw {
		items = append(items, []byte(r))
	}
	return items, nil, true
}

func splitDocuments(data []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		d, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(stripComments(d))) == 0 {
			continue
		}
		docs = append(docs, d)
	}
}

func stripComments(d []byte) []byte {
	var b bytes.Buffer
	for _, line := range strings.Split(string(d), "\n") {
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") || t == "---" {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

type loaded struct {
	kind, namespace, name string
	// pods: the pod of a Pod document, a Deployment's pods
	pods []*corev1.Pod
	ress []*Resolved
	// sample: a Job's first pod, whose references are checked with the
	// manifest's (its pods are made later, by its controller)
	sample       *corev1.Pod
	sampleRes    *Resolved
	samplePrefix string
	warns        []string
	err          *DocumentError
}

func loadDocument(doc []byte, objs *Objects, namespace string) (out loaded) {
	out.err = &DocumentError{}
	fail := func(errs ...*field.Error) loaded {
		out.err.Errs = append(out.err.Errs, errs...)
		return out
	}
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		if errs := yamlProblems(doc); len(errs) > 0 {
			return fail(errs...)
		}
		return fail(field.Invalid(nil, nil, "malformed YAML: "+strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")))
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return fail(field.Invalid(nil, nil, "malformed document: "+err.Error()))
	}
	obj, ok := generic.(map[string]any)
	if !ok {
		return fail(field.Invalid(nil, nil, "a document must be a Kubernetes object"))
	}
	if md, ok := obj["metadata"].(map[string]any); ok {
		out.name, _ = md["name"].(string)
		out.namespace, _ = md["namespace"].(string)
	}
	out.kind, _ = obj["kind"].(string)
	out.err.Kind, out.err.Name = out.kind, out.name
	if md, ok := obj["metadata"].(map[string]any); ok && namespace != "" && out.kind != KindNamespace && out.kind != KindVolume {
		switch out.namespace {
		case "":
			md["namespace"] = namespace
			if js, err = json.Marshal(generic); err != nil {
				return fail(field.InternalError(nil, err))
			}
			out.namespace = namespace
		case namespace:
		default:
			return fail(field.Invalid(field.NewPath("metadata", "namespace"), out.namespace,
				fmt.Sprintf("does not match the namespace given with -n, %q (as kubectl, podunit does not move an object to another namespace)", namespace)))
		}
	}
	if out.namespace == "" {
		out.namespace = "default"
	}
	if ck, ok := clusterKinds[out.kind]; ok {
		warns, errs := loadClusterKind(out.kind, ck, obj)
		if len(errs) > 0 {
			return fail(errs...)
		}
		out.warns = warns
		return out
	}
	if errs := checkKind(obj); len(errs) > 0 {
		return fail(errs...)
	}
	if out.kind == KindDeployment || out.kind == KindStatefulSet || out.kind == KindDaemonSet {
		load := map[string]func(any, []byte, *Objects) ([]*corev1.Pod, []*Resolved, []string, field.ErrorList){
			KindDeployment: loadDeployment, KindStatefulSet: loadStatefulSet, KindDaemonSet: loadDaemonSet,
		}[out.kind]
		pods, ress, warns, errs := load(generic, js, objs)
		if len(errs) > 0 {
			sortByField(errs)
			return fail(errs...)
		}
		out.pods, out.ress, out.warns = pods, ress, warns
		return out
	}
	if out.kind == KindJob || out.kind == KindCronJob {
		load := loadJob
		out.samplePrefix = "spec.template."
		if out.kind == KindCronJob {
			load, out.samplePrefix = loadCronJob, "spec.jobTemplate.spec.template."
		}
		sample, res, warns, errs := load(generic, js, objs)
		if len(errs) > 0 {
			sortByField(errs)
			return fail(errs...)
		}
		out.sample, out.sampleRes, out.warns = sample, res, warns
		return out
	}
	if out.kind != "Pod" {
		warns, errs := loadObject(out.kind, generic, js, objs)
		if len(errs) > 0 {
			sortByField(errs)
			return fail(errs...)
		}
		out.warns = warns
		return out
	}

	tokenWarns, changed := dropAdmissionToken(obj)
	if changed {
		if js, err = json.Marshal(generic); err != nil {
			return fail(field.InternalError(nil, err))
		}
	}
	errs, warns := judgeFields(generic, reflect.TypeOf(corev1.Pod{}), podRules)
	warns = append(tokenWarns, warns...)

	// Validation runs even after unknown or unsupported fields were found, so one
	// run reports every problem; only values of the wrong type stop it.
	var p corev1.Pod
	if err := json.Unmarshal(js, &p); err != nil {
		if len(errs) == 0 {
			errs = append(errs, field.Invalid(nil, nil, cleanJSONError(err)))
		}
		return fail(errs...)
	}
	// an exported pod of a Deployment is no Deployment's here; podunit's
	// own owners, in the stored copy of an enabled Deployment's pod, stay
	warns = keepOwnOwners(&p.ObjectMeta, warns)
	SetDefaults(&p)
	res, verrs := Resolve(&p)
	errs = append(errs, verrs...)
	// The pod is returned with its errors too, so that its references can be
	// checked with the rest of the manifest.
	out.pods, out.ress, out.warns, out.namespace = []*corev1.Pod{&p}, []*Resolved{res}, warns, p.Namespace
	if len(errs) > 0 {
		sortByField(errs)
		return fail(errs...)
	}
	return out
}

// judgeFields checks a document's shape against its Go type and every field
// present against a rule table: unknown and rejected fields are errors, ignored
// ones warnings.
func judgeFields(generic any, t reflect.Type, rules map[string]rule) (field.ErrorList, []string) {
	var warns []string
	var errs field.ErrorList
	var skip []string // paths already judged, whose children need no verdict
	visit := func(norm string, p *field.Path, empty bool) {
		for _, s := range skip {
			if strings.HasPrefix(norm, s) && len(norm) > len(s) && (norm[len(s)] == '.' || norm[len(s)] == '[') {
				return
			}
		}
		r, known := ruleIn(rules, norm)
		switch {
		case !known:
			errs = append(errs, field.Forbidden(p, "not supported by podunit"))
			skip = append(skip, norm)
		case r.support == Rejected:
			errs = append(errs, field.Forbidden(p, "not supported by podunit: "+r.note))
			skip = append(skip, norm)
		case r.support == Ignored:
			if !empty {
				// null, {} and [] ignore nothing (kubectl's own manifests
				// hold status: {} and creationTimestamp: null)
				warns = append(warns, fmt.Sprintf("%s: ignored: %s", p.String(), r.note))
			}
			skip = append(skip, norm)
		case r.subtree:
			skip = append(skip, norm)
		}
	}
	shapeErrs := checkShape(generic, t, nil, visit)
	return append(shapeErrs, errs...), warns
}

// judge is judgeFields for the type of out.
func judge(generic any, out any, rules map[string]rule) ([]string, field.ErrorList) {
	errs, warns := judgeFields(generic, reflect.TypeOf(out).Elem(), rules)
	if len(errs) > 0 {
		sortByField(errs)
	}
	return warns, errs
}

func checkKind(obj map[string]any) field.ErrorList {
	var errs field.ErrorList
	kind, _ := obj["kind"].(string)
	api, _ := obj["apiVersion"].(string)
	switch {
	case kind == "":
		errs = append(errs, field.Required(field.NewPath("kind"), "one of "+knownKinds()))
	case !slices.Contains(Kinds, kind):
		// which apiVersion would be right depends on the kind
		return append(errs, refusedKind(kind)...)
	}
	switch {
	case api == "":
		errs = append(errs, field.Required(field.NewPath("apiVersion"), fmt.Sprintf("must be %q", APIVersion(kind))))
	case api != APIVersion(kind):
		errs = append(errs, field.NotSupported(field.NewPath("apiVersion"), api, []string{APIVersion(kind)}))
	}
	return errs
}

// sortByField orders errors by field path, keeping the order of each field's.
func sortByField(errs field.ErrorList) {
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
}
