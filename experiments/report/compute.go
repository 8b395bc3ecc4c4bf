package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"github.com/BurntSushi/toml"
)

// TrialCompute is what one trial spent: optimiser updates, completions
// sampled and their tokens, completion tokens scored with gradients, wall
// time and peak memory, beside its eval reward gain.
type TrialCompute struct {
	Updates, Samples, Generated, Scored float64
	Seconds, PeakRSSMiB                 float64 // NaN when not recorded
	RewardGain                          float64 // final − first eval reward
	// Derived: the counters were not logged (a run from before they
	// were) and Samples and Generated come from the per-step means and the
	// trial's config; Scored is then NaN.
	Derived bool
	Workers int
}

// ComputeData holds TrialCompute by task, model, label and seed.
type ComputeData struct {
	cells map[[3]string]map[int64]*TrialCompute
}

// metricsLine is the part of a metrics.jsonl line the compute table reads.
type metricsLine struct {
	Step       int                `json:"step"`
	Loss       *float64           `json:"loss"`
	Eval       map[string]float64 `json:"eval"`
	RewardMean *float64           `json:"reward_mean"`
	LengthMean *float64           `json:"length_mean"`
	Compute    *struct {
		Samples   float64 `json:"samples"`
		Generated float64 `json:"generated_tokens"`
		Scored    float64 `json:"scored_tokens"`
	} `json:"compute"`
}

// ReadCompute reads every trial's metrics.jsonl, manifest.json and
// config.toml under DIR/runs (nil when none has a metrics.jsonl).
func ReadCompute(dir string, res *Results) (*ComputeData, error) {
	cd := &ComputeData{cells: map[[3]string]map[int64]*TrialCompute{}}
	found := false
	// metrics.jsonl can be large: the walk only checks it exists, and
	// readTrialCompute streams it.
	err := eachTrial(res, func(r Row, label string) error {
		tc, err := readTrialCompute(filepath.Join(dir, "runs", r.Trial))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("trial %s: %w", r.Trial, err)
		}
		k := [3]string{r.Task, r.Model, label}
		if cd.cells[k] == nil {
			cd.cells[k] = map[int64]*TrialCompute{}
		}
		cd.cells[k][r.Seed] = tc
		found = true
		return nil
	})
	if err != nil || !found {
		return nil, err
	}
	return cd, nil
}

func readTrialCompute(tdir string) (*TrialCompute, error) {
	f, err := os.Open(filepath.Join(tdir, "metrics.jsonl"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var cfg struct {
		Params map[string]any `toml:"params"`
		Train  struct {
			Prompts int `toml:"prompts"`
		} `toml:"train"`
	}
	if _, err := toml.DecodeFile(filepath.Join(tdir, "config.toml"), &cfg); err != nil {
		return nil, fmt.Errorf("config.toml: %w", err)
	}
	epochs, g := 1.0, 0.0
	if v, ok := cfg.Params["epochs"].(int64); ok && v > 0 {
		epochs = float64(v)
	}
	if v, ok := cfg.Params["g"].(int64); ok {
		g = float64(v)
	}
	tc := &TrialCompute{Seconds: math.NaN(), PeakRSSMiB: math.NaN()}
	var first, last *float64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for line := 1; sc.Scan(); line++ {
		var m metricsLine
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return nil, fmt.Errorf("metrics.jsonl:%d: %w", line, err)
		}
		if r, ok := m.Eval["reward"]; ok {
			if first == nil {
				first = &r
			}
			last = &r
			continue
		}
		if m.Loss == nil {
			continue
		}
		tc.Updates += epochs
		if m.Compute != nil {
			tc.Samples += m.Compute.Samples
			tc.Generated += m.Compute.Generated
			tc.Scored += m.Compute.Scored
			continue
		}
		tc.Derived = true
		if m.RewardMean != nil && m.LengthMean != nil {
			n := g * float64(cfg.Train.Prompts)
			tc.Samples += n
			tc.Generated += math.Round(*m.LengthMean * n)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("metrics.jsonl: %w", err)
	}
	if tc.Derived {
		tc.Scored = math.NaN()
	}
	tc.RewardGain = math.NaN()
	if first != nil {
		tc.RewardGain = *last - *first
	}
	var man struct {
		Seconds float64 `json:"seconds"`
		RSS     float64 `json:"trial_rss_mib"` // not peak_rss_mib, which carries earlier trials' peaks
		Workers int     `json:"workers"`
	}
	raw, err := os.ReadFile(filepath.Join(tdir, "manifest.json"))
	if err == nil && json.Unmarshal(raw, &man) == nil {
		if man.Seconds > 0 {
			tc.Seconds = man.Seconds
		}
		if man.RSS > 0 {
			tc.PeakRSSMiB = man.RSS
		}
		tc.Workers = man.Workers
	}
	return tc, nil
}

// ComputeRow is one column's mean compute over its seeds.
type ComputeRow struct {
	Label                               string
	Seeds                               int
	Updates, Samples, Generated, Scored float64
	Seconds, PeakRSSMiB, RewardGain     float64
	// GainPer1k is the eval reward gain per 1000 generated tokens (NaN
	// for a method that samples nothing).
	GainPer1k float64
	Derived   bool
	Workers   int
}

// ComputeTable is one task × model cell's compute rows.
type ComputeTable struct {
	Task, Model string
	Rows        []ComputeRow
}

// BuildCompute averages the compute of every column over its seeds.
func BuildCompute(cd *ComputeData, tasks, models, cols []string) []ComputeTable {
	if cd == nil {
		return nil
	}
	var out []ComputeTable
	for _, task := range tasks {
		for _, model := range models {
			t := ComputeTable{Task: task, Model: model}
			for _, c := range cols {
				byseed := cd.cells[[3]string{task, model, c}]
				if len(byseed) == 0 {
					continue
				}
				row := ComputeRow{Label: c, Seeds: len(byseed)}
				mean := func(f func(*TrialCompute) float64) float64 {
					var s float64
					for _, tc := range byseed {
						s += f(tc)
					}
					return s / float64(len(byseed))
				}
				row.Updates = mean(func(t *TrialCompute) float64 { return t.Updates })
				row.Samples = mean(func(t *TrialCompute) float64 { return t.Samples })
				row.Generated = mean(func(t *TrialCompute) float64 { return t.Generated })
				row.Scored = mean(func(t *TrialCompute) float64 { return t.Scored })
				row.Seconds = mean(func(t *TrialCompute) float64 { return t.Seconds })
				row.PeakRSSMiB = mean(func(t *TrialCompute) float64 { return t.PeakRSSMiB })
				row.RewardGain = mean(func(t *TrialCompute) float64 { return t.RewardGain })
				row.GainPer1k = math.NaN()
				if row.Generated > 0 {
					row.GainPer1k = row.RewardGain / (row.Generated / 1000)
				}
				for _, tc := range byseed {
					row.Derived = row.Derived || tc.Derived
					row.Workers = max(row.Workers, tc.Workers)
				}
				t.Rows = append(t.Rows, row)
			}
			if len(t.Rows) > 0 {
				out = append(out, t)
			}
		}
	}
	return out
}
