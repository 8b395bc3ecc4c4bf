// Package all registers grao's standard algorithms: import it for its side
// effects.
//
//	import _ "github.com/grao-lab/grao/algorithms/all"
package all

import (
	_ "github.com/grao-lab/grao/algorithms/dpo"
	_ "github.com/grao-lab/grao/algorithms/grao"
	_ "github.com/grao-lab/grao/algorithms/grpo"
	_ "github.com/grao-lab/grao/algorithms/ppo"
	_ "github.com/grao-lab/grao/algorithms/sft"
)
