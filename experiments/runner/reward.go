package runner

import (
	"fmt"
	"time"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/experiments/sweep"
	"github.com/grao-lab/grao/experiments/tasks"
	"github.com/grao-lab/grao/plugins"
	"github.com/grao-lab/grao/rewards"
	"github.com/grao-lab/grao/rewards/rm"
)

// denseReward is s(o) − s(y) under the task's partial-credit rubric: a
// wrong answer's near misses score above its garbage, and R(y, y) = 0
// exactly, as with the judge.
func denseReward(task core.Task) (core.Reward, error) {
	ds, ok := task.(tasks.DenseScorer)
	if !ok || ds.DenseScorer() == nil {
		return nil, fmt.Errorf("reward dense: task %s has no partial-credit rubric", task.Name())
	}
	return rewards.Scalar(ds.DenseScorer(), 1, 0, true)
}

// buildReward assembles the trial's training reward. The returned close
// function stops any plugin processes.
func buildReward(tr sweep.Trial, task core.Task) (core.Reward, func(), error) {
	var closers []func()
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	one := func(kind string, p sweep.RewardPart) (core.Reward, error) {
		switch kind {
		case "", "judge":
			return task.Judge(), nil
		case "score":
			return task.Scorer(), nil
		case "dense":
			return denseReward(task)
		case sweep.RewardRandom:
			return rewards.NewRandom(tr.Seed), nil
		case "length":
			return rewards.LengthPenalty(p.Target, p.PerByte, p.Max)
		case "rm":
			return rm.Load(p.Path)
		case "plugin":
			cfg := plugins.Config{Path: p.Path, Args: p.Args, SHA256: p.SHA256} // resolved: absolute
			if p.Timeout != "" {
				d, err := time.ParseDuration(p.Timeout)
				if err != nil {
					return nil, fmt.Errorf("reward plugin %s: timeout: %v", p.Path, err)
				}
				cfg.Timeout = d
			}
			r, err := plugins.Open(cfg)
			if err != nil {
				return nil, err
			}
			closers = append(closers, func() { r.Close() })
			return r, nil
		}
		return nil, fmt.Errorf("unknown reward kind %q", kind)
	}
	if tr.Reward.Kind != "combine" {
		r, err := one(tr.Reward.Kind, sweep.RewardPart{})
		return r, closeAll, err
	}
	var parts []rewards.Part
	for _, p := range tr.Reward.Parts {
		r, err := one(p.Kind, p)
		if err != nil {
			closeAll()
			return nil, func() {}, err
		}
		parts = append(parts, rewards.Part{Reward: r, Weight: p.Weight})
	}
	r, err := rewards.Combine(parts...)
	if err != nil {
		closeAll()
		return nil, func() {}, err
	}
	return r, closeAll, nil
}
