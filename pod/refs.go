package pod

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
)

// Refs are the names of the objects a pod refers to, in its namespace.
type Refs struct {
	ConfigMaps, Secrets, Claims []string
	ServiceAccount              string
}

// References lists the ConfigMaps, Secrets and PersistentVolumeClaims a pod
// refers to (env, envFrom, imagePullSecrets, volumes and projected sources),
// sorted and unique, and the service account it runs as.
func References(p *corev1.Pod) Refs {
	cms, secs, claims := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, list := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for _, c := range list {
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					continue
				}
				if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
					cms[r.Name] = true
				}
				if r := e.ValueFrom.SecretKeyRef; r != nil {
					secs[r.Name] = true
				}
			}
			for _, e := range c.EnvFrom {
				if e.ConfigMapRef != nil {
					cms[e.ConfigMapRef.Name] = true
				}
				if e.SecretRef != nil {
					secs[e.SecretRef.Name] = true
				}
			}
		}
	}
	for _, r := range p.Spec.ImagePullSecrets {
		if r.Name != "" {
			secs[r.Name] = true
		}
	}
	for _, v := range p.Spec.Volumes {
		switch {
		case v.ConfigMap != nil:
			cms[v.ConfigMap.Name] = true
		case v.Secret != nil:
			secs[v.Secret.SecretName] = true
		case v.PersistentVolumeClaim != nil:
			claims[v.PersistentVolumeClaim.ClaimName] = true
		case v.Projected != nil:
			for _, s := range v.Projected.Sources {
				if s.ConfigMap != nil {
					cms[s.ConfigMap.Name] = true
				}
				if s.Secret != nil {
					secs[s.Secret.Name] = true
				}
			}
		}
	}
	return Refs{ConfigMaps: sortedSet(cms), Secrets: sortedSet(secs), Claims: sortedSet(claims), ServiceAccount: ServiceAccountName(p)}
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Only keeps the objects of o that a pod refers to.
func (o *Objects) Only(ns string, r Refs) *Objects {
	out := &Objects{}
	for _, n := range r.ConfigMaps {
		if c := o.ConfigMap(ns, n); c != nil {
			out.ConfigMaps = append(out.ConfigMaps, c)
		}
	}
	for _, n := range r.Secrets {
		if s := o.Secret(ns, n); s != nil {
			out.Secrets = append(out.Secrets, s)
		}
	}
	for _, n := range r.Claims {
		if c := o.Claim(ns, n); c != nil {
			out.Claims = append(out.Claims, c)
		}
	}
	if sa := o.ServiceAccount(ns, r.ServiceAccount); sa != nil {
		out.ServiceAccounts = append(out.ServiceAccounts, sa)
	}
	return out
}
