package trainer

import (
	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/model"
)

// NewForTest is New, optionally with the sequence-length buckets disabled.
func NewForTest(cfg Config, alg core.Algorithm, train []core.Example, reward core.Reward, policy *model.Params, fullContext bool) (*Trainer, error) {
	var opts model.CPUOptions
	if fullContext {
		opts.Seq = policy.Config.Context
	}
	return newOn("", opts, cfg, alg, train, reward, policy)
}

// GraphSeq is the length of the graph the last step ran on.
func GraphSeq(t *Trainer) int { return t.Policy.(*model.CPU).LastGraphSeq() }
