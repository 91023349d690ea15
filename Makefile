# madoguchi — developer entry points. The real work is in scripts/ (bash); see README.
#   make run     start the whole back office on the embedded defaults (state in .dev/, Ctrl-C stops)
#   make test    gofmt, vet, and every test on the real parts (Postgres, SoftHSM, pcscd, Temporal)
SHELL := /bin/bash

.PHONY: help run cluster infra test bench screenshots install build fmt vet clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

run: ## start everything (Postgres, SoftHSM, pcscd, Temporal, setup, workers, gateway, card) and print where to go
	@bash scripts/run.sh

cluster: ## like run, but Temporal is the real server of cluster/ (4 services, Postgres, mTLS, our authorizer; docs/CLUSTER.md)
	@bash scripts/cluster.sh

infra: ## start only Postgres, SoftHSM, pcscd and Temporal in .dev/ (then: source .dev/env)
	@bash scripts/run.sh --infra

test: ## gofmt, go vet and go test ./... against the real parts in a fresh .dev/test-* state
	@bash scripts/test.sh

bench: ## benchmarks against the real parts
	@bash scripts/bench.sh

screenshots: ## regenerate the console's screenshots in docs/console/ (a browser test on the real parts)
	@MADOGUCHI_SCREENSHOTS=1 MADOGUCHI_TEST_PKGS=./tests/integration/ MADOGUCHI_TEST_RUN='^TestConsoleScreenshots$$' bash scripts/test.sh

install: ## install the Debian packages and the pinned Temporal CLI
	@bash scripts/install.sh

build: ## build every command into .dev/bin
	go build -o .dev/bin/ ./cmd/...

fmt: ## gofmt -w the Go files
	gofmt -w $$(find . -name '*.go' -not -path './.dev/*' -not -path './.git/*')

vet: ## go vet ./...
	go vet ./...

clean: ## remove built binaries and test states (keeps the run state .dev/ with its data and secrets)
	rm -rf .dev/bin .dev/test-* .dev/bench-*
