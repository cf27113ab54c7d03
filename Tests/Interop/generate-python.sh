#!/usr/bin/env bash
# Generates the Python protobuf + gRPC stubs of the course protos (course-protos/, exactly WIRE.md) into DEST.
#
#   Tests/Interop/generate-python.sh DEST
#
# Writes DEST/sns_pb2.py, sns_pb2_grpc.py, coordinator_pb2.py, coordinator_pb2_grpc.py
# (plus .pyi type stubs). DEST is created if missing and is never committed; put
# DEST on sys.path / PYTHONPATH to `import sns_pb2, sns_pb2_grpc`.
# Needs: pip install -r Tests/Interop/requirements.txt (grpc_tools ships its own
# google/protobuf/*.proto, so no system protobuf is required).
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 DEST" >&2
  exit 2
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
mkdir -p "$1"
DEST="$(cd "$1" && pwd)"

python3 -c 'import grpc_tools.protoc' 2>/dev/null || {
  echo "error: grpc_tools not importable; pip install -r $ROOT/Tests/Interop/requirements.txt" >&2
  exit 1
}
# grpc_tools' bundled well-known types (google/protobuf/timestamp.proto).
WKT="$(python3 -c 'import grpc_tools, os; print(os.path.join(os.path.dirname(grpc_tools.__file__), "_proto"))')"

cmd=(python3 -m grpc_tools.protoc
  "--proto_path=$ROOT/Tests/Interop/course-protos"
  "--proto_path=$WKT"
  "--python_out=$DEST"
  "--pyi_out=$DEST"
  "--grpc_python_out=$DEST"
  sns.proto coordinator.proto)
printf '+'
printf ' %q' "${cmd[@]}"
printf '\n'
(cd "$ROOT/Tests/Interop/course-protos" && "${cmd[@]}")
echo "==> wrote Python stubs to $DEST:"
ls -1 "$DEST"
