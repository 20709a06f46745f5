package nft

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	corev1 "k8s.io/api/core/v1"

	"github.com/podunit/podunit/cluster"
)

// TestRules: the address of the peer is the source for ingress and the
// destination for egress, masked to its prefix; exceptions compare not
// equal; a port range is two comparisons.
func TestRules(t *testing.T) {
	allows := []cluster.Allow{
		{Net: netip.MustParsePrefix("10.0.0.0/8"), Except: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}, Protocol: corev1.ProtocolTCP, From: 80, To: 90},
		{Net: netip.MustParsePrefix("2001:db8::1/128"), Protocol: corev1.ProtocolUDP, From: 53, To: 53},
		{},
	}
	for _, in := range []bool{true, false} {
		rules := Rules(allows, in)
		if len(rules) != 2+len(allows) {
			t.Fatalf("in=%v: %d rules", in, len(rules))
		}
		// replies, then loopback by the right interface
		if _, ok := rules[0][0].(*expr.Ct); !ok {
			t.Errorf("in=%v: the first rule is not the replies': %#v", in, rules[0])
		}
		key := rules[1][0].(*expr.Meta).Key
		if (in && key != expr.MetaKeyIIFNAME) || (!in && key != expr.MetaKeyOIFNAME) {
			t.Errorf("in=%v: loopback by %v", in, key)
		}
		r := rules[2]
		var loads []uint32
		var cmps []expr.CmpOp
		var masks [][]byte
		for _, e := range r {
			switch x := e.(type) {
			case *expr.Payload:
				loads = append(loads, x.Offset)
			case *expr.Cmp:
				cmps = append(cmps, x.Op)
			case *expr.Bitwise:
				masks = append(masks, x.Mask)
			}
		}
		src := uint32(12)
		if !in {
			src = 16
		}
		// the address, the exception, the port
		if len(loads) != 3 || loads[0] != src || loads[1] != src || loads[2] != 2 {
			t.Errorf("in=%v: loads at %v", in, loads)
		}
		if len(masks) != 2 || !bytes.Equal(masks[0], []byte{255, 0, 0, 0}) || !bytes.Equal(masks[1], []byte{255, 255, 0, 0}) {
			t.Errorf("in=%v: masks %v", in, masks)
		}
		want := []expr.CmpOp{expr.CmpOpEq, expr.CmpOpEq, expr.CmpOpNeq, expr.CmpOpEq, expr.CmpOpGte, expr.CmpOpLte}
		if len(cmps) != len(want) {
			t.Fatalf("in=%v: comparisons %v, want %v", in, cmps, want)
		}
		for i := range want {
			if cmps[i] != want[i] {
				t.Errorf("in=%v: comparisons %v, want %v", in, cmps, want)
				break
			}
		}
		if v, ok := r[len(r)-1].(*expr.Verdict); !ok || v.Kind != expr.VerdictAccept {
			t.Errorf("in=%v: the rule does not end in accept", in)
		}
		// IPv6: 16 bytes at the address's offset
		for _, e := range rules[3] {
			if p, ok := e.(*expr.Payload); ok && p.Base == expr.PayloadBaseNetworkHeader {
				off := uint32(8)
				if !in {
					off = 24
				}
				if p.Offset != off || p.Len != 16 {
					t.Errorf("in=%v: IPv6 address at %d+%d", in, p.Offset, p.Len)
				}
			}
		}
		// any peer, any port: accept alone
		if len(rules[4]) != 1 {
			t.Errorf("in=%v: the rule for anything: %#v", in, rules[4])
		}
	}
}

// TestApply sets firewalls in a network namespace of its own (unshare -rn)
// and reads them back: a chain per isolated direction with policy drop,
// replaced whole by the next Apply, and the table gone when nothing is
// isolated.
func TestApply(t *testing.T) {
	if os.Getenv("PODUNIT_NFT_TEST") == "child" {
		applyInNetns(t)
		return
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("no unshare(1) to make a network namespace")
	}
	if out, err := exec.Command(unshare, "-rn", "true").CombinedOutput(); err != nil {
		t.Skipf("unshare -rn: %v: %s", err, out)
	}
	cmd := exec.Command(unshare, "-rn", os.Args[0], "-test.run=^TestApply$", "-test.v")
	cmd.Env = append(os.Environ(), "PODUNIT_NFT_TEST=child")
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestApply")) {
		t.Fatalf("in a network namespace of its own: %v\n%s", err, out)
	}
}

func applyInNetns(t *testing.T) {
	ns := "/proc/self/ns/net"
	one := []cluster.Allow{{Net: netip.MustParsePrefix("10.0.0.0/8")}}
	two := append(one, cluster.Allow{Protocol: corev1.ProtocolTCP, From: 80, To: 80})
	if err := Apply(ns, cluster.Firewall{Ingress: &one, Egress: &two}); err != nil {
		t.Fatal(err)
	}
	check := func(want map[string]int) {
		t.Helper()
		c, err := nftables.New()
		if err != nil {
			t.Fatal(err)
		}
		chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyINet)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, ch := range chains {
			if ch.Table.Name != Table {
				continue
			}
			if ch.Policy == nil || *ch.Policy != nftables.ChainPolicyDrop {
				t.Errorf("chain %s: policy %v, want drop", ch.Name, ch.Policy)
			}
			rules, err := c.GetRules(ch.Table, ch)
			if err != nil {
				t.Fatal(err)
			}
			got[ch.Name] = len(rules)
		}
		if len(got) != len(want) {
			t.Errorf("chains %v, want %v", got, want)
		}
		for k, n := range want {
			if got[k] != n {
				t.Errorf("chains %v, want %v", got, want)
			}
		}
	}
	check(map[string]int{"ingress": 3, "egress": 4})
	if err := Apply(ns, cluster.Firewall{Egress: &one}); err != nil {
		t.Fatal(err)
	}
	check(map[string]int{"egress": 3})
	if err := Apply(ns, cluster.Firewall{}); err != nil {
		t.Fatal(err)
	}
	check(map[string]int{})
	// removing what is not there is no error
	if err := Apply(ns, cluster.Firewall{}); err != nil {
		t.Fatal(err)
	}
}
