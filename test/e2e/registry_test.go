package e2e

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/podunit/podunit/units"
)

// registry is a real private registry on loopback: Debian's docker-registry
// with TLS (a CA the world's user trusts through podman's certs.d) and
// htpasswd auth.
type registry struct {
	addr string // 127.0.0.1:PORT
	user string
	pass string
}

func startRegistry(t *testing.T) *registry {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		t.Fatalf("docker-registry is not installed (test/world/world.sh install installs it): %v", err)
	}
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	reg := &registry{addr: addr, user: "puller", pass: "reg-pw-" + randomWord(t)}

	// a self-signed certificate for 127.0.0.1 that is its own CA
	certPEM, keyPEM := selfSignedCert(t, "podunit test registry", nil, []net.IP{net.ParseIP("127.0.0.1")})
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(reg.pass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(`version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: %s}
http:
  addr: %s
  tls: {certificate: %s, key: %s}
auth:
  htpasswd: {realm: podunit-test, path: %s}
`, filepath.Join(dir, "data"), addr, write("cert.pem", certPEM),
		write("key.pem", keyPEM),
		write("htpasswd", []byte(reg.user+":"+string(hash)+"\n")))
	cmd := exec.Command(bin, "serve", write("config.yml", []byte(config)))
	logf, _ := os.Create(filepath.Join(dir, "registry.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "registry.log"))
			t.Logf("registry log:\n%s", log)
		}
	})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	eventually(t, 20*time.Second, "the registry answering", func() bool {
		resp, err := client.Get("https://" + addr + "/v2/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusUnauthorized
	})

	// the world's user trusts the CA for this registry only (podman's certs.d)
	home := strings.TrimSpace(must(t, "sh", "-c", "echo $HOME"))
	certDir := filepath.Join(home, ".config", "containers", "certs.d", addr)
	must(t, "mkdir", "-p", certDir)
	runIn(t, string(certPEM), "sh", "-c", "cat > "+filepath.Join(certDir, "ca.crt"))
	t.Cleanup(func() { run(t, "rm", "-rf", certDir) })
	return reg
}

func randomWord(t *testing.T) string {
	b := make([]byte, 9)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// dockerConfig is a .dockerconfigjson as `kubectl create secret
// docker-registry` writes it.
func dockerConfig(server, user, pass string) string {
	doc, _ := json.Marshal(map[string]any{"auths": map[string]any{server: map[string]string{
		"username": user, "password": pass, "auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))}}})
	return base64.StdEncoding.EncodeToString(doc)
}

// push puts the test image in the registry as name and out of local
// storage, so that a pod's pull of it really goes to the registry; it
// returns the image's full name. The push authenticates with an auth file of
// the test's own (never the user's default one, which podman's service would
// use for every pull).
func (reg *registry) push(t *testing.T, name string) string {
	t.Helper()
	image := reg.addr + "/" + name
	authDir := strings.TrimSpace(must(t, "mktemp", "-d"))
	t.Cleanup(func() { run(t, "rm", "-rf", authDir) })
	runIn(t, fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg.addr, base64.StdEncoding.EncodeToString([]byte(reg.user+":"+reg.pass))),
		"sh", "-c", "umask 077; cat > "+authDir+"/auth.json")
	must(t, "podman", "push", "--quiet", "--authfile", authDir+"/auth.json", testImage, image)
	run(t, "podman", "rmi", image)
	t.Cleanup(func() { run(t, "podman", "rmi", image) })
	return image
}

// imagePullSecrets against a real registry that wants a password: without
// credentials and with wrong ones `up` fails naming the image and registry
// and leaves nothing; with the right Secret the pull works, through the
// podman API, and the password is nowhere to be seen.
func TestPrivateRegistry(t *testing.T) {
	reg := startRegistry(t)
	image := reg.push(t, "private/busybox:1")
	if r := run(t, "podman", "image", "exists", image); r.code == 0 {
		t.Fatalf("%s is already in local storage: the pulls below would not happen", image)
	}

	manifest := func(pod, password string) string {
		m := fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: %s
    command: ["sleep", "100000"]
`, pod, image)
		if password == "" {
			return m
		}
		return m + fmt.Sprintf(`  imagePullSecrets: [{name: regcred}]
---
apiVersion: v1
kind: Secret
metadata: {name: regcred}
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: %s
`, dockerConfig("https://"+reg.addr, reg.user, password))
	}
	const pod = "e2e-registry"

	// no credentials
	r := run(t, podunit, "up", writeManifest(t, manifest(pod, "")))
	t.Logf("without credentials: exit %d: %s", r.code, r.stderr)
	for _, want := range []string{"spec.containers[0].image", image, "from registry " + reg.addr + " without credentials (the pod has no imagePullSecrets)"} {
		if r.code == 0 || !strings.Contains(r.stderr, want) {
			t.Errorf("without credentials: exit %d, stderr lacks %q", r.code, want)
		}
	}
	assertGone(t, pod)

	// a wrong password
	r = run(t, podunit, "up", writeManifest(t, manifest(pod, "wrong-"+reg.pass)))
	t.Logf("wrong credentials: exit %d: %s", r.code, r.stderr)
	for _, want := range []string{image, "from registry " + reg.addr + " with the credentials of Secret regcred"} {
		if r.code == 0 || !strings.Contains(r.stderr, want) {
			t.Errorf("wrong credentials: exit %d, stderr lacks %q", r.code, want)
		}
	}
	assertGone(t, pod)
	if r := run(t, "podman", "image", "exists", image); r.code == 0 {
		t.Fatal("the image was pulled without the right credentials")
	}

	// the right ones
	path := writeManifest(t, manifest(pod, reg.pass))
	if dry := must(t, podunit, "up", "--dry-run", path); strings.Contains(dry, reg.pass) || !strings.Contains(dry, "authenticated for "+reg.addr) {
		t.Errorf("dry-run shows the password, or not that the pull is authenticated:\n%s", dry)
	}
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", pod) })
	must(t, podunit, "up", path)
	if st := status(t, pod); st == nil || len(st.Containers) != 1 || st.Containers[0].State != "Running" {
		t.Errorf("pod from the private image not running: %+v", st)
	}
	must(t, "podman", "image", "exists", image)
	// (a pattern that does not match itself on grep's command line)
	assertHidden(t, "["+reg.pass[:1]+"]"+reg.pass[1:], strings.TrimSuffix(units.InfraUnitName(pod), ".service")+"*",
		`"$XDG_RUNTIME_DIR/podunit"`, `"$XDG_RUNTIME_DIR/systemd"`)
	if out := must(t, "sh", "-c", `ls -a "$XDG_RUNTIME_DIR/podunit"`); strings.Contains(out, "pull-auth") {
		t.Errorf("the pull's auth file is left behind:\n%s", out)
	}
	// podman's service got the credentials for this pull only: a pull of its
	// own, without them, is still refused
	if r := run(t, "podman", "pull", "--quiet", reg.addr+"/private/busybox:1"); r.code == 0 {
		t.Error("podman pulls from the private registry without credentials after podunit's pull: they were stored")
	}
}

// The credentials may come from the pod's ServiceAccount, as Kubernetes'
// ServiceAccount admission gives them: a bundle with a Namespace, a
// ServiceAccount naming the pull Secret, and a pod that runs as it with no
// imagePullSecrets of its own pulls from the private registry; `down` of the
// file forgets the Namespace and the ServiceAccount with the rest.
func TestServiceAccountPull(t *testing.T) {
	reg := startRegistry(t)
	image := reg.push(t, "private/busybox:2")

	const pod = "e2e-sa-pull"
	path := writeManifest(t, fmt.Sprintf(`
apiVersion: v1
kind: Namespace
metadata: {name: e2e-sa, labels: {team: e2e}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: puller, namespace: e2e-sa}
imagePullSecrets: [{name: regcred}]
automountServiceAccountToken: false
---
apiVersion: v1
kind: Secret
metadata: {name: regcred, namespace: e2e-sa}
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: %s
---
apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: e2e-sa}
spec:
  serviceAccountName: puller
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: %s
    command: ["sleep", "100000"]
`, dockerConfig("https://"+reg.addr, reg.user, reg.pass), pod, image))
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", path) })
	r := run(t, podunit, "up", "-f", path) // kubectl's spelling
	if r.code != 0 {
		t.Fatalf("up: exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"namespace/e2e-sa created", "serviceaccount/puller created", "secret/regcred created", "pod/" + pod + " started"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("up says no %q:\n%s", want, r.stdout)
		}
	}
	if r.stderr != "" {
		t.Errorf("up warns:\n%s", r.stderr)
	}
	if st := status(t, pod); st == nil || len(st.Containers) != 1 || st.Containers[0].State != "Running" {
		t.Errorf("pod from the private image not running: %+v", st)
	}
	must(t, "podman", "image", "exists", image)
	// as in Kubernetes, the pod shows the pull secrets it got
	if y := must(t, podunit, "get", "pod", pod, "-o", "yaml"); !strings.Contains(y, "imagePullSecrets:\n  - name: regcred") {
		t.Errorf("get -o yaml shows no imagePullSecrets:\n%s", y)
	}
	assertHidden(t, "["+reg.pass[:1]+"]"+reg.pass[1:], strings.TrimSuffix(units.InfraUnitName(pod), ".service")+"*",
		`"$XDG_RUNTIME_DIR/podunit"`, `"$XDG_RUNTIME_DIR/systemd"`)
	// kubectl's namespace flags
	if out := must(t, podunit, "get", "pods", "-n", "e2e-sa"); !regexp.MustCompile(`(?m)^` + pod + `\s+1/1\s+Running`).MatchString(out) {
		t.Errorf("get pods -n e2e-sa:\n%s", out)
	}
	if out := must(t, podunit, "get", "pods", "-A"); !regexp.MustCompile(`(?m)^NAMESPACE\s+NAME\s+READY[\s\S]*^e2e-sa\s+` + pod + `\s+1/1`).MatchString(out) {
		t.Errorf("get pods -A:\n%s", out)
	}
	if r := run(t, podunit, "get", "pods", "-n", "e2e-none"); r.code != 0 || strings.Contains(r.stdout, pod) || !strings.Contains(r.stderr, "No resources found in namespace e2e-none") {
		t.Errorf("get pods -n e2e-none: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := run(t, podunit, "get", "pod", pod, "-n", "default"); r.code != 3 {
		t.Errorf("get pod %s -n default: exit %d, want 3 (not found)", pod, r.code)
	}

	// flags after the arguments, as kubectl takes them
	out := must(t, podunit, "down", path, "--grace-period", "0", "--force")
	for _, want := range []string{"pod/" + pod + " removed", "namespace/e2e-sa deleted", "serviceaccount/puller deleted", "secret/regcred deleted"} {
		if !strings.Contains(out, want) {
			t.Errorf("down says no %q:\n%s", want, out)
		}
	}
	if out := must(t, "sh", "-c", `find "$XDG_RUNTIME_DIR/podunit/objects" -name '*.json'`); strings.Contains(out, "puller") || strings.Contains(out, "e2e-sa.json") {
		t.Errorf("objects left after down:\n%s", out)
	}
}
