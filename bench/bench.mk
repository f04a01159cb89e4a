# `make bench` builds a generated corpus with `parvis build` and with Hugo (pinned in
# tools/go.mod, built once into $(HOME)/.cache/parvis-test), alternating, and prints their
# wall time and peak memory side by side. Included by the root Makefile.
#
#   make bench                   10,000 articles, 3 builds of each per mode
#   make bench ARTICLES=2000 RUNS=5
#   make bench-clean             remove .bench/ (corpora, outputs, the parvis binary)

ARTICLES ?= 10000
RUNS     ?= 3
GO       ?= go

.PHONY: bench bench-corpus bench-clean

bench:
	$(GO) run ./bench/compare --articles $(ARTICLES) --runs $(RUNS)

# bench-corpus only writes a corpus, to build it by hand: .bench/corpus-$(ARTICLES)/
bench-corpus:
	rm -rf .bench/corpus-$(ARTICLES)
	$(GO) run ./bench/gencorpus --articles $(ARTICLES) --out .bench/corpus-$(ARTICLES)

bench-clean:
	rm -rf .bench
