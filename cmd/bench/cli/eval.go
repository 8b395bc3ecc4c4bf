package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/grao-lab/grao/core/checkpoint"
	"github.com/grao-lab/grao/experiments/aggregate"
	"github.com/grao-lab/grao/experiments/report"
	"github.com/grao-lab/grao/experiments/runner"
	"github.com/grao-lab/grao/experiments/sweep"
)

func init() {
	register(command{
		name:    "eval",
		summary: "evaluate a checkpoint on a trial's task without training: greedy metrics, the calibration table, pass@k",
		run:     runEval,
	})
}

func runEval(args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("eval", flag.ContinueOnError)
	like := flags.String("like", "", "trial directory (or a sweep directory: its first finished main trial) whose task, levels and settings to use")
	taskName := flags.String("task", "", "instead of --like: a built-in task (or a .jsonl dataset) with default settings")
	var kinds, levels listFlag
	flags.Var(&kinds, "kinds", "with --task skills: the kinds (comma list; default all)")
	flags.Var(&levels, "levels", "with --task skills: kind=level pairs (comma list; default each kind's default level)")
	split := flags.String("split", "eval", "split: eval, dev or train (train: the first --per-kind prompts of each kind, as calibration measures)")
	perKind := flags.Int("per-kind", 0, "calibration prompts per kind (default: the trial's [calibrate] prompts)")
	samples := flags.Int("samples", 0, "calibration samples per prompt (default: the trial's)")
	k := flags.Int("k", 0, "also sample K answers per prompt for pass@k (up to 1024)")
	maxNew := flags.Int("max-new", 0, "completion length limit (default: the trial's eval.max_new_tokens and train.max_new_tokens)")
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "usage: bench eval CHECKPOINT (--like DIR | --task NAME [--kinds K,...] [--levels K=L,...]) [flags]\n\n"+
			"CHECKPOINT is a model directory (a base model under SWEEP/base/<key>, a trial directory, or any saved policy).\n"+
			"--like names the trial whose task (at its calibrated levels), evaluation and calibration settings are used;\n"+
			"--task evaluates on a task with every default setting.")
		flags.PrintDefaults()
	}
	pos, err := parseInterleaved(flags, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		flags.Usage()
		return badInput("eval: want one checkpoint, got %d", len(pos))
	}
	if (*like == "") == (*taskName == "") {
		return badInput("eval: give --like DIR (a trial whose task and settings to use) or --task NAME, not both")
	}
	if *taskName == "" && (len(kinds) > 0 || len(levels) > 0) {
		return badInput("eval: --kinds and --levels go with --task")
	}
	if *k < 0 || *k > 1024 {
		return badInput("eval: --k %d: want 0–1024", *k)
	}
	if *split != "eval" && *split != "dev" && *split != "train" {
		return badInput("eval: --split %q: want eval, dev or train", *split)
	}
	var tt runner.TrialTask
	source := *like
	if *taskName != "" {
		if tt, err = defaultTrialTask(*taskName, kinds, levels); err != nil {
			return err
		}
		source = "task " + *taskName + " (default settings)"
	} else {
		tdir, err := likeTrial(*like)
		if err != nil {
			return err
		}
		if tt, err = runner.ReadTrialTask(tdir); err != nil {
			return badInput("eval: %v", err)
		}
		source = tdir
	}
	if *maxNew < 0 {
		return badInput("eval: --max-new %d: want ≥ 1", *maxNew)
	}
	if *maxNew > 0 {
		tt.Trial.Eval.MaxNew, tt.Trial.Train.MaxNew = *maxNew, *maxNew
	}
	p, err := checkpoint.Open(pos[0])
	if err != nil {
		return badInput("eval: %v", err)
	}
	ce, err := runner.EvaluateCheckpoint(context.Background(), tt, p, runner.EvalOptions{Split: *split, PerKind: *perKind, Samples: *samples, K: *k})
	if err != nil {
		return badInput("eval: %v", err)
	}
	renderCheckpointEval(stdout, pos[0], source, ce)
	return nil
}

// defaultTrialTask is the trial a one-algorithm sweep of the task with
// every default would run: the task's splits, judge and the default
// evaluation and calibration settings, at the given kinds and levels.
func defaultTrialTask(name string, kinds, levels []string) (runner.TrialTask, error) {
	var src strings.Builder
	fmt.Fprintf(&src, "name = \"eval\"\nseeds = [1]\n[task]\nname = %q\n", name)
	if len(kinds) > 0 {
		fmt.Fprintf(&src, "kinds = [%s]\n", quoteList(kinds))
	}
	lv := map[string]int{}
	for _, kv := range levels {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil {
			return runner.TrialTask{}, badInput("eval: --levels %q: want kind=level", kv)
		}
		lv[k] = n
	}
	if len(lv) > 0 {
		src.WriteString("[task.levels]\n")
		for _, k := range slices.Sorted(maps.Keys(lv)) {
			fmt.Fprintf(&src, "%q = %d\n", k, lv[k])
		}
	}
	src.WriteString("[[algorithm]]\nname = \"sft\"\n")
	sw, err := sweep.Parse([]byte(src.String()), "--task")
	if err != nil {
		return runner.TrialTask{}, badInput("eval: %v", err)
	}
	sw.Resolve()
	trials, err := sw.Expand()
	if err != nil || len(trials) != 1 {
		return runner.TrialTask{}, badInput("eval: --task %s: %v", name, err)
	}
	return runner.TrialTask{Trial: trials[0], Levels: lv}, nil
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	return strings.Join(q, ", ")
}

// likeTrial resolves --like: a trial directory, or a sweep directory's
// first finished main trial (in name order).
func likeTrial(dir string) (string, error) {
	if fileExists(filepath.Join(dir, "config.toml")) {
		return dir, nil
	}
	entries, err := os.ReadDir(filepath.Join(dir, "runs"))
	if errors.Is(err, fs.ErrNotExist) {
		return "", badInput("eval: --like %s: neither a trial directory (config.toml) nor a sweep directory (runs/)", dir)
	}
	if err != nil {
		return "", err
	}
	var names []string
	for _, e := range entries {
		t := filepath.Join(dir, "runs", e.Name())
		if fileExists(filepath.Join(t, "eval.json")) && fileExists(filepath.Join(t, "config.toml")) {
			if tt, err := runner.ReadTrialTask(t); err == nil && tt.Trial.Eval.Split != "dev" {
				names = append(names, e.Name())
			}
		}
	}
	if len(names) == 0 {
		return "", badInput("eval: --like %s: no finished main trial under runs/", dir)
	}
	sort.Strings(names)
	return filepath.Join(dir, "runs", names[0]), nil
}

func renderCheckpointEval(w io.Writer, ckpt, like string, ce *runner.CheckpointEval) {
	fmt.Fprintf(w, "# Evaluation of %s\n\nTask and settings of %s; split %s (%d prompts).\n\n", ckpt, like, ce.Split, ce.Prompts)
	fmt.Fprintln(w, "## Greedy answers")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| prompts | pass@1 (R ≥ 0) | RAS (R > 0) | reward | score |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
	row := func(name, suffix string) {
		g := ce.Greedy
		if _, ok := g["RAS"+suffix]; !ok {
			return
		}
		fmt.Fprintf(w, "| %s | %.1f%% | %.1f%% | %+.3f | %.3f |\n", name, g["win_tie"+suffix], g["RAS"+suffix], g["reward"+suffix], g["score"+suffix])
	}
	row("all", "")
	for _, r := range ce.Regimes {
		row(r, "@"+r)
	}
	for _, k := range ce.Kinds {
		row(k, "@"+k)
	}
	cfg := ce.Calibration.Config
	fmt.Fprintf(w, "\n## Sampled answers (the calibration table)\n\n%d samples per prompt at temperature %g (seed %d); pass@1 = judged at least as good as the reference (R ≥ 0). On the train split this is the table the runner records for a trial's base model.\n\n",
		cfg.Samples, cfg.Temperature, cfg.Seed)
	ce.Calibration.Render(w, kindSetting)
	if ce.PassK.K == 0 {
		return
	}
	K := ce.PassK.K
	ks := report.PassKs(K)
	fmt.Fprintf(w, "\n## pass@k\n\nUnbiased pass@k (Chen et al. 2021) from %d answers per prompt at temperature %g (seed %d), in %%.\n\n", K, ce.PassKCfg.Temperature, ce.PassKCfg.Seed)
	hdr := "| prompts |"
	sep := "|---|"
	for _, k := range ks {
		hdr += fmt.Sprintf(" pass@%d |", k)
		sep += "---:|"
	}
	fmt.Fprintln(w, hdr)
	fmt.Fprintln(w, sep)
	line := func(name string, keep func(i int) bool) {
		var c []int
		for i, n := range ce.PassK.Correct {
			if keep(i) {
				c = append(c, n)
			}
		}
		if len(c) == 0 {
			return
		}
		var cells []string
		for _, k := range ks {
			cells = append(cells, fmt.Sprintf("%.1f", 100*aggregate.MeanPassAtK(K, c, k)))
		}
		fmt.Fprintf(w, "| %s | %s |\n", name, strings.Join(cells, " | "))
	}
	line("all", func(int) bool { return true })
	for _, r := range ce.Regimes {
		line(r, func(i int) bool { return i < len(ce.PromptRegimes) && ce.PromptRegimes[i] == r })
	}
	for _, k := range ce.Kinds {
		line(k, func(i int) bool { return i < len(ce.PromptKinds) && ce.PromptKinds[i] == k })
	}
}
