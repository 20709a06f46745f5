package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/podstate/objstore"
	"github.com/podunit/podunit/runner"
)

// getKinds are the stored kinds `get` lists besides pods, Services and
// Deployments, by the word get reports for them.
var getKinds = map[string]string{
	pod.KindConfigMap: "configmaps", pod.KindSecret: "secrets",
	pod.KindClaim: "persistentvolumeclaims", pod.KindServiceAccount: "serviceaccounts",
	pod.KindVolume: "persistentvolumes", pod.KindIngress: "ingresses",
	pod.KindNetworkPolicy: "networkpolicies", pod.KindEndpointSlice: "endpointslices",
	pod.KindLimitRange: "limitranges", pod.KindResourceQuota: "resourcequotas",
}

// printObjects lists stored ConfigMaps, Secrets, claims or ServiceAccounts
// (kind, as pod.Kind*) as kubectl get does: a table (what each holds, a
// claim's volume and the pods using it), their names, or the objects
// themselves (-o yaml|json|jsonpath: a Secret's data too, as kubectl shows
// it to whoever asks).
func printObjects(ctx context.Context, w, errw io.Writer, r *runner.Runner, kind string, names []string, ns string, sel selection, format string, t tableOpts) error {
	known, err := objstore.LoadObjects(podstate.DefaultDir())
	if err != nil {
		return err
	}
	list, err := storedNamed(ofKind(known, kind), strings.ToLower(kind), names, ns, sel)
	if err != nil {
		return err
	}
	if kind == pod.KindResourceQuota {
		// with their status: what is used now
		recorded, err := runner.RecordedPods(podstate.DefaultDir())
		if err != nil {
			return err
		}
		live := livePods(recorded)
		for i, o := range list {
			list[i] = quotaStatus(o.(*corev1.ResourceQuota), live, known)
		}
	}
	if done, err := listing(w, errw, list, strings.ToLower(kind), ns, format, len(names) == 1, func(o metav1.Object) any { return typed(kind, o) }); done {
		return err
	}
	var recorded []*corev1.Pod
	if kind == pod.KindClaim {
		if recorded, err = runner.RecordedPods(podstate.DefaultDir()); err != nil {
			return err
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, t.head(map[string]string{
		pod.KindConfigMap:      "NAME\tDATA\tAGE",
		pod.KindSecret:         "NAME\tTYPE\tDATA\tAGE",
		pod.KindClaim:          "NAME\tSTATUS\tVOLUME\tCAPACITY\tACCESS MODES\tSTORAGECLASS\tUSED BY\tAGE",
		pod.KindVolume:         "NAME\tCAPACITY\tACCESS MODES\tRECLAIM POLICY\tSTATUS\tCLAIM\tSTORAGECLASS\tPATH\tAGE",
		pod.KindServiceAccount: "NAME\tIMAGE PULL SECRETS\tAGE",
		pod.KindIngress:        "NAME\tCLASS\tHOSTS\tADDRESS\tPORTS\tAGE",
		pod.KindNetworkPolicy:  "NAME\tPOD-SELECTOR\tAGE",
		pod.KindEndpointSlice:  "NAME\tADDRESSTYPE\tPORTS\tENDPOINTS\tAGE",
		pod.KindLimitRange:     "NAME\tCREATED AT",
		pod.KindResourceQuota:  "NAME\tAGE\tREQUEST\tLIMIT",
	}[kind]))
	now := time.Now()
	for _, o := range list {
		line := t.row(o.GetNamespace(), t.name(strings.ToLower(kind), o.GetName()))
		switch x := o.(type) {
		case *corev1.ConfigMap:
			line += fmt.Sprintf("\t%d", len(x.Data)+len(x.BinaryData))
		case *corev1.Secret:
			line += fmt.Sprintf("\t%s\t%d", x.Type, len(x.Data))
		case *corev1.PersistentVolumeClaim:
			// a claim is a PersistentVolume's, or a podman volume once a
			// pod first used it
			status, volume, capacity, err := claimBinding(ctx, r, x, known)
			if err != nil {
				return err
			}
			var users []string
			for _, p := range recorded {
				if p.Namespace == x.Namespace && pod.UsesClaim(p, x.Name) {
					users = append(users, p.Name)
				}
			}
			class := "<unset>"
			if x.Spec.StorageClassName != nil {
				class = *x.Spec.StorageClassName
			}
			line += fmt.Sprintf("\t%s\t%s\t%s\t%s\t%s\t%s", status, volume, orNone(capacity), orNone(shortModes(x.Spec.AccessModes)), class, orNone(strings.Join(users, ",")))
		case *corev1.PersistentVolume:
			status, claim := volumeStatus(x, known.Claims)
			path, _ := pod.VolumePath(x)
			q := x.Spec.Capacity[corev1.ResourceStorage]
			line += fmt.Sprintf("\t%s\t%s\t%s\t%s\t%s\t%s\t%s", q.String(), shortModes(x.Spec.AccessModes), x.Spec.PersistentVolumeReclaimPolicy, status, claim, x.Spec.StorageClassName, path)
		case *corev1.ServiceAccount:
			var secrets []string
			for _, s := range x.ImagePullSecrets {
				secrets = append(secrets, s.Name)
			}
			line += "\t" + orNone(strings.Join(secrets, ","))
		case *networkingv1.Ingress:
			class := "<none>"
			if x.Spec.IngressClassName != nil {
				class = *x.Spec.IngressClassName
			}
			var addr string
			var ports []string
			for _, lb := range x.Status.LoadBalancer.Ingress {
				addr = lb.IP
				for _, p := range lb.Ports {
					ports = append(ports, strconv.Itoa(int(p.Port)))
				}
			}
			line += fmt.Sprintf("\t%s\t%s\t%s\t%s", class, ingressHosts(x), addr, strings.Join(ports, ", "))
		case *networkingv1.NetworkPolicy:
			line += "\t" + metav1.FormatLabelSelector(&x.Spec.PodSelector)
		case *discoveryv1.EndpointSlice:
			line += fmt.Sprintf("\t%s\t%s\t%s", x.AddressType, slicePorts(x), sliceEndpoints(x))
		}
		if x, ok := o.(*corev1.ResourceQuota); ok {
			req, lim := quotaColumns(x)
			fmt.Fprintln(tw, line+"\t"+since(o.GetCreationTimestamp().Time, now)+"\t"+req+"\t"+lim)
			continue
		}
		if kind == pod.KindLimitRange {
			// kubectl's column: when, not how long ago
			fmt.Fprintln(tw, line+"\t"+o.GetCreationTimestamp().UTC().Format(time.RFC3339))
			continue
		}
		fmt.Fprintln(tw, line+"\t"+since(o.GetCreationTimestamp().Time, now))
	}
	return tw.Flush()
}

// slicePorts is kubectl's PORTS of an EndpointSlice: its port numbers.
func slicePorts(es *discoveryv1.EndpointSlice) string {
	var ports []string
	for _, p := range es.Ports {
		if p.Port != nil {
			ports = append(ports, strconv.Itoa(int(*p.Port)))
		}
	}
	return orNone(strings.Join(ports, ","))
}

// sliceEndpoints is kubectl's ENDPOINTS of an EndpointSlice: the ready
// endpoints' first addresses, three at most and how many more.
func sliceEndpoints(es *discoveryv1.EndpointSlice) string {
	var addrs []string
	for _, e := range es.Endpoints {
		if len(e.Addresses) > 0 && (e.Conditions.Ready == nil || *e.Conditions.Ready) {
			addrs = append(addrs, e.Addresses[0])
		}
	}
	if len(addrs) > 3 {
		return fmt.Sprintf("%s + %d more...", strings.Join(addrs[:3], ","), len(addrs)-3)
	}
	return orNone(strings.Join(addrs, ","))
}

// ofKind are the stored objects of a kind (as pod.Kind*).
func ofKind(known *pod.Objects, kind string) []metav1.Object {
	var list []metav1.Object
	known.Each(func(k string, o metav1.Object) {
		if k == kind {
			list = append(list, o)
		}
	})
	return list
}

// accessModeShort is kubectl's short form of an access mode.
var accessModeShort = map[corev1.PersistentVolumeAccessMode]string{
	corev1.ReadWriteOnce: "RWO", corev1.ReadOnlyMany: "ROX", corev1.ReadWriteMany: "RWX", corev1.ReadWriteOncePod: "RWOP",
}

// shortModes are access modes as kubectl lists them: RWO,RWX.
func shortModes(ms []corev1.PersistentVolumeAccessMode) string {
	short := make([]string, len(ms))
	for i, m := range ms {
		short[i] = accessModeShort[m]
	}
	return strings.Join(short, ",")
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// typed is a stored object with its apiVersion and kind, as the API serves it.
func typed(kind string, o metav1.Object) any {
	ro, ok := o.(runtime.Object)
	if !ok {
		return o
	}
	c := ro.DeepCopyObject()
	c.GetObjectKind().SetGroupVersionKind(schema.FromAPIVersionAndKind(pod.APIVersion(kind), kind))
	return c
}
