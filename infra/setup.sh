#!/usr/bin/env bash
# labbook's set-up, for a fresh Debian 12 / Ubuntu 22.04+ machine, as root:
#   sudo infra/setup.sh labs   installs what is missing, then runs every lab headless (labbook run labs/)
#   sudo infra/setup.sh test   installs what is missing, then runs the whole test suite (npm test)
#   sudo infra/setup.sh vagrant installs Vagrant, libvirt and qemu too, then proves the Vagrant backend
#                               offline: the box with Kubernetes, 2 VMs with labs 02 and 03, a plain `vagrant up`
#                               of 3 VMs with Kubernetes, lab 04 in Jupyter, a restore and lab 09 (npm run test:vagrant)
# Everything it installs comes from apt (infra/packages.txt), npm (package-lock.json), PyPI (infra/requirements.txt,
# into .labbook/venv) and, for Kubernetes, the Go module proxy (infra/go/, built into /var/cache/labbook by
# `labbook kubernetes build`).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
MODE=${1:-}

say() { printf 'labbook setup: %s\n' "$*" >&2; }
die() { say "$*"; exit 2; }

case "$MODE" in
  labs|test|vagrant|deps) ;;
  *) die "usage: sudo infra/setup.sh labs|test|vagrant   (labs: run the labs; test: run the test suite; vagrant: prove the VM backend; deps: install only)" ;;
esac
[ "$(id -u)" = 0 ] || die "run as root (sudo infra/setup.sh $MODE): labbook builds network namespaces"
[ "$(uname -s)" = Linux ] || die "labbook's embedded cluster needs Linux; on other systems use the Vagrant backend"

PACKAGE_LISTS=(infra/packages.txt infra/packages-jupyter.txt)
# The tests check the Vagrantfile and run libvirtd in a VM host (no VMs), so they need the Vagrant packages too.
[ "$MODE" = test ] && PACKAGE_LISTS+=(infra/packages-test.txt infra/packages-vagrant.txt)
[ "$MODE" = vagrant ] && PACKAGE_LISTS+=(infra/packages-vagrant.txt)

missing_packages() {
  # Column 1 is the package, column 2 a file it installs: the same test `labbook doctor` makes.
  cat "${PACKAGE_LISTS[@]}" | grep -v '^\s*#' | awk 'NF >= 2 { print $1, $2 }' | while read -r pkg file; do
    [ -e "$file" ] || echo "$pkg"
  done
}

apt_install() {
  command -v apt-get >/dev/null || die "no apt-get: install these packages by hand, then run again: $*"
  say "installing Debian packages: $*"
  # Packages such as openssh-server would start their daemon on the host; labbook only
  # ever runs them inside its namespaces. Deny service starts while installing.
  local guard=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    guard=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' > "$guard"
    chmod +x "$guard"
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  if [ -n "$guard" ]; then rm -f "$guard"; trap - EXIT; fi
}

# labbook runs on one pinned Node.js, installed from the npm registry (the node-linux-*
# packages carry the official builds) into .labbook/node, never into the system:
#  - notebooks load the ESM SDK through require(), which needs Node 20.19+/22.12+;
#  - it strips TypeScript's types itself (22.18 and 24 on): bin/labbook.js runs the sources that
#    way, and through tsx only on a Node.js without it;
#  - tsx (the tests, the bench) runs its TypeScript hooks on the main thread from Node 24.11.1 on;
#    before that they run on a loader thread that deadlocked here now and then (tsx issue #806 and kin).
NODE_VERSION=24.21.0

ensure_node() {
  if ! command -v npm >/dev/null; then
    apt_install nodejs npm # only to fetch the pinned build below
  fi
  local arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) die "no Node.js $NODE_VERSION build for $(uname -m) on npm: install Node.js $NODE_VERSION by hand and put it first on PATH" ;;
  esac
  NODE="$ROOT/.labbook/node/node_modules/node-linux-$arch/bin/node"
  if [ "$("$NODE" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
    say "installing Node.js $NODE_VERSION (npm package node-linux-$arch) into .labbook/node"
    npm install --silent --no-audit --no-fund --prefix "$ROOT/.labbook/node" "node-linux-$arch@$NODE_VERSION" >/dev/null
  fi
  "$NODE" --version >/dev/null 2>&1 || die "Node.js $NODE_VERSION did not install into .labbook/node"
  export PATH="$(dirname "$NODE"):$PATH"
}

# What comes from PyPI (JupyterLab for `labbook notebook`, jupytext for the labs' sources, papermill and nbclient
# for the bench) goes into .labbook/venv, never into the system's Python. A stamp of infra/requirements.txt skips
# pip when nothing changed. Without PyPI, `labs` goes on: the labs run headless without any of it, and
# `labbook notebook` falls back to Debian's classic Notebook; `test` needs all of it.
ensure_venv() {
  local venv="$ROOT/.labbook/venv" stamp="$ROOT/.labbook/venv/requirements.txt"
  if [ ! -x "$venv/bin/python" ]; then
    say "creating the Python virtual environment .labbook/venv"
    /usr/bin/python3 -m venv "$venv" || die "python3 -m venv failed: is python3-venv installed (apt-get install python3-venv)?"
    # The checkout's package.json says "type": "module"; JupyterLab's own .js helpers in the venv are CommonJS.
    printf '{ "type": "commonjs" }\n' > "$venv/package.json"
  fi
  if ! cmp -s infra/requirements.txt "$stamp"; then
    say "installing Python packages from PyPI into .labbook/venv (infra/requirements.txt)"
    if ! "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r infra/requirements.txt; then
      local why="pip could not install infra/requirements.txt from PyPI into .labbook/venv (is https://pypi.org reachable?)"
      [ "$MODE" = labs ] || die "$why"
      say "$why: going on without it. The labs run headless as they are; labbook notebook opens Debian's classic Notebook instead of JupyterLab 4; labbook lab build (jupytext) needs it. Run this again once PyPI is reachable."
      return 0
    fi
    cp infra/requirements.txt "$stamp"
  fi
}

mapfile -t MISSING < <(missing_packages)
if [ "${#MISSING[@]}" -gt 0 ]; then apt_install "${MISSING[@]}"; fi
mapfile -t STILL < <(missing_packages)
[ "${#STILL[@]}" -eq 0 ] || die "still missing after apt-get install: ${STILL[*]}"

# Mount points for each node's private copy of package state (see the file's header).
mapfile -t NODE_DIRS < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' infra/node-private-dirs.txt)
for dir in "${NODE_DIRS[@]}"; do
  [ -d "$dir" ] || { say "creating $dir (each node mounts its own copy here)"; install -d -m 755 "$dir"; }
done

ensure_node
ensure_venv
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
say "using node $("$NODE" --version) at $NODE"
# The SDK notebooks import, as JavaScript and declarations (tslab cannot read our .ts sources).
npm run --silent build

# Kubernetes (labbook up --kubernetes, and the labs that declare it) is built here from the Go module proxy:
# kube-apiserver, kubelet and the rest in one binary, CoreDNS, flanneld, flannel's CNI plugin and the pod
# images. The build is cached by its inputs in /var/cache/labbook (outside the checkout, so a fresh clone
# reuses it), and Go's own cache keeps a rebuild short: about 15 minutes the first time on 2 cores.
if [ "$MODE" != deps ]; then
  if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then export PATH="/usr/local/go/bin:$PATH"; fi
  command -v go >/dev/null || die "Kubernetes is built from Go modules and needs Go 1.26 or newer on PATH (Debian 12's golang-go is too old): install it from https://go.dev/dl and run again"
  "$NODE" bin/labbook.js kubernetes build
fi

# The `labbook` command, bound to this checkout and this Node.js (which may be the local one).
if [ -d /usr/local/bin ] && { [ ! -e /usr/local/bin/labbook ] || grep -q 'labbook setup' /usr/local/bin/labbook; }; then
  printf '#!/bin/sh\n# written by labbook setup (infra/setup.sh)\nexec "%s" "%s/bin/labbook.js" "$@"\n' "$NODE" "$ROOT" > /usr/local/bin/labbook
  chmod +x /usr/local/bin/labbook
fi

case "$MODE" in
  deps) exit 0 ;;
  labs)
    "$NODE" bin/labbook.js doctor
    exec "$NODE" bin/labbook.js run labs/ --report junit,json,html,md --out out/
    ;;
  test)
    exec npm test
    ;;
  vagrant)
    exec npm run test:vagrant
    ;;
esac
