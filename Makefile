# Entry points. `make run` and `make test` work on a fresh machine: they
# install the DynamoDB emulator (moto, into .venv) and start it themselves.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Local table names; tests make their own fresh ones.
export QUOTA_TABLE ?= quota-local
export EVENTS_TABLE ?= quota-events-local
EMULATOR_PORT ?= 8000
HTTP_ADDR ?= 127.0.0.1:8080
# Local admin auth: HS256 with a development secret (never used in AWS, where
# the stage's identity provider and its JWKS are configured instead).
export AUTH_ISSUER ?= quota-local
export AUTH_AUDIENCE ?= quota-admin
export AUTH_HS256_SECRET ?= local-dev-secret-change-me-0123456789abcdef
# Little debug info keeps the dev build fast on small machines.
export CARGO_PROFILE_DEV_DEBUG ?= line-tables-only

.PHONY: help setup run token test lint fmt bench emulator-stop clean

help:
	@echo "make run    emulator + tables + demo data, the API on http://$(HTTP_ADDR)"
	@echo "make test   every test (unit, repository against the emulator); installs what it needs"
	@echo "make token  a local admin JWT for the admin API under make run"
	@echo "make lint   cargo fmt --check and clippy -D warnings"
	@echo "make bench  request counts, throughput, CPU per call, binary size, cold start, memory"
	@echo "make setup  install the emulator into .venv"

.venv/bin/moto_server: tools/requirements.txt
	python3 -m venv .venv
	.venv/bin/pip install --quiet --disable-pip-version-check -r tools/requirements.txt
	@touch $@

setup: .venv/bin/moto_server

run: setup
	@url=$$(tools/emulator.sh start $(EMULATOR_PORT)) && \
	  export AWS_ENDPOINT_URL_DYNAMODB=$$url AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \
	         AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true && \
	  echo "DynamoDB emulator: $$url (tables $(QUOTA_TABLE), $(EVENTS_TABLE))" && \
	  trap 'tools/emulator.sh stop' EXIT && \
	  cargo run --quiet -p quota-dev -- serve $(HTTP_ADDR)

# A local admin token: make token [SUB=alice] [ROLES="admin"]
token:
	@cargo run --quiet -p quota-dev -- token $(or $(SUB),local-admin) $(or $(ROLES),admin)

test: setup
	tools/with-emulator.sh cargo test --workspace --all-targets

# Builds the release binary (the deployed one is measured too), then prints
# the bench tables; needs the emulator, which it starts.
bench: setup
	cargo build --release -p check
	mkdir -p target/bench-release && cp target/release/check target/bench-release/check
	tools/with-emulator.sh cargo bench -p check --bench check

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

emulator-stop:
	tools/emulator.sh stop

clean: emulator-stop
	rm -rf .venv .local target
