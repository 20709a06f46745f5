package proxy

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/podunit/podunit/cluster"
)

// dnsTTL is the time to live of the cluster DNS's answers (CoreDNS's default).
const dnsTTL = 5

// serveDNS answers on the cluster DNS address, UDP and TCP: names of the
// cluster domain from the current state, others through the upstream
// server. It returns a function that stops it.
func (p *Proxy) serveDNS(ctx context.Context) (func(), error) {
	addr := netip.AddrPortFrom(cluster.DNS, 53)
	uc, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return nil, err
	}
	tl, err := net.Listen("tcp4", addr.String())
	if err != nil {
		uc.Close()
		return nil, err
	}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, from, err := uc.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			q := append([]byte(nil), buf[:n]...)
			go func() {
				if resp := p.answerDNS(q, false); resp != nil {
					uc.WriteToUDPAddrPort(resp, from)
				}
			}()
		}
	}()
	go func() {
		for {
			c, err := tl.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				for {
					c.SetDeadline(time.Now().Add(10 * time.Second))
					var l [2]byte
					if _, err := io.ReadFull(c, l[:]); err != nil {
						return
					}
					q := make([]byte, binary.BigEndian.Uint16(l[:]))
					if _, err := io.ReadFull(c, q); err != nil {
						return
					}
					resp := p.answerDNS(q, true)
					if resp == nil {
						return
					}
					binary.BigEndian.PutUint16(l[:], uint16(len(resp)))
					if _, err := c.Write(append(l[:], resp...)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return func() { uc.Close(); tl.Close() }, nil
}

// answerDNS is the reply to one query, or nil to drop it.
func (p *Proxy) answerDNS(query []byte, tcp bool) []byte {
	var m dnsmessage.Message
	if err := m.Unpack(query); err != nil || m.Header.Response || len(m.Questions) != 1 {
		return nil
	}
	q := m.Questions[0]
	ans, ours := p.state.Load().Lookup(q.Name.String())
	if !ours {
		return p.forwardDNS(query, tcp)
	}
	resp := dnsmessage.Message{
		Header: dnsmessage.Header{ID: m.Header.ID, Response: true, Authoritative: true,
			RecursionDesired: m.Header.RecursionDesired, RecursionAvailable: true},
		Questions: m.Questions,
	}
	if !ans.Exists {
		resp.Header.RCode = dnsmessage.RCodeNameError
	}
	hdr := func(t dnsmessage.Type) dnsmessage.ResourceHeader {
		return dnsmessage.ResourceHeader{Name: q.Name, Type: t, Class: dnsmessage.ClassINET, TTL: dnsTTL}
	}
	if ans.CNAME != "" {
		target, err := dnsmessage.NewName(ans.CNAME + ".")
		if err == nil {
			resp.Answers = append(resp.Answers, dnsmessage.Resource{Header: hdr(dnsmessage.TypeCNAME), Body: &dnsmessage.CNAMEResource{CNAME: target}})
			// A recursive server's answer carries the chain: the target's
			// addresses follow, from the cluster's names or the upstream's.
			if q.Type != dnsmessage.TypeCNAME {
				resp.Answers = append(resp.Answers, p.chase(target, q.Type, tcp)...)
			}
		}
	}
	if q.Type == dnsmessage.TypeA || q.Type == dnsmessage.TypeALL {
		for _, ip := range ans.A {
			resp.Answers = append(resp.Answers, dnsmessage.Resource{Header: hdr(dnsmessage.TypeA), Body: &dnsmessage.AResource{A: ip.As4()}})
		}
	}
	if q.Type == dnsmessage.TypeSRV || q.Type == dnsmessage.TypeALL {
		for _, s := range ans.SRV {
			target, err := dnsmessage.NewName(s.Target + ".")
			if err == nil {
				resp.Answers = append(resp.Answers, dnsmessage.Resource{Header: hdr(dnsmessage.TypeSRV),
					Body: &dnsmessage.SRVResource{Priority: 0, Weight: 100, Port: s.Port, Target: target}})
			}
		}
	}
	out, err := resp.Pack()
	if err != nil {
		return nil
	}
	return out
}

// forwardDNS passes a query to the upstream server as it came and returns
// its reply as it came.
func (p *Proxy) forwardDNS(query []byte, tcp bool) []byte {
	network := "udp4"
	if tcp {
		network = "tcp4"
	}
	c, err := net.DialTimeout(network, p.Upstream, 2*time.Second)
	if err != nil {
		return nil
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if tcp {
		var l [2]byte
		binary.BigEndian.PutUint16(l[:], uint16(len(query)))
		if _, err := c.Write(append(l[:], query...)); err != nil {
			return nil
		}
		if _, err := io.ReadFull(c, l[:]); err != nil {
			return nil
		}
		resp := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(c, resp); err != nil {
			return nil
		}
		return resp
	}
	if _, err := c.Write(query); err != nil {
		return nil
	}
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

// chase resolves a CNAME's target for the type asked: a name of the cluster
// from the state, any other through the upstream server.
func (p *Proxy) chase(target dnsmessage.Name, t dnsmessage.Type, tcp bool) []dnsmessage.Resource {
	if a, ours := p.state.Load().Lookup(target.String()); ours {
		var out []dnsmessage.Resource
		if t == dnsmessage.TypeA || t == dnsmessage.TypeALL {
			for _, ip := range a.A {
				out = append(out, dnsmessage.Resource{Header: dnsmessage.ResourceHeader{Name: target, Type: dnsmessage.TypeA,
					Class: dnsmessage.ClassINET, TTL: dnsTTL}, Body: &dnsmessage.AResource{A: ip.As4()}})
			}
		}
		return out
	}
	q := dnsmessage.Message{Header: dnsmessage.Header{ID: 1, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: target, Type: t, Class: dnsmessage.ClassINET}}}
	query, err := q.Pack()
	if err != nil {
		return nil
	}
	var m dnsmessage.Message
	if resp := p.forwardDNS(query, tcp); resp == nil || m.Unpack(resp) != nil {
		return nil
	}
	return m.Answers
}
