package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/checkpoint"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/optim"
	"github.com/grao-lab/grao/experiments/tasks"
	"github.com/grao-lab/grao/rewards/rm"
)

func init() {
	register(command{name: "train-rm", summary: "train a Bradley–Terry reward model on a task's or a JSONL file's preference pairs", run: runTrainRM})
}

func runTrainRM(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("train-rm", flag.ContinueOnError)
	taskName := fs.String("task", "", "built-in task whose (chosen, rejected) pairs to train on: "+strings.Join(tasks.Names(), ", "))
	data := fs.String("data", "", "JSONL dataset of {prompt, chosen, rejected} pairs instead of --task")
	evalFrac := fs.Float64("eval-fraction", 0.1, "held-out share of a --data file")
	preset := fs.String("model", "small", "model size preset when training from scratch: "+strings.Join(model.Presets(), ", "))
	initDir := fs.String("init", "", "start from this checkpoint's trunk (e.g. one written by 'bench pretrain --task NAME') instead of a random model")
	steps := fs.Int("steps", 300, "optimiser steps")
	batch := fs.Int("batch", 16, "pairs per step")
	lr := fs.Float64("lr", 1e-3, "peak learning rate")
	warmup := fs.Int("warmup", 20, "linear warm-up steps")
	l2 := fs.Float64("l2", 0, "λ of the reward penalty λ·mean(r²) (0: plain Bradley–Terry)")
	seed := fs.Uint64("seed", 1, "seed for initialisation and pair order")
	dataSeed := fs.Uint64("data-seed", 1, "seed of the task generator or the JSONL train/eval split")
	evalEvery := fs.Int("eval-every", 50, "held-out accuracy every N steps (0: only at the end)")
	logEvery := fs.Int("log-every", 10, "print the training loss every N steps")
	out := fs.String("out", "", "output checkpoint directory (required)")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return badInput("train-rm: unexpected argument %q", fs.Arg(0))
	}
	if *out == "" {
		return badInput("train-rm: --out is required")
	}
	if (*data == "") == (*taskName == "") {
		return badInput("train-rm: give exactly one of --task NAME or --data FILE.jsonl")
	}
	if *logEvery <= 0 {
		return badInput("train-rm: --log-every must be positive, got %d", *logEvery)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	var task core.Task
	var err error
	if *taskName != "" {
		if set["eval-fraction"] {
			return badInput("train-rm: --eval-fraction applies to --data only")
		}
		task, err = tasks.Get(*taskName, *dataSeed)
	} else {
		task, err = tasks.FromJSONL(*data, *dataSeed, *evalFrac)
	}
	if err != nil {
		return usageError{err}
	}

	var init *model.Params
	mc, err := model.Preset(*preset)
	if err != nil {
		return badInput("train-rm: --model: %v", err)
	}
	if *initDir != "" {
		if set["model"] {
			return badInput("train-rm: --model and --init both set: the size comes from the --init checkpoint")
		}
		if init, err = checkpoint.Load(*initDir); err != nil {
			return badInput("train-rm: --init: %v", err)
		}
		mc = init.Config
	}
	oc := optim.DefaultConfig()
	oc.LR = *lr
	oc.Schedule = optim.Schedule{Kind: "cosine", Warmup: *warmup, Total: *steps, MinFactor: 0.1}
	cfg := rm.Config{Model: mc, Steps: *steps, Batch: *batch, Optim: oc, Seed: *seed, L2: *l2, EvalEvery: *evalEvery}
	if err := cfg.Validate(); err != nil {
		return badInput("train-rm: %v", err)
	}
	if err := mc.Validate(); err != nil {
		return badInput("train-rm: --model: %v", err)
	}

	train, eval := task.Train(), task.Eval()
	from := "random init (seed " + fmt.Sprint(*seed) + ")"
	if init != nil {
		from = *initDir
	}
	mc.ValueHead = true
	fmt.Fprintf(stdout, "train-rm: %s, %d train / %d held-out pairs; model %d params from %s; %d steps × %d pairs, lr %g, l2 %g\n",
		task.Name(), len(train), len(eval), mc.NumParams(), from, *steps, *batch, *lr, *l2)
	if n := rm.Truncated(append(train, eval...), mc.Context); n > 0 {
		fmt.Fprintf(stdout, "note: %d sequences exceed the context of %d tokens; their prompts are cut from the start\n", n, mc.Context)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	p, final, err := rm.Train(ctx, cfg, train, eval, init, func(pr rm.Progress) {
		if pr.Step%*logEvery == 0 || pr.Step == 1 || pr.Step == *steps {
			fmt.Fprintf(stdout, "step %5d/%d  loss %.4f  batch acc %.3f  margin %+.3f  |g| %.3f  lr %.2e  %.1fs\n",
				pr.Step, *steps, pr.Loss, pr.Accuracy, pr.Margin, pr.GradNorm, pr.LR, time.Since(start).Seconds())
		}
		if e := pr.Eval; e != nil {
			fmt.Fprintf(stdout, "eval  %5d     held-out accuracy %.4f  margin %+.3f  loss %.4f  (%d pairs)\n",
				pr.Step, e.Accuracy, e.Margin, e.Loss, e.Pairs)
		}
	})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("train-rm: interrupted; nothing saved")
		}
		return err
	}
	// Only inputs and deterministic results go into the metadata, so the
	// same command writes a byte-identical checkpoint.
	meta := map[string]string{
		"kind": "reward-model", "task": task.Name(), "steps": fmt.Sprint(*steps), "batch": fmt.Sprint(*batch),
		"lr": fmt.Sprint(*lr), "l2": fmt.Sprint(*l2), "seed": fmt.Sprint(*seed), "data_seed": fmt.Sprint(*dataSeed),
		"eval_pairs": fmt.Sprint(final.Pairs), "eval_accuracy": fmt.Sprintf("%.6f", final.Accuracy),
	}
	if init != nil {
		meta["init"] = "rm-trunk:" + rm.Fingerprint(init)
	} else {
		meta["preset"] = *preset
	}
	if err := checkpoint.Save(*out, p, meta); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "held-out accuracy %.4f on %d pairs (margin %+.3f)\nsaved %s, reward version rm:%s (%.1fs)\n",
		final.Accuracy, final.Pairs, final.Margin, *out, rm.Fingerprint(p), time.Since(start).Seconds())
	return nil
}
