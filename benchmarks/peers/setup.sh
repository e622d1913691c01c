#!/usr/bin/env bash
# Creates benchmarks/.peers-venv with the peer drift tools the drift benchmark compares against.
# They are NOT watchkeeper dependencies; they live in their own venv so their pins (pandas,
# numpy, pydantic versions) never touch the project's environment.
# Usage: bash benchmarks/peers/setup.sh  (idempotent; reinstalls nothing already present)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
venv="$here/.peers-venv"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null || python=python3
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
# One install line per peer so a peer that cannot install here does not block the others.
for spec in "frouros==0.9.0" "alibi-detect==0.13.0" "nannyml==0.13.1" "evidently==0.7.23"; do
  # pyarrow < 20 because the peers pin numpy < 2 and pyarrow 20+ needs numpy 2.
  if "$venv/bin/pip" install --quiet "$spec" "pyarrow<20"; then
    echo "installed $spec"
  else
    echo "FAILED to install $spec (the benchmark will report it as not installed)" >&2
  fi
done
"$venv/bin/pip" check || echo "pip check reports conflicts (see above)" >&2
