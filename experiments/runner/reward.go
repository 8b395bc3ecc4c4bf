package runner

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/experiments/sweep"
	"github.com/grao-lab/grao/plugins"
	"github.com/grao-lab/grao/rewards"
)

// buildReward assembles the trial's training reward. The returned close
// function stops any plugin processes.
func buildReward(tr sweep.Trial, task core.Task, sweepDir string) (core.Reward, func(), error) {
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
		case "length":
			return rewards.LengthPenalty(p.Target, 0.01, 1)
		case "plugin":
			path := p.Path
			if !filepath.IsAbs(path) {
				path = filepath.Join(sweepDir, path)
			}
			cfg := plugins.Config{Path: path, Args: p.Args, SHA256: p.SHA256}
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
