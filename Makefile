# Parvis: `make run` starts the demo at http://localhost:8080, `make test` runs every test.
GO       ?= go
CACHE    ?= $(HOME)/.cache/parvis-test
export PARVIS_TEST_CACHE := $(CACHE)

.PHONY: run build test test-deps vet fuzz clean

ADDR     ?= :8080
DATA     ?=

# run builds the binary and execs it, so that Ctrl-C reaches the server alone and make sees
# its clean exit (go run would report the interrupt as a failure).
run:
	@$(GO) build -o bin/parvis ./cmd/parvis
	@exec bin/parvis serve --site content --addr $(ADDR) $(if $(DATA),--data $(DATA))

build:
	$(GO) build -o bin/parvis ./cmd/parvis

# test installs what the tests need (see scripts/test-deps.sh), then runs them all:
# unit, integration against real servers, race detector on, and the browser tests.
test: test-deps vet
	$(GO) test -race -timeout 25m ./...

test-deps:
	./scripts/test-deps.sh

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# fuzz runs each fuzz target for a short while (FUZZTIME=30s).
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin var public content/public content/var .bench

-include bench/bench.mk
