// Package nft keeps a pod's NetworkPolicy firewall in its network namespace:
// one nftables table, podunit, with a chain for each direction a policy
// isolates (input for ingress, output for egress) that drops what none of
// its rules passes. Replies to what passed, and the pod's traffic with
// itself (loopback), always pass, as on a cluster.
package nft

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"

	"github.com/podunit/podunit/cluster"
)

// Table is the name of podunit's table (family inet) in a pod's network
// namespace.
const Table = "podunit"

// Apply sets fw in the network namespace at nsPath (/proc/PID/ns/net),
// replacing what podunit set there before in one transaction: a firewall
// that isolates nothing removes the table.
func Apply(nsPath string, fw cluster.Firewall) error {
	f, err := os.Open(nsPath)
	if err != nil {
		return err
	}
	defer f.Close()
	c, err := nftables.New(nftables.WithNetNSFd(int(f.Fd())))
	if err != nil {
		return err
	}
	Program(c, fw)
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables in %s: %w", nsPath, err)
	}
	return nil
}

// Program queues on c what Apply sends: the table added (so that deleting
// it cannot fail), deleted, and made again with fw's chains.
func Program(c *nftables.Conn, fw cluster.Firewall) {
	t := &nftables.Table{Name: Table, Family: nftables.TableFamilyINet}
	c.AddTable(t)
	c.DelTable(t)
	if !fw.Isolated() {
		return
	}
	c.AddTable(t)
	drop := nftables.ChainPolicyDrop
	for _, d := range []struct {
		name   string
		hook   *nftables.ChainHook
		allows *[]cluster.Allow
		in     bool
	}{{"ingress", nftables.ChainHookInput, fw.Ingress, true}, {"egress", nftables.ChainHookOutput, fw.Egress, false}} {
		if d.allows == nil {
			continue
		}
		ch := c.AddChain(&nftables.Chain{Name: d.name, Table: t, Type: nftables.ChainTypeFilter, Hooknum: d.hook, Priority: nftables.ChainPriorityFilter, Policy: &drop})
		for _, exprs := range Rules(*d.allows, d.in) {
			c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: exprs})
		}
	}
}

// Rules are a direction's rules in order: replies, loopback, then one rule
// for each Allow (in: the peer is the source).
func Rules(allows []cluster.Allow, in bool) [][]expr.Any {
	accept := &expr.Verdict{Kind: expr.VerdictAccept}
	ifname := expr.MetaKeyOIFNAME
	if in {
		ifname = expr.MetaKeyIIFNAME
	}
	out := [][]expr.Any{
		{
			&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
				Mask: binaryutil.NativeEndian.PutUint32(expr.CtStateBitESTABLISHED | expr.CtStateBitRELATED),
				Xor:  binaryutil.NativeEndian.PutUint32(0)},
			&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(0)},
			accept,
		},
		{
			&expr.Meta{Key: ifname, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ifName("lo")},
			accept,
		},
	}
	for _, a := range allows {
		var r []expr.Any
		if a.Net.IsValid() {
			r = append(r, family(a.Net.Addr())...)
			r = append(r, addrMatch(a.Net, in, expr.CmpOpEq)...)
			for _, e := range a.Except {
				if e.Addr().Is4() == a.Net.Addr().Is4() {
					r = append(r, addrMatch(e, in, expr.CmpOpNeq)...)
				}
			}
		}
		if a.Protocol != "" {
			r = append(r,
				&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{protoNum(a.Protocol)}})
			if a.From != 0 {
				r = append(r, &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2})
				if a.From == a.To {
					r = append(r, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: be16(a.From)})
				} else {
					r = append(r,
						&expr.Cmp{Op: expr.CmpOpGte, Register: 1, Data: be16(a.From)},
						&expr.Cmp{Op: expr.CmpOpLte, Register: 1, Data: be16(a.To)})
				}
			}
		}
		out = append(out, append(r, accept))
	}
	return out
}

// family matches packets of addr's family.
func family(addr netip.Addr) []expr.Any {
	nf := byte(unix.NFPROTO_IPV4)
	if !addr.Is4() {
		nf = unix.NFPROTO_IPV6
	}
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{nf}},
	}
}

// addrMatch compares the source (in) or destination address, masked to
// p's length, with p's.
func addrMatch(p netip.Prefix, in bool, op expr.CmpOp) []expr.Any {
	var off, n uint32 = 16, 4 // IPv4 destination
	switch {
	case p.Addr().Is4() && in:
		off = 12
	case !p.Addr().Is4() && in:
		off, n = 8, 16
	case !p.Addr().Is4():
		off, n = 24, 16
	}
	load := &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: n}
	addr := p.Masked().Addr().AsSlice()
	if p.Bits() == p.Addr().BitLen() {
		return []expr.Any{load, &expr.Cmp{Op: op, Register: 1, Data: addr}}
	}
	mask := make([]byte, n)
	for i := 0; i < p.Bits(); i++ {
		mask[i/8] |= 0x80 >> (i % 8)
	}
	return []expr.Any{load,
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: n, Mask: mask, Xor: make([]byte, n)},
		&expr.Cmp{Op: op, Register: 1, Data: addr}}
}

func protoNum(p corev1.Protocol) byte {
	switch p {
	case corev1.ProtocolUDP:
		return unix.IPPROTO_UDP
	case corev1.ProtocolSCTP:
		return unix.IPPROTO_SCTP
	}
	return unix.IPPROTO_TCP
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

// ifName is an interface name as nftables compares it: NUL-padded to
// IFNAMSIZ.
func ifName(n string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, n)
	return b
}
