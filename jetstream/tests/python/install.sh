#!/usr/bin/env bash
# Makes a Python virtual environment with the Python atproto SDK, whose
# Jetstream client (package `atproto_jetstream`) the interop test runs
# against atlex's server. Idempotent: an environment that already has the
# pinned version is kept. Prints the environment's python on its last line.
set -euo pipefail
cd "$(dirname "$0")"
VERSION=0.0.73
VENV=.venv
if [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/.atproto-version" 2>/dev/null)" = "$VERSION" ]; then
    echo "$PWD/$VENV/bin/python"
    exit 0
fi
rm -rf "$VENV"
python3 -m venv "$VENV" >&2
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "atproto==$VERSION" >&2
echo "$VERSION" > "$VENV/.atproto-version"
echo "$PWD/$VENV/bin/python"
