#!/usr/bin/env bash
# Build llama.cpp's `llama-server` from the llama.cpp source vendored inside the
# llama-cpp-python sdist on PyPI, and cache the binary outside the clone.
#
#   scripts/build_llama_server.sh            # prints the binary path on stdout
#   LLAMA_SERVER_CACHE=/some/dir scripts/build_llama_server.sh
#
# The build takes roughly 10 minutes on 2 cores. When the cached binary exists
# and answers `--version`, nothing is built. Progress goes to stderr; the only
# line on stdout is the path of the binary.
set -euo pipefail

CACHE_DIR="${LLAMA_SERVER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ml-sd-simulator}"
BIN="$CACHE_DIR/llama-server"
PYTHON="${PYTHON:-python3}"
JOBS="${LLAMA_BUILD_JOBS:-2}"
# Pin for reproducible builds; override with LLAMA_CPP_PYTHON_VERSION=... (empty = newest).
VERSION="${LLAMA_CPP_PYTHON_VERSION-0.3.16}"

log() { echo "[build_llama_server] $*" >&2; }

if [[ -x "$BIN" ]] && "$BIN" --version >/dev/null 2>&1; then
    log "cached binary works: $BIN"
    echo "$BIN"
    exit 0
fi

for tool in cmake make cc c++; do
    command -v "$tool" >/dev/null 2>&1 || { log "missing build tool: $tool (apt-get install build-essential cmake)"; exit 1; }
done

mkdir -p "$CACHE_DIR"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/llama-build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

spec="llama-cpp-python"
[[ -n "$VERSION" ]] && spec="llama-cpp-python==$VERSION"
log "downloading the $spec sdist into $WORK"
"$PYTHON" -m pip download --quiet --no-deps --no-binary :all: -d "$WORK" "$spec" >&2

sdist="$(ls "$WORK"/llama_cpp_python-*.tar.gz "$WORK"/llama-cpp-python-*.tar.gz 2>/dev/null | head -n1 || true)"
[[ -n "$sdist" ]] || { log "no sdist found in $WORK"; exit 1; }
tar -xzf "$sdist" -C "$WORK"
src="$(find "$WORK" -maxdepth 3 -type d -path '*/vendor/llama.cpp' | head -n1)"
[[ -n "$src" ]] || { log "vendor/llama.cpp not found in $sdist"; exit 1; }

log "configuring in $src"
cd "$src"
cmake -B build -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF -DBUILD_SHARED_LIBS=OFF >&2
log "building llama-server with -j$JOBS (about 10 minutes on 2 cores)"
start=$(date +%s)
cmake --build build --target llama-server -j"$JOBS" >&2
log "built in $(( $(date +%s) - start )) s"

built="$(find build -type f -name llama-server -perm -u+x | head -n1)"
[[ -n "$built" ]] || { log "build finished but no llama-server binary was found"; exit 1; }
install -m 0755 "$built" "$BIN.tmp.$$"
mv -f "$BIN.tmp.$$" "$BIN"
"$BIN" --version >&2 || { log "the built binary does not run"; exit 1; }
echo "$BIN"
