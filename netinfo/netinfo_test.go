package netinfo

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// What /proc/PID/net shows inside a rootless pod behind slirp4netns.
const fibTrie = `Main:
  +-- 0.0.0.0/1 2 0 2
     +-- 0.0.0.0/4 2 0 2
        |-- 0.0.0.0
           /0 universe UNICAST
        +-- 10.0.2.0/24 2 0 1
           |-- 10.0.2.0
              /24 link UNICAST
           |-- 10.0.2.100
              /32 host LOCAL
           |-- 10.0.2.255
              /32 link BROADCAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
Local:
  +-- 0.0.0.0/1 2 0 2
        +-- 10.0.2.0/24 2 0 1
           |-- 10.0.2.100
              /32 host LOCAL
           |-- 10.88.0.7
              /32 host LOCAL
`

const ifInet6 = `fe800000000000008c3319fffef2f5fa 02 40 20 80     tap0
00000000000000000000000000000001 01 80 10 80       lo
fd000000000000008c3319fffef2f5fa 02 40 00 00     tap0
20010db8000000000000000000000005 03 40 00 00     eth1
`

func TestParseFibTrie(t *testing.T) {
	got := parseFibTrie(strings.NewReader(fibTrie))
	if want := []string{"10.0.2.100", "10.88.0.7"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestParseIfInet6(t *testing.T) {
	if got, want := parseIfInet6(strings.NewReader(ifInet6), ""), []string{"fd00::8c33:19ff:fef2:f5fa", "2001:db8::5"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("all: got %v, want %v", got, want)
	}
	if got, want := parseIfInet6(strings.NewReader(ifInet6), "eth1"), []string{"2001:db8::5"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("eth1: got %v, want %v", got, want)
	}
}

func TestDefaultRouteInterface(t *testing.T) {
	routes := "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n" +
		"wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n" +
		"eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n" +
		"eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n" +
		"down0\t00000000\t010200C0\t0002\t0\t0\t0\t00000000\t0\t0\t0\n"
	if got := defaultRouteInterface(strings.NewReader(routes)); got != "eth0" {
		t.Fatalf("got %q, want eth0 (the lowest metric of the default routes that are up)", got)
	}
	if got := defaultRouteInterface(strings.NewReader("Iface\tDestination\n")); got != "" {
		t.Fatalf("no default route: got %q", got)
	}
}

func TestPodIPsFromProc(t *testing.T) {
	proc := t.TempDir()
	dir := filepath.Join(proc, "42", "net")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "fib_trie"), []byte(fibTrie), 0o644)
	os.WriteFile(filepath.Join(dir, "if_inet6"), []byte(ifInet6), 0o644)
	got, err := PodIPs(proc, 42)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"10.0.2.100", "10.88.0.7", "fd00::8c33:19ff:fef2:f5fa", "2001:db8::5"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	os.WriteFile(filepath.Join(dir, "fib_trie"), []byte("Main:\n |-- 127.0.0.1\n /32 host LOCAL\n"), 0o644)
	os.Remove(filepath.Join(dir, "if_inet6"))
	if _, err := PodIPs(proc, 42); err == nil || !strings.Contains(err.Error(), "no address") {
		t.Fatalf("loopback only: got err %v", err)
	}
	if _, err := PodIPs(proc, 43); err == nil {
		t.Fatal("a process that is not there: no error")
	}
}

func TestHostIPsNeverEmpty(t *testing.T) {
	if ips := HostIPs(t.TempDir()); len(ips) == 0 {
		t.Fatal("HostIPs gave nothing")
	}
}
