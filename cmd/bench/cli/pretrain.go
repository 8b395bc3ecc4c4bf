package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/grao-lab/grao/core/checkpoint"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/optim"
	"github.com/grao-lab/grao/core/pretrain"
)

func init() {
	register(command{name: "pretrain", summary: "train a base language model on a text/JSONL file or a task's corpus", run: runPretrain})
}

func runPretrain(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pretrain", flag.ContinueOnError)
	data := fs.String("data", "", "training text: a .jsonl file (fields \"text\", or \"prompt\"+\"chosen\") or plain text")
	task := fs.String("task", "", "pre-train on a built-in task's corpus instead of --data")
	preset := fs.String("model", "small", "model size preset: "+strings.Join(model.Presets(), ", "))
	steps := fs.Int("steps", 300, "optimiser steps")
	batch := fs.Int("batch", 16, "sequences per step")
	seq := fs.Int("seq", 0, "sequence length (0: the model's context)")
	lr := fs.Float64("lr", 3e-3, "peak learning rate")
	warmup := fs.Int("warmup", 20, "linear warm-up steps")
	seed := fs.Uint64("seed", 1, "seed for initialisation and data order")
	out := fs.String("out", "", "output checkpoint directory (required)")
	every := fs.Int("log-every", 10, "print the loss every N steps")
	pack := fs.Bool("pack", true, "--task: pack several corpus documents into each sequence")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if *out == "" {
		return badInput("--out is required")
	}
	if (*data == "") == (*task == "") {
		return badInput("give exactly one of --data FILE or --task NAME")
	}
	mc, err := model.Preset(*preset)
	if err != nil {
		return badInput("--model: %v", err)
	}
	if *seq == 0 {
		*seq = mc.Context
	}
	oc := optim.DefaultConfig()
	oc.LR = *lr
	oc.Schedule = optim.Schedule{Kind: "cosine", Warmup: *warmup, Total: *steps, MinFactor: 0.1}
	cfg := pretrain.Config{Model: mc, Steps: *steps, Batch: *batch, Seq: *seq, Optim: oc, Seed: *seed}
	if err := cfg.Validate(); err != nil {
		return badInput("pretrain: %v", err)
	}
	var src pretrain.Data
	if *task != "" {
		docs, err := taskCorpus(*task, *seed)
		if err != nil {
			return usageError{err}
		}
		src = pretrain.Docs(docs)
		if *pack {
			src = pretrain.Packed(docs)
		}
	} else if src, err = readTrainingText(*data); err != nil {
		return usageError{err}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(stdout, "pretrain: model %s (%d params), %d steps × %d seqs × %d tokens, seed %d\n",
		*preset, mc.NumParams(), *steps, *batch, *seq, *seed)
	start := time.Now()
	var tokens int
	p, err := pretrain.Run(ctx, cfg, src, nil, func(pr pretrain.Progress) {
		tokens += pr.Tokens
		if pr.Step%*every == 0 || pr.Step == 1 || pr.Step == *steps {
			el := time.Since(start).Seconds()
			fmt.Fprintf(stdout, "step %5d/%d  loss %.4f  ppl %7.2f  |g| %.3f  lr %.2e  %.0f tok/s\n",
				pr.Step, *steps, pr.Loss, pretrain.Perplexity(pr.Loss), pr.GradNorm, pr.LR, float64(tokens)/el)
		}
	})
	if err != nil {
		return err
	}
	meta := map[string]string{"preset": *preset, "steps": fmt.Sprint(*steps), "seed": fmt.Sprint(*seed)}
	if *task != "" {
		meta["task"] = *task
	}
	if err := checkpoint.Save(*out, p, meta); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "saved %s (%.1fs)\n", *out, time.Since(start).Seconds())
	return nil
}

// readTrainingText loads --data: JSONL documents or one plain-text stream.
func readTrainingText(path string) (pretrain.Data, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(path, ".jsonl") {
		if len(raw) < 2 {
			return nil, fmt.Errorf("%s: need at least 2 bytes of text", path)
		}
		return pretrain.Stream(raw), nil
	}
	var docs pretrain.Docs
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var rec struct {
			Text   *string `json:"text"`
			Prompt *string `json:"prompt"`
			Chosen *string `json:"chosen"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
		switch {
		case rec.Text != nil:
			docs = append(docs, *rec.Text)
		case rec.Prompt != nil && rec.Chosen != nil:
			docs = append(docs, *rec.Prompt+" "+*rec.Chosen)
		default:
			return nil, fmt.Errorf("%s:%d: need a \"text\" field, or \"prompt\" and \"chosen\"", path, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: no documents", path)
	}
	return docs, nil
}
