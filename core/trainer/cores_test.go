package trainer_test

import (
	"context"
	"runtime"
	"slices"
	"testing"

	"github.com/grao-lab/grao/algorithms"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/optim"
	"github.com/grao-lab/grao/core/trainer"
	"github.com/grao-lab/grao/kernels"
)

// On the pure-Go and native paths, training gives the same bits on one core
// as on several (rollouts in lanes, rewards, the loss, gradients and
// AdamW): grao's kernels split their work so that a core count changes who
// computes an element, never how.
func TestCoreCountDoesNotChangeResults(t *testing.T) {
	if base == nil {
		t.Skip("-short: no base model")
	}
	backends := []kernels.Backend{kernels.Gonum{}}
	if nb, err := kernels.NativeBackend(); err == nil {
		backends = append(backends, nb)
	} else {
		t.Logf("native sgemm not tested: %v", err)
	}
	for _, be := range backends {
		t.Run(be.Name(), func(t *testing.T) { testCoreCounts(t, be) })
	}
}

func testCoreCounts(t *testing.T, be kernels.Backend) {
	prev := kernels.Use(be)
	defer kernels.Use(prev)
	for _, tc := range []struct {
		name   string
		params map[string]any
	}{
		{"grpo", map[string]any{"g": 4}},
		{"ppo", map[string]any{"g": 2, "epochs": 2}},
		{"dpo", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := func(procs int) []*model.Tensor {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				alg, err := algorithms.New(tc.name, tc.params)
				if err != nil {
					t.Fatal(err)
				}
				// 4 prompts × g rows: 16 for GRPO, 2 lanes of 8 on 2 cores.
				cfg := trainer.Config{Steps: 2, Prompts: 4, Optim: optim.DefaultConfig(), Seed: 3,
					Sample: model.SampleConfig{Temperature: 1, MaxNew: 12}}
				tr, err := trainer.New(cfg, alg, task.Train(), digitShare{}, base.Clone())
				if err != nil {
					t.Fatal(err)
				}
				for s := 1; s <= 2; s++ {
					if _, err := tr.Step(context.Background(), s); err != nil {
						t.Fatal(err)
					}
				}
				return policyParams(t, tr.Policy).All()
			}
			one := run(1)
			for _, procs := range []int{2, 4} {
				got := run(procs)
				for i := range one {
					if !slices.Equal(one[i].Data, got[i].Data) {
						t.Errorf("%s differs between 1 and %d cores", one[i].Name, procs)
					}
				}
			}
		})
	}
}
