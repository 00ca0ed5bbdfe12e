#!/usr/bin/env bash
# The shell steps of docs/tutorials/serving.md, runnable: serve a tools file on free ports, call
# it with curl (JSON content type), grpcurl and, when INSPECTOR is set (the path of the MCP
# Inspector's launcher index.js), the Inspector CLI; then fetch the dashboard. Offline, local.
#
#   bash examples/serve_and_call.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python}"
log="$(mktemp)"

"$python" -m toolwire serve --tools "$here/serving/tools.py" --port 0 --grpc-port 0 2>"$log" &
server=$!
stop() {
  status=$?
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -f "$log"
  exit "$status"
}
trap stop EXIT

# the ready line on stderr names the ports really listened on
for _ in $(seq 1 150); do
  grep -q "^toolwire serve: REST" "$log" && break
  kill -0 "$server" 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.2
done
ready="$(grep "^toolwire serve: REST" "$log")" || { cat "$log"; exit 1; }
rest="$(sed -E 's|.*REST (http://[^/ ]+)/v1.*|\1|' <<<"$ready")"
grpc="$(sed -E 's|.*gRPC ([^ ]+).*|\1|' <<<"$ready")"
echo "serving: $rest (gRPC $grpc)"

echo "--- curl"
curl -sS --fail-with-body "$rest/v1/tools/get_weather/call" \
  -H 'Content-Type: application/json' -d '{"location": "北京"}'
echo
curl -sS --fail-with-body "$rest/v1/calls" -H 'Content-Type: application/json' \
  -d '{"calls": [{"name": "add", "arguments": {"a": 2, "b": 3}}]}'
echo

echo "--- curl, progress as server-sent events"
curl -sS -N --fail-with-body "$rest/v1/tools/count_to/call" -H 'Content-Type: application/json' \
  -H 'Accept: text/event-stream' -d '{"n": 3}'

echo "--- grpcurl"
grpcurl -plaintext -d '{"name": "add", "arguments_json": "{\"a\": 2, \"b\": 3}"}' \
  "$grpc" toolwire.v1.ToolService/CallTool

if [ -n "${INSPECTOR:-}" ]; then
  echo "--- MCP Inspector (CLI)"
  node "$INSPECTOR" --cli "$rest/mcp" --transport http \
    --method tools/call --tool-name add --tool-arg a=2 b=3
fi

echo "--- dashboard"
curl -sS --fail "$rest/" -o /dev/null -w 'GET / -> %{http_code}\n'
