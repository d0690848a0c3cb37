# Ember: `make test` installs what is missing, builds and runs every test and a short fuzz run;
# `make serve` builds release and starts the server on config.properties and model_store/ (token
# authorization on: the keys are in ./key_file.json, see README).
# `make bench` builds release and benchmarks Ember against the in-process floor and the HTTP floors (nginx, bare
# SwiftNIO, bare Hummingbird); `make bench-curves` draws how its cost grows (benchmarks/curves.py); `make bench-torchserve`
# adds TorchServe 0.12.0 side by side, and TorchServe's Python-handler MLP archive on Ember's Python workers
# (benchmarks/README.md). BENCH_ARGS passes options to benchmarks/run.py.
# `make soak` builds release and runs benchmarks/soak.py with faults (10 minutes; SOAK_ARGS="--minutes 2" for less).
# `make api-fuzz` runs schemathesis on each listener from its OpenAPI document (a short run is in `make test`).
SWIFT ?= swift
# Debian's libtorch calls whichever BLAS is installed; OpenBLAS would spin idle threads otherwise.
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: deps deps-examples deps-bench build release test deploy-check api-fuzz image-check serve examples bench bench-torchserve bench-curves soak fuzz clean

deps:
	@scripts/install-deps.sh build

deps-examples:
	@scripts/install-deps.sh examples

deps-bench:
	@scripts/install-deps.sh bench

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# Every test (the Python workers' tests use .venv, made here when missing), the deployment checks, a short
# schemathesis run on each listener (about 35 s; `make api-fuzz` for longer), then a short fuzz run of each
# libFuzzer target (fixed seed, 10 s each; `make fuzz` for longer).
test: deps
	scripts/install-python-env.sh >/dev/null
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	deploy/tests/run.sh .build/debug/ember
	$$(scripts/install-python-env.sh --quiet | tail -1) scripts/api_fuzz.py .build/debug/ember --max-examples 5
	FUZZ_SEED=1 scripts/fuzz.sh 10

# deploy/ checked offline: Kubernetes and KServe manifests against their schemas, the KServe runtime on
# its storage layout, Prometheus (Debian's) scraping a running Ember. Part of `make test`.
deploy-check:
	deploy/tests/run.sh .build/debug/ember

# Schemathesis against a debug ember, each listener from its own OpenAPI document (OPTIONS /), token
# authorization off and on (scripts/api_fuzz.py); API_FUZZ_ARGS="--max-examples 500 --seed 3" to change it.
API_FUZZ_ARGS ?= --max-examples 100 --phases examples,coverage,fuzzing,stateful
api-fuzz: build
	$$(scripts/install-python-env.sh --quiet | tail -1) scripts/api_fuzz.py .build/debug/ember $(API_FUZZ_ARGS)

# The Dockerfile's runtime stage built from Debian's packages with debootstrap and run with chroot as the
# image's user (needs root; slow the first time, so not part of `make test`). See scripts/image-check.sh.
image-check: deps
	scripts/image-check.sh

examples: deps-examples release
	examples/make_examples.sh

serve: deps-examples release
	@test -f model_store/resnet18.mar || examples/make_examples.sh
	.build/release/ember --start --foreground --model-store model_store --models all --ts-config config.properties --enable-model-api

# The driver builds release itself so that the floor (and TorchServe) still run when ember does not build.
# Then perf_analyzer (Triton's load tool, in the project's Python environment) over the Open Inference Protocol.
bench: deps-bench
	/usr/bin/python3 benchmarks/run.py $(BENCH_ARGS)
	$$(scripts/install-python-env.sh --quiet | tail -1) benchmarks/perf_analyzer.py $(PERF_ANALYZER_ARGS)

bench-torchserve: deps-bench
	/usr/bin/python3 benchmarks/run.py --torchserve --ember-python $(BENCH_ARGS)

# How cost grows with the work (benchmarks/curves.py): concurrency 1..1,024 (with the overload rows), rows per
# request, registered models, workers; tables and a PNG in benchmarks/results/. CURVES_ARGS=--quick for a short run.
bench-curves: deps-bench release
	@test -f model_store/mlp.mar || examples/make_examples.sh
	/usr/bin/python3 benchmarks/curves.py $(CURVES_ARGS)

# Predictions at high concurrency while scaling and registering/unregistering, with faults: kill -9 of the
# supervised server, a Python worker hanging past its timeout, slow and leaving clients; counts every
# response, the registrations lost and the recovery time, prints the resident-memory curve and a verdict
# (benchmarks/soak.py --help; SOAK_ARGS="--no-faults" for the plain soak).
soak: deps-examples release
	@test -f model_store/mlp.mar || examples/make_examples.sh
	/usr/bin/python3 benchmarks/soak.py --python $$(scripts/install-python-env.sh --quiet | tail -1) $(SOAK_ARGS)

# libFuzzer with AddressSanitizer on the archive reader, request decoders and configuration parsers;
# FUZZ_SECONDS per target (scripts/fuzz.sh).
FUZZ_SECONDS ?= 20
fuzz: deps
	scripts/fuzz.sh $(FUZZ_SECONDS)

clean:
	rm -rf .build
