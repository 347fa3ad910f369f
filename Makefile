# Entry points. `make run` and `make test` work on a fresh machine: they
# install the DynamoDB emulator (moto, into .venv) and start it themselves.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Local table names; tests make their own fresh ones.
export QUOTA_TABLE ?= quota-local
export EVENTS_TABLE ?= quota-events-local
EMULATOR_PORT ?= 8000
HTTP_ADDR ?= 127.0.0.1:8080
# Local admin auth: HS256 with a development secret, from its only copy
# (never used in AWS, where the stage's identity provider is configured).
local_auth = $(shell sed -n 's/^$(1)=//p' tools/local-auth.env)
export AUTH_ISSUER ?= $(call local_auth,AUTH_ISSUER)
export AUTH_AUDIENCE ?= $(call local_auth,AUTH_AUDIENCE)
export AUTH_HS256_SECRET ?= $(call local_auth,AUTH_HS256_SECRET)
export USER_AUTH_ISSUER ?= $(call local_auth,USER_AUTH_ISSUER)
export USER_AUTH_AUDIENCE ?= $(call local_auth,USER_AUTH_AUDIENCE)
export USER_AUTH_HS256_SECRET ?= $(call local_auth,USER_AUTH_HS256_SECRET)
# A dev stage's fan-out (infra's dev settings; docs/scale.md): the emulator
# answers one request at a time, and 320 leaderboard shards are 320 Queries.
export QUOTA_VERSION_COPIES ?= 8
export QUOTA_RANK_SHARDS ?= 16
export QUOTA_EVENT_PARTITIONS ?= 1
# Little debug info keeps the dev build fast on small machines.
export CARGO_PROFILE_DEV_DEBUG ?= line-tables-only

# Deployment: STAGE=dev|prod, ARCH=arm64 (default, what Lambda runs) or x86_64.
STAGE ?= dev
ARCH ?= arm64
FUNCTIONS := tiers assignments overrides users events prices groups check notifier
CDK := cd infra && npx cdk -c stage=$(STAGE) -c arch=$(ARCH)

.PHONY: scale-sim import-prices arch-ok arm64-smoke help setup console console-test run token user-token test infra-test lint fmt bench build synth deploy invoke emulator-stop clean

help:
	@echo "make run    emulator + tables + demo data, the API on http://$(HTTP_ADDR)"
	@echo "make test   every test (unit, repository against the emulator); installs what it needs"
	@echo "make token  a local admin JWT for the admin API under make run"
	@echo "make user-token SUB=dana ROLES=Faculty   a local end-user JWT for GET /api/quota/me"
	@echo "make console-test   the admin console in chromium (screenshots: target/console-screens/)"
	@echo "make lint   cargo fmt --check and clippy -D warnings"
	@echo "make bench  request counts, throughput, CPU per call, binary size, cold start, memory"
	@echo "make scale-sim [SIM_ARGS=...]   1,000,000 users at 100,000 checks + records a second: every partition key against DynamoDB's limits"
	@echo "make build  release zips with cargo-lambda (ARCH=arm64|x86_64)"
	@echo "make arm64-smoke   every arm64 zip run as a Lambda container under qemu (tests)"
	@echo "make synth / deploy STAGE=dev|prod   CDK; make invoke FN=check EVENT=events/check/check.json"
	@echo "make import-prices MODELS=gpt-4o,claude-sonnet-4-5 [APPLY=1]   published list prices as model prices (printed; APPLY=1 creates them under make run)"
	@echo "make setup  install the emulator into .venv"

.venv/bin/moto_server: tools/requirements.txt
	python3 -m venv .venv
	.venv/bin/pip install --quiet --disable-pip-version-check -r tools/requirements.txt
	@touch $@

setup: .venv/bin/moto_server

infra/node_modules/.package-lock.json: infra/package-lock.json
	cd infra && npm ci --no-audit --no-fund

# CDK template assertions (node --test), then cfn-lint over the templates they
# write. W3005 (a DependsOn that a GetAtt already implies) is CDK's own habit.
infra-test: setup console infra/node_modules/.package-lock.json
	cd infra && npm test
	.venv/bin/cfn-lint --ignore-checks W3005 -- infra/cdk.out.test/*.template.json

.venv/bin/cargo-lambda: tools/requirements-lambda.txt | .venv/bin/moto_server
	.venv/bin/pip install --quiet --disable-pip-version-check -r tools/requirements-lambda.txt
	@touch $@

# Release zips for every function: target/lambda-$(ARCH)/<function>/bootstrap.zip
# (the architecture is in the path, so synth/deploy can never pair them wrongly).
# ARCH=arm64 needs `rustup target add aarch64-unknown-linux-gnu` once.
build: arch-ok .venv/bin/cargo-lambda
	PATH="$(CURDIR)/.venv/bin:$$PATH" cargo lambda build --release --output-format zip --lambda-dir target/lambda-$(ARCH) \
	  $(if $(filter x86_64,$(ARCH)),--x86-64,--arm64) $(addprefix --bin ,$(FUNCTIONS))

# A wrong ARCH is one plain line, not a build for some other architecture.
# (A missing Rust target cargo-lambda adds itself through rustup.)
arch-ok:
	@case "$(ARCH)" in arm64|x86_64) ;; *) echo "ARCH must be arm64 or x86_64, not '$(ARCH)'"; exit 2;; esac

synth: arch-ok console infra/node_modules/.package-lock.json
	cd infra && npx tsc
	$(CDK) synth

# Needs AWS credentials and a bootstrapped account (see docs/operations.md, Deploy).
deploy: build console infra/node_modules/.package-lock.json
	cd infra && npx tsc
	$(CDK) deploy

# The deployable arm64 zips run as Lambda containers under qemu-user (apt-get
# installs it and arm64 glibc when missing, as root): every function answers one
# of its events/ fixtures, then the check's container tests run on its zip.
arm64-smoke: setup
	$(MAKE) build ARCH=arm64
	tools/arm64-smoke.sh

# make invoke FN=check EVENT=events/check/check.json [STAGE=dev]
invoke: .venv/bin/cargo-lambda
	@[ -n "$(FN)" ] && [ -f "$(EVENT)" ] || { echo "usage: make invoke FN=check EVENT=events/check/check.json [STAGE=dev] (EVENT: a file under events/)"; exit 2; }
	PATH="$(CURDIR)/.venv/bin:$$PATH" cargo lambda invoke --remote quota-$(STAGE)-$(FN) --data-file $(EVENT)

# The console's libraries (Preact, htm) from npm, pinned by the committed
# lockfile, copied as plain ES modules into console/vendor (no build step).
console/vendor/.stamp: console/package-lock.json
	cd console && npm ci --no-audit --no-fund
	mkdir -p console/vendor
	cp console/node_modules/preact/dist/preact.module.js console/node_modules/preact/hooks/dist/hooks.module.js \
	  console/node_modules/htm/dist/htm.module.js console/vendor/
	@touch $@

console: console/vendor/.stamp

run: setup console
	@url=$$(tools/emulator.sh start $(EMULATOR_PORT)) && \
	  export AWS_ENDPOINT_URL_DYNAMODB=$$url AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \
	         AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
	         QUOTA_DYNAMODB_ATTEMPT_TIMEOUT_MS=$${QUOTA_DYNAMODB_ATTEMPT_TIMEOUT_MS:-30000} \
	         QUOTA_CHECK_BUDGET_MS=$${QUOTA_CHECK_BUDGET_MS:-30000} \
	         QUOTA_REQUEST_BUDGET_MS=$${QUOTA_REQUEST_BUDGET_MS:-30000} && \
	  echo "DynamoDB emulator: $$url (tables $(QUOTA_TABLE), $(EVENTS_TABLE))" && \
	  trap 'tools/emulator.sh stop' EXIT && \
	  cargo run --quiet -p quota-dev -- serve $(HTTP_ADDR)

# A local admin token: make token [SUB=alice] [ROLES="admin"]
token:
	@cargo run --quiet -p quota-dev -- token $(or $(SUB),local-admin) $(or $(ROLES),admin)

# Model prices from the litellm package's price list (PyPI): printed first,
# created with APPLY=1 through make run's API with a fresh admin token.
import-prices: setup
	@test -n "$(MODELS)" || { echo "name the models: make import-prices MODELS=gpt-4o,claude-sonnet-4-5"; exit 2; }
	.venv/bin/python tools/import_prices.py --provider-prefix --models "$(MODELS)" \
	  $(if $(APPLY),--apply --url http://$(HTTP_ADDR) --token "$$(cargo run --quiet -p quota-dev -- token local-admin admin)")

# A local end-user token for GET /api/quota/me: make user-token [SUB=dana] [ROLES="Faculty"]
user-token:
	@cargo run --quiet -p quota-dev -- user-token $(or $(SUB),carol) $(ROLES)

test: setup infra-test console
	.venv/bin/python -m unittest discover -s tools/tests
	tools/with-emulator.sh cargo test --workspace
	tools/schemathesis.sh
	tools/clients-test.sh
	cd console && node --test test/
	tools/console-test.sh

# The admin console in a real browser (installs Debian's chromium if missing);
# screenshots of every page land in target/console-screens/. infra-test first:
# the browser also runs the console under the CSP the stack deploys.
console-test: setup console infra-test
	cd console && node --test test/
	tools/console-test.sh

# Builds the release binary (the deployed one is measured too), then prints
# the bench tables; needs the emulator, which it starts.
# The traffic simulation (docs/scale.md): the check function's own code over
# an in-memory DynamoDB that charges every partition key, table and index; no
# network, no emulator. Built optimised like the benches (the first build
# takes minutes; the run under two). Fails when a key is over its limit.
# Today's fan-out before this release: SIM_ARGS="--version-copies 8 --rank-shards 16".
scale-sim:
	cargo run --quiet --profile bench -p quota-scale-sim -- $(SIM_ARGS)

bench: setup
	cargo build --release -p check -p quota-dev
	mkdir -p target/bench-release && cp target/release/check target/bench-release/check
	tools/with-emulator.sh cargo bench -p check --bench check
	.venv/bin/python tools/bench_emulator.py
	tools/with-emulator.sh tools/load.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

emulator-stop:
	tools/emulator.sh stop

clean: emulator-stop
	rm -rf .venv .local target
