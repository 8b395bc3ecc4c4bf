package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/grao-lab/grao/algorithms"
	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/checkpoint"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/optim"
	"github.com/grao-lab/grao/core/trainer"
	"github.com/grao-lab/grao/experiments/evaluate"
	"github.com/grao-lab/grao/experiments/sweep"
	"github.com/grao-lab/grao/experiments/tasks"
	"github.com/grao-lab/grao/kernels"
	"github.com/grao-lab/grao/rewards"
)

// Trial status values in manifest.json.
const (
	StatusRunning     = "running"
	StatusDone        = "done"
	StatusFailed      = "failed"
	StatusInterrupted = "interrupted"
)

// SchemaVersion versions manifest.json and eval.json: 2 added the
// calibration, per-prompt kinds and the start model's rewards.
const SchemaVersion = 2

// Manifest is a trial's provenance record (manifest.json).
type Manifest struct {
	Schema    int    `json:"schema"`
	Trial     string `json:"trial"`
	Label     string `json:"label"`
	Algorithm string `json:"algorithm"`
	Control   string `json:"control,omitempty"`
	ControlOf string `json:"control_of,omitempty"`
	Seed      uint64 `json:"seed"`
	BaseKey   string `json:"base_key"`
	Status    string `json:"status"`
	Error     string `json:"error,omitempty"`
	// Grao is the build that ran the trial; SweepRevision the git commit
	// of the directory holding the sweep file (the user's experiment
	// repository, which may be grao's own checkout).
	Grao          Version `json:"grao"`
	SweepRevision string  `json:"sweep_git_revision,omitempty"`
	GoVersion     string  `json:"go_version"`
	BLAS          string  `json:"blas"`
	// BasePretrainedWith is the BLAS (or "cuda") that pre-trained the
	// base model, which may be a cached one from another run: "unknown"
	// for a cached base from before grao recorded it, absent for a
	// checkpoint given by the sweep.
	BasePretrainedWith string `json:"base_pretrained_with,omitempty"`
	GOMAXPROCS         int    `json:"gomaxprocs"`
	// CPU is the processor's model name (results with OpenBLAS can differ
	// in their last bits between CPUs and core counts).
	CPU        string            `json:"cpu,omitempty"`
	Reward     []core.RewardInfo `json:"reward,omitempty"`
	AlgoConfig any               `json:"algorithm_config,omitempty"`
	// LossTemperature is the temperature of the loss's log-probs (1:
	// untempered; see train.tempered_logprobs).
	LossTemperature float64 `json:"loss_temperature,omitempty"`
	// Calibration is the base model measured on this trial's task.
	Calibration *Calibration `json:"calibration,omitempty"`
	// ResumedFrom is the step of the checkpoint the trial continued from
	// (absent when it ran from its start).
	ResumedFrom int        `json:"resumed_from_step,omitempty"`
	Start       time.Time  `json:"start"`
	End         *time.Time `json:"end,omitempty"`
	Seconds     float64    `json:"seconds,omitempty"`
	// TrialRSSMiB is the largest resident set size of the process
	// sampled while the trial ran (every 100 ms): the trial's own peak
	// plus the process's baseline when it ran alone (workers = 1), shared
	// with the trials beside it otherwise. PeakRSSMiB is the process's
	// high-water mark since it started, which carries earlier trials'.
	TrialRSSMiB float64 `json:"trial_rss_mib,omitempty"`
	PeakRSSMiB  float64 `json:"peak_rss_mib,omitempty"`
	Workers     int     `json:"workers,omitempty"`
}

// EvalFile is eval.json: final metrics and the per-prompt rewards of the
// final policy. It holds no times, so reruns are byte-identical.
type EvalFile struct {
	Schema    int                `json:"schema"`
	Trial     string             `json:"trial"`
	Task      string             `json:"task"`
	Model     string             `json:"model"`
	Algorithm string             `json:"algorithm"`
	Seed      uint64             `json:"seed"`
	Step      int                `json:"step"`
	Metrics   map[string]float64 `json:"metrics"`
	// Per prompt of the evaluated split, in order: the judge's reward of
	// the final policy (Rewards) and of the starting model (StartRewards),
	// the rubric score, and the prompt's kind and regime when the task
	// has them. The report's per-prompt tests read these.
	Rewards      []float64 `json:"rewards"`
	StartRewards []float64 `json:"start_rewards,omitempty"`
	Scores       []float64 `json:"scores"`
	Kinds        []string  `json:"kinds,omitempty"`
	Regimes      []string  `json:"regimes,omitempty"`
	Split        string    `json:"split,omitempty"`
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
	passk    sweep.PassKSpec
	workers  int
	bases    *baseCache
	revision string
	logf     func(format string, args ...any)
	// tensorboard also writes each trial's metrics as TensorBoard events.
	tensorboard bool
	// stepf reports a trial's training step to the progress display.
	stepf func(id string, step, total int, loss float64)
}

// runTrial trains and evaluates one trial into dir/runs/<id>/.
func (e *env) runTrial(ctx context.Context, tr sweep.Trial) (err error) {
	tdir := filepath.Join(e.dir, "runs", tr.ID)
	if err := os.MkdirAll(tdir, 0o755); err != nil {
		return err
	}
	// Taken before anything is written: a trial still running in another
	// process (a resubmitted array task) keeps its files.
	tl, err := lockNow(filepath.Join(tdir, ".lock"), "trial "+tr.ID)
	if err != nil {
		return err
	}
	defer tl.Unlock()
	man := &Manifest{Schema: SchemaVersion, Trial: tr.ID, Label: tr.Label, Algorithm: tr.Algorithm, Control: tr.Control, ControlOf: tr.ControlOf,
		Seed: tr.Seed, BaseKey: tr.BaseKey(), Workers: e.workers,
		Status: StatusRunning, Grao: BuildVersion(), SweepRevision: e.revision, GoVersion: runtime.Version(),
		BLAS: kernels.Current().Name() + ": " + kernels.Current().Info(), GOMAXPROCS: runtime.GOMAXPROCS(0), CPU: cpuModel(), Start: time.Now().UTC()}
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
	rss := watchRSS()
	defer func() {
		end := time.Now().UTC()
		man.End, man.Seconds = &end, end.Sub(man.Start).Seconds()
		man.TrialRSSMiB, man.PeakRSSMiB = rss.peak(), peakRSSMiB()
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

	base, task, cal, err := e.taskAndBase(ctx, tr)
	if err != nil {
		return err
	}
	man.Calibration = cal
	man.BasePretrainedWith = e.bases.pretrainedWith(tr)
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
	truncate := tr.Task.Truncate == "left"
	tc := trainer.Config{
		Steps: tr.Train.Steps, Prompts: tr.Train.Prompts, Optim: oc, Seed: tr.Seed, Truncate: truncate,
		Tempered: tr.Train.TemperedLogProbs,
		Sample:   model.SampleConfig{Temperature: tr.Train.Temperature, TopK: tr.Train.TopK, TopP: tr.Train.TopP, MaxNew: tr.Train.MaxNew},
	}
	t, err := trainer.NewOn(tr.Train.Device, tc, alg, task.Train(), reward, policy)
	if err != nil {
		return err
	}
	tok, tokFiles := e.bases.tokenizer(tr)
	if err := t.SetTokenizer(tok); err != nil {
		return err
	}
	t.SetJudge(task.Judge())
	man.LossTemperature = t.Temperature()
	exs, err := evalExamples(tr, task)
	if err != nil {
		return err
	}
	groups, kinds, regimes := promptGroups(exs)
	ec := evaluate.Config{Temperature: tr.Eval.Temperature, MaxNew: tr.Eval.MaxNew, Seed: tr.Eval.Seed, Truncate: truncate, Tokenizer: tok}
	taskID := fmt.Sprintf("%s|%v", tr.Task.Source(), cal.Levels)
	pre, err := e.bases.outputs(ctx, tr, taskID, task, base, exs, ec)
	if err != nil {
		return err
	}

	steps := tr.Train.Steps
	if tr.Control == sweep.ControlBase {
		steps = 0 // the base arm evaluates the starting model
	}
	rp, why := loadResume(tdir, t, steps)
	if why != "" {
		e.logf("resume %s: starting over: %s", tr.ID, why)
	}
	mf, err := openMetrics(tdir, rp)
	if err != nil {
		return err
	}
	defer mf.Close()
	ml := &metricsLog{w: bufio.NewWriter(mf)}
	if e.tensorboard {
		var prefix io.Reader
		if rp != nil {
			prefix = io.NewSectionReader(mf, 0, rp.MetricsBytes)
		}
		if ml.tb, err = openTensorBoard(e.dir, tr.ID, prefix); err != nil {
			return err
		}
		defer ml.tb.Close()
	}
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
		if err := ml.write(evalLine{Step: step, Eval: m}); err != nil {
			return err
		}
		return ml.flush()
	}
	first := 1
	if rp != nil {
		first, curve = rp.Step+1, rp.Curve
		man.ResumedFrom = rp.Step
		e.logf("resume %s from its checkpoint after step %d of %d", tr.ID, rp.Step, steps)
	} else if err := evalAt(0); err != nil {
		return err
	}
	every := max(tr.Train.EvalEvery, 1)
	for step := first; step <= steps; step++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		lg, err := t.Step(ctx, step)
		if err != nil {
			return err
		}
		if err := ml.write(lg); err != nil {
			return err
		}
		if e.stepf != nil {
			e.stepf(tr.ID, step, steps, lg.Loss)
		}
		if step%every == 0 || step == steps {
			if err := evalAt(step); err != nil {
				return err
			}
		}
		if ce := tr.Train.CheckpointEvery; ce > 0 && step%ce == 0 && step < steps {
			if err := e.checkpoint(tdir, t, ml, mf, resumePoint{Step: step, Curve: curve}); err != nil {
				return err
			}
		}
	}
	if steps == 0 {
		last = pre
	}
	if err := ml.flush(); err != nil {
		return err
	}
	final := evaluate.Metrics(last, pre)
	if len(groups) > 1 {
		for k, v := range evaluate.GroupMetrics(last, pre, groups) {
			final[k] = v
		}
	}
	kc := ec
	kc.Seed = tr.Eval.Seed + 1
	kl, err := evaluate.KL(ctx, t.Policy, t.Start, exs, kc)
	if err != nil {
		return err
	}
	final["kl"] = kl
	if s, ok := evaluate.StepsTo90(curve); ok {
		final["steps_to_90"] = s
	}
	ev := EvalFile{Schema: SchemaVersion, Trial: tr.ID, Task: taskLabel(tr), Model: tr.Model.Label, Algorithm: tr.Label, Seed: tr.Seed,
		Step: steps, Metrics: final, Rewards: last.Judge, StartRewards: pre.Judge, Scores: last.Scores,
		Kinds: kinds, Regimes: regimes, Split: tr.Eval.Split}
	if err := writeSamples(filepath.Join(tdir, "samples.jsonl"), exs, last, pre); err != nil {
		return err
	}
	weights, err := model.ParamsOf(t.Policy)
	if err != nil {
		return err
	}
	if err := checkpoint.SaveModel(tdir, &checkpoint.Model{Params: weights, Tokenizer: tok, TokenizerFiles: tokFiles}, map[string]string{"trial": tr.ID, "algorithm": tr.Algorithm}); err != nil {
		return err
	}
	// eval.json last: its presence with a "done" manifest marks a finished trial.
	if err := writeJSON(filepath.Join(tdir, "eval.json"), ev); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(tdir, resumeFile)); err != nil && !os.IsNotExist(err) {
		return err
	}
	return e.writePassK(ctx, tr, t.Policy, task, exs)
}

// taskAndBase returns a trial's base model (built or cached), its task at
// the levels calibration placed, and that calibration.
func (e *env) taskAndBase(ctx context.Context, tr sweep.Trial) (*model.Params, core.Task, *Calibration, error) {
	corpusTask, err := tr.Task.Open(nil)
	if err != nil {
		return nil, nil, nil, err
	}
	base, err := e.bases.get(ctx, tr, corpusTask)
	if err != nil {
		return nil, nil, nil, err
	}
	task, cal, err := e.bases.calibration(ctx, tr, base)
	if err != nil {
		return nil, nil, nil, err
	}
	return base, task, cal, nil
}

// evalExamples are the prompts a trial is evaluated on.
func evalExamples(tr sweep.Trial, task core.Task) ([]core.Example, error) {
	exs := task.Eval()
	if tr.Eval.Split == "dev" {
		d, ok := task.(tasks.Dever)
		if !ok || len(d.Dev()) == 0 {
			return nil, fmt.Errorf("eval.split = \"dev\": task %s has no dev split (set task.dev_size)", task.Name())
		}
		exs = d.Dev()
	}
	if n := tr.Eval.Prompts; n > 0 && n < len(exs) {
		exs = exs[:n]
	}
	return exs, nil
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

// promptGroups indexes the prompts by kind and by regime (for per-kind
// metrics) and lists each prompt's kind and regime ("" when absent).
func promptGroups(exs []core.Example) (groups map[string][]int, kinds, regimes []string) {
	groups = map[string][]int{}
	found := false
	for i, ex := range exs {
		k, _ := ex.Meta[rewards.MetaKind].(string)
		r, _ := ex.Meta[tasks.MetaRegime].(string)
		kinds, regimes = append(kinds, k), append(regimes, r)
		if k != "" {
			groups[k] = append(groups[k], i)
			found = true
		}
		if r != "" {
			groups[r] = append(groups[r], i)
		}
	}
	if !found {
		return nil, nil, nil
	}
	if len(groups) == 1 { // one kind: the whole split already says it
		return nil, kinds, regimes
	}
	return groups, kinds, regimes
}

func taskLabel(tr sweep.Trial) string {
	return filepath.Base(tr.Task.Name)
}

// cpuModel is this machine's processor, read once.
var cpuModel = sync.OnceValue(func() string { return kernels.ReadCPUInfo(runtime.GOMAXPROCS(0)).Model })
