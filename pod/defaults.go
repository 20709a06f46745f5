package pod

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// DefaultGracePeriodSeconds is Kubernetes' terminationGracePeriodSeconds default.
const DefaultGracePeriodSeconds = 30

// SetDefaults fills what the Kubernetes API server would fill for a Pod, for the
// fields podunit honours, so translation never has to guess.
func SetDefaults(p *corev1.Pod) {
	if p.Namespace == "" {
		p.Namespace = "default"
	}
	s := &p.Spec
	if s.RestartPolicy == "" {
		s.RestartPolicy = corev1.RestartPolicyAlways
	}
	if s.TerminationGracePeriodSeconds == nil {
		g := int64(DefaultGracePeriodSeconds)
		s.TerminationGracePeriodSeconds = &g
	}
	if s.DNSPolicy == "" {
		s.DNSPolicy = corev1.DNSClusterFirst
	}
	if s.EnableServiceLinks == nil {
		t := true
		s.EnableServiceLinks = &t
	}
	for i := range s.Volumes {
		if im := s.Volumes[i].Image; im != nil && im.PullPolicy == "" {
			im.PullPolicy = defaultPullPolicy(im.Reference)
		}
	}
	for i := range s.InitContainers {
		defaultContainer(&s.InitContainers[i])
	}
	for i := range s.Containers {
		defaultContainer(&s.Containers[i])
	}
	DefaultPodResources(s)
}

func defaultContainer(c *corev1.Container) {
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = corev1.TerminationMessagePathDefault
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
	}
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = defaultPullPolicy(c.Image)
	}
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = corev1.ProtocolTCP
		}
	}
	for i := range c.Env {
		if vf := c.Env[i].ValueFrom; vf != nil && vf.FieldRef != nil && vf.FieldRef.APIVersion == "" {
			vf.FieldRef.APIVersion = "v1"
		}
	}
}

// imageTag returns the tag of an image reference as Kubernetes judges it for the
// pull policy default: "latest" when there is neither tag nor digest.
func imageTag(image string) string {
	if strings.Contains(image, "@") {
		return "" // pinned by digest
	}
	last := image[strings.LastIndex(image, "/")+1:]
	if i := strings.LastIndex(last, ":"); i >= 0 {
		return last[i+1:]
	}
	return "latest"
}

// defaultPullPolicy is Always for an image of the tag latest (or none),
// IfNotPresent for any other.
func defaultPullPolicy(image string) corev1.PullPolicy {
	if imageTag(image) == "latest" {
		return corev1.PullAlways
	}
	return corev1.PullIfNotPresent
}
