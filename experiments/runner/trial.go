package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/grao-lab/grao/algorithms"
	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/checkpoint"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/optim"
	"github.com/grao-lab/grao/core/trainer"
	"github.com/grao-lab/grao/experiments/evaluate"
	"github.com/grao-lab/grao/experiments/sweep"
	"github.com/grao-lab/grao/kernels"
)

// Trial status values in manifest.json.
const (
	StatusRunning     = "running"
	StatusDone        = "done"
	StatusFailed      = "failed"
	StatusInterrupted = "interrupted"
)

// Manifest is a trial's provenance record (manifest.json).
type Manifest struct {
	Trial      string            `json:"trial"`
	Label      string            `json:"label"`
	Algorithm  string            `json:"algorithm"`
	Seed       uint64            `json:"seed"`
	BaseKey    string            `json:"base_key"`
	Status     string            `json:"status"`
	Error      string            `json:"error,omitempty"`
	Revision   string            `json:"git_revision,omitempty"`
	GoVersion  string            `json:"go_version"`
	BLAS       string            `json:"blas"`
	Reward     []core.RewardInfo `json:"reward,omitempty"`
	AlgoConfig any               `json:"algorithm_config,omitempty"`
	Start      time.Time         `json:"start"`
	End        *time.Time        `json:"end,omitempty"`
	Seconds    float64           `json:"seconds,omitempty"`
}

// EvalFile is eval.json: final metrics and the per-prompt rewards of the
// final policy. It holds no times, so reruns are byte-identical.
type EvalFile struct {
	Trial     string             `json:"trial"`
	Task      string             `json:"task"`
	Model     string             `json:"model"`
	Algorithm string             `json:"algorithm"`
	Seed      uint64             `json:"seed"`
	Step      int                `json:"step"`
	Metrics   map[string]float64 `json:"metrics"`
	Rewards   []float64          `json:"rewards"`
	Scores    []float64          `json:"scores"`
}

// evalLine is an evaluation record in metrics.jsonl.
type evalLine struct {
	Step int                `json:"step"`
	Eval map[string]float64 `json:"eval"`
}

// env is what every trial shares: the sweep directory, base models and
// where to log.
type env struct {
	dir      string
	bases    *baseCache
	revision string
	logf     func(format string, args ...any)
}

// runTrial trains and evaluates one trial into dir/runs/<id>/.
func (e *env) runTrial(ctx context.Context, tr sweep.Trial) (err error) {
	tdir := filepath.Join(e.dir, "runs", tr.ID)
	if err := os.MkdirAll(tdir, 0o755); err != nil {
		return err
	}
	man := &Manifest{Trial: tr.ID, Label: tr.Label, Algorithm: tr.Algorithm, Seed: tr.Seed, BaseKey: tr.BaseKey(),
		Status: StatusRunning, Revision: e.revision, GoVersion: runtime.Version(),
		BLAS: kernels.Current().Name() + ": " + kernels.Current().Info(), Start: time.Now().UTC()}
	cfgTOML, err := sweep.EncodeTrial(tr)
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(tdir, "config.toml"), cfgTOML); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(tdir, "manifest.json"), man); err != nil {
		return err
	}
	defer func() {
		end := time.Now().UTC()
		man.End, man.Seconds = &end, end.Sub(man.Start).Seconds()
		switch {
		case err == nil:
			man.Status = StatusDone
		case errors.Is(err, context.Canceled):
			man.Status, man.Error = StatusInterrupted, "interrupted"
		default:
			man.Status, man.Error = StatusFailed, err.Error()
		}
		if werr := writeJSON(filepath.Join(tdir, "manifest.json"), man); werr != nil && err == nil {
			err = werr
		}
	}()

	task, err := openTask(tr)
	if err != nil {
		return err
	}
	base, err := e.bases.get(ctx, tr, task)
	if err != nil {
		return err
	}
	policy := base.Clone()
	alg, err := algorithms.New(tr.Algorithm, tr.Params)
	if err != nil {
		return err
	}
	man.AlgoConfig = alg.Config()
	reward, closeReward, err := buildReward(tr, task)
	if err != nil {
		return err
	}
	defer closeReward()
	if reward != nil {
		man.Reward = append(man.Reward, reward.Describe())
	}
	oc := optim.DefaultConfig()
	oc.LR, oc.WeightDecay, oc.ClipNorm = tr.Train.LR, tr.Train.WeightDecay, tr.Train.ClipNorm
	oc.Schedule = optim.Schedule{Kind: tr.Train.Schedule, Warmup: tr.Train.Warmup, Total: tr.Train.Steps}
	tc := trainer.Config{
		Steps: tr.Train.Steps, Prompts: tr.Train.Prompts, Optim: oc, Seed: tr.Seed,
		Sample: model.SampleConfig{Temperature: tr.Train.Temperature, TopK: tr.Train.TopK, TopP: tr.Train.TopP, MaxNew: tr.Train.MaxNew},
	}
	t, err := trainer.New(tc, alg, task.Train(), reward, policy)
	if err != nil {
		return err
	}
	exs := task.Eval()
	if n := tr.Eval.Prompts; n < len(exs) {
		exs = exs[:n]
	}
	ec := evaluate.Config{Temperature: tr.Eval.Temperature, MaxNew: tr.Eval.MaxNew, Seed: tr.Eval.Seed}
	pre, err := e.bases.outputs(ctx, tr, task, base, exs, ec)
	if err != nil {
		return err
	}

	mf, err := os.Create(filepath.Join(tdir, "metrics.jsonl"))
	if err != nil {
		return err
	}
	defer mf.Close()
	mw := bufio.NewWriter(mf)
	enc := json.NewEncoder(mw)
	var curve []evaluate.Point
	var last evaluate.Outputs
	evalAt := func(step int) error {
		out, err := evaluate.Generate(ctx, t.Policy, task, exs, ec)
		if err != nil {
			return err
		}
		m := evaluate.Metrics(out, pre)
		curve = append(curve, evaluate.Point{Step: step, Reward: m["reward"]})
		last = out
		if err := enc.Encode(evalLine{Step: step, Eval: m}); err != nil {
			return err
		}
		return mw.Flush()
	}
	if err := evalAt(0); err != nil {
		return err
	}
	every := max(tr.Train.EvalEvery, 1)
	for step := 1; step <= tr.Train.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		lg, err := t.Step(ctx, step)
		if err != nil {
			return err
		}
		if err := enc.Encode(lg); err != nil {
			return err
		}
		if step%every == 0 || step == tr.Train.Steps {
			if err := evalAt(step); err != nil {
				return err
			}
		}
	}
	if tr.Train.Steps == 0 {
		last = pre
	}
	if err := mw.Flush(); err != nil {
		return err
	}
	final := evaluate.Metrics(last, pre)
	kl, err := evaluate.KL(t.Policy, t.Start, exs, tr.Eval.MaxNew, tr.Eval.Seed+1)
	if err != nil {
		return err
	}
	final["kl"] = kl
	if s, ok := evaluate.StepsTo90(curve); ok {
		final["steps_to_90"] = float64(s)
	}
	ev := EvalFile{Trial: tr.ID, Task: taskLabel(tr), Model: tr.Model.Label, Algorithm: tr.Label, Seed: tr.Seed,
		Step: tr.Train.Steps, Metrics: final, Rewards: last.Judge, Scores: last.Scores}
	if err := writeSamples(filepath.Join(tdir, "samples.jsonl"), exs, last, pre); err != nil {
		return err
	}
	if err := checkpoint.Save(tdir, t.Policy, map[string]string{"trial": tr.ID, "algorithm": tr.Algorithm}); err != nil {
		return err
	}
	// eval.json last: its presence with a "done" manifest marks a finished trial.
	return writeJSON(filepath.Join(tdir, "eval.json"), ev)
}

// sample is one line of samples.jsonl.
type sample struct {
	Prompt     string  `json:"prompt"`
	Reference  string  `json:"reference"`
	Completion string  `json:"completion"`
	Judge      float64 `json:"judge"`
	Score      float64 `json:"score"`
	Start      string  `json:"start_completion"`
	StartJudge float64 `json:"start_judge"`
}

func writeSamples(path string, exs []core.Example, post, pre evaluate.Outputs) error {
	var buf []byte
	for i, ex := range exs {
		line, err := json.Marshal(sample{Prompt: ex.Prompt, Reference: ex.Chosen, Completion: post.Completions[i],
			Judge: post.Judge[i], Score: post.Scores[i], Start: pre.Completions[i], StartJudge: pre.Judge[i]})
		if err != nil {
			return err
		}
		buf = append(append(buf, line...), '\n')
	}
	return writeAtomic(path, buf)
}

func taskLabel(tr sweep.Trial) string {
	return filepath.Base(tr.Task.Name)
}
