package cli

import (
	"encoding/json"
	"flag"
	"io"

	"github.com/grao-lab/grao/core/checkpoint"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/tokenizer"
)

func init() {
	register(command{name: "sample", summary: "generate completions from a checkpoint (JSON lines)", run: runSample})
	register(command{name: "score", summary: "per-token log-probs of a text under a checkpoint (JSON)", run: runScore})
}

// loadCheckpoint opens the model named by --checkpoint or --model: a grao
// checkpoint or a Hugging Face GPT-2 directory, with its tokenizer.
func loadCheckpoint(ckpt, modelDir string) (*checkpoint.Model, error) {
	path := ckpt
	switch {
	case ckpt != "" && modelDir != "" && ckpt != modelDir:
		return nil, badInput("--checkpoint and --model name one thing; give one")
	case path == "":
		path = modelDir
	}
	if path == "" {
		return nil, badInput("--model (or --checkpoint) is required")
	}
	m, err := checkpoint.Open(path)
	if err != nil {
		return nil, usageError{err}
	}
	return m, nil
}

// modelFlags registers --checkpoint and its alias --model.
func modelFlags(fs *flag.FlagSet) (ckpt, modelDir *string) {
	ckpt = fs.String("checkpoint", "", "checkpoint directory or .safetensors file (a grao checkpoint or a Hugging Face GPT-2 directory)")
	modelDir = fs.String("model", "", "the same as --checkpoint")
	return ckpt, modelDir
}

func runSample(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sample", flag.ContinueOnError)
	ckpt, modelDir := modelFlags(fs)
	prompt := fs.String("prompt", "", "prompt text (BOS is prepended)")
	n := fs.Int("n", 1, "number of completions")
	cfg := model.SampleConfig{}
	fs.Float64Var(&cfg.Temperature, "temperature", 0.7, "sampling temperature (0: greedy)")
	fs.IntVar(&cfg.TopK, "top-k", 0, "keep the K most likely tokens (0: all)")
	fs.Float64Var(&cfg.TopP, "top-p", 1, "nucleus sampling mass (1: all)")
	fs.IntVar(&cfg.MaxNew, "max-new", 64, "maximum new tokens")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "random seed")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if *n <= 0 {
		return badInput("--n must be positive, got %d", *n)
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	m, err := loadCheckpoint(*ckpt, *modelDir)
	if err != nil {
		return err
	}
	p, tok := m.Params, m.Tokenizer
	ids := tokenizer.PromptIDsWith(tok, *prompt)
	prompts := make([][]int, *n)
	for i := range prompts {
		prompts[i] = ids
	}
	outs, err := model.NewSampler(p, min(*n, 32)).Generate(prompts, cfg)
	if err != nil {
		return usageError{err}
	}
	enc := json.NewEncoder(stdout)
	for i, c := range outs {
		var sum float64
		for _, lp := range c.LogProbs {
			sum += float64(lp)
		}
		text := tok.Decode(c.Tokens)
		if err := enc.Encode(map[string]any{
			"index": i, "prompt": *prompt, "completion": text, "tokens": c.Tokens, "bytes": len(text),
			"logprob": sum, "stopped": c.Stopped,
		}); err != nil {
			return err
		}
	}
	return nil
}

func runScore(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("score", flag.ContinueOnError)
	ckpt, modelDir := modelFlags(fs)
	text := fs.String("text", "", "text to score (BOS is prepended)")
	logits := fs.Bool("logits", false, "also print the full logits per position")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	m, err := loadCheckpoint(*ckpt, *modelDir)
	if err != nil {
		return err
	}
	p := m.Params
	ids := tokenizer.PromptIDsWith(m.Tokenizer, *text)
	lg, err := p.Logits(ids)
	if err != nil {
		return usageError{err}
	}
	V := p.Config.VocabSize
	lps := model.TokenLogProbs(lg, ids, V)
	var sum float64
	for _, v := range lps {
		sum += v
	}
	out := map[string]any{"tokens": ids[1:], "logprobs": lps, "total": sum}
	if len(lps) > 0 {
		out["mean"] = sum / float64(len(lps))
	}
	if *logits {
		rows := make([][]float32, len(ids))
		for i := range rows {
			rows[i] = lg[i*V : (i+1)*V]
		}
		out["logits"] = rows
	}
	return json.NewEncoder(stdout).Encode(out)
}
