// Package proxy is the service proxy's helper (contract.OpServices): the
// cluster DNS and a userspace proxy per Service port, served from inside the
// services container's network namespace. podunit runs it (it reads
// Services, Kubernetes objects); the pods' small helper binary does not link
// it.
package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podunit/podunit/cluster"
	"github.com/podunit/podunit/helper"
	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/podstate/objstore"
	"github.com/podunit/podunit/units/unitdef"
)

// Run serves the cluster DNS and the Services (contract.ServicesServe):
// outside the services container's network namespace it enters it and runs
// again there. The container's start and clearing are helper.Env's own.
func Run(ctx context.Context, e *helper.Env, cmd contract.Command) error {
	if cmd.Action != contract.ServicesServe {
		return fmt.Errorf("%w: services %s is not the proxy's", contract.ErrUsage, cmd.Action)
	}
	eng, err := e.Engine(ctx)
	if err != nil {
		return err
	}
	pid, err := eng.ContainerPID(ctx, unitdef.ServicesContainer)
	if err != nil || pid <= 0 {
		return fmt.Errorf("the services container %s is not running: %v", unitdef.ServicesContainer, err)
	}
	if !cmd.InNetns {
		return fmt.Errorf("entering the network namespace of %s: %w", unitdef.ServicesContainer, e.ExecInNetns(pid, cmd, true))
	}
	p := &Proxy{Env: e, eng: eng, Addrs: e.Addrs, Upstream: upstreamDNS(pid)}
	return p.Serve(ctx, func() bool { _, err := os.Stat("/proc/" + strconv.Itoa(pid)); return err == nil })
}

// upstreamDNS is where names outside the cluster domain go: the first
// nameserver podman gave the services container (aardvark-dns on the
// network's gateway, or the host's resolvers).
func upstreamDNS(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/root/etc/resolv.conf", pid))
	if err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && f[0] == "nameserver" {
				if ip, err := netip.ParseAddr(f[1]); err == nil && ip != cluster.DNS {
					return netip.AddrPortFrom(ip, 53).String()
				}
			}
		}
	}
	return netip.AddrPortFrom(cluster.Gateway, 53).String()
}

// Proxy serves the cluster DNS and the Services from inside the services
// container's network namespace. When podunit's state directory changes
// (watched with inotify, read again every proxyResync besides) it reads the
// Services and the pods, puts the addresses on its interface and opens or
// closes listeners to match.
type Proxy struct {
	*helper.Env
	eng      helper.Engine
	Addrs    helper.AddrSetter
	Upstream string // host:port of the DNS server for other names

	state     atomic.Pointer[cluster.State]
	routes    atomic.Pointer[map[cluster.Listener]cluster.Route] // of state
	mu        sync.Mutex
	listeners map[cluster.Listener]io.Closer
	ips       map[string]podIP     // by pod name
	pods      map[string]cachedPod // by the pod's directory
	watch     *podstate.DirWatch   // nil: polled
	rr        sync.Map             // rrKey -> *atomic.Uint64: each Service port's own round robin
	ingress   *ingress             // serving while there are Ingresses (under mu)
	firewalls map[string]applied   // by pod name: what was set in its namespace
	marked    marked               // by pod name: what its FirewallFile says
	ownAddr   netip.Addr           // on the pod network: where proxied traffic comes from
}

// cachedPod is a pod's record as last read: read again only when the file
// was replaced.
type cachedPod struct {
	mod       time.Time
	size, ino int64
	pod       *corev1.Pod
}

type podIP struct {
	key string // what the address was read for: the infra's run
	ip  netip.Addr
	pid int // the infra's process: the pod's network namespace
}

// proxyResync is how often the proxy reads the state directory though no
// change was seen (and checks that the services container is still there);
// proxyPoll, where the directory cannot be watched.
const (
	proxyResync = 10 * time.Second
	proxyPoll   = time.Second
)

// Serve runs until ctx ends or alive says the services container is gone.
// It reads the state again when a file of it changes (a pod or Service
// comes or goes, a container starts or stops, a readiness verdict flips):
// endpoints follow at once, and nothing wakes it while nothing changes.
func (p *Proxy) Serve(ctx context.Context, alive func() bool) error {
	if err := p.start(ctx); err != nil {
		return err
	}
	dns, err := p.serveDNS(ctx)
	if err != nil {
		return err
	}
	defer dns()
	defer p.closeAll()
	fmt.Fprintf(p.Out, "serving the cluster DNS on %s (upstream %s)\n", cluster.DNS, p.Upstream)
	return p.follow(ctx, alive)
}

// start reads the state a first time and starts watching it.
func (p *Proxy) start(ctx context.Context) error {
	p.listeners = map[cluster.Listener]io.Closer{}
	p.ips = map[string]podIP{}
	p.pods = map[string]cachedPod{}
	p.firewalls = map[string]applied{}
	p.marked = marked{}
	p.ownAddr, _ = ownAddr() // none: only the Services' range passes
	p.setState(&cluster.State{})
	if w, err := podstate.NewDirWatch(ctx); err != nil {
		fmt.Fprintf(p.Out, "not watching %s (%v): reading it every %s\n", p.StateDir, err, proxyPoll)
	} else {
		p.watch = w
	}
	return p.refresh(ctx)
}

// follow keeps the served state current until ctx ends or the services
// container is gone.
func (p *Proxy) follow(ctx context.Context, alive func() bool) error {
	timer := time.NewTimer(p.interval())
	defer timer.Stop()
	for {
		var changed <-chan struct{}
		if p.watch != nil {
			changed = p.watch.C
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-timer.C:
		}
		if !alive() {
			return errors.New("the services container is gone")
		}
		if err := p.refresh(ctx); err != nil {
			fmt.Fprintf(p.Out, "refresh: %v\n", err)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(p.interval())
	}
}

func (p *Proxy) interval() time.Duration {
	if p.watch != nil {
		return proxyResync
	}
	return proxyPoll
}

func (p *Proxy) refresh(ctx context.Context) error {
	p.watchState()
	st, err := p.read(ctx)
	if err != nil {
		return err
	}
	if err := p.Addrs.SetAddrs(st.Addresses(), cluster.ServiceRange); err != nil {
		return fmt.Errorf("addresses: %w", err)
	}
	p.setState(st)
	return nil
}

// watchState watches every directory read makes use of, before it reads
// them: a change after that is seen. Where a watch cannot be added (the
// user's inotify watches run out), the proxy goes back to polling.
func (p *Proxy) watchState() {
	if p.watch == nil {
		return
	}
	podsDir := filepath.Join(p.StateDir, "pods")
	dirs := append([]string{p.StateDir, podsDir}, objstore.ServicesDirs(p.StateDir)...)
	ents, _ := os.ReadDir(podsDir)
	for _, ent := range ents {
		if ent.IsDir() {
			d := podstate.PodDir(p.StateDir, ent.Name())
			dirs = append(dirs, d, podstate.RunDir(p.StateDir, ent.Name()), podstate.ReadyDir(p.StateDir, ent.Name()))
		}
	}
	for _, d := range dirs {
		if err := p.watch.Add(d); err != nil {
			fmt.Fprintf(p.Out, "not watching %s (%v): reading the state every %s\n", d, err, proxyPoll)
			p.watch.Close()
			p.watch = nil
			return
		}
	}
}

// setState serves st from now on: its routes are worked out once, the
// listeners opened or closed to match.
func (p *Proxy) setState(st *cluster.State) {
	routes := st.Routes()
	p.state.Store(st)
	p.routes.Store(&routes)
	p.reconcile(routes)
	p.reconcileIngress(st)
	p.enforce(st)
}

// read builds the current State from the state directory.
func (p *Proxy) read(ctx context.Context) (*cluster.State, error) {
	st := &cluster.State{}
	svcs, err := objstore.LoadServices(p.StateDir)
	if err != nil {
		return nil, err
	}
	st.Services = svcs
	if st.Written, st.Slices, err = objstore.LoadEndpoints(p.StateDir); err != nil {
		return nil, err
	}
	if st.Ingresses, err = objstore.LoadIngresses(p.StateDir); err != nil {
		return nil, err
	}
	cluster.OrderIngresses(st.Ingresses) // once, not at each request
	policies, err := objstore.LoadNetworkPolicies(p.StateDir)
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(filepath.Join(p.StateDir, "pods"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	seen := map[string]bool{}
	dirs := map[string]bool{}
	for _, ent := range ents {
		dirs[ent.Name()] = true
		pd := p.podRecord(ent.Name())
		if pd == nil {
			continue
		}
		if pd.Spec.HostNetwork || pd.Annotations[pod.AnnotationNetwork] == pod.NetworkSlirp {
			continue
		}
		seen[pd.Name] = true
		ready, key := p.podReady(pd)
		ip := p.podIP(ctx, pd.Name, key)
		st.Pods = append(st.Pods, cluster.Pod{Spec: pd, IP: ip, Ready: ready})
	}
	for name := range p.ips {
		if !seen[name] {
			delete(p.ips, name)
			delete(p.firewalls, name)
			delete(p.marked, name)
		}
	}
	if len(policies) > 0 {
		nss, err := objstore.LoadNamespaces(p.StateDir)
		if err != nil {
			return nil, err
		}
		nsLabels := map[string]map[string]string{}
		for _, ns := range nss {
			nsLabels[ns.Name] = ns.Labels
		}
		st.Policies = st.NetworkPolicies(policies, nsLabels)
	}
	for name := range p.pods {
		if !dirs[name] {
			delete(p.pods, name)
		}
	}
	return st, nil
}

// podRecord is the pod whose state is in pods/<dir>, nil if none (yet).
func (p *Proxy) podRecord(dir string) *corev1.Pod {
	path := filepath.Join(p.StateDir, "pods", dir, "pod.json")
	fi, err := os.Stat(path)
	if err != nil {
		return nil
	}
	var ino int64
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		ino = int64(st.Ino)
	}
	if c, ok := p.pods[dir]; ok && c.mod.Equal(fi.ModTime()) && c.size == fi.Size() && c.ino == ino {
		return c.pod
	}
	var rec struct {
		Pod *corev1.Pod `json:"pod"`
	}
	data, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(data, &rec) != nil || rec.Pod == nil {
		return nil
	}
	p.pods[dir] = cachedPod{mod: fi.ModTime(), size: fi.Size(), ino: ino, pod: rec.Pod}
	return rec.Pod
}

// podReady is the pod's Ready condition as the helpers recorded it: every
// app and sidecar container running (and, with a readiness or startup
// probe, found ready by the prober), and no stop requested. key changes
// whenever a container (re)starts, or a start asks for the firewall of a
// new infra: the pod's address and infra are read again then.
func (p *Proxy) podReady(pd *corev1.Pod) (bool, string) {
	ready := true
	var key strings.Builder
	cs := append([]corev1.Container{}, pd.Spec.Containers...)
	for _, c := range pd.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			cs = append(cs, c)
		}
	}
	for _, c := range cs {
		run, _ := podstate.LoadRun(p.StateDir, pd.Name, c.Name)
		key.WriteString(run.Started.String())
		if run.Started.IsZero() {
			ready = false
			continue
		}
		if (c.ReadinessProbe != nil || c.StartupProbe != nil) && !podstate.Ready(p.StateDir, pd.Name, c.Name) {
			ready = false
		}
	}
	if _, stopping := podstate.ReadStopRequest(p.StateDir, pd.Name); stopping {
		ready = false
	}
	// a container's start asking for its firewall names the infra it
	// runs in: a new one (restarted before any container started again)
	// is read anew
	if want, err := os.ReadFile(podstate.FirewallWanted(p.StateDir, pd.Name)); err == nil {
		key.Write(want)
	}
	return ready, key.String()
}

func (p *Proxy) podIP(ctx context.Context, name, key string) netip.Addr {
	if c, ok := p.ips[name]; ok && c.key == key {
		return c.ip
	}
	var ip netip.Addr
	pid, err := p.eng.ContainerPID(ctx, unitdef.InfraContainerName(name))
	if err == nil && pid > 0 {
		if ips, err := p.PodIPs(pid); err == nil {
			for _, s := range ips {
				if a, err := netip.ParseAddr(s); err == nil && cluster.PodRange.Contains(a) {
					ip = a
				}
			}
		}
	}
	if ip.IsValid() {
		p.ips[name] = podIP{key: key, ip: ip, pid: pid}
	}
	return ip
}

// reconcile opens the listeners routes need and closes the others. A
// listener finds its Service in the current state at each connection.
func (p *Proxy) reconcile(routes map[cluster.Listener]cluster.Route) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l, c := range p.listeners {
		if _, ok := routes[l]; !ok {
			c.Close()
			delete(p.listeners, l)
		}
	}
	for l := range routes {
		if _, ok := p.listeners[l]; ok {
			continue
		}
		c, err := p.listen(l)
		if err != nil {
			fmt.Fprintf(p.Out, "listening on %s: %v\n", l, err)
			continue
		}
		p.listeners[l] = c
	}
}

func (p *Proxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l, c := range p.listeners {
		c.Close()
		delete(p.listeners, l)
	}
	if p.ingress != nil {
		p.ingress.close()
		p.ingress = nil
	}
}

// route finds what a listener serves now.
func (p *Proxy) route(l cluster.Listener) (cluster.Route, bool) {
	r, ok := (*p.routes.Load())[l]
	return r, ok
}

// pick orders a route's endpoints for one connection: round robin, or by
// the client's address with sessionAffinity ClientIP.
func (p *Proxy) pick(r cluster.Route, client netip.Addr) []cluster.Endpoint {
	eps := p.state.Load().Endpoints(r.Service, r.Port)
	if len(eps) == 0 {
		return nil
	}
	var start uint64
	if r.Service.Spec.SessionAffinity == corev1.ServiceAffinityClientIP {
		b := client.As4()
		start = uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
	} else {
		start = p.next(r.Service, r.Port)
	}
	out := make([]cluster.Endpoint, 0, len(eps))
	for i := range eps {
		out = append(out, eps[(start+uint64(i))%uint64(len(eps))])
	}
	return out
}

// rrKey names a Service port.
type rrKey struct {
	ns, name string
	port     int
}

// next is the next turn of port i of a Service: each Service port has its
// own round robin, as IPVS keeps one per virtual service, so that clients
// of one Service do not steer which endpoint another's get.
func (p *Proxy) next(svc *corev1.Service, i int) uint64 {
	k := rrKey{svc.Namespace, svc.Name, i}
	c, ok := p.rr.Load(k)
	if !ok {
		c, _ = p.rr.LoadOrStore(k, new(atomic.Uint64))
	}
	return c.(*atomic.Uint64).Add(1)
}

func (p *Proxy) listen(l cluster.Listener) (io.Closer, error) {
	switch l.Proto {
	case corev1.ProtocolUDP:
		conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(l.Addr))
		if err != nil {
			return nil, err
		}
		go p.serveUDP(l, conn)
		return conn, nil
	default:
		ln, err := net.Listen("tcp4", l.Addr.String())
		if err != nil {
			return nil, err
		}
		go p.serveTCP(l, ln)
		return ln, nil
	}
}

func (p *Proxy) serveTCP(l cluster.Listener, ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go p.forwardTCP(l, conn.(*net.TCPConn))
	}
}

// forwardTCP connects a client to the first endpoint that answers and
// copies both ways, passing each side's end of stream on.
func (p *Proxy) forwardTCP(l cluster.Listener, in *net.TCPConn) {
	defer in.Close()
	r, ok := p.route(l)
	if !ok {
		return
	}
	client := netip.MustParseAddrPort(in.RemoteAddr().String()).Addr()
	var out *net.TCPConn
	for _, ep := range p.allowed(client, corev1.ProtocolTCP, p.pick(r, client)) {
		c, err := net.DialTimeout("tcp4", ep.Addr.String(), 2*time.Second)
		if err == nil {
			out = c.(*net.TCPConn)
			break
		}
	}
	if out == nil {
		// no ready endpoint: refuse, as kube-proxy's REJECT does
		in.SetLinger(0)
		return
	}
	defer out.Close()
	done := make(chan struct{}, 2)
	pipe := func(dst, src *net.TCPConn) {
		io.Copy(dst, src)
		dst.CloseWrite()
		done <- struct{}{}
	}
	go pipe(out, in)
	go pipe(in, out)
	<-done
	<-done
}

// serveUDP relays datagrams: each client gets a socket of its own towards
// one endpoint, which lives while the exchange does (30 s idle).
func (p *Proxy) serveUDP(l cluster.Listener, conn *net.UDPConn) {
	var mu sync.Mutex
	sessions := map[netip.AddrPort]*net.UDPConn{}
	buf := make([]byte, 64*1024)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		mu.Lock()
		up := sessions[from]
		mu.Unlock()
		if up == nil {
			r, ok := p.route(l)
			if !ok {
				continue
			}
			eps := p.allowed(from.Addr(), corev1.ProtocolUDP, p.pick(r, from.Addr()))
			if len(eps) == 0 {
				continue
			}
			up, err = net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(eps[0].Addr))
			if err != nil {
				continue
			}
			mu.Lock()
			sessions[from] = up
			mu.Unlock()
			go func(from netip.AddrPort, up *net.UDPConn) {
				defer func() {
					mu.Lock()
					delete(sessions, from)
					mu.Unlock()
					up.Close()
				}()
				b := make([]byte, 64*1024)
				for {
					up.SetReadDeadline(time.Now().Add(30 * time.Second))
					n, err := up.Read(b)
					if err != nil {
						return
					}
					conn.WriteToUDPAddrPort(b[:n], from)
				}
			}(from, up)
		}
		up.Write(buf[:n])
	}
}
