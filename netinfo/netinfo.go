// Package netinfo reads the addresses the downward API reports: a pod's
// (status.podIP, podIPs) from its network namespace as /proc shows it to the
// namespace's owner, without entering it, and the host's (status.hostIP,
// hostIPs) as the kubelet picks a node address: the one of the interface that
// carries the default route.
package netinfo

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// PodIPs are the addresses of the network namespace of process pid: IPv4
// first, then global IPv6, loopback and link-local left out.
func PodIPs(proc string, pid int) ([]string, error) {
	dir := filepath.Join(proc, strconv.Itoa(pid), "net")
	v4, err := readWith(filepath.Join(dir, "fib_trie"), parseFibTrie)
	if err != nil {
		return nil, err
	}
	v6, err := readWith(filepath.Join(dir, "if_inet6"), func(r io.Reader) []string { return parseIfInet6(r, "") })
	if err != nil && !os.IsNotExist(err) { // no IPv6 in the kernel
		return nil, err
	}
	out := append(v4, v6...)
	if len(out) == 0 {
		return nil, fmt.Errorf("the network namespace of process %d has no address but loopback", pid)
	}
	return out, nil
}

// HostIPs are the host's addresses for the downward API: those of the
// interface with the default route (IPv4, then global IPv6), or when there is
// no default route, of the first interface that has a global address; at
// worst 127.0.0.1, so a pod on a disconnected host still starts.
func HostIPs(proc string) []string {
	iface := ""
	if f, err := os.Open(filepath.Join(proc, "net", "route")); err == nil {
		iface = defaultRouteInterface(f)
		f.Close()
	}
	if iface != "" {
		if ips := interfaceIPs(proc, iface); len(ips) > 0 {
			return ips
		}
	}
	ifaces, _ := net.Interfaces()
	for _, i := range ifaces {
		if i.Flags&net.FlagLoopback != 0 || i.Flags&net.FlagUp == 0 {
			continue
		}
		if ips := interfaceIPs(proc, i.Name); len(ips) > 0 {
			return ips
		}
	}
	return []string{"127.0.0.1"}
}

func interfaceIPs(proc, name string) []string {
	var out []string
	if i, err := net.InterfaceByName(name); err == nil {
		addrs, _ := i.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
				out = append(out, n.IP.String())
			}
		}
	}
	if f, err := os.Open(filepath.Join(proc, "net", "if_inet6")); err == nil {
		out = append(out, parseIfInet6(f, name)...)
		f.Close()
	}
	return out
}

func readWith(path string, parse func(io.Reader) []string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parse(f), nil
}

// parseFibTrie lists the local IPv4 addresses in /proc/net/fib_trie: an
// address line ("|-- 10.0.2.100") followed by "/32 host LOCAL", loopback
// left out, each once, in the order met.
func parseFibTrie(r io.Reader) []string {
	var out []string
	seen := map[string]bool{}
	last := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if a, ok := strings.CutPrefix(line, "|-- "); ok {
			last = a
			continue
		}
		if strings.HasPrefix(line, "/32 host LOCAL") && last != "" {
			ip, err := netip.ParseAddr(last)
			if err == nil && ip.Is4() && !ip.IsLoopback() && !seen[last] {
				seen[last] = true
				out = append(out, last)
			}
		}
	}
	return out
}

// parseIfInet6 lists the global IPv6 addresses of /proc/net/if_inet6 (all
// interfaces but lo, or only iface when given).
func parseIfInet6(r io.Reader, iface string) []string {
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 6 || len(f[0]) != 32 || f[3] != "00" || f[5] == "lo" || (iface != "" && f[5] != iface) {
			continue
		}
		var b [16]byte
		ok := true
		for i := 0; i < 16; i++ {
			v, err := strconv.ParseUint(f[0][2*i:2*i+2], 16, 8)
			if err != nil {
				ok = false
				break
			}
			b[i] = byte(v)
		}
		if ip := netip.AddrFrom16(b); ok && ip.IsGlobalUnicast() {
			out = append(out, ip.String())
		}
	}
	return out
}

// defaultRouteInterface is the interface of the IPv4 default route with the
// lowest metric in /proc/net/route, or "".
func defaultRouteInterface(r io.Reader) string {
	best, metric := "", -1
	sc := bufio.NewScanner(r)
	sc.Scan() // header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 8 || f[1] != "00000000" || f[7] != "00000000" {
			continue
		}
		flags, _ := strconv.ParseUint(f[3], 16, 32)
		if flags&1 == 0 { // RTF_UP
			continue
		}
		m, _ := strconv.Atoi(f[6])
		if metric < 0 || m < metric {
			best, metric = f[0], m
		}
	}
	return best
}
