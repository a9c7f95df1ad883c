# provider-docker: the two commands that matter are `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
BENCH_ENV := .bench/env
CARGO ?= cargo

.PHONY: help env-up env-down test test-unit lint fmt demo

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

env-up: ## start the bench: Docker daemon, test images, kube-apiserver, etcd, controller-manager
	tests/bench/up.sh

env-down: ## stop every process the bench started
	tests/bench/down.sh

test: env-up ## bench up, then every test (unit and end-to-end)
	source $(BENCH_ENV) && $(CARGO) test --workspace --locked 2>&1 | tests/summarize.sh

test-unit: ## only the tests that need no bench
	$(CARGO) test --workspace --locked --lib --bins

lint: ## formatting and clippy, warnings are errors
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

fmt: ## format the code
	$(CARGO) fmt --all

demo: env-up ## bench up and a first look at it
	source $(BENCH_ENV) && kubectl get namespaces && docker images provider-docker-test/busybox
