package main

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A manifest argument may be a URL, as kubectl -f takes one: what it serves
// is read like a file (with a file beside it, one manifest); a server that
// does not answer 200 is a usage error that says what it answered, and so is
// a manifest too large to be one.
func TestManifestFromURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/pod.yaml":
			w.Write([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: fetched}\nspec:\n  containers: [{name: app, image: img}]\n"))
		case "/moved.yaml":
			http.Redirect(w, r, "/pod.yaml", http.StatusMovedPermanently)
		case "/huge.yaml":
			w.Write([]byte(strings.Repeat("#", maxManifest+1)))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "cm.yaml")
	if err := os.WriteFile(file, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: local}\ndata: {a: b}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := loadManifestFor(false, "", srv.URL+"/moved.yaml", file)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Pods) != 1 || m.Pods[0].Name != "fetched" || len(m.Objects.ConfigMaps) != 1 {
		t.Errorf("pods %d, configmaps %d", len(m.Pods), len(m.Objects.ConfigMaps))
	}
	for path, want := range map[string]string{"/gone.yaml": "the server answered 404 Not Found", "/huge.yaml": "more than 32 MiB, not a manifest"} {
		_, err := loadManifestFor(false, "", srv.URL+path)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), srv.URL+path) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want a usage error with %q", path, err, want)
		}
	}
	if !isURL("https://k8s.io/examples/pods/simple-pod.yaml") || isURL("./https-pod.yaml") || isURL("pod/web") {
		t.Error("isURL")
	}
}
