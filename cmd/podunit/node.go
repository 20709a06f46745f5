package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/podunit/podunit/netinfo"
	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/runner"
)

// This host is the one node podunit's pods run on. `get nodes` and
// `describe node` show it as kubectl shows a cluster's nodes: the labels
// nodeSelector and node affinity match (kubernetes.io/* and those of
// ~/.config/podunit/node-labels), the capacity (CPUs, memory, the extended
// resources declared in that file; podunit reserves nothing, so all of it is
// allocatable), and what the pods that have not ended ask for of it.

var nodeTypes = []string{"node", "nodes", "no"}

// nodeArg reads describe's arguments naming the node: node, node NAME or
// node/NAME ("" when no name is given).
func nodeArg(args []string) (name string, ok bool) {
	if len(args) == 1 {
		if n := typedRef(args[0], nodeTypes); n != "" {
			return n, true
		}
	}
	if (len(args) == 1 || len(args) == 2) && slices.Contains(nodeTypes, args[0]) {
		if len(args) == 2 {
			return args[1], true
		}
		return "", true
	}
	return "", false
}

// hostFacts is what the node is made of, read off this host (readHost).
type hostFacts struct {
	name     string
	labels   map[string]string
	cpus     int
	memory   int64 // bytes
	storage  int64 // bytes of the filesystem of podman's storage (ephemeral-storage)
	extended map[string]int64
	boot     time.Time
	ips      []string
	kernel   string
	osImage  string
	machine  string // /etc/machine-id
	bootID   string
	runtime  string // podman's version
	version  string // podunit's
}

// thisNode is the Node of this host as of now (and that time).
func thisNode(ctx context.Context, r *runner.Runner) (*corev1.Node, time.Time, error) {
	f, err := readHost(ctx, r, version)
	if err != nil {
		return nil, time.Time{}, err
	}
	now := time.Now()
	return nodeObject(f, now), now, nil
}

// readHost gathers the node's facts: podman's version through r (whose
// answer also tells that the node is ready), the rest from this host.
func readHost(ctx context.Context, r *runner.Runner, version string) (hostFacts, error) {
	extended, err := nodeCapacity()
	if err != nil {
		return hostFacts{}, err
	}
	f := hostFacts{
		name:     nodeName(),
		labels:   nodeLabels(),
		cpus:     runtime.NumCPU(),
		extended: extended,
		ips:      netinfo.HostIPs("/proc"),
		kernel:   firstLine("/proc/sys/kernel/osrelease"),
		osImage:  osImage("/etc/os-release"),
		machine:  firstLine("/etc/machine-id"),
		bootID:   firstLine("/proc/sys/kernel/random/boot_id"),
		version:  version,
	}
	f.memory, _ = memTotal("/proc/meminfo")
	f.storage = storageSize()
	f.boot, _ = bootTime("/proc/stat")
	if v, ok := r.Engine.(interface {
		Version(context.Context) (string, error)
	}); ok {
		if f.runtime, err = v.Version(ctx); err != nil {
			return hostFacts{}, err
		}
	}
	return f, nil
}

// hostResources are the node's cpu, memory and ephemeral-storage (the
// filesystem containers write to, as the kubelet's nodefs; left out when not
// known), in whole Ki as the kubelet reports them.
func hostResources(cpus int, memory, storage int64) corev1.ResourceList {
	l := corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewQuantity(int64(cpus), resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(memory/1024*1024, resource.BinarySI),
	}
	if storage > 0 {
		l[corev1.ResourceEphemeralStorage] = *resource.NewQuantity(storage/1024*1024, resource.BinarySI)
	}
	return l
}

// storageSize is the size of the filesystem where rootless podman keeps
// containers by default (its graphroot), or of the home directory's before
// podman made it; 0 when unknown.
func storageSize() int64 {
	data := os.Getenv("XDG_DATA_HOME")
	home, _ := os.UserHomeDir()
	if data == "" {
		data = filepath.Join(home, ".local", "share")
	}
	if n := fsSize(filepath.Join(data, "containers", "storage")); n > 0 {
		return n
	}
	return fsSize(home)
}

// fsSize is the size of the filesystem that holds path, 0 when unknown.
func fsSize(path string) int64 {
	var st unix.Statfs_t
	if path == "" || unix.Statfs(path, &st) != nil {
		return 0
	}
	return int64(st.Blocks) * st.Bsize
}

func firstLine(path string) string {
	data, _ := os.ReadFile(path)
	line, _, _ := strings.Cut(string(data), "\n")
	return strings.TrimSpace(line)
}

// osImage is PRETTY_NAME of os-release, as the kubelet reports it.
func osImage(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "Unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			if u, err := strconv.Unquote(v); err == nil {
				return u
			}
			return strings.Trim(v, `"'`)
		}
	}
	return "Unknown"
}

// memTotal is MemTotal of /proc/meminfo in bytes.
func memTotal(path string) (int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	total, ok := meminfo(data)["MemTotal"]
	if !ok {
		return 0, fmt.Errorf("%s: no MemTotal", path)
	}
	return total, nil
}

// meminfo are the figures of /proc/meminfo given in kB, in bytes.
func meminfo(data []byte) map[string]int64 {
	out := map[string]int64{}
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) == 3 && f[2] == "kB" {
			if n, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				out[strings.TrimSuffix(f[0], ":")] = n * 1024
			}
		}
	}
	return out
}

// bootTime is btime of /proc/stat: the node was created when the host booted.
func bootTime(path string) (time.Time, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return time.Unix(n, 0), err
		}
	}
	return time.Time{}, fmt.Errorf("%s: no btime", path)
}

// nodeObject is the v1 Node of this host, as of now.
func nodeObject(f hostFacts, now time.Time) *corev1.Node {
	capacity := hostResources(f.cpus, f.memory, f.storage)
	for n, v := range f.extended {
		capacity[corev1.ResourceName(n)] = *resource.NewQuantity(v, resource.DecimalSI)
	}
	var addrs []corev1.NodeAddress
	for _, ip := range f.ips {
		addrs = append(addrs, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: ip})
	}
	addrs = append(addrs, corev1.NodeAddress{Type: corev1.NodeHostName, Address: f.name})
	return &corev1.Node{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Node"},
		ObjectMeta: metav1.ObjectMeta{
			Name:              f.name,
			Labels:            maps.Clone(f.labels),
			CreationTimestamp: metav1.NewTime(f.boot),
		},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity.DeepCopy(),
			Conditions: []corev1.NodeCondition{{
				Type: corev1.NodeReady, Status: corev1.ConditionTrue,
				LastHeartbeatTime: metav1.NewTime(now), LastTransitionTime: metav1.NewTime(f.boot),
				Reason:  "PodunitReady",
				Message: "the systemd user manager and the podman service answer",
			}},
			Addresses: addrs,
			NodeInfo: corev1.NodeSystemInfo{
				MachineID: f.machine, BootID: f.bootID,
				KernelVersion: f.kernel, OSImage: f.osImage,
				ContainerRuntimeVersion: "podman://" + f.runtime,
				KubeletVersion:          "podunit-" + f.version,
				OperatingSystem:         runtime.GOOS, Architecture: runtime.GOARCH,
			},
		},
	}
}

// printNodes is kubectl get nodes of this host: names other than its own
// are not found, a selector matches its labels.
func printNodes(w, errw io.Writer, n *corev1.Node, names []string, sel selection, format string, t tableOpts, now time.Time) error {
	var missing []string
	for _, name := range names {
		if name != n.Name {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nodeNotFound(missing[0], n.Name)
	}
	var list []*corev1.Node
	if sel.match(n, n.Labels) {
		list = append(list, n)
	}
	if done, err := listing(w, errw, list, "node", "", format, len(names) == 1, func(x *corev1.Node) any { return x }); done {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	head := "NAME\tSTATUS\tROLES\tAGE\tVERSION"
	if format == "wide" {
		head += "\tINTERNAL-IP\tEXTERNAL-IP\tOS-IMAGE\tKERNEL-VERSION\tCONTAINER-RUNTIME"
	}
	if t.labels {
		head += "\tLABELS"
	}
	fmt.Fprintln(tw, head)
	for _, x := range list {
		line := fmt.Sprintf("%s\t%s\t<none>\t%s\t%s", t.name("node", x.Name), nodeStatus(x), since(x.CreationTimestamp.Time, now), x.Status.NodeInfo.KubeletVersion)
		if format == "wide" {
			internal := "<none>"
			for _, a := range x.Status.Addresses {
				if a.Type == corev1.NodeInternalIP {
					internal = a.Address
					break
				}
			}
			i := x.Status.NodeInfo
			line += fmt.Sprintf("\t%s\t<none>\t%s\t%s\t%s", internal, i.OSImage, i.KernelVersion, i.ContainerRuntimeVersion)
		}
		if t.labels {
			line += "\t" + labelList(x.Labels)
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// nodeNotFound is the error for a node name other than this host's.
func nodeNotFound(name, host string) error {
	return fmt.Errorf("%w (this host, the only node, is %q)", notFound{kind: "node", name: name}, host)
}

func nodeStatus(n *corev1.Node) string {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
			return "Ready"
		}
	}
	return "NotReady"
}

func since(t, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t))
}

// nodeUse is what one pod asks for of the node.
type nodeUse struct {
	pod                            *corev1.Pod
	cpuReq, cpuLim, memReq, memLim resource.Quantity
}

// running are the pods that have not ended (kubectl's Non-terminated Pods).
func running(pods []*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func usesOf(pods []*corev1.Pod) []nodeUse {
	var out []nodeUse
	for _, p := range running(pods) {
		u := nodeUse{pod: p}
		u.cpuReq, _ = pod.PodRequests(&p.Spec, corev1.ResourceCPU)
		u.cpuLim, _ = pod.PodLimits(&p.Spec, corev1.ResourceCPU)
		u.memReq, _ = pod.PodRequests(&p.Spec, corev1.ResourceMemory)
		u.memLim, _ = pod.PodLimits(&p.Spec, corev1.ResourceMemory)
		out = append(out, u)
	}
	return out
}

// share is kubectl's "100m (5%)": a quantity and its part of what the node
// has, rounded down.
func share(q resource.Quantity, of resource.Quantity) string {
	pct := int64(0)
	if of.MilliValue() > 0 {
		pct = q.MilliValue() * 100 / of.MilliValue()
	}
	return fmt.Sprintf("%s (%d%%)", q.String(), pct)
}

// describeNode is kubectl describe node of this host, with the pods
// podunit runs.
func describeNode(w io.Writer, n *corev1.Node, pods []*corev1.Pod, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Name:\t%s\n", n.Name)
	fmt.Fprintf(tw, "Roles:\t<none>\n")
	keys := slices.Sorted(maps.Keys(n.Labels))
	for i, k := range keys {
		head := ""
		if i == 0 {
			head = "Labels:"
		}
		fmt.Fprintf(tw, "%s\t%s=%s\n", head, k, n.Labels[k])
	}
	if len(keys) == 0 {
		fmt.Fprintf(tw, "Labels:\t<none>\n")
	}
	fmt.Fprintf(tw, "CreationTimestamp:\t%s\n", n.CreationTimestamp.Time.Format(time.RFC1123Z))
	fmt.Fprintf(tw, "Taints:\t<none>\n")
	fmt.Fprintf(tw, "Unschedulable:\tfalse\n")
	tw.Flush()

	fmt.Fprintln(w, "Conditions:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage")
	fmt.Fprintln(tw, "  ----\t------\t-----------------\t------------------\t------\t-------")
	for _, c := range n.Status.Conditions {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", c.Type, c.Status, c.LastHeartbeatTime.Time.Format(time.RFC1123Z), c.LastTransitionTime.Time.Format(time.RFC1123Z), c.Reason, c.Message)
	}
	tw.Flush()

	fmt.Fprintln(w, "Addresses:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, a := range n.Status.Addresses {
		fmt.Fprintf(tw, "  %s:\t%s\n", a.Type, a.Address)
	}
	tw.Flush()

	for _, l := range []struct {
		title string
		list  corev1.ResourceList
	}{{"Capacity", n.Status.Capacity}, {"Allocatable", n.Status.Allocatable}} {
		fmt.Fprintf(w, "%s:\n", l.title)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, k := range resourceNames(l.list) {
			q := l.list[k]
			fmt.Fprintf(tw, "  %s:\t%s\n", k, q.String())
		}
		tw.Flush()
	}

	i := n.Status.NodeInfo
	fmt.Fprintln(w, "System Info:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, kv := range [][2]string{
		{"Machine ID", i.MachineID}, {"Boot ID", i.BootID}, {"Kernel Version", i.KernelVersion},
		{"OS Image", i.OSImage}, {"Operating System", i.OperatingSystem}, {"Architecture", i.Architecture},
		{"Container Runtime Version", i.ContainerRuntimeVersion}, {"Kubelet Version", i.KubeletVersion},
	} {
		fmt.Fprintf(tw, "  %s:\t%s\n", kv[0], kv[1])
	}
	tw.Flush()

	uses := usesOf(pods)
	alloc := n.Status.Allocatable
	cpu, mem := alloc[corev1.ResourceCPU], alloc[corev1.ResourceMemory]
	fmt.Fprintf(w, "Non-terminated Pods:  (%d in total)\n", len(uses))
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  Namespace\tName\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge")
	fmt.Fprintln(tw, "  ---------\t----\t------------\t----------\t---------------\t-------------\t---")
	var total nodeUse
	for _, u := range uses {
		started := u.pod.CreationTimestamp.Time
		if u.pod.Status.StartTime != nil {
			started = u.pod.Status.StartTime.Time
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.pod.Namespace, u.pod.Name,
			share(u.cpuReq, cpu), share(u.cpuLim, cpu), share(u.memReq, mem), share(u.memLim, mem), since(started, now))
		total.cpuReq.Add(u.cpuReq)
		total.cpuLim.Add(u.cpuLim)
		total.memReq.Add(u.memReq)
		total.memLim.Add(u.memLim)
	}
	tw.Flush()

	fmt.Fprintln(w, "Allocated resources:")
	fmt.Fprintln(w, "  (Total limits may be over 100 percent, i.e., overcommitted.)")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  Resource\tRequests\tLimits")
	fmt.Fprintln(tw, "  --------\t--------\t------")
	fmt.Fprintf(tw, "  cpu\t%s\t%s\n", share(total.cpuReq, cpu), share(total.cpuLim, cpu))
	fmt.Fprintf(tw, "  memory\t%s\t%s\n", share(total.memReq, mem), share(total.memLim, mem))
	if disk, ok := alloc[corev1.ResourceEphemeralStorage]; ok {
		req, lim := usesTotal(uses, corev1.ResourceEphemeralStorage)
		fmt.Fprintf(tw, "  ephemeral-storage\t%s\t%s\n", share(req, disk), share(lim, disk))
	}
	for _, k := range resourceNames(alloc) {
		if !pod.IsExtendedResource(k) {
			continue
		}
		req, lim := usesTotal(uses, k)
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", k, req.String(), lim.String())
	}
	tw.Flush()
	_, err := fmt.Fprintln(w, "Events:  <none>")
	return err
}

// usesTotal is what the pods request and limit of a resource, together.
func usesTotal(uses []nodeUse, k corev1.ResourceName) (req, lim resource.Quantity) {
	for _, u := range uses {
		q, _ := pod.PodRequests(&u.pod.Spec, k)
		req.Add(q)
		q, _ = pod.PodLimits(&u.pod.Spec, k)
		lim.Add(q)
	}
	return req, lim
}

// resourceNames are a list's names, cpu and memory first, as kubectl orders
// them, then the others by name.
func resourceNames(l corev1.ResourceList) []corev1.ResourceName {
	var out []corev1.ResourceName
	for _, k := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := l[k]; ok {
			out = append(out, k)
		}
	}
	var rest []corev1.ResourceName
	for k := range l {
		if k != corev1.ResourceCPU && k != corev1.ResourceMemory {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// topNode is kubectl top node of this host: the CPU all its CPUs were busy
// over window (from proc's stat) and the memory in use (MemTotal less
// MemAvailable), each also as a part of what the host has.
func topNode(ctx context.Context, w io.Writer, proc string, window time.Duration) error {
	read := func() (int64, error) {
		data, err := os.ReadFile(proc + "/stat")
		if err != nil {
			return 0, err
		}
		return busyMicros(data)
	}
	before, err := read()
	if err != nil {
		return err
	}
	start := time.Now()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(window):
	}
	after, err := read()
	if err != nil {
		return err
	}
	meminfo, err := os.ReadFile(proc + "/meminfo")
	if err != nil {
		return err
	}
	total, used, err := memoryInUse(meminfo)
	if err != nil {
		return err
	}
	milli := (after - before) * 1000 / time.Since(start).Microseconds()
	return printTopNode(w, nodeName(), milli, runtime.NumCPU(), used, total)
}

func printTopNode(w io.Writer, name string, milli int64, cpus int, used, total int64) error {
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCPU(cores)\tCPU(%)\tMEMORY(bytes)\tMEMORY(%)")
	memPct := int64(0)
	if total > 0 {
		memPct = used * 100 / total
	}
	fmt.Fprintf(tw, "%s\t%dm\t%d%%\t%dMi\t%d%%\n", name, milli, milli*100/int64(cpus*1000), used/(1<<20), memPct)
	return tw.Flush()
}

// busyMicros is the time the host's CPUs were busy, all of them together,
// from the cpu line of /proc/stat (every state but idle and iowait; in
// USER_HZ ticks of 10 ms), in microseconds.
func busyMicros(stat []byte) (int64, error) {
	line, _, _ := strings.Cut(string(stat), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, fmt.Errorf("no cpu line in /proc/stat: %q", line)
	}
	var ticks int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest times are in user already
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %q: %w", line, err)
		}
		ticks += n
	}
	return ticks * 10000, nil
}

// memoryInUse is MemTotal and MemTotal less MemAvailable of /proc/meminfo,
// in bytes.
func memoryInUse(data []byte) (total, used int64, err error) {
	m := meminfo(data)
	total, ok1 := m["MemTotal"]
	avail, ok2 := m["MemAvailable"]
	if !ok1 || !ok2 {
		return 0, 0, fmt.Errorf("/proc/meminfo: no MemTotal or MemAvailable")
	}
	return total, total - avail, nil
}
