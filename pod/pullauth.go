package pod

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// PullAuth is what spec.imagePullSecrets resolved to: the registries'
// credentials from the named Secrets, merged in the order given (the first
// Secret that names a registry wins), in the auth file format podman reads.
type PullAuth struct {
	// Secrets and Registries name them, for messages; AuthFile holds the
	// credentials and is never shown.
	Secrets    []string
	Registries []string
	AuthFile   []byte
	// From names the Secret whose credentials each registry has.
	From map[string]string
}

// Registry returns the registry of AuthFile whose credentials an image
// reference uses ("" when none): the longest key that is the image's
// registry or a repository prefix of it, as podman matches them.
func (a *PullAuth) Registry(image string) string {
	if a == nil {
		return ""
	}
	best := ""
	for _, r := range a.Registries {
		if (image == r || strings.HasPrefix(image, r+"/")) && len(r) > len(best) {
			best = r
		}
	}
	return best
}

// dockerEntry is one registry's entry in .dockerconfigjson or .dockercfg.
type dockerEntry struct {
	Auth          string `json:"auth,omitempty"`
	Username      string `json:"username,omitempty"`
	Password      string `json:"password,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
	Email         string `json:"email,omitempty"`
}

// authEntry is one registry's entry in podman's auth file.
type authEntry struct {
	Auth          string `json:"auth,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
}

// bindPullSecrets resolves spec.imagePullSecrets. The kubelet only warns
// about a missing one and pulls without it; on one host the Secret is
// defined beside the pod or nowhere, so a missing or unusable one is an
// error, like every other reference that is not optional.
func bindPullSecrets(p *corev1.Pod, objs *Objects) (*PullAuth, field.ErrorList) {
	if len(p.Spec.ImagePullSecrets) == 0 {
		return nil, nil
	}
	var errs field.ErrorList
	auth := &PullAuth{From: map[string]string{}}
	auths := map[string]authEntry{}
	for i, ref := range p.Spec.ImagePullSecrets {
		np := field.NewPath("spec", "imagePullSecrets").Index(i).Child("name")
		if ref.Name == "" {
			errs = append(errs, field.Required(np, "the name of a kubernetes.io/dockerconfigjson Secret"))
			continue
		}
		s := objs.Secret(p.Namespace, ref.Name)
		if s == nil {
			errs = append(errs, notFound(np, KindSecret, p.Namespace, ref.Name))
			continue
		}
		var entries map[string]dockerEntry
		var key string
		switch s.Type {
		case corev1.SecretTypeDockerConfigJson:
			key = corev1.DockerConfigJsonKey
			var doc struct {
				Auths map[string]dockerEntry `json:"auths"`
			}
			if err := json.Unmarshal(s.Data[key], &doc); err != nil {
				errs = append(errs, field.Invalid(np, ref.Name, fmt.Sprintf("Secret %s/%s: %s must hold {\"auths\": {REGISTRY: {\"auth\": ...}}}: %v", p.Namespace, ref.Name, key, err)))
				continue
			}
			entries = doc.Auths
		case corev1.SecretTypeDockercfg:
			key = corev1.DockerConfigKey
			if err := json.Unmarshal(s.Data[key], &entries); err != nil {
				errs = append(errs, field.Invalid(np, ref.Name, fmt.Sprintf("Secret %s/%s: %s must hold {REGISTRY: {\"auth\": ...}}: %v", p.Namespace, ref.Name, key, err)))
				continue
			}
		default:
			errs = append(errs, field.Invalid(np, ref.Name, fmt.Sprintf("Secret %s/%s is of type %s: image pull secrets must be of type %s or %s",
				p.Namespace, ref.Name, s.Type, corev1.SecretTypeDockerConfigJson, corev1.SecretTypeDockercfg)))
			continue
		}
		if len(entries) == 0 {
			errs = append(errs, field.Invalid(np, ref.Name, fmt.Sprintf("Secret %s/%s: %s names no registry", p.Namespace, ref.Name, key)))
			continue
		}
		auth.Secrets = append(auth.Secrets, ref.Name)
		regs := make([]string, 0, len(entries))
		for r := range entries {
			regs = append(regs, r)
		}
		sort.Strings(regs)
		for _, r := range regs {
			e := entries[r]
			reg := normalizeRegistry(r)
			if reg == "" {
				errs = append(errs, field.Invalid(np, ref.Name, fmt.Sprintf("Secret %s/%s: %s: registry %q is not a registry host", p.Namespace, ref.Name, key, r)))
				continue
			}
			out := authEntry{Auth: e.Auth, IdentityToken: e.IdentityToken}
			if out.Auth == "" && (e.Username != "" || e.Password != "") {
				out.Auth = base64.StdEncoding.EncodeToString([]byte(e.Username + ":" + e.Password))
			}
			if out.Auth != "" {
				dec, err := base64.StdEncoding.DecodeString(out.Auth)
				if err != nil || !strings.Contains(string(dec), ":") {
					// never echo the value: it is the password
					errs = append(errs, field.Invalid(np, ref.Name, fmt.Sprintf("Secret %s/%s: %s: the auth of registry %s must be base64 of USER:PASSWORD", p.Namespace, ref.Name, key, reg)))
					continue
				}
			}
			if out.Auth == "" && out.IdentityToken == "" {
				errs = append(errs, field.Invalid(np, ref.Name, fmt.Sprintf("Secret %s/%s: %s: registry %s has no auth, username/password or identitytoken", p.Namespace, ref.Name, key, reg)))
				continue
			}
			if _, ok := auths[reg]; !ok {
				auths[reg] = out
				auth.Registries = append(auth.Registries, reg)
				auth.From[reg] = ref.Name
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	sort.Strings(auth.Registries)
	data, err := json.Marshal(map[string]any{"auths": auths})
	if err != nil {
		return nil, field.ErrorList{field.InternalError(field.NewPath("spec", "imagePullSecrets"), err)}
	}
	auth.AuthFile = data
	return auth, nil
}

// normalizeRegistry turns a docker config key ("https://index.docker.io/v1/",
// "registry.example:5000", "http://10.0.0.1:5000/v2/") into the key podman's
// auth file uses: host[:port][/path], docker.io for Docker Hub.
func normalizeRegistry(key string) string {
	k := strings.TrimSpace(key)
	for _, scheme := range []string{"https://", "http://"} {
		k = strings.TrimPrefix(k, scheme)
	}
	k = strings.TrimSuffix(k, "/")
	for _, api := range []string{"/v1", "/v2"} {
		k = strings.TrimSuffix(k, api)
	}
	k = strings.TrimSuffix(k, "/")
	host, rest, _ := strings.Cut(k, "/")
	switch host {
	case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		host = "docker.io"
	}
	if host == "" || strings.ContainsAny(host, " \t@") {
		return ""
	}
	if rest != "" {
		return host + "/" + rest
	}
	return host
}
