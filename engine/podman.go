// Package engine talks to podman's REST API (the v4 bindings) for what podunit
// must do outside systemd: check and pull images, build the infra image, and
// manage the volumes that back emptyDir.
package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	nettypes "github.com/containers/common/libnetwork/types"
	"github.com/containers/podman/v4/pkg/bindings"
	"github.com/containers/podman/v4/pkg/bindings/containers"
	"github.com/containers/podman/v4/pkg/bindings/images"
	"github.com/containers/podman/v4/pkg/bindings/network"
	"github.com/containers/podman/v4/pkg/bindings/system"
	"github.com/containers/podman/v4/pkg/bindings/volumes"
	"github.com/containers/podman/v4/pkg/domain/entities"
	"github.com/containers/podman/v4/pkg/errorhandling"

	"github.com/podunit/podunit/cluster"
	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podapi"
	"github.com/podunit/podunit/podstate"
)

// Podman is a connection to the user's podman service. What the helpers do
// while a pod runs (inspect, stop, exec) is podapi's, which it embeds.
type Podman struct {
	*podapi.Client
	ctx context.Context // the bindings keep their connection in a context
}

// SocketPath is where the user's podman.socket listens.
func SocketPath() string { return podapi.SocketPath() }

// Connect connects to podunit's own podman service while it runs (it
// started the pods' containers: no other podman process is woken), else
// to the service at the user's socket.
func Connect(ctx context.Context) (*Podman, error) {
	if own := podstate.PodmanSocket(podstate.DefaultDir()); podapi.Answers(own) {
		if p, err := ConnectTo(ctx, own); err == nil {
			return p, nil
		}
	}
	return ConnectTo(ctx, SocketPath())
}

// ConnectTo connects to the podman service at socket.
func ConnectTo(ctx context.Context, socket string) (*Podman, error) {
	c, err := bindings.NewConnection(ctx, "unix://"+socket)
	if err != nil {
		return nil, fmt.Errorf("connecting to podman at %s: %w", socket, err)
	}
	return &Podman{Client: podapi.New(socket), ctx: c}, nil
}

func (p *Podman) with(ctx context.Context) context.Context {
	// Keep the connection, honour the caller's cancellation.
	return &mergedCtx{Context: p.ctx, done: ctx}
}

type mergedCtx struct {
	context.Context
	done context.Context
}

func (m *mergedCtx) Done() <-chan struct{} { return m.done.Done() }
func (m *mergedCtx) Err() error            { return m.done.Err() }
func (m *mergedCtx) Deadline() (time.Time, bool) {
	return m.done.Deadline()
}

// ImageExists tells whether an image is in local storage.
func (p *Podman) ImageExists(ctx context.Context, ref string) (bool, error) {
	return images.Exists(p.with(ctx), ref, nil)
}

// PullImage pulls an image; podman's own error says why it failed. With an
// auth file, its credentials go to the service in the request's
// X-Registry-Auth header, never on a command line.
func (p *Podman) PullImage(ctx context.Context, ref, authFile string) error {
	quiet := true
	policy := "always"
	opts := &images.PullOptions{Quiet: &quiet, Policy: &policy}
	if authFile != "" {
		opts.Authfile = &authFile
	}
	_, err := images.Pull(p.with(ctx), ref, opts)
	return err
}

// EnsureInfraImage makes sure the infra image exists: a one-file image holding
// the host's catatonit, run as "catatonit -P" to hold the pod's namespaces. It is
// built locally, so pods start without any registry.
func (p *Podman) EnsureInfraImage(ctx context.Context, ref string) error {
	ok, err := images.Exists(p.with(ctx), ref, nil)
	if err != nil || ok {
		return err
	}
	bin, err := findCatatonit()
	if err != nil {
		return err
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "catatonit", Mode: 0o755, Size: int64(len(data))}); err != nil {
		return err
	}
	if _, err := tw.Write(data); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	changes := []string{`ENTRYPOINT ["/catatonit", "-P"]`, `LABEL io.podunit.role=infra`}
	_, err = images.Import(p.with(ctx), &buf, &images.ImportOptions{Reference: &ref, Changes: &changes})
	if err != nil {
		return fmt.Errorf("building the infra image %s: %w", ref, err)
	}
	return nil
}

// catatonit is a static init shipped with podman; these are where distributions put it.
var catatonitPaths = []string{"/usr/libexec/podman/catatonit", "/usr/bin/catatonit", "/usr/libexec/catatonit/catatonit"}

func findCatatonit() (string, error) {
	for _, p := range catatonitPaths {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("catatonit not found (looked in %s): install the catatonit package", strings.Join(catatonitPaths, ", "))
}

// ImageSize is an image's size in bytes.
func (p *Podman) ImageSize(ctx context.Context, ref string) (int64, error) {
	rep, err := images.GetImage(p.with(ctx), ref, nil)
	if err != nil {
		return 0, err
	}
	if rep.ImageData == nil {
		return 0, nil
	}
	return rep.Size, nil
}

// ImageUser is the user an image runs as (its USER; "" means root).
func (p *Podman) ImageUser(ctx context.Context, ref string) (string, error) {
	rep, err := images.GetImage(p.with(ctx), ref, nil)
	if err != nil {
		return "", err
	}
	if rep.ImageData == nil || rep.Config == nil {
		return "", nil
	}
	return rep.Config.User, nil
}

// ImageNames are the names (repo:tag) a local image has.
func (p *Podman) ImageNames(ctx context.Context, ref string) ([]string, error) {
	rep, err := images.GetImage(p.with(ctx), ref, nil)
	if err != nil {
		return nil, err
	}
	if rep.ImageData == nil {
		return nil, nil
	}
	return rep.RepoTags, nil
}

// CreateVolume creates a named volume; an existing one is left as it is.
func (p *Podman) CreateVolume(ctx context.Context, name string, labels, options map[string]string) error {
	_, err := volumes.Create(p.with(ctx), entities.VolumeCreateOptions{
		Name: name, Labels: labels, Options: tmpfsSizeInPages(options, os.Getpagesize()), IgnoreIfExists: true,
	}, nil)
	return err
}

// tmpfsSizeInPages gives a tmpfs volume's size= mount option as nr_blocks=
// (pages, rounded up): podman before 4.4 takes "size" in a volume's mount
// options for a project quota, which the user's file system may not have
// ("Filesystem does not support Project Quota"), even for a tmpfs, which
// needs none. The mount is the same.
func tmpfsSizeInPages(options map[string]string, page int) map[string]string {
	if options["type"] != "tmpfs" || !strings.Contains(options["o"], "size=") {
		return options
	}
	out := maps.Clone(options)
	opts := strings.Split(options["o"], ",")
	for i, o := range opts {
		k, v, ok := strings.Cut(o, "=")
		if !ok || k != "size" {
			continue
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			opts[i] = "nr_blocks=" + strconv.FormatInt((n+int64(page)-1)/int64(page), 10)
		}
	}
	out["o"] = strings.Join(opts, ",")
	return out
}

// VolumeLabels returns a volume's labels, and whether it exists.
func (p *Podman) VolumeLabels(ctx context.Context, name string) (map[string]string, bool, error) {
	v, err := volumes.Inspect(p.with(ctx), name, nil)
	if isNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return v.Labels, true, nil
}

// Version is the podman service's version ("4.3.1"), as its answer to the
// connection's ping said (its libpod API version is its own version). The
// version endpoint would say it too, but podman gathers all of `podman info`
// for it, running its helpers' --version: most of a second.
func (p *Podman) Version(ctx context.Context) (string, error) {
	if v := bindings.ServiceVersion(p.ctx); v != nil && v.Major > 0 {
		return v.String(), nil
	}
	r, err := system.Version(p.with(ctx), nil)
	if err != nil {
		return "", err
	}
	if r.Server == nil {
		return "", fmt.Errorf("the service did not say its version")
	}
	return r.Server.Version, nil
}

// RemoveVolume removes a volume; one that does not exist is not an error.
func (p *Podman) RemoveVolume(ctx context.Context, name string) error {
	force := true
	err := volumes.Remove(p.with(ctx), name, &volumes.RemoveOptions{Force: &force})
	if isNotFound(err) {
		return nil
	}
	return err
}

// RemoveUnusedVolume removes a volume no container uses; podman refuses
// one in use. A missing one is not an error.
func (p *Podman) RemoveUnusedVolume(ctx context.Context, name string) error {
	force := false
	err := volumes.Remove(p.with(ctx), name, &volumes.RemoveOptions{Force: &force})
	if isNotFound(err) {
		return nil
	}
	return err
}

// Volumes lists the names of the volumes carrying a label key=value.
func (p *Podman) Volumes(ctx context.Context, key, value string) ([]string, error) {
	vs, err := volumes.List(p.with(ctx), &volumes.ListOptions{Filters: map[string][]string{"label": {key + "=" + value}}})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, v := range vs {
		out = append(out, v.Name)
	}
	return out, nil
}

func isNotFound(err error) bool {
	if err == nil {
		return false
	}
	var em *errorhandling.ErrorModel
	if errors.As(err, &em) && em.ResponseCode == http.StatusNotFound {
		return true
	}
	return strings.Contains(err.Error(), "no such")
}

// LabelNetwork marks podunit's pod network.
const LabelNetwork = "io.podunit.network"

// EnsureNetwork creates podunit's pod network (cluster.Network) unless it
// exists: a bridge with DNS, pods leasing from cluster.PodRange. A network of
// that name that podunit did not create is never used.
func (p *Podman) EnsureNetwork(ctx context.Context) error {
	c := p.with(ctx)
	// there is podunit's: an error for one of another's
	there := func() (bool, error) {
		ok, err := network.Exists(c, cluster.Network, nil)
		if err != nil || !ok {
			return false, wrapNetwork(err)
		}
		n, err := network.Inspect(c, cluster.Network, nil)
		if err != nil {
			return false, wrapNetwork(err)
		}
		if n.Labels[LabelNetwork] != "pod" {
			return false, fmt.Errorf("podman network %q exists and was not created by podunit: rename or remove it, or run pods with the annotation %s: %s",
				cluster.Network, pod.AnnotationNetwork, pod.NetworkSlirp)
		}
		return true, nil
	}
	if ok, err := there(); ok || err != nil {
		return err
	}
	last := cluster.PodRange.Addr().As4()
	last[2], last[3] = 255, 254
	_, err := network.Create(c, &nettypes.Network{
		Name:   cluster.Network,
		Driver: "bridge",
		// podunit's proxy is the pods' DNS; aardvark-dns, which podman
		// would want for DNSEnabled, need not be installed.
		DNSEnabled: false,
		Labels:     map[string]string{LabelNetwork: "pod"},
		Subnets: []nettypes.Subnet{{
			Subnet:  nettypes.IPNet{IPNet: *prefixNet(cluster.Subnet)},
			Gateway: cluster.Gateway.AsSlice(),
			LeaseRange: &nettypes.LeaseRange{
				StartIP: cluster.PodRange.Addr().Next().AsSlice(),
				EndIP:   last[:],
			},
		}},
	})
	if err != nil {
		// another podunit may have made it meanwhile: that one is as good
		if ok, _ := there(); ok {
			return nil
		}
		return fmt.Errorf("creating podman network %s: %w", cluster.Network, err)
	}
	return nil
}

// wrapNetwork says which network an error of podman's was about (nil stays nil).
func wrapNetwork(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("podman network %s: %w", cluster.Network, err)
}

// RemoveNetwork removes podunit's pod network when it is podunit's and no
// container uses it; it reports whether it did.
func (p *Podman) RemoveNetwork(ctx context.Context) (bool, error) {
	c := p.with(ctx)
	ok, err := network.Exists(c, cluster.Network, nil)
	if err != nil || !ok {
		return false, err
	}
	n, err := network.Inspect(c, cluster.Network, nil)
	if err != nil || n.Labels[LabelNetwork] != "pod" {
		return false, err
	}
	ctrs, err := containers.List(c, new(containers.ListOptions).WithAll(true).WithFilters(map[string][]string{"network": {cluster.Network}}))
	if err != nil || len(ctrs) > 0 {
		return false, err
	}
	if _, err := network.Remove(c, cluster.Network, nil); err != nil {
		return false, err
	}
	return true, nil
}

func prefixNet(p netip.Prefix) *net.IPNet {
	a := p.Addr().As4()
	return &net.IPNet{IP: net.IP(a[:]), Mask: net.CIDRMask(p.Bits(), 32)}
}
