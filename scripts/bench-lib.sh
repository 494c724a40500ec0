# shellcheck shell=bash
# Shared helpers of the bench-* scripts (source it; it defines functions and changes nothing else):
#   bench_need TOOL...             exits 2 naming the first tool that is missing
#   bench_build                    builds the release binary, sets $bin
#   bench_on_exit 'CMD'            runs CMD when the script exits (several compose)
#   bench_free_port                prints a free TCP port on 127.0.0.1
#   bench_registry_start DIR       Debian's docker-registry on 127.0.0.1 (plain HTTP), sets $host
#   bench_debian_root DIR          a Debian bookworm minbase root in DIR/rootfs (debootstrap, kept)
#   bench_pack_layers ROOT LAYOUT TAG N   packs ROOT into N umoci layers (gzip) as LAYOUT:TAG
#   bench_dockerd_start DIR        a private dockerd (socket DIR/sock), sets $DOCKER_HOST

bench_need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || {
      echo "missing $tool (scripts/install-test-deps, or apt-get install ${tool##*/})" >&2
      exit 2
    }
  done
}

bench_build() {
  cargo build --release --locked -q -p batchprep
  local dir=${CARGO_TARGET_DIR:-target}
  case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
  bin=$dir/release/batchprep
  export bin
}

bench_exit_cmds=()
bench_run_exit_cmds() {
  local cmd
  for cmd in "${bench_exit_cmds[@]}"; do eval "$cmd" || true; done
}
bench_on_exit() {
  bench_exit_cmds+=("$1")
  trap bench_run_exit_cmds EXIT
}

bench_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

bench_wait_port() {
  local _
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$1" >&2
  return 1
}

bench_registry_start() {
  local dir=$1 port
  case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
  port=$(bench_free_port)
  host=127.0.0.1:$port
  mkdir -p "$dir"
  cat >"$dir/config.yml" <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
http:
  addr: $host
  secret: batchprep-bench
YAML
  docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  registry_pid=$!
  bench_on_exit "kill $registry_pid 2>/dev/null"
  bench_wait_port "$port"
  export host registry_pid
}

bench_debian_root() {
  local dir=$1 mirror
  [ -d "$dir/rootfs" ] && return 0
  bench_need debootstrap
  mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
  [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 ~ /^bookworm$/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$mirror" ] || { echo "no Debian mirror found in /etc/apt/sources.list*" >&2; exit 2; }
  echo "debootstrap bookworm minbase from $mirror ..." >&2
  mkdir -p "$dir"
  rm -rf "$dir/rootfs.tmp"
  debootstrap --variant=minbase bookworm "$dir/rootfs.tmp" "$mirror" >"$dir/debootstrap.log" 2>&1 \
    || { tail -n 20 "$dir/debootstrap.log" >&2; exit 2; }
  mv "$dir/rootfs.tmp" "$dir/rootfs"
}

# Packs ROOT as image LAYOUT:TAG of N gzip layers: the first holds every directory and the first
# N-th of the other entries (sorted by path), each next layer the next N-th.
bench_pack_layers() {
  local root=$1 layout=$2 tag=$3 n=$4 bundle i chunk
  bundle=$layout.bundle
  [ -f "$layout/index.json" ] || umoci init --layout "$layout"
  rm -rf "$bundle" "$layout.chunks"
  umoci new --image "$layout:$tag"
  umoci unpack --image "$layout:$tag" "$bundle"
  mkdir -p "$layout.chunks"
  (cd "$root" && find . -mindepth 1 ! -type d | LC_ALL=C sort) >"$layout.chunks/all"
  split -n "l/$n" -d -a 3 "$layout.chunks/all" "$layout.chunks/part."
  i=0
  for chunk in "$layout.chunks"/part.*; do
    if [ "$i" = 0 ]; then
      (cd "$root" && find . -mindepth 1 -type d | LC_ALL=C sort) | cat - "$chunk" >"$chunk.with-dirs"
      chunk=$chunk.with-dirs
    fi
    tar -C "$root" --no-recursion -cf - -T "$chunk" | tar -C "$bundle/rootfs" -xpf -
    umoci repack --refresh-bundle --image "$layout:$tag" "$bundle"
    i=$((i + 1))
  done
  umoci config --image "$layout:$tag" --os linux --architecture amd64 --config.cmd /bin/sh
  umoci gc --layout "$layout"
  rm -rf "$bundle" "$layout.chunks"
}

bench_dockerd_start() {
  local dir=$1 _
  case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
  mkdir -p "$dir/root" "$dir/exec"
  dockerd --data-root "$dir/root" --exec-root "$dir/exec" -H "unix://$dir/sock" --pidfile "$dir/pid" \
    --bridge=none --iptables=false --ip-masq=false >"$dir/dockerd.log" 2>&1 &
  bench_on_exit "kill \$(cat $dir/pid 2>/dev/null || echo $!) 2>/dev/null; sleep 1"
  export DOCKER_HOST=unix://$dir/sock
  for _ in $(seq 1 100); do
    docker version >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "dockerd did not start: $(tail -n 5 "$dir/dockerd.log")" >&2
  return 1
}
