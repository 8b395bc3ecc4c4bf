// Command bench is grao's command line with the built-in algorithms; the
// commands live in package cli, so a module with algorithms of its own
// builds the same command with them (see cli's documentation).
package main

import (
	"os"

	_ "github.com/grao-lab/grao/algorithms/all"
	"github.com/grao-lab/grao/cmd/bench/cli"
)

func main() { os.Exit(cli.Main(os.Args)) }
