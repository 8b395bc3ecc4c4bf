package rm

import (
	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/rewards"
)

// kind = "rm" with path = a directory written by bench train-rm.
func init() {
	rewards.Register("rm", rewards.Kind{
		Keys: []string{"path"},
		Path: "dir",
		Check: func(s rewards.Spec, _ func(string) bool) []rewards.FieldError {
			if s.Path == "" {
				return []rewards.FieldError{{Key: "path", Reason: "an rm part needs the reward model's checkpoint directory (bench train-rm --out)"}}
			}
			return nil
		},
		New: func(s rewards.Spec, _ rewards.Env) (core.Reward, func(), error) {
			r, err := Load(s.Path)
			return r, nil, err
		},
	})
}
