# VoiceBot — the two commands a newcomer needs are `make run` and `make test`.
# Both install what they need first (see `make deps`).

SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X voicebot/backend/cli.Version=$(VERSION)
BIN := build/bin/voicebot-headless
SHARED ?= ../shared

.PHONY: all deps build run test vet fmt-check bench eval clean

all: build

## deps: check the Go toolchain (Go 1.26 or newer) — Go modules come from the module proxy.
deps:
	@command -v $(GO) >/dev/null || { echo "missing: Go 1.26 or newer (https://go.dev/doc/install); on Debian put it at /usr/local/go"; exit 1; }
	@$(GO) version | awk '{split($$3,v,"."); if (v[2] < 26 && v[1] == "go1") { print "missing: Go 1.26 or newer, found " $$3; exit 1 }}'
	@$(GO) mod download

## build: the headless binary (no GTK, no WebKit, no cgo needed).
build: deps
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

## run: build and talk to the built-in demo content.
run: build
	$(BIN) chat

## test: vet, format check and every test with the race detector.
test: deps fmt-check vet
	$(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## bench: the benchmarks recorded in docs/BENCHMARKS.md.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./backend/... | tee bench.out

## eval: the public benchmarks (needs ../shared/bench).
eval: build
	$(BIN) eval nlu --train $(SHARED)/bench/clinc150/train.csv --test $(SHARED)/bench/clinc150/test.csv --json
	$(BIN) eval retrieval --corpus $(SHARED)/bench/scifact/corpus.jsonl --queries $(SHARED)/bench/scifact/queries.jsonl --qrels $(SHARED)/bench/scifact/qrels/test.tsv --json

clean:
	rm -rf build/bin
