# Ember's container image: `docker build -t ember:0.1.0 .` (or `buildah bud`, `podman build`).
#
#   docker run --rm -p 8080-8082:8080-8082 -v "$PWD/model_store:/models:ro" ember:0.1.0
#   docker exec <container> cat /var/lib/ember/key_file.json     # the generated keys
#
# Two stages: the build stage has the Swift toolchain and the -dev packages; the runtime stage has only
# the runtime libraries (deploy/image/runtime-packages.txt, the same list `make image-check` installs
# with debootstrap) and the Swift runtime libraries the binaries link, copied exactly as `ldd` resolves
# them (scripts/image-swift-libs.sh). It runs as the unprivileged user `ember` (uid 1000).
ARG SWIFT_VERSION=6.3.1
ARG DEBIAN_RELEASE=bookworm

FROM swift:${SWIFT_VERSION}-${DEBIAN_RELEASE} AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libtorch-dev libzip-dev zlib1g-dev libturbojpeg0-dev libpng-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The manifest first, so dependency resolution is cached across source edits.
COPY Package.swift ./
RUN swift package resolve
COPY . .
RUN swift build -c release --product ember && swift build -c release --product ember-archiver \
    && mkdir -p /out/bin /out/lib \
    && cp .build/release/ember .build/release/ember-archiver /out/bin/ \
    && scripts/image-swift-libs.sh /out/lib /out/bin/ember /out/bin/ember-archiver

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
COPY deploy/image/runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update \
    && sed 's/#.*//' /tmp/runtime-packages.txt | xargs \
        env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt
COPY --from=build /out/lib/ /opt/ember/lib/
COPY --from=build /out/bin/ /opt/ember/bin/
COPY deploy/image/config.properties /etc/ember/config.properties
RUN echo /opt/ember/lib > /etc/ld.so.conf.d/ember.conf && ldconfig \
    && groupadd --gid 1000 ember \
    && useradd --uid 1000 --gid 1000 --home-dir /var/lib/ember --create-home --shell /usr/sbin/nologin ember \
    && mkdir -p /models \
    && chown ember:ember /models
ENV PATH=/opt/ember/bin:$PATH \
    LOG_LOCATION=/var/lib/ember/logs
USER 1000:1000
# The working directory holds key_file.json (generated keys) and logs/.
WORKDIR /var/lib/ember
# Inference, management, metrics (gRPC is not served yet).
EXPOSE 8080 8081 8082 7070 7071
VOLUME ["/models", "/etc/ember"]
# health_probes_without_token=true in the image's config: the check needs no key.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/v2/health/live || exit 1
# SIGTERM drains: readiness false, drain_delay_seconds, in-flight requests finish, pools stop.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/opt/ember/bin/ember", "--start", "--foreground", "--ncs"]
CMD ["--ts-config", "/etc/ember/config.properties"]
