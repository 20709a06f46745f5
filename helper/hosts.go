package helper

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/podstate"
)

// etcHosts is the host's hosts file, which a pod on the host's network sees.
var etcHosts = "/etc/hosts"

// podmanHostNames are the names podman gives this host in a container's
// hosts file; podunit keeps them for the pod (the one thing in its
// /etc/hosts that the kubelet does not write), so that a pod reaches the host
// as it would under podman.
var podmanHostNames = []string{"host.containers.internal", "host.docker.internal"}

// writeHosts writes the pod's /etc/hosts, as the kubelet does before each
// container's start: the pod's addresses (the infra's network namespace
// exists by now) under its hostname, or on the host's network the host's
// file, then the hostAliases. The file is replaced only when that changes
// (a new address after the infra restarted), whole (renamed into place), so
// that a container starting beside another never sees it half written.
func (t *task) writeHosts(ctx context.Context) error {
	h := t.c.Hosts
	if h == nil {
		return nil
	}
	var content []byte
	if t.rt.HostNetwork {
		host, err := os.ReadFile(etcHosts)
		if err != nil {
			return fmt.Errorf("the pod's /etc/hosts: %w", err)
		}
		content = HostNetworkHosts(host, h.Aliases)
	} else {
		n, err := t.podNet(ctx)
		if err != nil {
			return fmt.Errorf("the pod's /etc/hosts: %w", err)
		}
		var extra []string
		if n.hostsFile != "" {
			if data, err := os.ReadFile(n.hostsFile); err == nil {
				extra = HostEntries(data, podmanHostNames)
			}
		}
		content = ManagedHosts(n.ips, h, extra)
	}
	if old, err := os.ReadFile(h.File); err == nil && bytes.Equal(old, content) {
		return nil
	}
	if err := podstate.WriteAtomicMode(h.File, content, 0o644); err != nil {
		return fmt.Errorf("the pod's /etc/hosts: %w", err)
	}
	return nil
}

const managedHeader = "# Kubernetes-managed hosts file.\n"

// ManagedHosts is the kubelet's hosts file of a pod with its own network:
// localhost, IPv6's names, each of the pod's addresses under its hostname
// (its fully qualified name first, with a subdomain), then extra lines (the
// host as podman names it) and the hostAliases.
func ManagedHosts(ips []string, h *contract.Hosts, extra []string) []byte {
	var b bytes.Buffer
	b.WriteString(managedHeader)
	b.WriteString("127.0.0.1\tlocalhost\n")
	b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	b.WriteString("fe00::0\tip6-localnet\n")
	b.WriteString("fe00::0\tip6-mcastprefix\n")
	b.WriteString("fe00::1\tip6-allnodes\n")
	b.WriteString("fe00::2\tip6-allrouters\n")
	for _, ip := range ips {
		if h.Domain != "" {
			fmt.Fprintf(&b, "%s\t%s.%s\t%s\n", ip, h.Hostname, h.Domain, h.Hostname)
		} else {
			fmt.Fprintf(&b, "%s\t%s\n", ip, h.Hostname)
		}
	}
	if len(extra) > 0 {
		b.WriteString("\n# This host, as podman names it (added by podunit).\n")
		for _, l := range extra {
			b.WriteString(l + "\n")
		}
	}
	b.Write(aliasEntries(h.Aliases))
	return b.Bytes()
}

// HostNetworkHosts is the kubelet's hosts file of a pod on the host's
// network: the host's own, then the hostAliases.
func HostNetworkHosts(host []byte, aliases []contract.HostAlias) []byte {
	var b bytes.Buffer
	b.WriteString("# Kubernetes-managed hosts file (host network).\n")
	b.Write(host)
	if len(host) > 0 && host[len(host)-1] != '\n' {
		b.WriteByte('\n')
	}
	b.Write(aliasEntries(aliases))
	return b.Bytes()
}

func aliasEntries(aliases []contract.HostAlias) []byte {
	if len(aliases) == 0 {
		return nil
	}
	var b bytes.Buffer
	b.WriteString("\n# Entries added by HostAliases.\n")
	for _, a := range aliases {
		fmt.Fprintf(&b, "%s\t%s\n", a.IP, strings.Join(a.Hostnames, "\t"))
	}
	return b.Bytes()
}

// HostEntries are the lines of a hosts file that name any of names, each as
// "ADDRESS<TAB>NAME..." with only those names.
func HostEntries(data []byte, names []string) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		var keep []string
		for _, n := range f[1:] {
			for _, want := range names {
				if strings.EqualFold(n, want) {
					keep = append(keep, n)
				}
			}
		}
		if len(keep) > 0 {
			out = append(out, f[0]+"\t"+strings.Join(keep, "\t"))
		}
	}
	return out
}
