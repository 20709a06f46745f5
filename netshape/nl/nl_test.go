package nl

import (
	"net"
	"os"
	"runtime"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/podunit/podunit/netshape"
)

// inThrowawayNetns runs f in a new network namespace holding a veth pair whose
// one end carries the default route, as a pod's interface would.
func inThrowawayNetns(t *testing.T, f func(link netlink.Link)) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace (CI runs it as root)")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	ns, err := netns.New()
	if err != nil {
		t.Fatalf("new netns: %v", err)
	}
	defer func() {
		netns.Set(orig)
		ns.Close()
	}()
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "pod0", MTU: 1500}, PeerName: "peer0"}
	if err := netlink.LinkAdd(veth); err != nil {
		t.Fatal(err)
	}
	link, _ := netlink.LinkByName("pod0")
	peer, _ := netlink.LinkByName("peer0")
	for _, l := range []netlink.Link{link, peer} {
		if err := netlink.LinkSetUp(l); err != nil {
			t.Fatal(err)
		}
	}
	addr, _ := netlink.ParseAddr("10.199.0.1/24")
	if err := netlink.AddrAdd(link, addr); err != nil {
		t.Fatal(err)
	}
	if err := netlink.RouteAdd(&netlink.Route{LinkIndex: link.Attrs().Index, Gw: net.ParseIP("10.199.0.2")}); err != nil {
		t.Fatal(err)
	}
	f(link)
}

func TestApplyShowRemove(t *testing.T) {
	inThrowawayNetns(t, func(link netlink.Link) {
		got, err := DefaultRouteLink()
		if err != nil || got.Attrs().Name != "pod0" {
			t.Fatalf("default route link: %v %v", got, err)
		}
		spec := netshape.Spec{EgressRateBitsPerSec: 2e6, IngressRateBitsPerSec: 5e6}
		st, err := Apply(spec)
		if err != nil {
			t.Fatal(err)
		}
		if st.Link != "pod0" || st.Egress == nil || st.Egress.RateBitsPerSec != 2e6 || st.Egress.Device != "pod0" {
			t.Errorf("egress: %+v", st.Egress)
		}
		if st.Ingress == nil || st.Ingress.RateBitsPerSec != 5e6 || st.Ingress.Device != netshape.IFBName || !st.Redirect {
			t.Errorf("ingress: %+v redirect %v", st.Ingress, st.Redirect)
		}
		// burst read back from the kernel's ticks: within rounding of the 500 ms default
		if b := st.Egress.BurstBytes; b < 124900 || b > 125100 {
			t.Errorf("egress burst %d, want about 125000", b)
		}
		qs, _ := netlink.QdiscList(link)
		var ingress bool
		for _, q := range qs {
			if _, ok := q.(*netlink.Ingress); ok {
				ingress = true
			}
		}
		if !ingress {
			t.Error("no ingress qdisc on pod0")
		}
		// Applying again replaces, not stacks.
		if _, err := Apply(netshape.Spec{EgressRateBitsPerSec: 1e6}); err != nil {
			t.Fatal(err)
		}
		st, _ = Show()
		if st.Egress == nil || st.Egress.RateBitsPerSec != 1e6 || st.Ingress != nil || st.Redirect {
			t.Errorf("after re-apply: %+v", st)
		}
		for i := 0; i < 2; i++ { // idempotent
			if err := Remove(); err != nil {
				t.Fatalf("remove #%d: %v", i+1, err)
			}
		}
		st, _ = Show()
		if st.Egress != nil || st.Ingress != nil {
			t.Errorf("after remove: %+v", st)
		}
		if _, err := netlink.LinkByName(netshape.IFBName); err == nil {
			t.Error("IFB device left behind")
		}
	})
}
