package pod

import (
	"reflect"
	"strings"
	"testing"

	"github.com/podunit/podunit/netshape"
)

func TestBandwidthBandwidthFromAnnotations(t *testing.T) {
	for _, c := range []struct {
		name    string
		ann     map[string]string
		want    netshape.Spec
		wantErr string
	}{
		{"none", nil, netshape.Spec{}, ""},
		{"decimal", map[string]string{netshape.IngressAnnotation: "3M", netshape.EgressAnnotation: "4M"}, netshape.Spec{IngressRateBitsPerSec: 3e6, EgressRateBitsPerSec: 4e6}, ""},
		{"binary", map[string]string{netshape.EgressAnnotation: "10Mi"}, netshape.Spec{EgressRateBitsPerSec: 10 * 1024 * 1024}, ""},
		{"lower bound", map[string]string{netshape.EgressAnnotation: "1k"}, netshape.Spec{EgressRateBitsPerSec: 1000}, ""},
		{"upper bound", map[string]string{netshape.EgressAnnotation: "1P"}, netshape.Spec{EgressRateBitsPerSec: 1e15}, ""},
		{"plain number", map[string]string{netshape.EgressAnnotation: "500000"}, netshape.Spec{EgressRateBitsPerSec: 500000}, ""},
		{"burst", map[string]string{netshape.EgressAnnotation: "1M", netshape.EgressBurstAnnotation: "64Ki"}, netshape.Spec{EgressRateBitsPerSec: 1e6, EgressBurstBits: 65536}, ""},
		{"below 1k", map[string]string{netshape.IngressAnnotation: "999"}, netshape.Spec{}, "metadata.annotations[kubernetes.io/ingress-bandwidth]: Invalid value: \"999\": must be at least 1k"},
		{"above 1P", map[string]string{netshape.EgressAnnotation: "2P"}, netshape.Spec{}, "metadata.annotations[kubernetes.io/egress-bandwidth]: Invalid value: \"2P\": must be at most 1P"},
		{"garbage", map[string]string{netshape.EgressAnnotation: "fast"}, netshape.Spec{}, "kubernetes.io/egress-bandwidth]: Invalid value: \"fast\": must be a quantity"},
		{"burst without rate", map[string]string{netshape.IngressBurstAnnotation: "1Mi"}, netshape.Spec{}, "kubernetes.io/ingress-bandwidth]: Required value"},
		{"zero burst", map[string]string{netshape.EgressAnnotation: "1M", netshape.EgressBurstAnnotation: "0"}, netshape.Spec{EgressRateBitsPerSec: 1e6}, "greater than zero"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, errs := BandwidthFromAnnotations(c.ann)
			if c.wantErr == "" {
				if len(errs) != 0 || !reflect.DeepEqual(got, c.want) {
					t.Errorf("got %+v %v, want %+v", got, errs, c.want)
				}
				return
			}
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), c.wantErr) {
				t.Errorf("errors %v, want one containing %q", errs, c.wantErr)
			}
		})
	}
}
