# podunit: build, test, benchmark.
GO        ?= go
TAGS      := remote exclude_graphdriver_btrfs btrfs_noversion exclude_graphdriver_devicemapper containers_image_openpgp
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
export CGO_ENABLED := 0
GOFLAGS_B := -tags "$(TAGS)" -trimpath -ldflags "-s -w -X main.version=$(VERSION)"
BIN       := bin/podunit
WORLD     := test/world/world.sh

.PHONY: all build test unit e2e bench world-up world-down example vet fmt clean

all: build

build: $(BIN)

$(BIN): $(shell find . -name '*.go' -not -path './bin/*') go.mod go.sum
	$(GO) build $(GOFLAGS_B) -o $(BIN) ./cmd/podunit

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
	$(GO) test -tags "$(TAGS)" -count=1 -timeout 30m -run '^$$' -bench . -benchtime 1x ./test/bench/... ; rc=$$?; $(WORLD) down; exit $$rc

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

clean:
	rm -rf bin dist
