package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podunit/podunit/cluster"
	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/podstate/objstore"
	"github.com/podunit/podunit/runner"
	"github.com/podunit/podunit/units"
)

// describedKinds are the kinds describe shows besides pods, Deployments,
// StatefulSets and the node, by the word kubectl takes for them.
var describedKinds = func() map[string]string {
	m := map[string]string{}
	for word, kind := range objectKinds {
		switch kind {
		case pod.KindService, pod.KindIngress, pod.KindNetworkPolicy, pod.KindLimitRange, pod.KindResourceQuota, pod.KindEndpointSlice, pod.KindConfigMap, pod.KindSecret, pod.KindClaim, pod.KindServiceAccount, pod.KindVolume:
			m[word] = kind
		}
	}
	for _, w := range namespaceTypes {
		m[w] = pod.KindNamespace
	}
	for _, w := range endpointsTypes {
		m[w] = kindEndpoints
	}
	return m
}()

const kindEndpoints = "Endpoints"

// objectArgs reads describe's arguments when they name stored objects:
// a type word and names (svc web db; svc alone: all of them), or TYPE/NAME
// arguments of one kind (svc/web cm/app is an error). ok is false when they
// name no such kind.
func objectArgs(args []string) (kind string, names []string, ok bool, err error) {
	if len(args) == 0 {
		return "", nil, false, nil
	}
	if k := describedKinds[strings.ToLower(args[0])]; k != "" {
		for _, n := range args[1:] {
			if strings.Contains(n, "/") {
				return "", nil, true, fmt.Errorf("%w: %s: no type before TYPE/NAME arguments (podunit describe %s)", errUsage, n, n)
			}
		}
		return k, args[1:], true, nil
	}
	for i, a := range args {
		t, name, found := strings.Cut(a, "/")
		k := describedKinds[strings.ToLower(t)]
		if !found || k == "" || name == "" {
			if i == 0 {
				return "", nil, false, nil
			}
			return "", nil, true, fmt.Errorf("%w: %s: describe one kind at a time", errUsage, a)
		}
		if i > 0 && k != kind {
			return "", nil, true, fmt.Errorf("%w: %s and %s in one describe: ask for each on its own", errUsage, kind, k)
		}
		kind = k
		names = append(names, name)
	}
	return kind, names, true, nil
}

// describeObjects is kubectl describe for stored objects: Services (with
// their endpoints), ConfigMaps (their data), Secrets (their keys' sizes,
// never their values), claims (their volume and users), ServiceAccounts,
// namespaces and Endpoints; those named, or every one (-n, -l select).
func describeObjects(ctx context.Context, w, errw io.Writer, r *runner.Runner, kind string, names []string, ns string, sel selection) error {
	dir := podstate.DefaultDir()
	var st *cluster.State // for Services: the pods behind them
	var list []metav1.Object
	var known *pod.Objects // the stored objects, for the stored kinds
	var err error
	switch kind {
	case pod.KindNamespace:
		pods, err := runner.KnownPods(dir)
		if err != nil {
			return err
		}
		all, err := namespaces(dir, pods)
		if err != nil {
			return err
		}
		for _, n := range all {
			list = append(list, n)
		}
		ns = "" // namespaces are in none
	case pod.KindService:
		if st, err = servicesNow(ctx, r); err != nil {
			return err
		}
		for _, s := range st.Services {
			list = append(list, s)
		}
	case pod.KindIngress:
		if st, err = servicesNow(ctx, r); err != nil {
			return err
		}
		if known, err = objstore.LoadObjects(dir); err != nil {
			return err
		}
		list = ofKind(known, kind)
	case kindEndpoints:
		st, err := servicesNow(ctx, r)
		if err != nil {
			return err
		}
		for _, ep := range allEndpoints(st) {
			list = append(list, ep)
		}
	default:
		if known, err = objstore.LoadObjects(dir); err != nil {
			return err
		}
		list = ofKind(known, kind)
	}
	list, err = storedNamed(list, strings.ToLower(kind), names, ns, sel)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(errw, noneFound(ns))
		return nil
	}
	var recorded []*corev1.Pod
	var live []*corev1.Pod // those a quota counts
	if kind == pod.KindClaim || kind == pod.KindNetworkPolicy || kind == pod.KindResourceQuota || kind == pod.KindNamespace {
		if recorded, err = runner.RecordedPods(dir); err != nil {
			return err
		}
		if kind == pod.KindResourceQuota || kind == pod.KindNamespace {
			live = livePods(recorded)
		}
	}
	for i, o := range list {
		if i > 0 {
			fmt.Fprint(w, "\n\n")
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "Name:\t%s\n", o.GetName())
		if kind != pod.KindNamespace && kind != pod.KindVolume {
			fmt.Fprintf(tw, "Namespace:\t%s\n", o.GetNamespace())
		}
		switch x := o.(type) {
		case *corev1.Service:
			describeService(tw, x, st)
		case *corev1.ConfigMap:
			metaLines(tw, x.ObjectMeta)
			tw.Flush()
			describeConfigMap(w, x)
		case *corev1.Secret:
			metaLines(tw, x.ObjectMeta)
			fmt.Fprintf(tw, "\nType:\t%s\n", x.Type)
			tw.Flush()
			fmt.Fprint(w, "\nData\n====\n")
			tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			for _, k := range slices.Sorted(maps.Keys(x.Data)) {
				fmt.Fprintf(tw, "%s:\t%d bytes\n", k, len(x.Data[k]))
			}
			tw.Flush()
			continue // kubectl gives a Secret no Events
		case *corev1.PersistentVolumeClaim:
			if err := describeClaim(ctx, tw, r, x, recorded, known); err != nil {
				return err
			}
		case *corev1.PersistentVolume:
			describeVolume(tw, x, known.Claims)
		case *networkingv1.Ingress:
			describeIngress(tw, x, st)
		case *networkingv1.NetworkPolicy:
			describeNetworkPolicy(tw, x, recorded)
		case *corev1.ServiceAccount:
			metaLines(tw, x.ObjectMeta)
			var secrets []string
			for _, s := range x.ImagePullSecrets {
				secrets = append(secrets, s.Name)
			}
			fmt.Fprintf(tw, "Image pull secrets:\t%s\n", orNone(strings.Join(secrets, ", ")))
			fmt.Fprintf(tw, "Mountable secrets:\t<none>\n")
			fmt.Fprintf(tw, "Tokens:\t<none>\n")
		case *corev1.Namespace:
			metaLines(tw, x.ObjectMeta)
			fmt.Fprintf(tw, "Status:\t%s\n", x.Status.Phase)
			tw.Flush()
			if known == nil {
				if known, err = objstore.LoadObjects(dir); err != nil {
					return err
				}
			}
			var quotas []*corev1.ResourceQuota
			for _, q := range known.ResourceQuotas {
				if q.Namespace == x.Name {
					quotas = append(quotas, quotaStatus(q, live, known))
				}
			}
			if len(quotas) == 0 {
				fmt.Fprint(w, "\nNo resource quota.\n\n")
			} else {
				fmt.Fprint(w, "\nResource Quotas\n")
				for _, q := range quotas {
					fmt.Fprintf(w, "  Name:  %s\n", q.Name)
					quotaTable(w, "  ", q)
				}
				fmt.Fprint(w, "\n")
			}
			var ranges []*corev1.LimitRange
			for _, lr := range known.LimitRanges {
				if lr.Namespace == x.Name {
					ranges = append(ranges, lr)
				}
			}
			if len(ranges) == 0 {
				fmt.Fprint(w, "No LimitRange resource.\n")
			} else {
				fmt.Fprint(w, "Resource Limits\n")
				limitRangeTable(w, " ", ranges...)
			}
			continue
		case *corev1.ResourceQuota:
			tw.Flush()
			quotaTable(w, "", quotaStatus(x, live, known))
			continue
		case *corev1.LimitRange:
			tw.Flush()
			limitRangeTable(w, "", x)
			continue
		case *discoveryv1.EndpointSlice:
			describeEndpointSlice(w, tw, x)
		case *corev1.Endpoints:
			metaLines(tw, x.ObjectMeta)
			fmt.Fprintf(tw, "Subsets:\n")
			for _, ss := range x.Subsets {
				var ready, notReady []string
				for _, a := range ss.Addresses {
					ready = append(ready, a.IP)
				}
				for _, a := range ss.NotReadyAddresses {
					notReady = append(notReady, a.IP)
				}
				fmt.Fprintf(tw, "  Addresses:\t%s\n", orNone(strings.Join(ready, ",")))
				fmt.Fprintf(tw, "  NotReadyAddresses:\t%s\n", orNone(strings.Join(notReady, ",")))
				fmt.Fprintf(tw, "  Ports:\n")
				tw.Flush()
				pw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintf(pw, "    Name\tPort\tProtocol\n    ----\t----\t--------\n")
				for _, p := range ss.Ports {
					fmt.Fprintf(pw, "    %s\t%d\t%s\n", orUnset(p.Name), p.Port, p.Protocol)
				}
				pw.Flush()
				fmt.Fprintln(w)
			}
		}
		fmt.Fprintf(tw, "Events:\t<none>\n")
		tw.Flush()
	}
	return nil
}

// describeEndpointSlice is kubectl describe endpointslice: its address
// type, ports, and each endpoint's addresses and conditions.
func describeEndpointSlice(w io.Writer, tw *tabwriter.Writer, es *discoveryv1.EndpointSlice) {
	metaLines(tw, es.ObjectMeta)
	fmt.Fprintf(tw, "AddressType:\t%s\n", es.AddressType)
	fmt.Fprintf(tw, "Ports:\n")
	tw.Flush()
	pw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(pw, "  Name\tPort\tProtocol\n  ----\t----\t--------\n")
	for _, p := range es.Ports {
		name, port, proto := "<unset>", "<unset>", "TCP"
		if p.Name != nil && *p.Name != "" {
			name = *p.Name
		}
		if p.Port != nil {
			port = strconv.Itoa(int(*p.Port))
		}
		if p.Protocol != nil {
			proto = string(*p.Protocol)
		}
		fmt.Fprintf(pw, "  %s\t%s\t%s\n", name, port, proto)
	}
	pw.Flush()
	fmt.Fprintf(tw, "Endpoints:\n")
	for _, e := range es.Endpoints {
		fmt.Fprintf(tw, "  - Addresses:\t%s\n", strings.Join(e.Addresses, ","))
		fmt.Fprintf(tw, "    Conditions:\n")
		ready := "<unset>"
		if e.Conditions.Ready != nil {
			ready = strconv.FormatBool(*e.Conditions.Ready)
		}
		fmt.Fprintf(tw, "      Ready:\t%s\n", ready)
		if e.Hostname != nil {
			fmt.Fprintf(tw, "    Hostname:\t%s\n", *e.Hostname)
		}
	}
}

// describeIngress is kubectl describe ingress: where it is served, its
// TLS hosts and rules, each backend with the endpoints behind it now.
func describeIngress(tw io.Writer, in *networkingv1.Ingress, st *cluster.State) {
	fmt.Fprintf(tw, "Address:\t%s\n", strings.Join(ingressURLs(in), ", "))
	class := "<none>"
	if in.Spec.IngressClassName != nil {
		class = *in.Spec.IngressClassName + " (served by podunit's service proxy, whatever the class)"
	}
	fmt.Fprintf(tw, "Ingress Class:\t%s\n", class)
	backend := func(b *networkingv1.IngressBackend) string {
		if b == nil || b.Service == nil {
			return "<default>"
		}
		port := b.Service.Port.Name
		if port == "" {
			port = strconv.Itoa(int(b.Service.Port.Number))
		}
		svc, _, eps := st.BackendEndpoints(in.Namespace, b)
		var addrs []string
		for _, ep := range eps {
			addrs = append(addrs, ep.Addr.String())
		}
		switch {
		case svc == nil:
			return fmt.Sprintf("%s:%s (<error: service %q not found>)", b.Service.Name, port, b.Service.Name)
		case svc.Spec.Type == corev1.ServiceTypeExternalName:
			return fmt.Sprintf("%s:%s (ExternalName %s)", b.Service.Name, port, svc.Spec.ExternalName)
		case len(addrs) == 0:
			return fmt.Sprintf("%s:%s (<none>)", b.Service.Name, port)
		}
		return fmt.Sprintf("%s:%s (%s)", b.Service.Name, port, strings.Join(addrs, ","))
	}
	fmt.Fprintf(tw, "Default backend:\t%s\n", backend(in.Spec.DefaultBackend))
	if len(in.Spec.TLS) > 0 {
		fmt.Fprintf(tw, "TLS:\n")
		for _, t := range in.Spec.TLS {
			secret := t.SecretName
			if secret == "" {
				secret = "SNI routes (the proxy's self-signed certificate)"
			}
			fmt.Fprintf(tw, "  %s terminates %s\n", secret, strings.Join(t.Hosts, ","))
		}
	}
	fmt.Fprintf(tw, "Rules:\n  Host\tPath\tBackends\n  ----\t----\t--------\n")
	for _, r := range in.Spec.Rules {
		host := r.Host
		if host == "" {
			host = "*"
		}
		fmt.Fprintf(tw, "  %s\t\t\n", host)
		if r.HTTP == nil {
			continue
		}
		for i := range r.HTTP.Paths {
			p := r.HTTP.Paths[i]
			fmt.Fprintf(tw, "  \t%s\t%s\n", p.Path, backend(&p.Backend))
		}
	}
	metaLines(tw, in.ObjectMeta)
}

// metaLines are describe's Labels and Annotations: one key=value a line.
func metaLines(tw io.Writer, m metav1.ObjectMeta) {
	for _, f := range []struct {
		head string
		m    map[string]string
	}{{"Labels:", m.Labels}, {"Annotations:", m.Annotations}} {
		if len(f.m) == 0 {
			fmt.Fprintf(tw, "%s\t<none>\n", f.head)
			continue
		}
		for i, k := range slices.Sorted(maps.Keys(f.m)) {
			head := ""
			if i == 0 {
				head = f.head
			}
			fmt.Fprintf(tw, "%s\t%s=%s\n", head, k, f.m[k])
		}
	}
}

func orUnset(s string) string {
	if s == "" {
		return "<unset>"
	}
	return s
}

// describeService is kubectl describe service's body: selector, type,
// address, and for each port its target, node port and endpoints.
func describeService(tw io.Writer, s *corev1.Service, st *cluster.State) {
	metaLines(tw, s.ObjectMeta)
	fmt.Fprintf(tw, "Selector:\t%s\n", formatSelector(s.Spec.Selector))
	fmt.Fprintf(tw, "Type:\t%s\n", s.Spec.Type)
	if s.Spec.Type == corev1.ServiceTypeExternalName {
		fmt.Fprintf(tw, "External Name:\t%s\n", s.Spec.ExternalName)
	} else {
		fmt.Fprintf(tw, "IP Family Policy:\tSingleStack\n")
		fmt.Fprintf(tw, "IP Families:\tIPv4\n")
		fmt.Fprintf(tw, "IP:\t%s\n", s.Spec.ClusterIP)
		fmt.Fprintf(tw, "IPs:\t%s\n", s.Spec.ClusterIP)
	}
	if cluster.Balanced(s) {
		// kubectl's line; this host is the load balancer
		fmt.Fprintf(tw, "LoadBalancer Ingress:\t%s (this host)\n", s.Status.LoadBalancer.Ingress[0].IP)
	}
	ep := st.EndpointsOf(s, nodeName())
	for i, p := range s.Spec.Ports {
		name := orUnset(p.Name)
		fmt.Fprintf(tw, "Port:\t%s  %d/%s\n", name, p.Port, p.Protocol)
		target := p.TargetPort.String()
		fmt.Fprintf(tw, "TargetPort:\t%s/%s\n", target, p.Protocol)
		if p.NodePort != 0 {
			fmt.Fprintf(tw, "NodePort:\t%s  %d/%s\n", name, p.NodePort, p.Protocol)
		}
		var eps []string
		for _, e := range st.Endpoints(s, i) {
			eps = append(eps, e.Addr.String())
		}
		if ep != nil || len(eps) > 0 {
			fmt.Fprintf(tw, "Endpoints:\t%s\n", strings.Join(eps, ","))
		} else {
			fmt.Fprintf(tw, "Endpoints:\t<none>\n")
		}
	}
	if len(s.Spec.Ports) == 0 {
		fmt.Fprintf(tw, "Port:\t<none>\n")
	}
	affinity := s.Spec.SessionAffinity
	if affinity == "" {
		affinity = corev1.ServiceAffinityNone
	}
	fmt.Fprintf(tw, "Session Affinity:\t%s\n", affinity)
	if s.Spec.Type == corev1.ServiceTypeNodePort || s.Spec.Type == corev1.ServiceTypeLoadBalancer {
		fmt.Fprintf(tw, "External Traffic Policy:\tCluster\n")
	}
	fmt.Fprintf(tw, "Internal Traffic Policy:\tCluster\n")
}

// describeConfigMap is kubectl describe configmap's Data and BinaryData.
func describeConfigMap(w io.Writer, c *corev1.ConfigMap) {
	fmt.Fprint(w, "\nData\n====\n")
	for _, k := range slices.Sorted(maps.Keys(c.Data)) {
		fmt.Fprintf(w, "%s:\n----\n%s\n\n", k, strings.TrimSuffix(c.Data[k], "\n"))
	}
	if len(c.Data) == 0 {
		fmt.Fprintln(w)
	}
	fmt.Fprint(w, "BinaryData\n====\n")
	for _, k := range slices.Sorted(maps.Keys(c.BinaryData)) {
		fmt.Fprintf(w, "%s: %d bytes\n", k, len(c.BinaryData[k]))
	}
	fmt.Fprintln(w)
}

// describeClaim is kubectl describe pvc's body: its status and volume (the
// podman volume, once a pod used it), what it asks for, and its users.
func describeClaim(ctx context.Context, tw io.Writer, r *runner.Runner, c *corev1.PersistentVolumeClaim, recorded []*corev1.Pod, known *pod.Objects) error {
	status, volume, capacity, err := claimBinding(ctx, r, c, known)
	if err != nil {
		return err
	}
	if volume == "<none>" {
		volume = ""
	}
	class := ""
	if c.Spec.StorageClassName != nil {
		class = *c.Spec.StorageClassName
	}
	fmt.Fprintf(tw, "StorageClass:\t%s\n", class)
	fmt.Fprintf(tw, "Status:\t%s\n", status)
	fmt.Fprintf(tw, "Volume:\t%s\n", volume)
	metaLines(tw, c.ObjectMeta)
	fmt.Fprintf(tw, "Capacity:\t%s\n", capacity)
	fmt.Fprintf(tw, "Access Modes:\t%s\n", shortModes(c.Spec.AccessModes))
	mode := corev1.PersistentVolumeFilesystem
	if c.Spec.VolumeMode != nil {
		mode = *c.Spec.VolumeMode
	}
	fmt.Fprintf(tw, "VolumeMode:\t%s\n", mode)
	var users []string
	for _, p := range recorded {
		if p.Namespace == c.Namespace && pod.UsesClaim(p, c.Name) {
			users = append(users, p.Name)
		}
	}
	fmt.Fprintf(tw, "Used By:\t%s\n", orNone(strings.Join(users, ",")))
	return nil
}

// describeVolume is kubectl describe pv's body: its class, status and
// claim (among claims), policy, modes, capacity and directory.
func describeVolume(tw io.Writer, pv *corev1.PersistentVolume, claims []*corev1.PersistentVolumeClaim) {
	status, claim := volumeStatus(pv, claims)
	path, ht := pod.VolumePath(pv)
	metaLines(tw, pv.ObjectMeta)
	fmt.Fprintf(tw, "StorageClass:\t%s\n", pv.Spec.StorageClassName)
	fmt.Fprintf(tw, "Status:\t%s\n", status)
	fmt.Fprintf(tw, "Claim:\t%s\n", claim)
	fmt.Fprintf(tw, "Reclaim Policy:\t%s\n", pv.Spec.PersistentVolumeReclaimPolicy)
	fmt.Fprintf(tw, "Access Modes:\t%s\n", shortModes(pv.Spec.AccessModes))
	fmt.Fprintf(tw, "VolumeMode:\t%s\n", *pv.Spec.VolumeMode)
	q := pv.Spec.Capacity[corev1.ResourceStorage]
	fmt.Fprintf(tw, "Capacity:\t%s\n", q.String())
	fmt.Fprintf(tw, "Source:\n    Path:\t%s\n    HostPathType:\t%s\n", path, ht)
}

// claimBinding is what a claim is bound to: a PersistentVolume of known
// (Bound, its name and capacity), or its podman volume once a pod first
// used it (Bound, the volume, the request), or nothing yet (Pending).
func claimBinding(ctx context.Context, r *runner.Runner, c *corev1.PersistentVolumeClaim, known *pod.Objects) (status, volume, capacity string, err error) {
	if name := c.Spec.VolumeName; name != "" {
		if pv := known.Volume(name); pv != nil {
			q := pv.Spec.Capacity[corev1.ResourceStorage]
			return "Bound", name, q.String(), nil
		}
		return "Lost", name, "", nil // its volume is gone, as Kubernetes says
	}
	volume = units.ClaimVolumeName(c.Namespace, c.Name)
	l, ok, err := r.Engine.VolumeLabels(ctx, volume)
	if err != nil || !ok || l[units.LabelClaim] != c.Namespace+"/"+c.Name {
		return "Pending", "<none>", "", err
	}
	if q, ok := c.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
		capacity = q.String()
	}
	return "Bound", volume, capacity, nil
}

// volumeStatus is a PersistentVolume's phase and claim: Bound to the claim
// that names it, or Available.
func volumeStatus(pv *corev1.PersistentVolume, claims []*corev1.PersistentVolumeClaim) (status, claim string) {
	for _, c := range claims {
		if c.Spec.VolumeName == pv.Name {
			return "Bound", c.Namespace + "/" + c.Name
		}
	}
	return "Available", ""
}

// describeNetworkPolicy shows a NetworkPolicy as kubectl describe does, and
// the pods it selects now.
func describeNetworkPolicy(tw io.Writer, np *networkingv1.NetworkPolicy, recorded []*corev1.Pod) {
	fmt.Fprintf(tw, "Created on:\t%s\n", np.CreationTimestamp.Format("2006-01-02 15:04:05 -0700 MST"))
	metaLines(tw, np.ObjectMeta)
	fmt.Fprintf(tw, "Spec:\n")
	fmt.Fprintf(tw, "  PodSelector:\t%s\n", selectorOrAll(&np.Spec.PodSelector, "(Allowing the specific traffic to all pods in this namespace)"))
	var selected []string
	for _, p := range recorded {
		if pod.PolicySelects(np, p) {
			selected = append(selected, p.Name)
		}
	}
	fmt.Fprintf(tw, "  Selected pods now:\t%s\n", orNone(strings.Join(selected, ", ")))
	has := func(t networkingv1.PolicyType) bool { return slices.Contains(np.Spec.PolicyTypes, t) }
	peers := func(ps []networkingv1.NetworkPolicyPeer, word string) {
		if len(ps) == 0 {
			fmt.Fprintf(tw, "    %s: <any> (traffic not restricted by %s)\n", word, map[string]string{"From": "source", "To": "destination"}[word])
			return
		}
		fmt.Fprintf(tw, "    %s:\n", word)
		for _, p := range ps {
			switch {
			case p.IPBlock != nil:
				fmt.Fprintf(tw, "      IPBlock:\n        CIDR: %s\n        Except: %s\n", p.IPBlock.CIDR, strings.Join(p.IPBlock.Except, ", "))
			default:
				if p.NamespaceSelector != nil {
					fmt.Fprintf(tw, "      NamespaceSelector: %s\n", selectorOrAll(p.NamespaceSelector, "<none>"))
				}
				if p.PodSelector != nil {
					fmt.Fprintf(tw, "      PodSelector: %s\n", selectorOrAll(p.PodSelector, "<none>"))
				}
			}
		}
	}
	ports := func(ps []networkingv1.NetworkPolicyPort) {
		if len(ps) == 0 {
			fmt.Fprintf(tw, "    To Port: <any> (traffic allowed to all ports)\n")
			return
		}
		for _, p := range ps {
			port := "<any>"
			if p.Port != nil {
				port = p.Port.String()
				if p.EndPort != nil {
					port += fmt.Sprintf("-%d", *p.EndPort)
				}
			}
			proto := corev1.ProtocolTCP
			if p.Protocol != nil {
				proto = *p.Protocol
			}
			fmt.Fprintf(tw, "    To Port: %s/%s\n", port, proto)
		}
	}
	// each direction's rules: their ports, then their peers
	type rule struct {
		ports []networkingv1.NetworkPolicyPort
		peers []networkingv1.NetworkPolicyPeer
	}
	var in, out []rule
	for _, r := range np.Spec.Ingress {
		in = append(in, rule{r.Ports, r.From})
	}
	for _, r := range np.Spec.Egress {
		out = append(out, rule{r.Ports, r.To})
	}
	for _, d := range []struct {
		t     networkingv1.PolicyType
		word  string
		rules []rule
	}{{networkingv1.PolicyTypeIngress, "From", in}, {networkingv1.PolicyTypeEgress, "To", out}} {
		dir := strings.ToLower(string(d.t))
		if !has(d.t) {
			fmt.Fprintf(tw, "  Not affecting %s traffic\n", dir)
			continue
		}
		fmt.Fprintf(tw, "  Allowing %s traffic:\n", dir)
		if len(d.rules) == 0 {
			fmt.Fprintf(tw, "    <none> (Selected pods are isolated for %s connectivity)\n", dir)
		}
		for i, r := range d.rules {
			if i > 0 {
				fmt.Fprintf(tw, "    ----------\n")
			}
			ports(r.ports)
			peers(r.peers, d.word)
		}
	}
	var types []string
	for _, t := range np.Spec.PolicyTypes {
		types = append(types, string(t))
	}
	fmt.Fprintf(tw, "  Policy Types:\t%s\n", strings.Join(types, ", "))
}

// selectorOrAll is a label selector as kubectl prints it, or empty when it
// selects everything.
func selectorOrAll(sel *metav1.LabelSelector, empty string) string {
	if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
		return empty
	}
	return metav1.FormatLabelSelector(sel)
}

// limitRangeTable is kubectl's table of LimitRanges' items: per type and
// resource, the min, max, default request, default limit and ratio ("-"
// where unset).
func limitRangeTable(w io.Writer, indent string, ranges ...*corev1.LimitRange) {
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	fmt.Fprintf(tw, "%sType\tResource\tMin\tMax\tDefault Request\tDefault Limit\tMax Limit/Request Ratio\n", indent)
	fmt.Fprintf(tw, "%s----\t--------\t---\t---\t---------------\t-------------\t-----------------------\n", indent)
	for _, lr := range ranges {
		for _, it := range lr.Spec.Limits {
			names := map[corev1.ResourceName]bool{}
			for _, l := range []corev1.ResourceList{it.Min, it.Max, it.Default, it.DefaultRequest, it.MaxLimitRequestRatio} {
				for n := range l {
					names[n] = true
				}
			}
			keys := make([]string, 0, len(names))
			for n := range names {
				keys = append(keys, string(n))
			}
			slices.Sort(keys)
			for _, k := range keys {
				v := func(l corev1.ResourceList) string {
					if q, ok := l[corev1.ResourceName(k)]; ok {
						return q.String()
					}
					return "-"
				}
				fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\t%s\t%s\t%s\n", indent, it.Type, k, v(it.Min), v(it.Max), v(it.DefaultRequest), v(it.Default), v(it.MaxLimitRequestRatio))
			}
		}
	}
	tw.Flush()
}
