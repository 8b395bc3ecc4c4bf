package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/checkpoint"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/tokenizer"
	"github.com/grao-lab/grao/experiments/calibrate"
	"github.com/grao-lab/grao/experiments/runner"
	"github.com/grao-lab/grao/experiments/sweep"
	"github.com/grao-lab/grao/experiments/tasks"
)

const calibrateUsage = `usage:
  bench tasks calibrate NAME --checkpoint DIR [--kinds a,b] [--levels a=2,b=3]
        [--band LO,HI | --all-levels] [--prompts 64] [--samples 16] [--temperature 0.7]
        [--max-new 48] [--prompts-per-step 8] [--sample-seed 1] [--seed 1] [--json]
  bench tasks calibrate SWEEP.toml [--out DIR] [--json]
The second form calibrates the sweep's own base models (pre-training them into
DIR, default runs/<sweep name>, where bench run reuses them) with the sweep's
[calibrate] settings, band and rollout settings.
Samples --samples completions per train prompt from the checkpoint and prints,
per kind: pass@1 (R ≥ 0 against the reference), win@1, mean score, and the
shares of all-lose / all-win / zero-variance groups at G = 4, 8, 16 with the
expected informative groups per step. --all-levels measures every level of
every kind of the skills task; --band places each kind at the level whose
pass@1 is in [LO, HI] (nearest the middle).`

// calibrateFlags are the calibration settings shared with sweeps.
type calibrateFlags struct {
	cfg     calibrate.Config
	prompts int
}

func (cf *calibrateFlags) register(fs *flag.FlagSet) {
	cf.cfg = calibrate.DefaultConfig()
	fs.IntVar(&cf.prompts, "prompts", 64, "train prompts per kind (and level)")
	fs.IntVar(&cf.cfg.Samples, "samples", cf.cfg.Samples, "completions per prompt (≥ the largest G, 16)")
	fs.Float64Var(&cf.cfg.Temperature, "temperature", cf.cfg.Temperature, "sampling temperature (the rollout temperature)")
	fs.IntVar(&cf.cfg.MaxNew, "max-new", cf.cfg.MaxNew, "max new tokens per completion")
	fs.IntVar(&cf.cfg.PromptsPerStep, "prompts-per-step", cf.cfg.PromptsPerStep, "prompts per training step (for informative groups per step)")
	fs.Uint64Var(&cf.cfg.Seed, "sample-seed", cf.cfg.Seed, "sampling seed")
}

func tasksCalibrate(args []string, stdout, stderr io.Writer) error {
	var tf taskFlags
	var cf calibrateFlags
	fs := newTaskFlagSet("calibrate", &tf, "train")
	cf.register(fs)
	ckpt := fs.String("checkpoint", "", "base model directory: a grao checkpoint or a Hugging Face GPT-2 directory (required)")
	kinds := fs.String("kinds", "", "skills: comma-separated kinds (default all)")
	levels := fs.String("levels", "", "skills: kind=level pairs, comma-separated")
	band := fs.String("band", "", "skills: place each kind's pass@1 in LO,HI")
	allLevels := fs.Bool("all-levels", false, "skills: measure every level of every kind")
	asJSON := fs.Bool("json", false, "print JSON")
	fs.Usage = func() { fmt.Fprintln(stderr, calibrateUsage) }
	out := fs.String("out", "", "SWEEP.toml: the sweep directory holding the base models (default runs/<sweep name>)")
	name, err := parseNamed(fs, args, stderr)
	if err != nil {
		return err
	}
	if strings.HasSuffix(name, ".toml") {
		if *ckpt != "" || *kinds != "" || *levels != "" || *band != "" || *allLevels {
			return badInput("tasks calibrate %s: the sweep sets the model, task and band; --checkpoint, --kinds, --levels, --band and --all-levels do not apply", name)
		}
		return calibrateSweep(name, *out, *asJSON, stdout, stderr)
	}
	if *ckpt == "" {
		return badInput("tasks calibrate: --checkpoint is required (or give a SWEEP.toml)")
	}
	if cf.prompts < 1 {
		return badInput("--prompts must be ≥ 1, got %d", cf.prompts)
	}
	// Group sizes above --samples cannot be estimated: show the others.
	cf.cfg.Gs = slices.DeleteFunc(cf.cfg.Gs, func(g int) bool { return g > cf.cfg.Samples })
	if err := cf.cfg.Validate(); err != nil {
		return badInput("%v", err)
	}
	skills := name == tasks.Skills
	if !skills && (*kinds != "" || *levels != "" || *band != "" || *allLevels) {
		return badInput("--kinds, --levels, --band and --all-levels apply to the %s task only", tasks.Skills)
	}
	if *band != "" && *allLevels {
		return badInput("give at most one of --band and --all-levels")
	}
	var kindList []string
	if *kinds != "" {
		kindList = strings.Split(*kinds, ",")
	}
	lv, err := parseLevels(*levels)
	if err != nil {
		return err
	}
	if errs := tasks.CheckKinds(kindList, lv); len(errs) > 0 {
		return badInput("%s", strings.Join(errs, "; "))
	}
	var b calibrate.Band
	if *band != "" {
		if b, err = parseBand(*band); err != nil {
			return err
		}
	}
	m, err := checkpoint.Open(*ckpt)
	if err != nil {
		return usageError{fmt.Errorf("--checkpoint: %w", err)}
	}
	p := model.NewFrozen(m.Params)
	cf.cfg.Tokenizer = m.Tokenizer
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	setting := kindSetting
	if skills && (*band != "" || *allLevels) {
		if kindList == nil {
			kindList = tasks.KindNames()
		}
		cands, judge, scorer, err := calibrate.Candidates(kindList, lv, cf.prompts, func(kind string, level int) (core.Task, error) {
			return tasks.Get(tasks.Skills, tf.seed, tasks.WithKinds(kind), tasks.WithLevels(map[string]int{kind: level}))
		})
		if err != nil {
			return badInput("%v", err)
		}
		if *allLevels {
			b = calibrate.Band{Lo: 0, Hi: 1}
		}
		pl, err := calibrate.Place(ctx, p, judge, scorer, cands, b, cf.cfg)
		if err != nil {
			return tooLong(err)
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(pl)
		}
		if err := pl.Tried.Render(stdout, setting); err != nil {
			return err
		}
		if *band != "" {
			fmt.Fprintf(stdout, "\nplacement in [%g, %g]: %s\n", b.Lo, b.Hi, formatLevels(pl.Levels, pl.InBand))
		}
		return nil
	}
	var opts []tasks.Option
	if kindList != nil {
		opts = append(opts, tasks.WithKinds(kindList...))
	}
	if lv != nil {
		opts = append(opts, tasks.WithLevels(lv))
	}
	t, err := openTask(name, &tf, opts...)
	if err != nil {
		return err
	}
	exs, err := splitOf(t, tf.split)
	if err != nil {
		return err
	}
	exs = calibrate.PerKindPrefix(exs, cf.prompts)
	tab, err := calibrate.Measure(ctx, p, t.Judge(), t.Scorer(), exs, cf.cfg)
	if err != nil {
		return tooLong(err)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(tab)
	}
	fmt.Fprintf(stdout, "task %s, %s split (seed %d), base %s\n\n", t.Name(), tf.split, tf.seed, *ckpt)
	return tab.Render(stdout, setting)
}

// calibrateSweep calibrates a sweep's own base models, pre-training them
// into the sweep directory when needed (bench run reuses them).
func calibrateSweep(path, out string, asJSON bool, stdout, stderr io.Writer) error {
	sw, err := sweep.ParseFile(path)
	if err != nil {
		return usageError{err}
	}
	sw.Resolve()
	trials, err := sw.Expand()
	if err != nil {
		return usageError{err}
	}
	if out == "" {
		out = filepath.Join("runs", sw.Name)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }
	cals, err := runner.CalibrateSweep(ctx, trials, out, logf)
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(cals)
	}
	for i, bc := range cals {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		fmt.Fprintf(stdout, "## base %s (task %s, as trial %s)\n\n", bc.BaseKey, bc.Task, bc.Trial)
		if pl := bc.Calibration.Placement; pl != nil {
			fmt.Fprintf(stdout, "Placement in pass@1 [%g, %g], every level tried:\n\n", pl.Band.Lo, pl.Band.Hi)
			if err := pl.Tried.Render(stdout, kindSetting); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "\nChosen levels: %s\n\nThe trial's train split at those levels:\n\n", formatLevels(pl.Levels, pl.InBand))
		}
		if err := bc.Calibration.Table.Render(stdout, kindSetting); err != nil {
			return err
		}
	}
	return nil
}

// tooLong makes a prompt that does not fit the checkpoint's context a
// usage error (exit 2): the flags or the checkpoint are wrong, not the run.
func tooLong(err error) error {
	var tl *tokenizer.TooLongError
	if errors.As(err, &tl) {
		return usageError{fmt.Errorf("%w (lower --max-new, or calibrate a model with a longer context)", err)}
	}
	return err
}

func kindSetting(kind string, level int) string {
	if k, ok := tasks.LookupKind(kind); ok && k.Setting != nil && level > 0 {
		return k.Setting(level)
	}
	return ""
}

func formatLevels(levels map[string]int, inBand map[string]bool) string {
	var parts []string
	for _, k := range tasks.KindNames() {
		if l, ok := levels[k]; ok {
			p := fmt.Sprintf("%s=%d", k, l)
			if !inBand[k] {
				p += " (out of band)"
			}
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

func parseLevels(s string) (map[string]int, error) {
	if s == "" {
		return nil, nil
	}
	out := map[string]int{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil {
			return nil, badInput("--levels: %q is not kind=level", kv)
		}
		out[k] = n
	}
	return out, nil
}

func parseBand(s string) (calibrate.Band, error) {
	lo, hi, ok := strings.Cut(s, ",")
	var b calibrate.Band
	var e1, e2 error
	b.Lo, e1 = strconv.ParseFloat(lo, 64)
	b.Hi, e2 = strconv.ParseFloat(hi, 64)
	if !ok || e1 != nil || e2 != nil {
		return b, badInput("--band: want LO,HI such as 0.3,0.6, got %q", s)
	}
	if err := b.Validate(); err != nil {
		return b, badInput("--band: %v", err)
	}
	return b, nil
}
