#!/bin/sh
# Regenerates the committed protocol code from reward.proto and algorithm.proto. Builds never need
# this (the generated files are committed); run it only after editing a .proto.
#
# Needs: protoc (Debian: apt-get install -y protobuf-compiler), the Go
# generators (installed below into a temporary GOBIN, never into go.mod), and
# for the Python example Debian's python3-grpc-tools.
#
# Usage: plugins/proto/generate.sh   (from anywhere inside the repository)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

gobin=$(mktemp -d)
trap 'rm -rf "$gobin"' EXIT
GOBIN=$gobin go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
GOBIN=$gobin go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2

# Go: packages rewardv1 and algorithmv1 next to this script.
for p in reward algorithm; do
	PATH=$gobin:$PATH protoc -I "$here" \
		--go_out="$here/${p}v1" --go_opt=paths=source_relative \
		--go-grpc_out="$here/${p}v1" --go-grpc_opt=paths=source_relative \
		$p.proto
done

# Python example stubs: the reward service plus the two go-plugin services a
# non-Go plugin serves (health, controller), whose .proto files live with the
# example.
py=$root/plugins/examples/python
/usr/bin/python3 -m grpc_tools.protoc -I "$here" --python_out="$py" --grpc_python_out="$py" reward.proto algorithm.proto
/usr/bin/python3 -m grpc_tools.protoc -I "$py/protos" --python_out="$py" --grpc_python_out="$py" \
	health.proto grpc_controller.proto
gofmt -l "$here/rewardv1" || true
