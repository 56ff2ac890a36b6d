# Infill: the two commands a new user needs are `make demo` and `make test`.
SWIFT ?= swift
CONFIG ?= release
BIN = .build/$(CONFIG)/infill

.PHONY: build demo test fetch bench clean

build:
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

# The whole test suite (fetches the base model first so the model-parity tests run).
test:
	$(SWIFT) build --product infill
	.build/debug/infill model fetch
	$(SWIFT) test

bench: build
	$(BIN) bench

clean:
	rm -rf .build demo
