#!/usr/bin/env bash
# The device lab: a small VM under QEMU whose real Linux kernel drives what this machine lacks
# (gpio-sim GPIO chips, vcan CAN interfaces, 16550A UARTs behind the 8250 driver). Everything comes
# from Debian packages; the kernel is the current one of Debian's trixie-backports, looked up when
# the lab is prepared. The repository is shared with the guest over 9p at the same path, so a
# command sees the same files (and the built packages) inside as outside.
#
#   test/lab/lab.sh prepare                       install the host tools, fetch the kernel, build the image
#   test/lab/lab.sh run [options] -- CMD [ARG...] boot, run CMD in the guest, exit with its status
#   test/lab/lab.sh info                          what the lab would boot (kernel version, cache)
#
# Options of `run`:
#   --serial null-modem   /dev/ttyS1 <-> /dev/ttyS2 inside the guest (two UARTs wired to each other)
#   --serial host-pty     /dev/ttyS1 wired to a pseudo-terminal on the host; with --host CMD, CMD
#                         runs on the host with LAB_HOST_PTY set to its path (the VM starts once
#                         the pty is held open, so no byte the guest writes is lost)
#   --host CMD            host-side command (a shell command line) for --serial host-pty; its exit
#                         status is checked too (the run fails if either side fails)
#   --env NAME=VALUE      set in the guest command's environment (repeatable)
#   --timeout SECONDS     kill the VM after this long (default 300; emulation is slow)
#   --mem MB              guest memory (default 1536)
#
# The command runs in the guest as root, in the caller's directory when that is inside the
# repository (the repository root otherwise), with LAB=1, LAB_KERNEL=<version> and, when
# test/runtime.sh has fetched them, LAB_BUN / LAB_DENO / LAB_NODE22 / LAB_NODE24 (their binaries,
# run from the repository's cache over 9p).
# gpio-sim, configfs (mounted on /sys/kernel/config), vcan, can-raw and can-bcm are loaded; the
# loopback interface is up. Its output is the console's (stdout).
#
# Where the lab cannot run (no QEMU and no way to install it, no network to Debian, not Linux
# x86-64), it prints `lab: skipped: <reason>` on stderr and exits with $LAB_SKIP_EXIT (default 0).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${LAB_CACHE:-$root/.cache/lab}"
suite="${LAB_SUITE:-trixie-backports}"
apt_tools=(qemu-system-x86 busybox-static cpio kmod xz-utils zstd)
# 9p, 9pnet_virtio: the shared repository; virtio-rng: entropy (no waiting for getrandom()).
modules=(9p 9pnet_virtio virtio-rng gpio-sim vcan can-raw can-bcm)

say() { echo "lab: $*" >&2; }
skip() { say "skipped: $*"; exit "${LAB_SKIP_EXIT:-0}"; }
die() { say "error: $*"; exit 1; }

# --- host tools ------------------------------------------------------------------------------
need_tools() {
  [ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || skip "the lab boots an x86-64 Debian kernel; this is $(uname -s)-$(uname -m)"
  local missing=() p
  for p in "${apt_tools[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ "${#missing[@]}" = 0 ] && return 0
  command -v apt-get >/dev/null || skip "needs the Debian packages ${missing[*]} and there is no apt-get"
  [ "$(id -u)" = 0 ] || skip "needs the Debian packages ${missing[*]} (apt-get install as root)"
  say "installing ${missing[*]}"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}"; } >/dev/null 2>&1 || skip "apt-get could not install ${missing[*]} (no network to Debian?)"
}

# --- kernel from the backports suite, through a private apt configuration ---------------------
# The machine's own apt sources are not touched: a sources.list, lists and cache of our own.
apt_private() {
  local d="$cache/apt"
  apt-get -o Dir::Etc::sourcelist="$d/sources.list" -o Dir::Etc::sourceparts=/nonexistent \
    -o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache" -o Dir::State::status=/dev/null \
    -o Debug::NoLocking=1 -qq "$@"
}
apt_cache_private() {
  local d="$cache/apt"
  apt-cache -o Dir::Etc::sourcelist="$d/sources.list" -o Dir::Etc::sourceparts=/nonexistent \
    -o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache" -o Dir::State::status=/dev/null "$@"
}

mirror() {
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' /etc/apt/sources.list)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

# Prints the kernel version (e.g. 7.3.4+deb13-amd64) the suite currently ships.
lookup_kernel() {
  local d="$cache/apt"
  mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(mirror) $suite main" >"$d/sources.list"
  apt_private update >/dev/null 2>&1 || return 1
  apt_cache_private depends linux-image-amd64 2>/dev/null |
    sed -n 's/^ *Depends: linux-image-\([0-9][^ ]*-amd64\)$/\1/p' | head -1
}

# Finds the compressed kernel inside a bzImage and writes the ELF vmlinux (booted through its PVH
# entry: no decompressor runs under emulation).
extract_vmlinux() {
  local img="$1" out="$2" magic off tool
  for magic in '\x28\xb5\x2f\xfd:zstd' '\xfd\x37\x7a\x58\x5a\x00:xz' '\x1f\x8b\x08:gzip'; do
    tool="${magic##*:}"
    for off in $(LC_ALL=C grep -obUaP "${magic%:*}" "$img" | cut -d: -f1 | head -5); do
      tail -c +"$((off + 1))" "$img" | "$tool" -dcq >"$out" 2>/dev/null || true
      if [ "$(head -c 4 "$out" | od -An -c | tr -d ' ')" = '177ELF' ]; then return 0; fi
    done
  done
  return 1
}

# Leaves $cache/kernel/<version>/{vmlinux, modules/*.ko, modules.list} and $cache/kernel/current.
fetch_kernel() {
  local ver dir tmp m
  if ! ver=$(lookup_kernel) || [ -z "$ver" ]; then
    if [ -f "$cache/kernel/current" ]; then
      ver=$(cat "$cache/kernel/current")
      say "could not reach $suite; using the kernel fetched before ($ver)"
      return 0
    fi
    skip "could not look up the $suite kernel at $(mirror) (no network to Debian?)"
  fi
  dir="$cache/kernel/$ver"
  if [ "$(cat "$dir/ready" 2>/dev/null)" != "${modules[*]}" ]; then
    say "fetching linux $ver from $suite"
    tmp="$cache/tmp.$$" && rm -rf "$tmp" && mkdir -p "$tmp/x"
    (cd "$tmp" && apt_private download "linux-binary-$ver" "linux-modules-$ver") >/dev/null 2>&1 ||
      skip "could not download linux-binary-$ver / linux-modules-$ver from $suite"
    for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$tmp/x"; done
    rm -rf "$dir" && mkdir -p "$dir/modules"
    local mods="$tmp/x/usr/lib/modules/$ver"
    [ -d "$mods" ] || mods="$tmp/x/lib/modules/$ver"
    local img="$mods/vmlinuz"
    [ -f "$img" ] || img=$(ls "$tmp"/x/boot/vmlinuz-* 2>/dev/null | head -1)
    extract_vmlinux "$img" "$dir/vmlinux" || die "no compressed kernel found inside $img"
    depmod -b "${mods%/lib/modules/*}" "$ver" 2>/dev/null
    # Each module's dependencies first, in load order, each file once (busybox insmod wants .ko).
    : >"$dir/modules.list"
    for m in "${modules[@]}"; do
      modprobe -d "${mods%/lib/modules/*}" -S "$ver" --show-depends "$m" | awk '$1 == "insmod" {print $2}' |
        while read -r ko; do
          local name; name=$(basename "$ko"); name="${name%.xz}"; name="${name%.zst}"
          grep -qx "$name" "$dir/modules.list" && continue
          case "$ko" in
            *.xz) xz -dc "$ko" >"$dir/modules/$name" ;;
            *.zst) zstd -dcq "$ko" >"$dir/modules/$name" ;;
            *) cp "$ko" "$dir/modules/$name" ;;
          esac
          echo "$name" >>"$dir/modules.list"
        done
    done
    rm -rf "$tmp"
    echo "${modules[*]}" >"$dir/ready"
  fi
  echo "$ver" >"$cache/kernel/current"
  # Older kernels are dropped from the cache (backports replace theirs often).
  for m in "$cache"/kernel/*/; do [ "$(basename "$m")" = "$ver" ] || rm -rf "$m"; done
}

# --- initramfs: busybox, bash, the host's node with its libraries, the modules, /init ---------
copy_with_libs() { # copy_with_libs <staging> <binary...>: each binary and what ldd lists, same paths
  local st="$1" f lib; shift
  for f in "$@"; do
    [ -e "$f" ] || continue
    mkdir -p "$st$(dirname "$f")" && cp -L "$f" "$st$f"
    for lib in $(ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true); do
      [ -e "$st$lib" ] && continue
      mkdir -p "$st$(dirname "$lib")" && cp -L "$lib" "$st$lib"
    done
  done
}

build_image() {
  local ver="$1" node bash_bin key img st
  node="$(readlink -f "$(command -v node)")"
  bash_bin="$(readlink -f "$(command -v bash)")"
  key="$ver $(cat "$here/init.sh" "$cache/kernel/$ver/modules.list" | sha256sum | cut -c1-16) $node $(stat -c %Y "$node") $(node --version)"
  img="$cache/initramfs.cpio"
  if [ -f "$img" ] && [ "$(cat "$cache/initramfs.key" 2>/dev/null)" = "$key" ]; then return 0; fi
  say "building the initramfs (busybox, bash, node $(node --version), modules of $ver)"
  st="$cache/staging.$$" && rm -rf "$st" && mkdir -p "$st"/{bin,sbin,dev,proc,sys,tmp,mnt,lab,root,etc,lib/modules}
  cp /bin/busybox "$st/bin/busybox"
  copy_with_libs "$st" "$bash_bin"
  [ "$bash_bin" = /bin/bash ] || ln -sf "$bash_bin" "$st/bin/bash"
  mkdir -p "$st/usr/bin" && cp "$node" "$st/usr/bin/node" && strip "$st/usr/bin/node" 2>/dev/null || true
  copy_with_libs "$st" "$node"
  # What Bun and Deno (run from the repository's cache over 9p) need beyond node's libraries.
  local lib
  for lib in librt.so.1 libgcc_s.so.1 libdl.so.2 libpthread.so.0 libm.so.6; do
    for f in /lib/x86_64-linux-gnu/$lib /usr/lib/x86_64-linux-gnu/$lib; do
      [ -e "$f" ] && [ ! -e "$st$f" ] && mkdir -p "$st$(dirname "$f")" && cp -L "$f" "$st$f"
    done
  done
  cp "$cache/kernel/$ver"/modules/*.ko "$st/lib/modules/" 2>/dev/null || true
  cp "$cache/kernel/$ver/modules.list" "$st/lib/modules/"
  echo "$ver" >"$st/etc/lab-kernel"
  echo 'root:x:0:0:root:/root:/bin/sh' >"$st/etc/passwd"
  echo 'root:x:0:' >"$st/etc/group"
  printf '127.0.0.1 localhost\n::1 localhost\n' >"$st/etc/hosts"
  cp "$here/init.sh" "$st/init" && chmod +x "$st/init"
  # Uncompressed: the guest unpacks it without a decompressor (seconds faster under emulation).
  (cd "$st" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$img.tmp.$$"
  mv "$img.tmp.$$" "$img"
  echo "$key" >"$cache/initramfs.key"
  rm -rf "$st"
}

prepare() {
  need_tools
  mkdir -p "$cache/kernel"
  # The lookup needs the network; within a day the kernel fetched before is used as it is.
  local cur="$cache/kernel/current"
  if [ -f "$cur" ] && [ "$(cat "$cache/kernel/$(cat "$cur")/ready" 2>/dev/null)" = "${modules[*]}" ] &&
    [ -z "${LAB_REFRESH:-}" ] &&
    [ -n "$(find "$cur" -mmin -1440 2>/dev/null)" ]; then
    :
  else
    fetch_kernel
  fi
  build_image "$(cat "$cur")"
}

# --- run ---------------------------------------------------------------------------------------
run() {
  local serial="" host_cmd="" timeout=300 mem=1536 envs=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --serial) serial="$2"; shift 2 ;;
      --host) host_cmd="$2"; shift 2 ;;
      --env) envs+=("$2"); shift 2 ;;
      --timeout) timeout="$2"; shift 2 ;;
      --mem) mem="$2"; shift 2 ;;
      --) shift; break ;;
      *) die "unknown option $1 (see the head of $0)" ;;
    esac
  done
  [ $# -gt 0 ] || die "no command: lab.sh run [options] -- CMD [ARG...]"
  case "$serial" in ""|null-modem|host-pty) ;; *) die "--serial takes null-modem or host-pty" ;; esac
  [ -z "$host_cmd" ] || [ "$serial" = host-pty ] || die "--host needs --serial host-pty"
  prepare
  local ver; ver=$(cat "$cache/kernel/current")

  run_dir=$(mktemp -d /tmp/lab.XXXXXX)
  qpid="" hpid="" holder=""
  cleanup() {
    if [ -n "$hpid" ]; then kill "$hpid" 2>/dev/null || true; fi
    if [ -n "$qpid" ]; then kill "$qpid" 2>/dev/null || true; fi
    rm -rf "$run_dir"
  }
  trap cleanup EXIT

  # The guest runs $run_dir/cmd.sh (shared as /lab) and writes its exit status to /lab/status.
  local cwd="$PWD"
  case "$cwd/" in "$root"/*) ;; *) cwd="$root" ;; esac
  {
    echo "export LAB=1 LAB_KERNEL=$(printf '%q' "$ver")"
    local b name
    for b in bun:bin/bun deno:deno node22:bin/node node24:bin/node; do
      name="${b%%:*}"
      if [ -x "$root/.cache/runtimes/$name/${b#*:}" ]; then
        echo "export LAB_${name^^}=$(printf '%q' "$root/.cache/runtimes/$name/${b#*:}")"
      fi
    done
    for e in "${envs[@]}"; do echo "export $(printf '%q' "$e")"; done
    echo "cd $(printf '%q' "$cwd")"
    printf '%q ' "$@"; echo
  } >"$run_dir/cmd.sh"
  echo "$root" >"$run_dir/repo"

  local q=(qemu-system-x86_64 -accel tcg -cpu max -smp 1 -m "$mem" -nodefaults -no-reboot -display none
    -kernel "$cache/kernel/$ver/vmlinux" -initrd "$cache/initramfs.cpio"
    -append "console=ttyS0 quiet loglevel=3 panic=-1 no_timer_check 8250.nr_uarts=4"
    -chardev stdio,id=con,signal=off -serial chardev:con
    -fsdev local,id=repo,path="$root",security_model=none -device virtio-9p-pci,fsdev=repo,mount_tag=repo
    -fsdev local,id=lab,path="$run_dir",security_model=none -device virtio-9p-pci,fsdev=lab,mount_tag=lab
    -device virtio-rng-pci)
  case "$serial" in
    null-modem)
      q+=(-chardev socket,id=s1,path="$run_dir/nm.sock",server=on,wait=off -serial chardev:s1
        -chardev socket,id=s2,path="$run_dir/nm.sock" -device pci-serial,chardev=s2) ;;
    host-pty)
      q+=(-chardev pty,id=s1 -serial chardev:s1 -S -monitor unix:"$run_dir/mon.sock",server=on,wait=off) ;;
  esac

  local start=$SECONDS
  "${q[@]}" </dev/null 2>"$run_dir/qemu.err" &
  qpid=$!

  if [ "$serial" = host-pty ]; then
    local pty="" i
    for i in $(seq 1 100); do
      if [ -S "$run_dir/mon.sock" ]; then
        pty=$(node "$here/monitor.cjs" "$run_dir/mon.sock" 'info chardev' | sed -n 's/^s1: filename=pty:\(.*\)$/\1/p')
        [ -n "$pty" ] && break
      fi
      kill -0 "$qpid" 2>/dev/null || break
      sleep 0.1
    done
    [ -n "$pty" ] || { cat "$run_dir/qemu.err" >&2; die "QEMU did not report its pty"; }
    # Held open by the lab for the whole run: QEMU drops what the guest writes while nobody has it open.
    exec {holder}<>"$pty"
    if [ -n "$host_cmd" ]; then
      LAB_HOST_PTY="$pty" bash -c "$host_cmd" {holder}<&- &
      hpid=$!
    fi
    node "$here/monitor.cjs" "$run_dir/mon.sock" cont >/dev/null
  fi

  # The watchdog's sleep is killed with it, and it holds none of the caller's output pipes.
  (
    trap 'kill "$sp" 2>/dev/null; exit 0' TERM
    sleep "$timeout" & sp=$!
    wait "$sp" && { touch "$run_dir/timed-out"; kill "$qpid" 2>/dev/null; }
  ) >/dev/null 2>&1 &
  local watchdog=$!
  wait "$qpid" || true
  qpid=""
  kill "$watchdog" 2>/dev/null || true
  wait "$watchdog" 2>/dev/null || true
  [ -n "$holder" ] && exec {holder}<&-

  local status=1
  if [ -f "$run_dir/status" ]; then
    status=$(cat "$run_dir/status")
  else
    [ -f "$run_dir/timed-out" ] && say "the VM was stopped after ${timeout}s (--timeout)"
    grep -v '^$' "$run_dir/qemu.err" >&2 || true
    say "the guest wrote no exit status"
  fi
  local summary="guest exit status $status"
  if [ -n "$hpid" ]; then
    # The host side gets 10 s after the guest is done, then it is stopped.
    local hstatus=0 i
    for i in $(seq 1 100); do kill -0 "$hpid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$hpid" 2>/dev/null; then
      say "the host command was still running 10 s after the guest finished: stopped"
      kill "$hpid" 2>/dev/null || true
    fi
    wait "$hpid" || hstatus=$?
    hpid=""
    summary+=", host command exit status $hstatus"
    [ "$status" != 0 ] || status=$hstatus
  fi
  say "$summary, ${ver}, $((SECONDS - start))s"
  return "$status"
}

info() {
  echo "cache: $cache"
  if [ -f "$cache/kernel/current" ]; then echo "kernel: $(cat "$cache/kernel/current")"; else echo "kernel: not fetched yet"; fi
  [ -f "$cache/initramfs.cpio" ] && echo "initramfs: $(du -h "$cache/initramfs.cpio" | cut -f1)"
  echo "suite: $suite at $(mirror)"
}

case "${1:-}" in
  prepare) shift; prepare ;;
  run) shift; run "$@" ;;
  info) info ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
