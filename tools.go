//go:build tools

// Package grao pins modules that packages of this repository are about to
// import, so that `go mod tidy` keeps them while the code that uses them is
// being written. It is never compiled into a binary.
package grao

import (
	_ "github.com/BurntSushi/toml"
	_ "github.com/ebitengine/purego"
	_ "github.com/hashicorp/go-hclog"
	_ "github.com/hashicorp/go-plugin"
	_ "go4.org/unsafe/assume-no-moving-gc"
	_ "golang.org/x/term"
	_ "gonum.org/v1/gonum/blas/gonum"
	_ "gonum.org/v1/plot"
	_ "google.golang.org/grpc"
	_ "google.golang.org/protobuf/proto"
	_ "gorgonia.org/gorgonia"
)
