package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/checkpoint"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/experiments/calibrate"
	"github.com/grao-lab/grao/experiments/evaluate"
	"github.com/grao-lab/grao/experiments/sweep"
)

// TrialTask is a finished (or started) trial's configuration and the task
// levels its calibration placed: what a checkpoint needs to be evaluated
// exactly as the trial was.
type TrialTask struct {
	Trial  sweep.Trial
	Levels map[string]int
}

// ReadTrialTask reads DIR/config.toml and the levels in DIR/manifest.json.
func ReadTrialTask(dir string) (TrialTask, error) {
	path := filepath.Join(dir, "config.toml")
	raw, err := os.ReadFile(path)
	if err != nil {
		return TrialTask{}, err
	}
	tr, err := sweep.DecodeTrial(raw, path)
	if err != nil {
		return TrialTask{}, err
	}
	tt := TrialTask{Trial: tr}
	var man Manifest
	if err := readJSON(filepath.Join(dir, "manifest.json"), &man); err == nil && man.Calibration != nil {
		tt.Levels = man.Calibration.Levels
	}
	return tt, nil
}

// CheckpointEval is a checkpoint evaluated on a trial's task without
// training: the greedy evaluation the runner does after training, the
// calibration table of its sampled answers, and pass@k when asked.
type CheckpointEval struct {
	Split   string
	Prompts int
	// Greedy holds the evaluator's metrics on the split, overall and
	// "metric@kind" per kind and regime.
	Greedy map[string]float64
	Kinds  []string
	// Calibration is calibrate.Measure on the split's first PerKind
	// prompts of each kind with the trial's calibration settings: on the
	// train split, the table every trial records for its base model.
	Calibration calibrate.Table
	// PassK holds the counts of K sampled answers per prompt (K = 0: none).
	PassK    evaluate.Counts
	PassKCfg evaluate.Config
	// Regimes are the regimes present; PromptKinds and PromptRegimes the
	// kind and regime of each prompt the greedy evaluation and pass@k saw.
	Regimes                    []string
	PromptKinds, PromptRegimes []string
}

// EvalOptions choose what EvaluateCheckpoint measures.
type EvalOptions struct {
	Split   string // eval (default), dev or train
	PerKind int    // calibration prompts per kind (0: the trial's [calibrate] prompts)
	Samples int    // calibration samples per prompt (0: the trial's)
	K       int    // pass@k samples per prompt (0: none)
}

// EvaluateCheckpoint evaluates the model m on the trial's task.
func EvaluateCheckpoint(ctx context.Context, tt TrialTask, m *checkpoint.Model, o EvalOptions) (*CheckpointEval, error) {
	p, tok := m.Params, m.Tokenizer
	tr := tt.Trial
	task, err := tr.Task.Open(tt.Levels)
	if err != nil {
		return nil, err
	}
	if o.Split == "" {
		o.Split = "eval"
	}
	var exs []core.Example
	switch o.Split {
	case "eval", "dev":
		t := tr
		t.Eval.Split = o.Split
		if exs, err = evalExamples(t, task); err != nil {
			return nil, err
		}
	case "train":
		exs = task.Train()
	default:
		return nil, fmt.Errorf("split %q: want eval, dev or train", o.Split)
	}
	truncate := tr.Task.Truncate == "left"
	ce := &CheckpointEval{Split: o.Split, Prompts: len(exs)}
	greedy := exs
	if o.Split == "train" {
		greedy = calibrate.PerKindPrefix(exs, perKind(tr, o))
	}
	ec := evaluate.Config{Temperature: 0, MaxNew: tr.Eval.MaxNew, Seed: tr.Eval.Seed, Truncate: truncate, Tokenizer: tok}
	out, err := evaluate.Generate(ctx, model.NewFrozen(p), task, greedy, ec)
	if err != nil {
		return nil, err
	}
	ce.Greedy = evaluate.Metrics(out, evaluate.Outputs{})
	groups, kinds, regimes := promptGroups(greedy)
	for k, v := range evaluate.GroupMetrics(out, evaluate.Outputs{}, groups) {
		ce.Greedy[k] = v
	}
	ce.Kinds, ce.Regimes = uniqueStrings(kinds), uniqueStrings(regimes)
	ce.PromptKinds, ce.PromptRegimes = kinds, regimes
	cfg := calConfig(tr)
	cfg.Tokenizer = tok
	if o.Samples > 0 {
		cfg.Samples = o.Samples
		cfg.Gs = nil
		for _, g := range calibrate.DefaultConfig().Gs {
			if g <= cfg.Samples {
				cfg.Gs = append(cfg.Gs, g)
			}
		}
	}
	cexs := calibrate.PerKindPrefix(exs, perKind(tr, o))
	if ce.Calibration, err = calibrate.Measure(ctx, model.NewFrozen(p), task.Judge(), task.Scorer(), cexs, cfg); err != nil {
		return nil, err
	}
	if o.K > 0 {
		ce.PassKCfg = evaluate.Config{Temperature: tr.Train.Temperature, MaxNew: tr.Eval.MaxNew, Seed: 1, Truncate: truncate, Tokenizer: tok}
		if ce.PassK, err = evaluate.SampleK(ctx, model.NewFrozen(p), task, greedy, o.K, ce.PassKCfg); err != nil {
			return nil, err
		}
	}
	return ce, nil
}

func perKind(tr sweep.Trial, o EvalOptions) int {
	if o.PerKind > 0 {
		return o.PerKind
	}
	return tr.Calibrate.Prompts
}

func uniqueStrings(xs []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range xs {
		if x != "" && !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
