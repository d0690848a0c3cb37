#!/usr/bin/env bash
# `make image-check`: proves the Dockerfile's runtime stage where there is no Docker engine.
#
#  1. builds ember and ember-archiver in release;
#  2. builds the runtime stage's root file system from Debian's packages with debootstrap (bookworm,
#     minbase, plus deploy/image/runtime-packages.txt: the list the Dockerfile installs);
#  3. does what the Dockerfile's runtime stage does: the binaries into /opt/ember/bin, the Swift runtime
#     libraries `ldd` resolves from the toolchain into /opt/ember/lib (scripts/image-swift-libs.sh), the
#     image's config.properties, the user ember (uid 1000), a model store with model_store/mlp.mar;
#  4. checks the libraries: `ldd` inside the root file system resolves everything, every library a
#     listed package provides is one `ldd` needs (no package listed for nothing), every copied Swift
#     library is one `ldd` uses;
#  5. runs ember inside it, as uid 1000, in its own network, mount and PID namespaces (unshare + chroot),
#     with the image's own configuration (0.0.0.0, tokens on), and serves a prediction;
#  6. with buildah (Debian's), assembles the same root file system into an image and saves it as a
#     docker-archive tarball (`docker load -i`); IMAGE_CHECK_BUILDAH=0 skips it.
#
# Needs root. Slow the first time (debootstrap downloads about 200 MB); the root file system is kept in
# .build/image-check/ and rebuilt only when the package list changes. Not part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=${IMAGE_CHECK_DIR:-$repo/.build/image-check}
rootfs=$work/rootfs
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
list=deploy/image/runtime-packages.txt
listed=$(sed 's/#.*//' "$list" | xargs)
libraries=$(grep -v '^\s*#' "$list" | grep -v '# tool' | sed 's/#.*//' | xargs)
step() { printf '\n== %s\n' "$*"; }
fail() { echo "image-check FAILED: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || fail "needs root (debootstrap, chroot, unshare)"
for tool in debootstrap jq curl; do
    command -v "$tool" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$tool"
done

step "1. release build"
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
swift build -c release 2>&1 | grep -E "error|Compiling|Build" | tail -3
bin=$(swift build -c release --show-bin-path)
ls -l "$bin/ember" "$bin/ember-archiver"

step "2. root file system: debootstrap bookworm minbase + $list"
mkdir -p "$work"
wanted=$(echo "$listed" | sha256sum | cut -c1-64)
if [[ ! -f "$work/rootfs.stamp" || "$(cat "$work/rootfs.stamp")" != "$wanted" ]]; then
    rm -rf "$rootfs" "$work/rootfs.stamp"
    debootstrap --variant=minbase --include="${listed// /,}" bookworm "$rootfs" "$mirror" > "$work/debootstrap.log" 2>&1 ||
        { tail -20 "$work/debootstrap.log"; fail "debootstrap"; }
    chroot "$rootfs" apt-get clean
    rm -rf "$rootfs"/var/lib/apt/lists/*
    echo "$wanted" > "$work/rootfs.stamp"
    echo "made $rootfs"
else
    echo "reusing $rootfs (the package list is unchanged)"
fi
echo "packages asked for: $listed"
echo "packages installed: $(chroot "$rootfs" dpkg-query -W -f '${binary:Package}\n' | wc -l)"

step "3. the Dockerfile's runtime stage"
rm -rf "$rootfs/opt/ember"
mkdir -p "$rootfs/opt/ember/bin"
cp "$bin/ember" "$bin/ember-archiver" "$rootfs/opt/ember/bin/"
echo "Swift runtime libraries copied (what ldd resolves from the toolchain):"
scripts/image-swift-libs.sh "$rootfs/opt/ember/lib" "$rootfs/opt/ember/bin/ember" "$rootfs/opt/ember/bin/ember-archiver" | sed 's/^/  /'
install -D -m 0644 deploy/image/config.properties "$rootfs/etc/ember/config.properties"
echo /opt/ember/lib > "$rootfs/etc/ld.so.conf.d/ember.conf"
chroot "$rootfs" ldconfig
if ! chroot "$rootfs" getent passwd ember >/dev/null; then
    chroot "$rootfs" groupadd --gid 1000 ember
    chroot "$rootfs" useradd --uid 1000 --gid 1000 --home-dir /var/lib/ember --create-home --shell /usr/sbin/nologin ember
fi
rm -rf "$rootfs/models" "$rootfs/var/lib/ember/"{logs,key_file.json}
mkdir -p "$rootfs/models"
cp model_store/mlp.mar "$rootfs/models/"
chown -R 1000:1000 "$rootfs/models"

step "4. libraries"
ldd_out=$(chroot "$rootfs" ldd /opt/ember/bin/ember /opt/ember/bin/ember-archiver)
if grep -q 'not found' <<<"$ldd_out"; then
    grep 'not found' <<<"$ldd_out"
    fail "libraries missing from the root file system"
fi
resolved=$(awk '$2 == "=>" && $3 ~ /^\// { print $3 }' <<<"$ldd_out" | sort -u)
owners=()
printf '  %-48s %s\n' "library (ldd, inside the root file system)" "from"
for path in $resolved; do
    real=$(chroot "$rootfs" readlink -f "$path")
    if [[ "$real" == /opt/ember/lib/* ]]; then
        owner="Swift toolchain (copied)"
    else
        owner=$(chroot "$rootfs" dpkg -S "$real" 2>/dev/null || chroot "$rootfs" dpkg -S "$path" 2>/dev/null ||
            chroot "$rootfs" dpkg -S "*/$(basename "$real")" 2>/dev/null || echo "?: unowned")
        owner=${owner%%:*}
    fi
    owners+=("$owner")
    printf '  %-48s %s\n' "$(basename "$path")" "$owner"
done
for package in $libraries; do
    printf '%s\n' "${owners[@]}" | grep -qx "$package" || fail "$package is listed in $list but ldd needs none of its libraries"
done
for copied in "$rootfs"/opt/ember/lib/*; do
    grep -q "/$(basename "$copied")$" <<<"$resolved" || fail "$(basename "$copied") was copied but ldd does not use it"
done
printf '%s\n' "${owners[@]}" | grep -q '^?' && fail "a library belongs to no package"
echo "every listed library package is needed; every needed library is in the root file system"

step "5. ember in the root file system as uid 1000 (own network, mount and PID namespaces)"
export rootfs work repo
set +e
unshare --net --mount --pid --fork --kill-child bash -euo pipefail -c '
    ip link set lo up
    mount -t proc proc "$rootfs/proc"
    mount -t tmpfs -o mode=1777 tmpfs "$rootfs/tmp"
    for node in null zero random urandom; do
        touch "$rootfs/dev/$node" 2>/dev/null || true
        mount --bind "/dev/$node" "$rootfs/dev/$node"
    done
    chroot --userspec=1000:1000 "$rootfs" /usr/bin/env -i PATH=/opt/ember/bin:/usr/bin:/bin \
        LOG_LOCATION=/var/lib/ember/logs HOME=/var/lib/ember \
        /bin/sh -c "cd /var/lib/ember && exec /opt/ember/bin/ember --start --foreground --ncs --ts-config /etc/ember/config.properties" \
        > "$work/ember.stdout" 2> "$work/ember.stderr" &
    pid=$!
    for _ in $(seq 1200); do
        grep -q "Model server started." "$work/ember.stdout" 2>/dev/null && break
        kill -0 $pid 2>/dev/null || { cat "$work/ember.stderr"; echo "ember exited"; exit 1; }
        sleep 0.1
    done
    grep -q "Model server started." "$work/ember.stdout" || { cat "$work/ember.stderr"; echo "ember did not start"; exit 1; }
    # The namespace'"'"'s own /proc is the one mounted in the root file system.
    uid=$(awk "/^Uid:/ {print \$2}" "$rootfs/proc/$pid/status")
    echo "started; process $pid ($(tr "\0" " " < "$rootfs/proc/$pid/cmdline" | cut -c1-60)) runs as uid $uid, gid $(awk "/^Gid:/ {print \$2}" "$rootfs/proc/$pid/status")"
    grep -E "bind to" "$work/ember.stderr" | sed "s/^/  /"
    keys="$rootfs/var/lib/ember/key_file.json"
    echo "key file: $(stat -c "%U(%u) %a" "$keys")"
    key=$(jq -r .inference.key "$keys")
    code() { curl -s -o /dev/null -w "%{http_code}" "$@"; }
    live=$(code http://127.0.0.1:8080/v2/health/live)
    ready=$(code http://127.0.0.1:8080/v2/health/ready)
    nokey=$(code -X POST -H "Content-Type: application/json" --data @"$repo/examples/mlp/sample.json" http://127.0.0.1:8080/predictions/mlp)
    echo "GET /v2/health/live without a key: $live; /v2/health/ready: $ready; POST /predictions/mlp without a key: $nokey"
    answer=$(curl -s -w "\n%{http_code}" -X POST -H "Authorization: Bearer $key" -H "Content-Type: application/json" \
        --data @"$repo/examples/mlp/sample.json" http://127.0.0.1:8080/predictions/mlp)
    status=$(tail -1 <<<"$answer")
    echo "POST /predictions/mlp with the inference key: $status $(sed "\$d" <<<"$answer" | tr -d "\n" | tr -s " " | cut -c1-100)"
    series=$(curl -s http://127.0.0.1:8082/metrics | grep -c "^ember_" || true)
    echo "GET :8082/metrics: $series ember_* samples"
    kill -TERM $pid
    wait $pid
    echo "SIGTERM: ember exited with $?"
    [[ $uid == 1000 && $live == 200 && $ready == 200 && $nokey == 400 && $status == 200 && $series -gt 0 ]]
'
served=$?
set -e
[[ $served -eq 0 ]] || fail "ember did not serve inside the root file system (logs: $work/ember.stderr)"

step "sizes"
du -sh --apparent-size "$rootfs" | sed 's/^/  root file system: /'
du -sh --apparent-size "$rootfs/opt/ember/lib" | sed 's/^/  Swift runtime libraries: /'
du -sh --apparent-size "$rootfs/opt/ember/bin" | sed 's/^/  ember + ember-archiver: /'
du -sh --apparent-size "$rootfs/usr/lib/x86_64-linux-gnu/libtorch"* 2>/dev/null | sed 's/^/  /' | head -3 || true

if [[ "${IMAGE_CHECK_BUILDAH:-1}" != 0 ]]; then
    step "6. an image with buildah"
    command -v buildah >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends buildah
    export BUILDAH_ISOLATION=chroot
    rm -f "$rootfs/var/lib/ember/key_file.json"
    rm -rf "$rootfs/var/lib/ember/logs" "$rootfs/models/"*
    container=$(buildah from --format docker scratch)
    mount=$(buildah mount "$container")
    cp -a "$rootfs/." "$mount/"
    buildah umount "$container" >/dev/null
    buildah config --user 1000:1000 --workingdir /var/lib/ember --port 8080 --port 8081 --port 8082 \
        --volume /models --volume /etc/ember \
        --env PATH=/opt/ember/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        --env LOG_LOCATION=/var/lib/ember/logs --stop-signal SIGTERM \
        --healthcheck 'CMD curl -fsS http://127.0.0.1:8080/v2/health/live || exit 1' \
        --healthcheck-interval 10s --healthcheck-timeout 3s --healthcheck-start-period 60s --healthcheck-retries 3 \
        --entrypoint '["/opt/ember/bin/ember", "--start", "--foreground", "--ncs"]' \
        --cmd '--ts-config /etc/ember/config.properties' "$container"
    buildah commit --quiet --format docker "$container" ember:0.1.0 >/dev/null
    rm -f "$work/ember-0.1.0.docker.tar"
    buildah push --quiet ember:0.1.0 "docker-archive:$work/ember-0.1.0.docker.tar:ember:0.1.0"
    buildah inspect --type image --format '  user {{.Docker.Config.User}}, ports {{.Docker.Config.ExposedPorts}}, volumes {{.Docker.Config.Volumes}}, healthcheck {{.Docker.Config.Healthcheck.Test}}' ember:0.1.0
    ls -l "$work/ember-0.1.0.docker.tar" | awk '{printf "  %s: %.0f MiB (docker load -i)\n", $9, $5 / 1048576}'
    buildah rm "$container" >/dev/null
    buildah rmi ember:0.1.0 >/dev/null
fi
echo
echo "image-check passed"
