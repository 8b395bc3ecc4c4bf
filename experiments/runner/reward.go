package runner

import (
	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/experiments/sweep"
	_ "github.com/grao-lab/grao/plugins" // reward kind "plugin"
	"github.com/grao-lab/grao/rewards"
	_ "github.com/grao-lab/grao/rewards/rm" // reward kind "rm"
)

// buildReward assembles the trial's training reward from the registered
// kinds (rewards.Register). The returned close function stops any plugin
// processes.
func buildReward(tr sweep.Trial, task core.Task) (core.Reward, func(), error) {
	env := rewards.Env{Task: task, Seed: tr.Seed}
	if tr.Reward.Kind != "combine" {
		kind := tr.Reward.Kind
		if kind == "" {
			kind = rewards.DefaultKind
		}
		return rewards.Build(rewards.Spec{Kind: kind}, env)
	}
	var closers []func()
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	var parts []rewards.Part
	for _, p := range tr.Reward.Parts {
		r, closer, err := rewards.Build(p, env)
		if err != nil {
			closeAll()
			return nil, func() {}, err
		}
		closers = append(closers, closer)
		parts = append(parts, rewards.Part{Reward: r, Weight: p.Weight})
	}
	r, err := rewards.Combine(parts...)
	if err != nil {
		closeAll()
		return nil, func() {}, err
	}
	return r, closeAll, nil
}
