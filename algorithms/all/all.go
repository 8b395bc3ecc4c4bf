// Package all registers grao's standard algorithms — the paper's SFT,
// DPO, PPO, GRPO and GRAO (with its ablations), and RLOO, Dr. GRPO and
// DAPO — for a program to link: import it for its side effects.
//
//	import _ "github.com/grao-lab/grao/algorithms/all"
package all

import (
	_ "github.com/grao-lab/grao/algorithms/dapo"
	_ "github.com/grao-lab/grao/algorithms/dpo"
	_ "github.com/grao-lab/grao/algorithms/drgrpo"
	_ "github.com/grao-lab/grao/algorithms/grao"
	_ "github.com/grao-lab/grao/algorithms/grpo"
	_ "github.com/grao-lab/grao/algorithms/ppo"
	_ "github.com/grao-lab/grao/algorithms/rloo"
	_ "github.com/grao-lab/grao/algorithms/sft"
)
