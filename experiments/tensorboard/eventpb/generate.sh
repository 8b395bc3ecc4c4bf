#!/bin/sh
# Regenerates the committed event.pb.go from event.proto. Builds never need
# this (the generated file is committed); run it only after editing the .proto.
#
# Needs: protoc (Debian: apt-get install -y protobuf-compiler) and
# protoc-gen-go (installed below into a temporary GOBIN, never into go.mod).
#
# The .proto is compiled by its path from the repository root, so it is
# registered with Go's protobuf runtime under that unique path rather than a
# bare "event.proto" another package could also claim.
#
# Usage: experiments/tensorboard/eventpb/generate.sh   (from anywhere inside the repository)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)

gobin=$(mktemp -d)
trap 'rm -rf "$gobin"' EXIT
GOBIN=$gobin go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12

cd "$root"
PATH=$gobin:$PATH protoc -I . \
	--go_out=. --go_opt=paths=source_relative \
	experiments/tensorboard/eventpb/event.proto
gofmt -l "$here" || true
