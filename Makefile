# VoiceBot — the two commands a newcomer needs are `make run` and `make test`.
# Both install what they need first (see `make deps`).

SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X voicebot/backend/cli.Version=$(VERSION)
BIN := build/bin/voicebot-headless
SHARED ?= ../shared

.PHONY: all deps browser dashboard-assets frontend generate generated-check build run chat test vet fmt-check bench eval clean

all: build

## deps: check the Go toolchain (Go 1.26 or newer) — Go modules come from the module proxy.
deps:
	@command -v $(GO) >/dev/null || { echo "missing: Go 1.26 or newer (https://go.dev/doc/install); on Debian put it at /usr/local/go"; exit 1; }
	@$(GO) version | awk '{split($$3,v,"."); if (v[2] < 26 && v[1] == "go1") { print "missing: Go 1.26 or newer, found " $$3; exit 1 }}'
	@$(GO) mod download

## dashboard-assets: the dashboard's browser files from npm (versions pinned in
## backend/dashboard/assets/package.json), copied into embed/dashboard/ to be embedded.
dashboard-assets:
	@command -v npm >/dev/null || { echo "missing: npm (Debian: apt-get install npm, or Node.js 20+)"; exit 1; }
	cd backend/dashboard/assets && npm ci --no-audit --no-fund --silent
	cp backend/dashboard/assets/node_modules/htmx.org/dist/htmx.min.js embed/dashboard/htmx.min.js

## frontend: the visitor screen (Vite + TypeScript) built into frontend/dist, which main.go embeds.
frontend:
	@command -v npm >/dev/null || { echo "missing: npm (Debian: apt-get install npm, or Node.js 20+)"; exit 1; }
	cd frontend && npm ci --no-audit --no-fund --silent && npm run build --silent

## generate: the templ components' Go code (committed, so a plain `go build .` works; regenerated
## on every build). The dashboard's npm assets are committed too and refreshed by make test.
generate: deps
	$(GO) tool templ generate -path backend/dashboard

## build: the headless binary (no cgo, so no GTK, no WebKit, no C toolchain needed).
build: generate
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

RUN_DIR := build/run
RUN_FLAGS := --data-dir $(RUN_DIR)/data --config-dir $(RUN_DIR)/config
LISTEN ?= 127.0.0.1:8750

## run: build and serve the built-in demo content on $(LISTEN), with a fresh chat key to try it.
run: build
	@mkdir -p $(RUN_DIR)
	@key=$$($(BIN) keys create --name "make run $$(date +%F.%T)" --scopes chat,history,metrics $(RUN_FLAGS)) || exit 1; \
	echo; \
	echo "VoiceBot is starting on http://$(LISTEN) with the built-in demo content (a city museum)."; \
	echo "A key for this run (chat, history, metrics scopes; shown once): $$key"; \
	echo "Try it:"; \
	echo "  curl -s -H 'Authorization: Bearer $$key' -H 'Content-Type: application/json' \\"; \
	echo "       -d '{\"text\":\"What are the opening hours?\"}' http://$(LISTEN)/v1/chat"; \
	echo "Or talk in the terminal: $(BIN) chat.   Stop with Ctrl-C."; \
	echo; \
	exec $(BIN) serve $(RUN_FLAGS) --listen $(LISTEN)

## chat: a terminal conversation with the demo content.
chat: build
	$(BIN) chat

## browser: Debian's chromium for the dashboard's browser tests (installed when root, else the command to run).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium for the browser tests"; \
	    (DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 || \
	     (apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/dev/null)) \
	    || { echo "could not install chromium: sudo apt-get install chromium"; exit 1; }; \
	  else echo "missing: chromium for the browser tests. Run: sudo apt-get install chromium"; exit 1; fi; }

## test: generated code up to date, vet, format check and every test with the race detector
## (the browser tests leave screenshots in test-artifacts/).
test: deps browser generated-check fmt-check vet
	$(GO) test -race -count=1 ./...

generated-check: generate dashboard-assets frontend
	@git diff --quiet -- '*_templ.go' embed/dashboard frontend/dist 2>/dev/null && test -z "$$(git status --porcelain -- frontend/dist)" || { echo "generated files changed: commit the regenerated *_templ.go, embed/dashboard and frontend/dist files"; git status --short -- '*_templ.go' embed/dashboard frontend/dist; exit 1; }

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
	rm -rf build/bin build/run
