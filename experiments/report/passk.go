package report

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/grao-lab/grao/experiments/aggregate"
)

// PassKCounts are one trial's pass@k samples (the runner's passk.json):
// K answers per eval prompt, how many were correct (judged at least as
// good as the reference) and how many beat it.
type PassKCounts struct {
	K              int      `json:"k"`
	Temperature    float64  `json:"temperature"`
	Correct        []int    `json:"correct"`
	Wins           []int    `json:"wins"`
	Kinds, Regimes []string `json:"-"`
	RawKinds       []string `json:"kinds"`
	RawRegimes     []string `json:"regimes"`
}

// PassKData holds the pass@k counts of a sweep's trials by task, model,
// column label and seed.
type PassKData struct {
	cells map[[3]string]map[int64]*PassKCounts
}

// ReadPassK reads DIR/runs/<trial>/passk.json of every trial of res that
// has one (none: nil data).
func ReadPassK(dir string, res *Results) (*PassKData, error) {
	pk := &PassKData{cells: map[[3]string]map[int64]*PassKCounts{}}
	found := false
	err := eachTrialFile(dir, res, "passk.json", func(r Row, label string, raw []byte) error {
		if raw == nil {
			return nil
		}
		var c PassKCounts
		if err := json.Unmarshal(raw, &c); err != nil {
			return fmt.Errorf("trial %s: passk.json: %w", r.Trial, err)
		}
		if c.K < 1 || len(c.Correct) != len(c.Wins) {
			return fmt.Errorf("trial %s: passk.json: k %d with %d correct and %d win counts", r.Trial, c.K, len(c.Correct), len(c.Wins))
		}
		c.Kinds, c.Regimes = c.RawKinds, c.RawRegimes
		k := [3]string{r.Task, r.Model, label}
		if pk.cells[k] == nil {
			pk.cells[k] = map[int64]*PassKCounts{}
		}
		pk.cells[k][r.Seed] = &c
		found = true
		return nil
	})
	if err != nil || !found {
		return nil, err
	}
	return pk, nil
}

// PassKTable is pass@k of every column in one task × model cell over one
// group of prompts (all, or a regime): mean over seeds ± 95% t-interval, in
// percent.
type PassKTable struct {
	Task, Model, Group string
	Ks                 []int
	Labels             []string
	Mean, Lo, Hi       [][]float64 // [label][k]
	Seeds              []int
	Temperature        float64
}

// PassKs are the k reported for K samples per prompt: powers of 4 up to
// K, and K.
func PassKs(K int) []int {
	var out []int
	for k := 1; k <= K; k *= 4 {
		out = append(out, k)
	}
	if out[len(out)-1] != K {
		out = append(out, K)
	}
	return out
}

// BuildPassK makes the pass@k tables: all prompts, then each regime.
func BuildPassK(pk *PassKData, tasks, models, cols []string) []PassKTable {
	if pk == nil {
		return nil
	}
	var out []PassKTable
	for _, task := range tasks {
		for _, model := range models {
			K := 0
			groups := []string{"all"}
			for _, c := range cols {
				for _, pc := range pk.cells[[3]string{task, model, c}] {
					if K == 0 || pc.K < K {
						K = pc.K
					}
					for _, g := range pc.Regimes {
						if g != "" && !slices.Contains(groups, g) {
							groups = append(groups, g)
						}
					}
				}
			}
			if K == 0 {
				continue
			}
			ks := PassKs(K)
			for _, g := range groups {
				t := PassKTable{Task: task, Model: model, Group: g, Ks: ks}
				for _, c := range cols {
					byseed := pk.cells[[3]string{task, model, c}]
					if len(byseed) == 0 {
						continue
					}
					var seeds []int64
					for s := range byseed {
						seeds = append(seeds, s)
					}
					slices.Sort(seeds)
					mean, lo, hi := make([]float64, len(ks)), make([]float64, len(ks)), make([]float64, len(ks))
					for ki, k := range ks {
						var vals []float64
						for _, s := range seeds {
							pc := byseed[s]
							t.Temperature = pc.Temperature
							var correct []int
							for i, n := range pc.Correct {
								if g == "all" || (i < len(pc.Regimes) && pc.Regimes[i] == g) {
									correct = append(correct, min(n, pc.K))
								}
							}
							if len(correct) > 0 {
								vals = append(vals, 100*aggregate.MeanPassAtK(pc.K, correct, k))
							}
						}
						mean[ki] = Mean(vals)
						lo[ki], hi[ki] = math.NaN(), math.NaN()
						if len(vals) > 1 {
							lo[ki], hi[ki] = tCI(vals)
						}
					}
					t.Labels = append(t.Labels, c)
					t.Mean, t.Lo, t.Hi = append(t.Mean, mean), append(t.Lo, lo), append(t.Hi, hi)
					t.Seeds = append(t.Seeds, len(seeds))
				}
				if len(t.Labels) > 0 {
					out = append(out, t)
				}
			}
		}
	}
	return out
}
