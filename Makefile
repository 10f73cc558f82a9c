# Covet — build, run and test. `make help` lists the targets.
#
# The two commands a newcomer needs are `make run` and `make test`; both
# work on a fresh Debian 12 machine (as root) with only Go and Node, because
# they install what is missing (scripts/setup, npm ci).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

BIN        := build/bin
COVET      := $(BIN)/covet
STUDIO     := $(BIN)/covet-studio
# Wails' build tags: a production desktop build against WebKitGTK 4.1.
DESKTOP_TAGS := desktop,production,webkit2_41
GOTESTSUM  := go tool -modfile=scripts/tools/go.mod gotestsum
GO_SOURCES := $(shell find . -name '*.go' -not -name '*_test.go' -not -path './tests/*' -not -path '*/node_modules/*') go.mod go.sum
UI_DIST    := $(wildcard frontend/dist/*) $(wildcard frontend/dist/assets/*)
# The project `make run`/`make serve` open: the desktop app's default.
PROJECT    ?= $${XDG_DATA_HOME:-$$HOME/.local/share}/Covet/default-project
LISTEN     ?= 127.0.0.1:8080

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

## ---- run ------------------------------------------------------------------

.PHONY: run
run: setup build ## the studio: a desktop window, or with no display the headless server and its studio URL
	@if [ -n "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]; then \
		echo "Starting Covet Studio (desktop)…"; \
		exec $(STUDIO); \
	else \
		echo "No display found: serving the studio headless; open the URL below in a browser."; \
		exec $(COVET) serve --studio --project "$(PROJECT)" --listen "$(LISTEN)"; \
	fi

.PHONY: serve
serve: $(COVET) ## the headless server with the studio, for PROJECT (default: the desktop's default project)
	exec $(COVET) serve --studio --project "$(PROJECT)" --listen "$(LISTEN)"

## ---- build ----------------------------------------------------------------

.PHONY: build
build: $(COVET) $(STUDIO) ## build/bin/covet (headless) and build/bin/covet-studio (desktop)

$(COVET): $(GO_SOURCES) $(UI_DIST)
	go build -trimpath -o $@ ./embedded-server/cmd/covet

$(STUDIO): $(GO_SOURCES) $(UI_DIST)
	CGO_ENABLED=1 go build -trimpath -tags $(DESKTOP_TAGS) -ldflags "-s -w" -o $@ .

.PHONY: frontend
frontend: frontend/node_modules ## rebuild the studio UI into frontend/dist (commit the result)
	cd frontend && npm run build

frontend/node_modules: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	@touch $@

tests/e2e/node_modules: tests/e2e/package-lock.json
	cd tests/e2e && npm ci --no-audit --no-fund
	@touch $@

.PHONY: types
types: ## regenerate frontend/src/api/types.gen.ts from the Go API types
	go test ./embedded-server/internal/admin -run TestTypeScriptTypesAreCurrent -update

.PHONY: setup
setup: ## install the Debian packages builds and tests need (as root)
	@scripts/setup

.PHONY: services
services: ## start (or install) PostgreSQL, MariaDB and Redis on 127.0.0.1 for the tests; fails under CI=true if one is missing
	@scripts/services

## ---- check ----------------------------------------------------------------

.PHONY: lint
lint: frontend/node_modules ## gofmt, go vet (headless and desktop builds), svelte-check
	@unformatted=$$(gofmt -l $$(find . -name '*.go' -not -path '*/node_modules/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	cd tests/bench && go vet ./...
	CGO_ENABLED=1 go vet -tags $(DESKTOP_TAGS) .
	cd frontend && npm run --silent check

.PHONY: test
test: setup services lint build frontend/node_modules tests/e2e/node_modules ## everything: lint, unit, integration, browser e2e, desktop smoke
	cd frontend && npm test
	cd tests/e2e && COVET_BIN=$(CURDIR)/$(COVET) npm test
	@echo "go test -bench: every benchmark once (a smoke test; timings come from make bench)"
	@{ go test -run '^$$' -bench . -benchtime 1x ./... && \
	   cd tests/bench && go test -count=1 -bench . -benchtime 1x . ; } > $(CURDIR)/build/bench-smoke.log 2>&1 || { cat $(CURDIR)/build/bench-smoke.log; exit 1; }
	COVET_STUDIO_BIN=$(CURDIR)/$(STUDIO) $(GOTESTSUM) --format testname -- -race -count=1 -timeout 15m ./...

.PHONY: test-go
test-go: services ## Go tests only (no browser, no desktop)
	go test -race -count=1 ./...

.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME (default 60s) each
	go test -run '^$$' -fuzz FuzzDecode -fuzztime $${FUZZTIME:-60s} ./embedded-server/internal/config
	go test -run '^$$' -fuzz FuzzLookup -fuzztime $${FUZZTIME:-60s} ./backend/router
	go test -run '^$$' -fuzz FuzzNegotiateEncoding -fuzztime $${FUZZTIME:-60s} ./backend/middleware
	go test -run '^$$' -fuzz FuzzQueryStructure -fuzztime $${FUZZTIME:-60s} ./backend/orm
	go test -run '^$$' -fuzz FuzzFingerprint -fuzztime $${FUZZTIME:-60s} ./backend/orm/inspect
	go test -run '^$$' -fuzz FuzzParseDSN -fuzztime $${FUZZTIME:-60s} ./backend/orm/dialect/mysql
	go test -run '^$$' -fuzz FuzzParseErrorHidesPassword -fuzztime $${FUZZTIME:-60s} ./backend/orm/dialect/postgres
	go test -run '^$$' -fuzz FuzzVerify -fuzztime $${FUZZTIME:-60s} ./backend/security/jwt

.PHONY: test-security
test-security: $(COVET) ## sqlmap (level 3) against resource endpoints on SQLite, PostgreSQL and MariaDB
	@command -v sqlmap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends sqlmap; }
	COVET_BIN=$(CURDIR)/$(COVET) tests/security/sqlmap.sh sqlite
	COVET_BIN=$(CURDIR)/$(COVET) tests/security/sqlmap.sh postgres
	COVET_BIN=$(CURDIR)/$(COVET) tests/security/sqlmap.sh mysql

.PHONY: bench
bench: ## run every benchmark; raw results in tests/bench/results, summary in docs/BENCHMARKS.md
	scripts/bench

.PHONY: bench-http
bench-http: ## end-to-end HTTP with wrk (pinned, interleaved) and live-apply latency; summary in docs/BENCHMARKS.md
	scripts/bench http live

.PHONY: bench-orm
bench-orm: ## the ORM on PostgreSQL and SQLite, and a resource over HTTP; summary in docs/BENCHMARKS.md
	scripts/bench orm resource

.PHONY: bench-jwt
bench-jwt: ## the auth middleware against golang-jwt, and a protected route under wrk; summary in docs/BENCHMARKS.md
	scripts/bench auth

.PHONY: bench-loadgen
bench-loadgen: ## covet bench against wrk, its open-model rate and a server stall, and its memory over 10 minutes; summary in docs/BENCHMARKS.md
	scripts/bench loadgen

.PHONY: clean
clean: ## remove build outputs
	rm -rf $(BIN)
