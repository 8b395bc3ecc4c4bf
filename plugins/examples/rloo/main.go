// Command rloo serves grao's built-in RLOO as an out-of-process algorithm
// plugin: the pattern for any Go algorithm (its factory is all
// ServeAlgorithm needs). Build it and name the binary in a sweep:
//
//	go build -o bin/rloo ./plugins/examples/rloo
//	bench plugin check --algorithm bin/rloo
package main

import (
	"github.com/grao-lab/grao/algorithms"
	_ "github.com/grao-lab/grao/algorithms/rloo"
	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/plugins"
)

func main() {
	plugins.ServeAlgorithm(func(params map[string]any) (core.Algorithm, error) {
		return algorithms.New("rloo", params)
	})
}
