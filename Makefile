# Ember: `make test` installs what is missing, builds and runs every test;
# `make serve` builds release and starts the server on config.properties and model_store/.
SWIFT ?= swift
# Debian's libtorch calls whichever BLAS is installed; OpenBLAS would spin idle threads otherwise.
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: deps deps-examples build release test serve examples clean

deps:
	@scripts/install-deps.sh build

deps-examples:
	@scripts/install-deps.sh examples

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

examples: deps-examples release
	examples/make_examples.sh

serve: deps-examples release
	@test -f model_store/resnet18.mar || examples/make_examples.sh
	.build/release/ember --start --foreground --model-store model_store --models all --ts-config config.properties --enable-model-api

clean:
	rm -rf .build
