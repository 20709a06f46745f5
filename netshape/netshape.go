// Package netshape turns a pod's bandwidth (read from its Kubernetes
// annotations by package pod) into tc token-bucket parameters. It is pure:
// arithmetic only; the netlink side lives in netshape/nl and runs inside the
// pod's network namespace.
//
// Directions are the pod's: egress is traffic leaving the pod (shaped by a TBF
// on the interface of its default route), ingress is traffic entering it
// (redirected from that interface's ingress to an IFB device carrying a TBF).
package netshape

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// The annotations, as Kubernetes names them. The burst annotations are
// podunit's, in the same style: a resource quantity in bits.
const (
	IngressAnnotation      = "kubernetes.io/ingress-bandwidth"
	EgressAnnotation       = "kubernetes.io/egress-bandwidth"
	IngressBurstAnnotation = "kubernetes.io/ingress-burst"
	EgressBurstAnnotation  = "kubernetes.io/egress-burst"
)

// Spec is what a pod asks for; a zero rate means that direction is not shaped.
type Spec struct {
	IngressRateBitsPerSec uint64
	EgressRateBitsPerSec  uint64
	IngressBurstBits      uint64 // 0: the default burst
	EgressBurstBits       uint64
	// LocalPorts are the pod's published ports when podman's port
	// forwarder reaches the pod from inside its own network namespace (a
	// pod on a bridge network): that traffic runs over the loopback
	// interface, between the pod's address and itself, and is shaped there.
	LocalPorts []Port `json:",omitempty"`
}

// Port is a container port: "tcp" or "udp", and its number.
type Port struct {
	Proto string `json:"proto"`
	Port  uint16 `json:"port"`
}

// Empty tells whether nothing is shaped.
func (s Spec) Empty() bool { return s.IngressRateBitsPerSec == 0 && s.EgressRateBitsPerSec == 0 }

// Latency is how long a packet may wait in a TBF queue, as in the CNI bandwidth
// plugin.
const Latency = 25 * time.Millisecond

// DefaultBurstTime is the default burst: this much traffic at the full rate, so
// short bursts pass while the long-run rate holds. The burst is never less than
// MinBurstBytes, nor than two packets of the link's MTU (TBF drops a packet
// larger than its bucket). Smaller buckets (and so queues) make TCP senders
// lose packets and fall well below the rate, above all slirp4netns' TCP,
// which carries rootless pods' traffic: measured 57% of 3 Mbit/s with a 100 ms
// burst, 97-103% with 500 ms.
const (
	DefaultBurstTime = 500 * time.Millisecond
	MinBurstBytes    = 64 * 1024
)

// TBF holds the values of one tc token bucket filter.
type TBF struct {
	RateBytesPerSec uint64
	BurstBytes      uint64
	LimitBytes      uint32 // queue: rate * latency + burst
	BufferTicks     uint32 // the burst as transmission time, in psched ticks
	Latency         time.Duration
}

// Compute derives the TBF for a rate (and burst, 0 for the default) on a link
// of the given MTU. ticksPerUsec is the kernel's psched clock (netlink's
// TickInUsec): passed in to keep this function pure.
func Compute(rateBitsPerSec, burstBits uint64, mtu uint32, ticksPerUsec float64) (TBF, error) {
	if rateBitsPerSec < 8 {
		return TBF{}, fmt.Errorf("rate %d bit/s is too low", rateBitsPerSec)
	}
	rate := rateBitsPerSec / 8
	burst := burstBits / 8
	if burstBits == 0 {
		burst = uint64(float64(rate) * DefaultBurstTime.Seconds())
		if burst < MinBurstBytes {
			burst = MinBurstBytes
		}
		if min := 2 * uint64(mtu); burst < min {
			burst = min
		}
		// At very low rates the floor would be minutes of traffic, more than
		// the kernel's 32-bit tick count holds: take the largest bucket that
		// fits, as long as two packets still do.
		maxFit := uint64(float64(math.MaxUint32) / ticksPerUsec / 1e6 * float64(rate))
		if burst > maxFit && maxFit >= 2*uint64(mtu) {
			burst = maxFit
		}
	}
	// The buffer is the time to send the burst at the rate, in ticks, and must
	// fit in 32 bits.
	bufferUsec := float64(burst) * 1e6 / float64(rate)
	ticks := bufferUsec * ticksPerUsec
	if ticks > math.MaxUint32 {
		return TBF{}, fmt.Errorf("a burst of %d bytes at %d bytes/s is %s of traffic: too long for the kernel's token bucket; lower the burst or raise the rate",
			burst, rate, time.Duration(bufferUsec)*time.Microsecond)
	}
	limit := float64(rate)*Latency.Seconds() + float64(burst)
	if limit > math.MaxUint32 {
		limit = math.MaxUint32
	}
	return TBF{RateBytesPerSec: rate, BurstBytes: burst, LimitBytes: uint32(limit), BufferTicks: uint32(ticks), Latency: Latency}, nil
}

// IFBName is the IFB device that carries a pod's ingress shaping. It lives in
// the pod's own network namespace, so one fixed name serves every pod; it stays
// within the kernel's 15 bytes.
const IFBName = "podunit-ifb0"

// FormatRate prints a rate in bits per second the way tc does: 2Mbit, 500Kbit.
func FormatRate(bitsPerSec uint64) string {
	switch {
	case bitsPerSec >= 1e9 && bitsPerSec%1e6 == 0:
		return trimFloat(float64(bitsPerSec)/1e9) + "Gbit"
	case bitsPerSec >= 1e6:
		return trimFloat(float64(bitsPerSec)/1e6) + "Mbit"
	case bitsPerSec >= 1e3:
		return trimFloat(float64(bitsPerSec)/1e3) + "Kbit"
	}
	return fmt.Sprintf("%dbit", bitsPerSec)
}

func trimFloat(f float64) string {
	s := fmt.Sprintf("%.3f", f)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
