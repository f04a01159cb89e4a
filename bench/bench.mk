# `make bench` builds a generated corpus with `parvis build` and with Hugo (pinned in
# tools/go.mod, built once into $(HOME)/.cache/parvis-test), alternating, and prints their
# wall time and peak memory side by side; then it measures the submission service's intake
# (bench-intake), and the site search beside Pagefind (bench-search). Included by the root
# Makefile.
#
#   make bench                   10,000 articles, 3 builds of each per mode; then intake
#   make bench ARTICLES=2000 RUNS=5
#   make bench-intake            comments posted to parvis serve: 10,000/s for 20 s, 3 runs
#   make bench-intake INTAKE_RATE=5000 INTAKE_DURATION=60s RUNS=5
#   make bench-search            the site search beside Pagefind: index size, build time, bytes
#                                a cold query fetches (Pagefind installed by bench-search-deps)
#   make bench-clean             remove .bench/ (corpora, outputs, the parvis binary)

ARTICLES ?= 10000
RUNS     ?= 3
GO       ?= go
CACHE    ?= $(HOME)/.cache/parvis-test

# The intake benchmark's offered rate (submissions a second), measured window and warm-up.
INTAKE_RATE     ?= 10000
INTAKE_DURATION ?= 20s
INTAKE_WARMUP   ?= 3s
INTAKE          = $(GO) run ./bench/intake --rate $(INTAKE_RATE) --duration $(INTAKE_DURATION) --warmup $(INTAKE_WARMUP) --runs $(RUNS)

# Pagefind, the search's anchor, for the bench only (npm ships its binary), in the cache.
PAGEFIND_VERSION ?= 1.6.0
PAGEFIND_DIR     ?= $(CACHE)/pagefind-$(PAGEFIND_VERSION)
SEARCH           = $(GO) run ./bench/search --articles $(ARTICLES) --runs $(RUNS) --pagefind $(PAGEFIND_DIR) --pagefind-version $(PAGEFIND_VERSION)

.PHONY: bench bench-intake bench-search bench-search-deps bench-corpus bench-clean

bench: bench-search-deps
	$(GO) run ./bench/compare --articles $(ARTICLES) --runs $(RUNS)
	$(SEARCH)
	$(INTAKE)

# bench-search builds the corpus with and without the site search and indexes it with
# Pagefind, then runs a one-word and a three-word query on each in headless Chromium.
bench-search: bench-search-deps
	$(SEARCH)

bench-search-deps:
	@grep -qs '"version": "$(PAGEFIND_VERSION)"' $(PAGEFIND_DIR)/node_modules/pagefind/package.json || \
	  npm install --prefix $(PAGEFIND_DIR) --no-audit --no-fund --save-exact pagefind@$(PAGEFIND_VERSION)

# bench-intake posts comments to a real parvis serve at a fixed rate (open loop) and prints
# accepted/s, latency percentiles, errors and the server's peak RSS: see bench/README.md.
bench-intake:
	$(INTAKE)

# bench-corpus only writes a corpus, to build it by hand: .bench/corpus-$(ARTICLES)/
bench-corpus:
	rm -rf .bench/corpus-$(ARTICLES)
	$(GO) run ./bench/gencorpus --articles $(ARTICLES) --out .bench/corpus-$(ARTICLES)

bench-clean:
	rm -rf .bench
