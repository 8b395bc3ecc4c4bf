package sweep

// The test sweeps name the built-in algorithms and reward kinds, and
// plugins of both, which a program (not this package) chooses to link.
import (
	_ "github.com/grao-lab/grao/algorithms/all"
	_ "github.com/grao-lab/grao/plugins"
	_ "github.com/grao-lab/grao/rewards/rm"
)
