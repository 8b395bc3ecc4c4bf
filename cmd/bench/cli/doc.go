// Package cli is grao's command line, importable so that a module with its
// own algorithms or rewards builds a bench that knows them:
//
//	package main
//
//	import (
//		"os"
//
//		_ "github.com/grao-lab/grao/algorithms/all" // the built-in algorithms
//		"github.com/grao-lab/grao/cmd/bench/cli"
//		_ "example.com/rloo"                        // registers "rloo" from init
//	)
//
//	func main() { os.Exit(cli.Main(os.Args)) }
//
// The commands pre-train base models, run sweeps, report and plot results,
// sample and score with checkpoints, and measure speed; `bench help` lists
// them. Exit codes: 0 success, 1 a run failed, 2 bad usage or bad input.
package cli
