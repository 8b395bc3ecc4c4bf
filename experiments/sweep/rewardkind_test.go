package sweep

import (
	"context"
	"strings"
	"testing"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/rewards"
)

// constant is a user-registered reward kind with a parameter of its own.
type constant struct{ v float64 }

func (c constant) Describe() core.RewardInfo {
	return core.RewardInfo{Name: "constant", Deterministic: true}
}
func (c constant) Score(_ context.Context, items []core.RewardItem) ([]core.Score, error) {
	out := make([]core.Score, len(items))
	for i := range out {
		out[i] = core.Score{Value: c.v, Applicable: true}
	}
	return out, nil
}

func init() {
	rewards.Register("test-constant", rewards.Kind{
		Keys: []string{"params"},
		Check: func(s rewards.Spec, _ func(string) bool) []rewards.FieldError {
			if _, ok := s.Params["value"].(float64); !ok {
				return []rewards.FieldError{{Key: "params", Reason: "needs value = <number>"}}
			}
			return nil
		},
		New: func(s rewards.Spec, _ rewards.Env) (core.Reward, func(), error) {
			return constant{s.Params["value"].(float64)}, nil, nil
		},
	})
}

// A reward kind registered by user code is routed its table like a
// built-in: its own checks report at the part's keys, keys it does not
// own are refused, and it builds.
func TestUserRewardKind(t *testing.T) {
	base := minimalSweep + "[reward]\nkind = \"combine\"\n[[reward.part]]\nkind = \"test-constant\"\n"
	for _, tc := range []struct{ name, extra, want string }{
		{"ok", "params = { value = 0.5 }\n", ""},
		{"its own check", "params = { other = 1 }\n", "reward.part[1].params: needs value = <number>"},
		{"a key it does not own", "params = { value = 0.5 }\ntarget = 3\n", `reward.part[1].target: applies to kind = "length" parts only`},
		{"misspelt kind", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := base + tc.extra
			if tc.name == "misspelt kind" {
				src = strings.Replace(src, `"test-constant"`, `"test-constnat"`, 1)
				tc.want = `(did you mean "test-constant"?)`
			}
			s, err := Parse([]byte(src), "r.toml")
			var trials []Trial
			if err == nil {
				trials, err = s.Expand()
			}
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				r, closer, err := rewards.Build(trials[0].Reward.Parts[0], rewards.Env{})
				if err != nil {
					t.Fatal(err)
				}
				defer closer()
				sc, _ := r.Score(context.Background(), []core.RewardItem{{}})
				if sc[0].Value != 0.5 {
					t.Errorf("built reward scores %v", sc[0].Value)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

const minimalSweep = `name = "r"
seeds = [1]
[model]
preset = "tiny"
[task]
name = "arith"
digits = 2
[train]
max_new_tokens = 16
[eval]
max_new_tokens = 16
[[algorithm]]
name = "grpo"
`
