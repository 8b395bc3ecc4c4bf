package rm

import (
	"fmt"

	"github.com/grao-lab/grao/core/model"
)

// scorer scores one sequence with the model's inference path (no gorgonia,
// no gradients): the value head at the last position. It reuses its
// buffers, so it is not safe for concurrent use; several scorers may share
// one *model.Params.
type scorer struct{ m *model.Scorer }

func newScorer(p *model.Params) (*scorer, error) {
	if p == nil {
		return nil, fmt.Errorf("rm: nil params")
	}
	if !p.Config.ValueHead || p.VW == nil || p.VB == nil {
		return nil, fmt.Errorf("rm: the model has no value head (config value_head = false): not a reward model")
	}
	return &scorer{m: model.NewScorer(p)}, nil
}

// reward returns the value head at the last position of ids.
func (s *scorer) reward(ids []int) (float64, error) {
	v, err := s.m.Value(ids)
	if err != nil {
		return 0, fmt.Errorf("rm: %w", err)
	}
	return v, nil
}
