package cli

// The test sweeps name the built-in algorithms, which a program (not this
// package) chooses to link.
import _ "github.com/grao-lab/grao/algorithms/all"
