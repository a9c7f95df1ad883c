# provider-docker: the two commands that matter are `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
BENCH_ENV := .bench/env
CARGO ?= cargo

.PHONY: help env-up env-down test test-unit lint fmt demo crds build

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

env-up: ## start the bench: Docker daemons (main, TLS, SSH), private registry, test images, kube-apiserver, etcd, controller-manager
	tests/bench/up.sh

env-down: ## stop every process the bench started
	tests/bench/down.sh

build: ## build the provider binary
	$(CARGO) build --locked -p provider-docker

crds: build ## regenerate package/crds from the types
	rm -f package/crds/*.yaml
	target/debug/provider-docker crds --dir package/crds

test: env-up build ## bench up, then every test (unit and end-to-end)
	source $(BENCH_ENV) && $(CARGO) test --workspace --locked 2>&1 | tests/summarize.sh

test-unit: ## only the tests that need no bench
	$(CARGO) test --workspace --locked --lib --bins

lint: ## formatting and clippy, warnings are errors
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

fmt: ## format the code
	$(CARGO) fmt --all

demo: env-up build ## bench up, provider running, the basic example applied and its status shown
	tests/bench/demo.sh
