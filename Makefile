# provider-docker: the two commands that matter are `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
BENCH_ENV := .bench/env
CARGO ?= cargo

.PHONY: help env-up env-down test test-unit lint fmt demo crds build image chaos fuzz bench

# The runtime image is built from a static binary made here (no registry is needed).
STATIC_TARGET := x86_64-unknown-linux-gnu
IMAGE ?= provider-docker:dev

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

env-up: ## start the bench: Docker daemons (main, TLS, SSH), private registry, test images, kube-apiserver, etcd, controller-manager
	tests/bench/up.sh

env-down: ## stop every process the bench started
	tests/bench/down.sh

build: ## build the provider binary
	$(CARGO) build --locked -p provider-docker

crds: build ## regenerate package/crds and the chart's copy from the types
	rm -f package/crds/*.yaml charts/provider-docker/files/crds/*.yaml
	target/debug/provider-docker crds --dir package/crds
	target/debug/provider-docker crds --dir charts/provider-docker/files/crds

image: ## build the runtime image $(IMAGE) from a static binary built here
	RUSTFLAGS="-C target-feature=+crt-static" $(CARGO) build --release --locked --target $(STATIC_TARGET) -p provider-docker
	rm -rf target/image && mkdir -p target/image/out
	cp target/$(STATIC_TARGET)/release/provider-docker /etc/ssl/certs/ca-certificates.crt target/image/out/
	# Debian's docker client with BuildKit builds only the stages the target needs, so the
	# builder stage (whose base image no registry here serves) is skipped.
	DOCKER_BUILDKIT=1 /usr/bin/docker build --quiet --build-arg BINARY=prebuilt --target runtime \
	  -f Dockerfile -t $(IMAGE) target/image

test: env-up build image ## bench up, then every test (unit and end-to-end)
	tests/bench/demo.sh stop
	source $(BENCH_ENV) && $(CARGO) test --workspace --locked 2>&1 | tests/summarize.sh
	# After the suite: search everything it produced for the secrets it planted.
	source $(BENCH_ENV) && $(CARGO) test --workspace --locked --test secrets_scan 2>&1 | tests/summarize.sh

chaos: env-up build ## the full fault campaign (make test runs one short round of each); figures in target/chaos
	tests/bench/demo.sh stop
	source $(BENCH_ENV) && CHAOS_FULL=1 $(CARGO) test --locked -p provider-docker-e2e --test chaos 2>&1 | tests/summarize.sh
	tests/chaos/table.py

bench: env-up ## the benchmarks of issue #9 on a release build (BENCH=p1 runs one); figures in target/bench, table into the README
	tests/bench/demo.sh stop
	$(CARGO) build --release --locked -p provider-docker
	source $(BENCH_ENV) && PROVIDER_DOCKER_BIN=$(CURDIR)/target/release/provider-docker \
	  BENCH_COMPOSE_V2="$$(tests/bench/build-compose.sh || true)" \
	  $(CARGO) bench --locked -p provider-docker-e2e --bench bench -- $(BENCH)

FUZZ_SECONDS ?= 600
fuzz: ## every cargo-fuzz target for FUZZ_SECONDS each (nightly); figures in target/fuzz
	tests/fuzz.sh $(FUZZ_SECONDS)

test-unit: ## only the tests that need no bench
	$(CARGO) test --workspace --locked --lib --bins

lint: ## formatting and clippy, warnings are errors
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	$(CARGO) clippy --workspace --locked --test secrets_scan -- -D warnings

fmt: ## format the code
	$(CARGO) fmt --all

demo: env-up build image ## bench up, provider running from its image, the quickstart applied and its status shown
	tests/bench/demo.sh

.PHONY: xpkg
xpkg: image ## the Crossplane package target/xpkg/provider-docker.xpkg: the runtime image plus a package.yaml layer
	package/xpkg.sh $(IMAGE) target/xpkg/provider-docker.xpkg
