package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/experiments/calibrate"
	"github.com/grao-lab/grao/experiments/sweep"
	"github.com/grao-lab/grao/experiments/tasks"
)

// Calibration is what a trial's base model was measured at before
// training (manifest.json): where task.band placed the kinds (Placement,
// with every level tried), the levels the trial's splits use, and the
// per-kind table of its train split at those levels.
type Calibration struct {
	Placement *calibrate.Placement `json:"placement,omitempty"`
	Levels    map[string]int       `json:"levels,omitempty"`
	Table     calibrate.Table      `json:"table"`
}

// calConfig is the calibration setting of a trial: its [calibrate] table
// with the rollout's sampling settings and batch.
func calConfig(tr sweep.Trial) calibrate.Config {
	cfg := calibrate.DefaultConfig()
	cfg.Samples, cfg.Seed = tr.Calibrate.Samples, tr.Calibrate.Seed
	cfg.Temperature, cfg.TopK, cfg.TopP, cfg.MaxNew = tr.Train.Temperature, tr.Train.TopK, tr.Train.TopP, tr.Train.MaxNew
	cfg.PromptsPerStep = tr.Train.Prompts
	cfg.Truncate = tr.Task.Truncate == "left"
	cfg.Gs = slices.DeleteFunc(cfg.Gs, func(g int) bool { return g > cfg.Samples })
	return cfg
}

// calKey hashes what a calibration depends on, beyond the base model.
func calKey(parts ...any) string {
	b, err := json.Marshal(parts)
	if err != nil {
		b = fmt.Appendf(nil, "%#v", parts)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}

// calibration returns the trial's task at its (placed) levels with the
// calibration of its base model, computing each part once per base and
// setting, and keeping it in DIR/base/<key>/ so a resumed run reuses it.
func (c *baseCache) calibration(ctx context.Context, tr sweep.Trial, base *model.Params) (core.Task, *Calibration, error) {
	cal := &Calibration{}
	cfg := calConfig(tr)
	cfg.Tokenizer, _ = c.tokenizer(tr)
	var levels map[string]int
	if kinds := tr.Task.BandKinds(); len(kinds) > 0 {
		band := calibrate.Band{Lo: tr.Task.Band[0], Hi: tr.Task.Band[1]}
		key := "placement-" + calKey(tr.BaseKey(), tr.Task.DataSeed, kinds, band, tr.Calibrate.Prompts, cfg)
		pl := &calibrate.Placement{}
		err := c.cached(tr.BaseKey(), key, pl, func() (any, error) {
			cands, judge, scorer, err := calibrate.Candidates(kinds, nil, tr.Calibrate.Prompts, func(kind string, level int) (core.Task, error) {
				ts := tr.Task
				ts.Kinds, ts.Levels, ts.Band = []string{kind}, map[string]int{kind: level}, nil
				return ts.Open(nil)
			})
			if err != nil {
				return nil, err
			}
			c.logf("base %s: placing %d kinds in pass@1 [%g, %g] (%d candidates)", tr.BaseKey(), len(kinds), band.Lo, band.Hi, len(cands))
			eng, err := scorerOn(tr.Train.Device, base)
			if err != nil {
				return nil, err
			}
			p, err := calibrate.Place(ctx, eng, judge, scorer, cands, band, cfg)
			return &p, err
		})
		if err != nil {
			return nil, nil, fmt.Errorf("calibration: %w", err)
		}
		cal.Placement = pl
		levels = map[string]int{}
		for k, l := range tr.Task.Levels {
			levels[k] = l
		}
		for k, l := range pl.Levels {
			levels[k] = l
		}
	}
	task, err := tr.Task.Open(levels)
	if err != nil {
		return nil, nil, err
	}
	if lv, ok := task.(tasks.Leveled); ok {
		cal.Levels = lv.Levels()
	}
	key := "calibration-" + calKey(tr.BaseKey(), tr.Task, cal.Levels, tr.Calibrate.Prompts, cfg)
	err = c.cached(tr.BaseKey(), key, &cal.Table, func() (any, error) {
		exs := calibrate.PerKindPrefix(task.Train(), tr.Calibrate.Prompts)
		eng, err := scorerOn(tr.Train.Device, base)
		if err != nil {
			return nil, err
		}
		t, err := calibrate.Measure(ctx, eng, task.Judge(), task.Scorer(), exs, cfg)
		return &t, err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("calibration: %w", err)
	}
	return task, cal, nil
}

// cached fills dst (a pointer) from DIR/base/<baseKey>/<name>.json, or
// from compute (whose result is saved there), once per run and name.
func (c *baseCache) cached(baseKey, name string, dst any, compute func() (any, error)) error {
	e := c.entry(baseKey)
	e.calMu.Lock()
	defer e.calMu.Unlock()
	path := filepath.Join(c.dir, "base", baseKey, name+".json")
	if raw, ok := e.cal[name]; ok {
		return json.Unmarshal(raw, dst)
	}
	if raw, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(raw, dst); err == nil {
			e.cal[name] = raw
			return nil
		}
		c.logf("base %s: %s unreadable, measuring again", baseKey, path)
	}
	v, err := compute()
	if err != nil {
		return err
	}
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := writeAtomic(path, append(raw, '\n')); err != nil {
		return err
	}
	e.cal[name] = raw
	return json.Unmarshal(raw, dst)
}

// BaseCalibration is the calibration of one base model of a sweep, for
// the first trial that uses it with each task setting.
type BaseCalibration struct {
	BaseKey     string
	Trial       string
	Task        string
	Calibration *Calibration
}

// CalibrateSweep builds (or reuses) the base model of each of the trials
// in dir, as a run would, and measures its calibration for each distinct
// task setting; a later run of the same sweep into dir reuses both.
func CalibrateSweep(ctx context.Context, trials []sweep.Trial, dir string, logf func(string, ...any)) ([]BaseCalibration, error) {
	c := newBaseCache(dir, logf)
	seen := map[string]bool{}
	var out []BaseCalibration
	for _, tr := range trials {
		key := tr.BaseKey() + "|" + calKey(tr.Task, tr.Calibrate, calConfig(tr))
		if seen[key] {
			continue
		}
		seen[key] = true
		corpus, err := tr.Task.Open(nil)
		if err != nil {
			return out, err
		}
		base, err := c.get(ctx, tr, corpus)
		if err != nil {
			return out, err
		}
		_, cal, err := c.calibration(ctx, tr, base)
		if err != nil {
			return out, err
		}
		out = append(out, BaseCalibration{BaseKey: tr.BaseKey(), Trial: tr.ID, Task: taskLabel(tr), Calibration: cal})
	}
	return out, nil
}
