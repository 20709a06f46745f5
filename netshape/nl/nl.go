// Package nl applies netshape's token buckets with netlink in the current network
// namespace: podunit's shape helper runs it after entering the pod's namespace
// (a rootless pod's namespace belongs to podman's user namespace, which a
// threaded Go process cannot join itself: nsenter re-runs podunit there).
package nl

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/podunit/podunit/netshape"
)

// DefaultRouteLink is the interface that carries the default route (IPv4 first,
// then IPv6): the pod's way out, whatever its name.
func DefaultRouteLink() (netlink.Link, error) {
	for _, family := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		routes, err := netlink.RouteListFiltered(family, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
		if err != nil {
			return nil, fmt.Errorf("listing routes: %w", err)
		}
		for _, r := range routes {
			if (r.Dst == nil || r.Dst.IP.IsUnspecified() && isZeroMask(r.Dst.Mask)) && r.LinkIndex > 0 {
				return netlink.LinkByIndex(r.LinkIndex)
			}
		}
	}
	return nil, errors.New("no default route in this network namespace")
}

func isZeroMask(m []byte) bool {
	for _, b := range m {
		if b != 0 {
			return false
		}
	}
	return true
}

// Apply shapes the default-route interface as spec asks, replacing any shaping
// podunit applied before.
func Apply(spec netshape.Spec) (*State, error) {
	link, err := DefaultRouteLink()
	if err != nil {
		return nil, err
	}
	if err := Remove(); err != nil {
		return nil, err
	}
	mtu := uint32(link.Attrs().MTU)
	tick := netlink.TickInUsec()
	if spec.EgressRateBitsPerSec > 0 {
		tbf, err := netshape.Compute(spec.EgressRateBitsPerSec, spec.EgressBurstBits, mtu, tick)
		if err != nil {
			return nil, fmt.Errorf("egress: %w", err)
		}
		if err := netlink.QdiscReplace(tbfQdisc(link.Attrs().Index, tbf)); err != nil {
			return nil, fmt.Errorf("egress: adding tbf on %s: %w", link.Attrs().Name, err)
		}
	}
	if spec.IngressRateBitsPerSec > 0 {
		tbf, err := netshape.Compute(spec.IngressRateBitsPerSec, spec.IngressBurstBits, mtu, tick)
		if err != nil {
			return nil, fmt.Errorf("ingress: %w", err)
		}
		ifb := &netlink.Ifb{LinkAttrs: netlink.LinkAttrs{Name: netshape.IFBName, MTU: int(mtu), TxQLen: 1000}}
		if err := netlink.LinkAdd(ifb); err != nil {
			return nil, fmt.Errorf("ingress: adding %s: %w", netshape.IFBName, err)
		}
		dev, err := netlink.LinkByName(netshape.IFBName)
		if err != nil {
			return nil, err
		}
		if err := netlink.LinkSetUp(dev); err != nil {
			return nil, fmt.Errorf("ingress: %s up: %w", netshape.IFBName, err)
		}
		if err := netlink.QdiscReplace(tbfQdisc(dev.Attrs().Index, tbf)); err != nil {
			return nil, fmt.Errorf("ingress: adding tbf on %s: %w", netshape.IFBName, err)
		}
		ingress := &netlink.Ingress{QdiscAttrs: netlink.QdiscAttrs{
			LinkIndex: link.Attrs().Index, Handle: netlink.MakeHandle(0xffff, 0), Parent: netlink.HANDLE_INGRESS}}
		if err := netlink.QdiscAdd(ingress); err != nil {
			return nil, fmt.Errorf("ingress: adding the ingress qdisc on %s: %w", link.Attrs().Name, err)
		}
		// Match every packet and redirect it to the IFB's egress, where the TBF is.
		filter := &netlink.U32{
			FilterAttrs: netlink.FilterAttrs{LinkIndex: link.Attrs().Index, Parent: ingress.Handle,
				Priority: 1, Protocol: unix.ETH_P_ALL},
			ClassId: netlink.MakeHandle(1, 1),
			Actions: []netlink.Action{netlink.NewMirredAction(dev.Attrs().Index)},
		}
		if err := netlink.FilterAdd(filter); err != nil {
			return nil, fmt.Errorf("ingress: adding the redirect filter on %s: %w", link.Attrs().Name, err)
		}
	}
	return Show()
}

func tbfQdisc(linkIndex int, t netshape.TBF) *netlink.Tbf {
	return &netlink.Tbf{
		QdiscAttrs: netlink.QdiscAttrs{LinkIndex: linkIndex, Handle: netlink.MakeHandle(1, 0), Parent: netlink.HANDLE_ROOT},
		Rate:       t.RateBytesPerSec,
		Limit:      t.LimitBytes,
		Buffer:     t.BufferTicks,
	}
}

// Remove takes away whatever Apply set up. It is idempotent: what is not there
// is not an error.
func Remove() error {
	if l, err := netlink.LinkByName(netshape.IFBName); err == nil {
		if err := netlink.LinkDel(l); err != nil && !notFound(err) {
			return fmt.Errorf("removing %s: %w", netshape.IFBName, err)
		}
	}
	link, err := DefaultRouteLink()
	if err != nil {
		return nil // no interface, nothing shaped
	}
	qs, err := netlink.QdiscList(link)
	if err != nil {
		return err
	}
	for _, q := range qs {
		switch q.(type) {
		case *netlink.Tbf, *netlink.Ingress:
			if err := netlink.QdiscDel(q); err != nil && !notFound(err) {
				return fmt.Errorf("removing %s qdisc on %s: %w", q.Type(), link.Attrs().Name, err)
			}
		}
	}
	return nil
}

func notFound(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ENODEV) || errors.Is(err, syscall.EINVAL) || os.IsNotExist(err)
}

// State is the shaping in effect, read back from the kernel.
type State struct {
	Link     string    `json:"link"`
	MTU      int       `json:"mtu"`
	Egress   *TBFState `json:"egress,omitempty"`
	Ingress  *TBFState `json:"ingress,omitempty"`
	Redirect bool      `json:"redirect"` // the ingress filter redirects to the IFB device
}

// TBFState is one token bucket as the kernel holds it.
type TBFState struct {
	Device         string `json:"device"`
	RateBitsPerSec uint64 `json:"rateBitsPerSec"`
	BurstBytes     uint32 `json:"burstBytes"`
	LimitBytes     uint32 `json:"limitBytes"`
}

// Show reads the shaping of the default-route interface from the kernel.
func Show() (*State, error) {
	link, err := DefaultRouteLink()
	if err != nil {
		return nil, err
	}
	st := &State{Link: link.Attrs().Name, MTU: link.Attrs().MTU}
	st.Egress, err = tbfOf(link)
	if err != nil {
		return nil, err
	}
	if dev, err := netlink.LinkByName(netshape.IFBName); err == nil {
		if st.Ingress, err = tbfOf(dev); err != nil {
			return nil, err
		}
		fs, err := netlink.FilterList(link, netlink.MakeHandle(0xffff, 0))
		if err == nil {
			for _, f := range fs {
				if u, ok := f.(*netlink.U32); ok {
					for _, a := range u.Actions {
						if m, ok := a.(*netlink.MirredAction); ok && m.Ifindex == dev.Attrs().Index {
							st.Redirect = true
						}
					}
				}
			}
		}
	}
	return st, nil
}

func tbfOf(link netlink.Link) (*TBFState, error) {
	qs, err := netlink.QdiscList(link)
	if err != nil {
		return nil, err
	}
	for _, q := range qs {
		if t, ok := q.(*netlink.Tbf); ok && t.Parent == netlink.HANDLE_ROOT {
			return &TBFState{Device: link.Attrs().Name, RateBitsPerSec: t.Rate * 8,
				BurstBytes: netlink.Xmitsize(t.Rate, t.Buffer), LimitBytes: t.Limit}, nil
		}
	}
	return nil, nil
}

// String says what the kernel has, in tc's words.
func (st *State) String() string {
	var parts []string
	if e := st.Egress; e != nil {
		parts = append(parts, fmt.Sprintf("egress %s (tbf on %s, burst %d bytes, limit %d bytes)",
			netshape.FormatRate(e.RateBitsPerSec), e.Device, e.BurstBytes, e.LimitBytes))
	}
	if i := st.Ingress; i != nil {
		redirect := "NOT redirected"
		if st.Redirect {
			redirect = "redirected from " + st.Link + " ingress"
		}
		parts = append(parts, fmt.Sprintf("ingress %s (tbf on %s, %s, burst %d bytes, limit %d bytes)",
			netshape.FormatRate(i.RateBitsPerSec), i.Device, redirect, i.BurstBytes, i.LimitBytes))
	}
	if len(parts) == 0 {
		return "none on " + st.Link
	}
	return strings.Join(parts, "; ")
}
