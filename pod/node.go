package pod

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// MatchNode checks the pod's nodeSelector against this host's labels. Like the
// scheduler, every selector entry must match exactly; a pod that could not be
// scheduled here is refused rather than run in the wrong place.
func MatchNode(p *corev1.Pod, nodeLabels map[string]string) error {
	var miss []string
	for k, want := range p.Spec.NodeSelector {
		if got, ok := nodeLabels[k]; !ok || got != want {
			if ok {
				miss = append(miss, fmt.Sprintf("spec.nodeSelector[%s]: wants %q, this host has %q", k, want, got))
			} else {
				miss = append(miss, fmt.Sprintf("spec.nodeSelector[%s]: wants %q, this host has no such label", k, want))
			}
		}
	}
	if len(miss) == 0 {
		return nil
	}
	sort.Strings(miss)
	return fmt.Errorf("%w: pod %q does not fit this host:\n  %s", ErrInvalid, p.Name, strings.Join(miss, "\n  "))
}
