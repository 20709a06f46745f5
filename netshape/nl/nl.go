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
	if len(spec.LocalPorts) > 0 {
		if err := applyLocal(link, spec); err != nil {
			return nil, fmt.Errorf("published ports: %w", err)
		}
	}
	return Show()
}

// localHandle is the htb qdisc on the loopback interface that sorts the
// traffic of published ports into its two shaped classes (2:1 to the pod,
// 2:2 from it); all else is not classified and passes unshaped (htb's
// default 0). The kernels podunit runs on need not have prio; they have htb.
var localHandle = netlink.MakeHandle(2, 0)

// applyLocal shapes, on the loopback interface, the traffic between the
// pod's address and itself on its published ports: where podman's forwarder
// for bridge networks delivers them.
func applyLocal(link netlink.Link, spec netshape.Spec) error {
	podIP, err := linkIPv4(link)
	if err != nil {
		return err
	}
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return err
	}
	htb := netlink.NewHtb(netlink.QdiscAttrs{LinkIndex: lo.Attrs().Index, Handle: localHandle, Parent: netlink.HANDLE_ROOT})
	if err := netlink.QdiscReplace(htb); err != nil {
		return fmt.Errorf("adding htb on lo: %w", err)
	}
	ip := uint32(podIP[0])<<24 | uint32(podIP[1])<<16 | uint32(podIP[2])<<8 | uint32(podIP[3])
	for band, dir := range []struct {
		rate, burst uint64
		toPod       bool
	}{{spec.IngressRateBitsPerSec, spec.IngressBurstBits, true}, {spec.EgressRateBitsPerSec, spec.EgressBurstBits, false}} {
		if dir.rate == 0 {
			continue
		}
		class := netlink.MakeHandle(2, uint16(band+1))
		// htb queues what exceeds the rate instead of dropping it, so the
		// sender is not punished for a small bucket: 100 ms of traffic (at
		// least 16 KiB), unless the pod names its burst.
		burst := uint32(min(max(dir.rate/8/10, 16*1024), uint64(^uint32(0))))
		if dir.burst > 0 {
			burst = uint32(min(dir.burst/8, uint64(^uint32(0))))
		}
		hc := netlink.NewHtbClass(netlink.ClassAttrs{LinkIndex: lo.Attrs().Index, Parent: localHandle, Handle: class},
			netlink.HtbClassAttrs{Rate: dir.rate, Ceil: dir.rate, Buffer: burst, Cbuffer: burst})
		if err := netlink.ClassReplace(hc); err != nil {
			return fmt.Errorf("adding an htb class on lo: %w", err)
		}
		for i, p := range spec.LocalPorts {
			proto := uint32(unix.IPPROTO_TCP)
			if p.Proto == "udp" {
				proto = unix.IPPROTO_UDP
			}
			// IPv4 without options: protocol at byte 9, source and
			// destination addresses at 12 and 16, ports at 20 and 22.
			port := netlink.TcU32Key{Mask: 0x0000ffff, Val: uint32(p.Port), Off: 20}
			if !dir.toPod {
				port = netlink.TcU32Key{Mask: 0xffff0000, Val: uint32(p.Port) << 16, Off: 20}
			}
			f := &netlink.U32{
				FilterAttrs: netlink.FilterAttrs{LinkIndex: lo.Attrs().Index, Parent: localHandle,
					Priority: uint16(1 + band*1000 + i), Protocol: unix.ETH_P_IP},
				ClassId: class,
				Sel: &netlink.TcU32Sel{Flags: netlink.TC_U32_TERMINAL, Keys: []netlink.TcU32Key{
					{Mask: 0x00ff0000, Val: proto << 16, Off: 8},
					{Mask: 0xffffffff, Val: ip, Off: 12},
					{Mask: 0xffffffff, Val: ip, Off: 16},
					port,
				}},
			}
			if err := netlink.FilterAdd(f); err != nil {
				return fmt.Errorf("adding a filter on lo: %w", err)
			}
		}
	}
	return nil
}

func linkIPv4(link netlink.Link) ([4]byte, error) {
	addrs, err := netlink.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return [4]byte{}, err
	}
	for _, a := range addrs {
		if v4 := a.IP.To4(); v4 != nil {
			return [4]byte(v4), nil
		}
	}
	return [4]byte{}, fmt.Errorf("%s has no IPv4 address", link.Attrs().Name)
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
	if lo, err := netlink.LinkByName("lo"); err == nil {
		qs, _ := netlink.QdiscList(lo)
		for _, q := range qs {
			if q.Attrs().Handle == localHandle && q.Attrs().Parent == netlink.HANDLE_ROOT {
				if err := netlink.QdiscDel(q); err != nil && !notFound(err) {
					return fmt.Errorf("removing the htb qdisc on lo: %w", err)
				}
			}
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
	// Local is the shaping of published ports on the loopback interface.
	Local *LocalState `json:"local,omitempty"`
}

// LocalState is the shaping on the loopback interface: the htb classes (as
// rates and bursts) and how many filters sort traffic into them.
type LocalState struct {
	Ingress *TBFState `json:"ingress,omitempty"`
	Egress  *TBFState `json:"egress,omitempty"`
	Filters int       `json:"filters"`
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
	if lo, err := netlink.LinkByName("lo"); err == nil {
		cs, _ := netlink.ClassList(lo, localHandle)
		for _, c := range cs {
			h, ok := c.(*netlink.HtbClass)
			if !ok {
				continue
			}
			ts := &TBFState{Device: "lo", RateBitsPerSec: h.Rate * 8, BurstBytes: netlink.Xmitsize(h.Rate, h.Buffer)}
			if st.Local == nil {
				st.Local = &LocalState{}
			}
			switch h.Handle {
			case netlink.MakeHandle(2, 1):
				st.Local.Ingress = ts
			case netlink.MakeHandle(2, 2):
				st.Local.Egress = ts
			}
		}
		if st.Local != nil {
			fs, _ := netlink.FilterList(lo, localHandle)
			st.Local.Filters = len(fs)
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
	if l := st.Local; l != nil {
		var dirs []string
		if l.Ingress != nil {
			dirs = append(dirs, "ingress "+netshape.FormatRate(l.Ingress.RateBitsPerSec))
		}
		if l.Egress != nil {
			dirs = append(dirs, "egress "+netshape.FormatRate(l.Egress.RateBitsPerSec))
		}
		parts = append(parts, fmt.Sprintf("published ports: %s (htb on lo, %d filters)", strings.Join(dirs, ", "), l.Filters))
	}
	if len(parts) == 0 {
		return "none on " + st.Link
	}
	return strings.Join(parts, "; ")
}
