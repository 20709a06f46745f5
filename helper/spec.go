package helper

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Spec is the body of podman's container create request (its specgen, the
// fields podunit's command lines use), built from a container's `podman run`
// arguments so that podunit's podman service creates and starts the
// container in-process: no podman process of its own (about 0.1 s of CPU
// each on the test VM before it does anything).
type Spec struct {
	Name       string            `json:"name"`
	Image      string            `json:"image"`
	Entrypoint []string          `json:"entrypoint,omitempty"`
	Command    []string          `json:"command,omitempty"`
	Env        map[string]string `json:"env,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	Remove     bool              `json:"remove,omitempty"`
	StopSignal int               `json:"stop_signal,omitempty"`
	Terminal   bool              `json:"terminal,omitempty"`
	Stdin      bool              `json:"stdin,omitempty"`
	WorkDir    string            `json:"work_dir,omitempty"`
	User       string            `json:"user,omitempty"`
	Groups     []string          `json:"groups,omitempty"`
	CapAdd     []string          `json:"cap_add,omitempty"`
	CapDrop    []string          `json:"cap_drop,omitempty"`
	Privileged bool              `json:"privileged,omitempty"`
	ReadOnly   bool              `json:"read_only_filesystem,omitempty"`
	// ReadWriteTmpfs is podman run's default with --read-only: tmpfs on
	// /tmp, /var/tmp and /run.
	ReadWriteTmpfs  bool          `json:"read_write_tmpfs,omitempty"`
	NoNewPrivileges bool          `json:"no_new_privileges,omitempty"`
	Seccomp         string        `json:"seccomp_profile_path,omitempty"`
	AppArmor        string        `json:"apparmor_profile,omitempty"`
	SELinux         []string      `json:"selinux_opts,omitempty"`
	Unmask          []string      `json:"unmask,omitempty"`
	Log             *LogConfig    `json:"log_configuration,omitempty"`
	UseImageHosts   bool          `json:"use_image_hosts"`
	NetNS           *Namespace    `json:"netns,omitempty"`
	IPCNS           *Namespace    `json:"ipcns,omitempty"`
	UTSNS           *Namespace    `json:"utsns,omitempty"`
	PIDNS           *Namespace    `json:"pidns,omitempty"`
	UserNS          *Namespace    `json:"userns,omitempty"`
	Mounts          []Mount       `json:"mounts,omitempty"`
	Volumes         []NamedVolume `json:"volumes,omitempty"`
	ImageVolumes    []ImageVolume `json:"image_volumes,omitempty"`
	CgroupParent    string        `json:"cgroup_parent,omitempty"`
	ConmonPidFile   string        `json:"conmon_pid_file,omitempty"`
	SdNotifyMode    string        `json:"sdnotifyMode,omitempty"`
	// IDMappings are the container's storage ID mappings: the host's, as
	// podman run sends them, or a user namespace of its own (--userns auto).
	IDMappings *IDMappings `json:"idmappings,omitempty"`
	// The infra's: its network, names and published ports.
	Hostname       string                    `json:"hostname,omitempty"`
	Networks       map[string]NetworkOptions `json:"Networks,omitempty"`
	NetworkOptions map[string][]string       `json:"network_options,omitempty"`
	DNSServers     []string                  `json:"dns_server,omitempty"`
	DNSSearch      []string                  `json:"dns_search,omitempty"`
	DNSOptions     []string                  `json:"dns_option,omitempty"`
	PortMappings   []PortMapping             `json:"portmappings,omitempty"`
	Sysctl         map[string]string         `json:"sysctl,omitempty"`
}

// IDMappings are podman's storage ID mapping options (field names without
// JSON tags), as podman run sets them for --userns auto.
type IDMappings struct {
	HostUIDMapping bool
	HostGIDMapping bool
	AutoUserNs     bool
	AutoUserNsOpts struct{}
}

// NetworkOptions are a container's options on one network.
type NetworkOptions struct {
	StaticMAC string `json:"static_mac,omitempty"`
}

// PortMapping is a published port.
type PortMapping struct {
	HostIP        string `json:"host_ip,omitempty"`
	ContainerPort uint16 `json:"container_port"`
	HostPort      uint16 `json:"host_port"`
	Protocol      string `json:"protocol,omitempty"`
}

// LogConfig is where the container's output goes.
type LogConfig struct {
	Driver string `json:"driver,omitempty"`
	Path   string `json:"path,omitempty"`
}

// Namespace is a namespace the container shares: "host", or "container"
// with the container's name.
type Namespace struct {
	Mode  string `json:"nsmode"`
	Value string `json:"value,omitempty"`
}

// Mount is a bind mount (the OCI runtime spec's fields).
type Mount struct {
	Destination string   `json:"destination"`
	Type        string   `json:"type"`
	Source      string   `json:"source"`
	Options     []string `json:"options,omitempty"`
}

// NamedVolume is a podman volume mounted in the container (podman's field
// names, which carry no JSON tags).
type NamedVolume struct {
	Name    string
	Dest    string
	Options []string
}

// ImageVolume is an image mounted in the container.
type ImageVolume struct {
	Source      string
	Destination string
	ReadWrite   bool
}

// ErrUnsupported is a command line that only podman run itself takes.
var ErrUnsupported = errors.New("not something podunit's podman service starts")

// SpecFromArgs is the create request of a detached container's
// `podman run` arguments (contract.Container.Args, after the run helper
// filled them in), env the values of its "--env NAME" variables. A flag
// outside those podunit's translator writes for a pod's containers is
// ErrUnsupported: that container goes on starting through podman run.
func SpecFromArgs(args []string, env map[string]string) (*Spec, error) {
	if len(args) == 0 || args[0] != "run" {
		return nil, fmt.Errorf("%w: not a podman run", ErrUnsupported)
	}
	s := &Spec{Labels: map[string]string{}, Env: map[string]string{},
		// podman run's: also for a container joining the infra's user
		// namespace, whose storage is then not mapped again
		IDMappings: &IDMappings{HostUIDMapping: true, HostGIDMapping: true}}
	detached := false
	mac := ""
	i := 1
	value := func(flag string) (string, error) {
		if i+1 >= len(args) {
			return "", fmt.Errorf("%s has no value", flag)
		}
		i++
		return args[i], nil
	}
	// flags that set a field, or add to a list, as they are
	bools := map[string]*bool{"--rm": &s.Remove, "--detach": &detached, "--tty": &s.Terminal,
		"--interactive": &s.Stdin, "--no-hosts": &s.UseImageHosts, "--privileged": &s.Privileged}
	strs := map[string]*string{"--name": &s.Name, "--hostname": &s.Hostname, "--workdir": &s.WorkDir,
		"--user": &s.User, "--mac-address": &mac}
	lists := map[string]*[]string{"--dns": &s.DNSServers, "--dns-search": &s.DNSSearch, "--dns-option": &s.DNSOptions,
		"--group-add": &s.Groups, "--cap-add": &s.CapAdd, "--cap-drop": &s.CapDrop}
	for ; i < len(args) && strings.HasPrefix(args[i], "-"); i++ {
		flag := args[i]
		if b, ok := bools[flag]; ok {
			*b = true
			continue
		}
		switch flag {
		case "--sdnotify=conmon", "--cgroups=split", "--pull=never":
			continue // the service's start tells systemd itself; never pulls
		case "--read-only":
			s.ReadOnly, s.ReadWriteTmpfs = true, true
			continue
		}
		v, err := value(flag)
		if err != nil {
			return nil, err
		}
		if p, ok := strs[flag]; ok {
			*p = v
			continue
		}
		if l, ok := lists[flag]; ok {
			*l = append(*l, v)
			continue
		}
		switch flag {
		case "--label":
			k, val, _ := strings.Cut(v, "=")
			s.Labels[k] = val
		case "--env":
			val, ok := env[v]
			if !ok {
				return nil, fmt.Errorf("--env %s has no value", v)
			}
			s.Env[v] = val
		case "--network":
			if err := s.network(v); err != nil {
				return nil, err
			}
		case "--publish":
			if err := s.publish(v); err != nil {
				return nil, err
			}
		case "--sysctl":
			k, val, ok := strings.Cut(v, "=")
			if !ok {
				return nil, fmt.Errorf("--sysctl %s: no value", v)
			}
			if s.Sysctl == nil {
				s.Sysctl = map[string]string{}
			}
			s.Sysctl[k] = val
		case "--userns":
			if v == "auto" {
				// podman picks a free range of the user's subordinate ids
				s.UserNS, s.IDMappings = &Namespace{Mode: "auto"}, &IDMappings{AutoUserNs: true}
				break
			}
			ns, err := namespace(v)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", flag, v, err)
			}
			s.UserNS = ns
		case "--ipc", "--uts", "--pid":
			ns, err := namespace(v)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", flag, v, err)
			}
			*map[string]**Namespace{"--ipc": &s.IPCNS, "--uts": &s.UTSNS, "--pid": &s.PIDNS}[flag] = ns
		case "--log-driver":
			s.log().Driver = v
		case "--log-opt":
			p, ok := strings.CutPrefix(v, "path=")
			if !ok {
				return nil, fmt.Errorf("%w: --log-opt %s", ErrUnsupported, v)
			}
			s.log().Path = p
		case "--stop-signal":
			n := unix.SignalNum(v)
			if n == 0 {
				return nil, fmt.Errorf("%w: --stop-signal %s", ErrUnsupported, v)
			}
			s.StopSignal = int(n)
		case "--entrypoint":
			if err := json.Unmarshal([]byte(v), &s.Entrypoint); err != nil {
				return nil, fmt.Errorf("--entrypoint %s: %w", v, err)
			}
		case "--volume":
			if err := s.volume(v); err != nil {
				return nil, err
			}
		case "--mount":
			if err := s.mount(v); err != nil {
				return nil, err
			}
		case "--security-opt":
			if err := s.securityOpt(v); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("%w: %s", ErrUnsupported, flag)
		}
	}
	if !detached {
		return nil, fmt.Errorf("%w: a container run in the foreground", ErrUnsupported)
	}
	if mac != "" {
		if len(s.Networks) != 1 {
			return nil, fmt.Errorf("%w: --mac-address without one podman network", ErrUnsupported)
		}
		for n := range s.Networks {
			s.Networks[n] = NetworkOptions{StaticMAC: mac}
		}
	}
	if i >= len(args) || s.Name == "" {
		return nil, errors.New("no image or no name in the command line")
	}
	s.Image = args[i]
	s.Command = args[i+1:]
	return s, nil
}

func (s *Spec) log() *LogConfig {
	if s.Log == nil {
		s.Log = &LogConfig{}
	}
	return s.Log
}

func namespace(v string) (*Namespace, error) {
	if v == "host" {
		return &Namespace{Mode: "host"}, nil
	}
	if name, ok := strings.CutPrefix(v, "container:"); ok && name != "" {
		return &Namespace{Mode: "container", Value: name}, nil
	}
	return nil, ErrUnsupported
}

// network is the container's network: the host's, the infra's, a podman
// network (a bridge: podunit's pod network), or slirp4netns with options.
func (s *Spec) network(v string) error {
	switch {
	case v == "host" || strings.HasPrefix(v, "container:"):
		ns, err := namespace(v)
		if err != nil {
			return fmt.Errorf("--network %s: %w", v, err)
		}
		s.NetNS = ns
	case v == "slirp4netns" || strings.HasPrefix(v, "slirp4netns:"):
		s.NetNS = &Namespace{Mode: "slirp4netns"}
		if _, opts, ok := strings.Cut(v, ":"); ok && opts != "" {
			s.NetworkOptions = map[string][]string{"slirp4netns": strings.Split(opts, ",")}
		}
	case v != "" && !strings.ContainsAny(v, ":=,/") && v != "none" && v != "private" && v != "bridge" && v != "pasta":
		s.NetNS = &Namespace{Mode: "bridge"}
		s.Networks = map[string]NetworkOptions{v: {}}
	default:
		return fmt.Errorf("%w: --network %s", ErrUnsupported, v)
	}
	return nil
}

// publish is one --publish [HOSTIP:]HOSTPORT:CONTAINERPORT[/PROTO], as the
// translator writes it.
func (s *Spec) publish(v string) error {
	spec, proto, _ := strings.Cut(v, "/")
	parts := strings.Split(spec, ":")
	pm := PortMapping{Protocol: proto}
	if pm.Protocol == "" {
		pm.Protocol = "tcp"
	}
	if len(parts) == 3 {
		pm.HostIP, parts = parts[0], parts[1:]
	}
	if len(parts) != 2 || strings.Contains(pm.HostIP, "[") {
		return fmt.Errorf("%w: --publish %s", ErrUnsupported, v)
	}
	hp, err1 := strconv.ParseUint(parts[0], 10, 16)
	cp, err2 := strconv.ParseUint(parts[1], 10, 16)
	if err1 != nil || err2 != nil || hp == 0 || cp == 0 {
		return fmt.Errorf("%w: --publish %s", ErrUnsupported, v)
	}
	pm.HostPort, pm.ContainerPort = uint16(hp), uint16(cp)
	s.PortMappings = append(s.PortMappings, pm)
	return nil
}

// volume is one --volume SRC:DST:OPTIONS: a host path (absolute) is a bind
// mount, anything else a named volume, as podman run reads it.
func (s *Spec) volume(v string) error {
	parts := strings.Split(v, ":")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return fmt.Errorf("%w: --volume %s", ErrUnsupported, v)
	}
	opts := strings.Split(parts[2], ",")
	if strings.HasPrefix(parts[0], "/") {
		s.Mounts = append(s.Mounts, Mount{Destination: parts[1], Type: "bind", Source: parts[0], Options: opts})
		return nil
	}
	if strings.HasPrefix(parts[0], ".") {
		return fmt.Errorf("%w: --volume %s", ErrUnsupported, v)
	}
	s.Volumes = append(s.Volumes, NamedVolume{Name: parts[0], Dest: parts[1], Options: opts})
	return nil
}

// mount is an image volume (--mount type=image,source=REF,destination=DIR).
func (s *Spec) mount(v string) error {
	var iv ImageVolume
	for _, kv := range strings.Split(v, ",") {
		k, val, _ := strings.Cut(kv, "=")
		switch k {
		case "type":
			if val != "image" {
				return fmt.Errorf("%w: --mount %s", ErrUnsupported, v)
			}
		case "source", "src":
			iv.Source = val
		case "destination", "dst", "target":
			iv.Destination = val
		default:
			return fmt.Errorf("%w: --mount %s", ErrUnsupported, v)
		}
	}
	if iv.Source == "" || iv.Destination == "" {
		return fmt.Errorf("%w: --mount %s", ErrUnsupported, v)
	}
	s.ImageVolumes = append(s.ImageVolumes, iv)
	return nil
}

func (s *Spec) securityOpt(v string) error {
	k, val, _ := strings.Cut(v, "=")
	switch {
	case v == "no-new-privileges":
		s.NoNewPrivileges = true
	case k == "seccomp" && val != "":
		s.Seccomp = val
	case k == "apparmor" && val != "":
		s.AppArmor = val
	case k == "label" && val != "":
		s.SELinux = append(s.SELinux, val)
	case k == "unmask" && val != "":
		s.Unmask = append(s.Unmask, strings.Split(val, ":")...)
	default:
		return fmt.Errorf("%w: --security-opt %s", ErrUnsupported, v)
	}
	return nil
}
