package pod

import (
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podunit/podunit/netshape"
)

// Valid bandwidth rates, as the kubelet checks them: from 1k to 1P bits per second.
var (
	minBandwidth = resource.MustParse("1k")
	maxBandwidth = resource.MustParse("1P")
)

// BandwidthFromAnnotations reads and checks the bandwidth annotations of a pod. Errors
// name the annotation: metadata.annotations[kubernetes.io/ingress-bandwidth].
func BandwidthFromAnnotations(annotations map[string]string) (netshape.Spec, field.ErrorList) {
	var s netshape.Spec
	var errs field.ErrorList
	ap := field.NewPath("metadata", "annotations")
	rate := func(key string, dst *uint64) {
		v, ok := annotations[key]
		if !ok {
			return
		}
		q, err := resource.ParseQuantity(strings.TrimSpace(v))
		switch {
		case err != nil:
			errs = append(errs, field.Invalid(ap.Key(key), v, "must be a quantity of bits per second such as 10M"))
		case q.Cmp(minBandwidth) < 0:
			errs = append(errs, field.Invalid(ap.Key(key), v, "must be at least 1k (bits per second)"))
		case q.Cmp(maxBandwidth) > 0:
			errs = append(errs, field.Invalid(ap.Key(key), v, "must be at most 1P (bits per second)"))
		default:
			*dst = uint64(q.Value())
		}
	}
	burst := func(key string, dst *uint64, rateKey string) {
		v, ok := annotations[key]
		if !ok {
			return
		}
		q, err := resource.ParseQuantity(strings.TrimSpace(v))
		switch {
		case err != nil:
			errs = append(errs, field.Invalid(ap.Key(key), v, "must be a quantity of bits such as 1Mi"))
		case q.Sign() <= 0:
			errs = append(errs, field.Invalid(ap.Key(key), v, "must be greater than zero"))
		case q.Cmp(resource.MustParse("32Gi")) > 0:
			errs = append(errs, field.Invalid(ap.Key(key), v, "must be at most 32Gi (bits)"))
		case annotations[rateKey] == "":
			errs = append(errs, field.Required(ap.Key(rateKey), key+" needs a rate"))
		default:
			*dst = uint64(q.Value())
		}
	}
	rate(netshape.IngressAnnotation, &s.IngressRateBitsPerSec)
	rate(netshape.EgressAnnotation, &s.EgressRateBitsPerSec)
	burst(netshape.IngressBurstAnnotation, &s.IngressBurstBits, netshape.IngressAnnotation)
	burst(netshape.EgressBurstAnnotation, &s.EgressBurstBits, netshape.EgressAnnotation)
	return s, errs
}
