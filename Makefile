# podunit: build, test, benchmark.
GO        ?= go
TAGS      := remote exclude_graphdriver_btrfs btrfs_noversion exclude_graphdriver_devicemapper containers_image_openpgp
# A tag v1.2.3 gives 1.2.3; between tags: 0.1.0~git<date>.<commit> (sorts before 0.1.0).
VERSION   ?= $(shell packaging/version.sh)
export CGO_ENABLED := 0
GOFLAGS_B := -tags "$(TAGS)" -trimpath -ldflags "-s -w -X main.version=$(VERSION)"
BIN       := bin/podunit
PROBE     := bin/podunit-probe
HELPER    := bin/podunit-helper
WORLD     := test/world/world.sh

.PHONY: all build test unit e2e bench world-up world-down example vet fmt clean deb rpm packages package-check test-vm pkgfiles

all: build

build: $(BIN) $(PROBE) $(HELPER)

$(BIN): $(shell find . -name '*.go' -not -path './bin/*') go.mod go.sum
	$(GO) build $(GOFLAGS_B) -o $(BIN) ./cmd/podunit

# A pod's prober, which podunit runs from beside itself (or from
# ../libexec/podunit/, where the packages put it).
$(PROBE): $(shell find . -name '*.go' -not -path './bin/*') go.mod go.sum
	$(GO) build $(GOFLAGS_B) -o $(PROBE) ./cmd/podunit-probe

# What the pods' units run (start, post-start, stop, clean-up), found the
# same way: a process per action, which starts with half the CPU podunit takes.
$(HELPER): $(shell find . -name '*.go' -not -path './bin/*') go.mod go.sum
	$(GO) build $(GOFLAGS_B) -o $(HELPER) ./cmd/podunit-helper

vet:
	$(GO) vet -tags "$(TAGS)" ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt needed"; exit 1; }

# Unit and golden tests: pure, no systemd or podman needed.
unit:
	$(GO) test -tags "$(TAGS)" $$($(GO) list ./... | grep -v /test/)

# End-to-end tests: the built binary against a real systemd --user and rootless
# podman, in the test world when this host has no user session.
e2e: build
	$(WORLD) up
	$(GO) test -tags "$(TAGS)" -count=1 -timeout 30m -v ./test/e2e/... ; rc=$$?; $(WORLD) down; exit $$rc

# Everything: the command the README and CI run.
test: vet unit e2e

bench: build
	$(WORLD) up
	$(GO) test -tags "$(TAGS)" -count=1 -timeout 30m -run '^$$' -bench . -benchtime 1x ./test/e2e/ ; rc=$$?; $(WORLD) down; exit $$rc

# Bring up the example pod (in the test world when there is no user session).
example: build
	$(WORLD) up
	test/images/build.sh
	$(WORLD) exec $(CURDIR)/$(BIN) up --replace $(CURDIR)/examples/web.yaml
	$(WORLD) exec systemctl --user --no-pager status 'podunit-*'
	$(WORLD) exec $(CURDIR)/$(BIN) ps -a

world-up:
	$(WORLD) up
world-down:
	$(WORLD) down

NFPM      ?= $(shell command -v nfpm || echo $$HOME/go/bin/nfpm)

# Packages: dist/podunit_<version>_amd64.deb and dist/podunit-<version>.x86_64.rpm.
pkgfiles: $(BIN)
	rm -rf packaging/build && mkdir -p packaging/build dist
	# dynamically linked against libc, as Debian policy wants binaries
	CGO_ENABLED=1 $(GO) build $(GOFLAGS_B) -buildmode=pie -o packaging/build/podunit ./cmd/podunit
	CGO_ENABLED=1 $(GO) build $(GOFLAGS_B) -buildmode=pie -o packaging/build/podunit-probe ./cmd/podunit-probe
	CGO_ENABLED=1 $(GO) build $(GOFLAGS_B) -buildmode=pie -o packaging/build/podunit-helper ./cmd/podunit-helper
	$(BIN) internal gen man | gzip -9n > packaging/build/podunit.1.gz
	$(BIN) internal gen bash > packaging/build/podunit.bash
	$(BIN) internal gen zsh > packaging/build/_podunit
	$(BIN) internal gen fish > packaging/build/podunit.fish
	gzip -9nc README.md > packaging/build/README.md.gz
	packaging/changelog.sh "$(VERSION)" > packaging/build/changelog.yml

$(NFPM):
	cd /tmp && GOFLAGS= $(GO) install github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.0

deb: pkgfiles $(NFPM)
	mkdir -p dist
	PODUNIT_VERSION=$(VERSION) $(NFPM) package --config packaging/nfpm.yaml --packager deb --target dist/
rpm: pkgfiles $(NFPM)
	mkdir -p dist
	PODUNIT_VERSION=$(VERSION) $(NFPM) package --config packaging/nfpm.yaml --packager rpm --target dist/
packages: deb rpm

# lintian on the .deb (no errors) and rpm's own view of the .rpm.
package-check: packages
	packaging/check.sh dist

test-vm: deb
	test/vm/run.sh dist

clean:
	rm -rf bin dist packaging/build
