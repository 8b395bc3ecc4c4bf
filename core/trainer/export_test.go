package trainer

import (
	"gorgonia.org/gorgonia"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/model"
)

// NewForTest is New, optionally with the sequence-length buckets disabled.
func NewForTest(cfg Config, alg core.Algorithm, train []core.Example, reward core.Reward, policy *model.Params, fullContext bool) (*Trainer, error) {
	t, err := newTrainer(cfg, alg, train, reward, policy, gorgonia.Float32)
	if t != nil {
		t.fullContext = fullContext
	}
	return t, err
}

// GraphSeq is the length of the graph the last step ran on.
func GraphSeq(t *Trainer) int { return t.graph.Seq }
