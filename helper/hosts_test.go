package helper

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/podunit/podunit/helper/contract"
)

// The pod's /etc/hosts is the kubelet's, byte for byte: its addresses under
// the hostname (the FQDN first with a subdomain), the hostAliases after;
// podman's name for the host is kept; both the fake's addresses (IPv4 and
// IPv6) get a line.
func TestRunWritesThePodsHosts(t *testing.T) {
	hosts := &contract.Hosts{Hostname: "web-0", Domain: "nginx.default.svc.cluster.local",
		Aliases: []contract.HostAlias{{IP: "127.0.0.1", Hostnames: []string{"foo.local", "bar.local"}}, {IP: "10.1.2.3", Hostnames: []string{"foo.remote"}}}}
	dir := t.TempDir()
	hosts.File = filepath.Join(dir, "etc-hosts")
	podman := filepath.Join(dir, "podman-hosts")
	if err := os.WriteFile(podman, []byte("127.0.0.1\tlocalhost\n192.0.2.2\thost.containers.internal host.docker.internal # podman\n10.96.128.2\tweb-0 p_infra\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, runtime1(contract.Container{Name: "app", Podman: "p_app", Kind: contract.KindApp, Args: []string{"run", "img"}, Hosts: hosts}))
	w.eng.hostsFile = podman
	if err := w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "app"}); err != nil {
		t.Fatalf("run: %v", err)
	}
	want := "# Kubernetes-managed hosts file.\n" +
		"127.0.0.1\tlocalhost\n" +
		"::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"fe00::0\tip6-localnet\n" +
		"fe00::0\tip6-mcastprefix\n" +
		"fe00::1\tip6-allnodes\n" +
		"fe00::2\tip6-allrouters\n" +
		"10.0.2.100\tweb-0.nginx.default.svc.cluster.local\tweb-0\n" +
		"fd00::1\tweb-0.nginx.default.svc.cluster.local\tweb-0\n" +
		"\n# This host, as podman names it (added by podunit).\n" +
		"192.0.2.2\thost.containers.internal\thost.docker.internal\n" +
		"\n# Entries added by HostAliases.\n" +
		"127.0.0.1\tfoo.local\tbar.local\n" +
		"10.1.2.3\tfoo.remote\n"
	got, err := os.ReadFile(hosts.File)
	if err != nil || string(got) != want {
		t.Fatalf("hosts file (%v):\n%s\nwant:\n%s", err, got, want)
	}
	if st, _ := os.Stat(hosts.File); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644 (every user of the container reads it)", st.Mode().Perm())
	}
	if len(w.podIPsOf) != 1 || w.podIPsOf[0] != 4242 {
		t.Errorf("addresses read from %v, want the infra's process once", w.podIPsOf)
	}

	// unchanged content is not written again (a container that edited the
	// file keeps its edit while the pod's address stays)
	old, _ := os.Stat(hosts.File)
	if err := w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "app"}); err != nil {
		t.Fatalf("run: %v", err)
	}
	if st, _ := os.Stat(hosts.File); !os.SameFile(old, st) {
		t.Error("the same content was written again")
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".etc-hosts*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// Without a subdomain the pod's addresses carry its hostname alone; a pod
// on the host's network gets the host's file and its aliases.
func TestHostsContent(t *testing.T) {
	got := string(ManagedHosts([]string{"10.96.128.9"}, &contract.Hosts{Hostname: "shop"}, nil))
	if want := managedHeader + "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n10.96.128.9\tshop\n"; got != want {
		t.Errorf("managed:\n%q\nwant\n%q", got, want)
	}
	got = string(HostNetworkHosts([]byte("127.0.0.1 localhost\n10.0.0.5 db"), []contract.HostAlias{{IP: "10.0.0.6", Hostnames: []string{"cache"}}}))
	if want := "# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n10.0.0.5 db\n\n# Entries added by HostAliases.\n10.0.0.6\tcache\n"; got != want {
		t.Errorf("host network:\n%q\nwant\n%q", got, want)
	}
	if got := HostEntries([]byte("# host.containers.internal\n1.2.3.4 a HOST.containers.internal\n5.6.7.8 b\n"), podmanHostNames); len(got) != 1 || got[0] != "1.2.3.4\tHOST.containers.internal" {
		t.Errorf("podman's host entries: %q", got)
	}
}

// On the host's network the file is the host's own plus the aliases, and no
// namespace is looked into.
func TestRunWritesHostNetworkHosts(t *testing.T) {
	dir := t.TempDir()
	etcHosts = filepath.Join(dir, "host-hosts")
	t.Cleanup(func() { etcHosts = "/etc/hosts" })
	if err := os.WriteFile(etcHosts, []byte("127.0.0.1 localhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hosts := &contract.Hosts{File: filepath.Join(dir, "etc-hosts"), Hostname: "p", Aliases: []contract.HostAlias{{IP: "10.0.0.6", Hostnames: []string{"cache"}}}}
	rt := runtime1(contract.Container{Name: "app", Podman: "p_app", Kind: contract.KindApp, Args: []string{"run", "img"}, Hosts: hosts})
	rt.HostNetwork = true
	w := newWorld(t, rt)
	if err := w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "app"}); err != nil {
		t.Fatalf("run: %v", err)
	}
	got, _ := os.ReadFile(hosts.File)
	if want := "# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n\n# Entries added by HostAliases.\n10.0.0.6\tcache\n"; string(got) != want || len(w.podIPsOf) != 0 {
		t.Errorf("hosts file:\n%q\nwant\n%q\nnamespaces read: %v", got, want, w.podIPsOf)
	}
}
