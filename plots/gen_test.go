package plots

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	hexenc "encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var update = flag.Bool("update", false, "regenerate testdata/sweep from the seeded generator")

// synthetic sweep layout (the runner's, see doc.go): one task, two models,
// five algorithms, three GRAO ablations, a 3 × 3 β × λ grid for GRAO,
// three seeds, 20 steps with an evaluation every 5.
var (
	synModels  = []string{"tiny", "small"}
	synSeeds   = []int{1, 2, 3}
	synBetas   = []float64{0.3, 0.5, 0.7}
	synLambdas = []float64{0.3, 0.6, 0.9}
)

const (
	synSteps     = 20
	synEvalEvery = 5
	synPrompts   = 64
)

type synTrial struct {
	id, label, alg string
	model          string
	seed           int
	beta, lambda   float64 // NaN for baselines
	grid           bool    // beta and lambda vary in the plan
}

// quality is the expected final judge reward of a label; the numbers are
// invented to resemble the paper's ordering, not results.
var quality = map[string]float64{
	"sft": -0.35, "dpo": -0.12, "ppo": -0.02, "grpo": 0.0, "grao": 0.12,
	"grao-no-imitation": 0.03, "grao-no-exploration": 0.0, "grao-no-regularizer": 0.05,
}

// speed is the time constant (steps) of the learning curve.
var speed = map[string]float64{"sft": 3, "dpo": 5, "ppo": 8, "grpo": 7, "grao": 4,
	"grao-no-imitation": 6, "grao-no-exploration": 5, "grao-no-regularizer": 5}

func synTrials() []synTrial {
	var ts []synTrial
	nan := math.NaN()
	for _, m := range synModels {
		for _, seed := range synSeeds {
			for _, l := range []string{"sft", "dpo", "ppo", "grpo"} {
				ts = append(ts, synTrial{label: l, alg: l, model: m, seed: seed, beta: nan, lambda: nan})
			}
			for _, b := range synBetas {
				for _, lam := range synLambdas {
					ts = append(ts, synTrial{label: "grao", alg: "grao", model: m, seed: seed, beta: b, lambda: lam, grid: true})
				}
			}
			for _, l := range []string{"grao-no-imitation", "grao-no-exploration", "grao-no-regularizer"} {
				ts = append(ts, synTrial{label: l, alg: "grao", model: m, seed: seed, beta: 0.5, lambda: 0.6})
			}
		}
	}
	for i := range ts {
		h := sha256.Sum256(fmt.Appendf(nil, "%s|%s|%g|%g|%d", ts[i].label, ts[i].model, ts[i].beta, ts[i].lambda, ts[i].seed))
		ts[i].id = ts[i].label + "-" + hexenc.EncodeToString(h[:4])
	}
	return ts
}

func r4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// outcomes draws per-prompt judge rewards with mean m (ties 25%).
func outcomes(rng *rand.Rand, m float64) []float64 {
	m = math.Max(-0.7, math.Min(0.7, m))
	pw, pl := (0.75+m)/2, (0.75-m)/2
	out := make([]float64, synPrompts)
	for i := range out {
		u := rng.Float64()
		switch {
		case u < pw:
			out[i] = 1
		case u < pw+pl:
			out[i] = -1
		}
	}
	return out
}

func fracIf(xs []float64, f func(float64) bool) float64 {
	k := 0
	for _, x := range xs {
		if f(x) {
			k++
		}
	}
	return float64(k) / float64(len(xs))
}

type obj = map[string]any

// generateSweep writes the synthetic sweep into dir; the same code always
// writes the same bytes.
func generateSweep(dir string) error {
	ts := synTrials()
	var plan []obj
	rows := [][]string{{"trial", "task", "model", "algorithm", "seed", "metric", "value", "algorithm.grao.beta", "algorithm.grao.lambda"}}
	for ti, t := range ts {
		rng := rand.New(rand.NewPCG(uint64(ti)+1, 0x9e3779b97f4a7c15))
		// Diagnostics added later draw from their own stream, so that
		// every value drawn before them (and the golden images) stays.
		drng := rand.New(rand.NewPCG(uint64(ti)+1, 0x2545f4914f6cdd1d))
		share := func(m, sd float64) float64 { return r4(math.Max(0, math.Min(1, m+sd*drng.NormFloat64()))) }
		varying := obj{"model.preset": t.model}
		if t.grid {
			varying["algorithm.grao.beta"] = t.beta
			varying["algorithm.grao.lambda"] = t.lambda
		}
		plan = append(plan, obj{"id": t.id, "label": t.label, "algorithm": t.alg, "seed": t.seed, "varying": varying, "base_key": fmt.Sprintf("%s|%s|%g|%g", t.label, t.model, t.beta, t.lambda)})

		q := quality[t.label]
		if t.grid {
			q -= 3*(t.beta-0.5)*(t.beta-0.5) + 2*(t.lambda-0.6)*(t.lambda-0.6)
		}
		if t.model == "small" {
			q += 0.08
		}
		q += 0.03 * rng.NormFloat64() // seed-to-seed variation
		const r0 = -0.45
		tau := speed[t.label]
		at := func(s int) float64 { return r0 + (q-r0)*(1-math.Exp(-float64(s)/tau)) }

		rd := filepath.Join(dir, "runs", t.id)
		if err := os.MkdirAll(rd, 0o755); err != nil {
			return err
		}
		var mj bytes.Buffer
		enc := func(v any) {
			b, _ := json.Marshal(v)
			mj.Write(b)
			mj.WriteByte('\n')
		}
		var pre, final []float64
		evalAt := func(s int) {
			o := outcomes(rng, at(s))
			if s == 0 {
				pre = o
			}
			final = o
			enc(obj{"step": s, "eval": obj{
				"reward":  r4(mean(o)),
				"RAS":     r4(fracIf(o, func(x float64) bool { return x > 0 })),
				"win_tie": r4(fracIf(o, func(x float64) bool { return x >= 0 })),
				"score":   r4(0.5 + 0.2*mean(o)),
				"length":  r4(40 + 3*rng.NormFloat64()),
			}})
		}
		evalAt(0)
		online := t.label != "sft" && t.label != "dpo"
		for s := 1; s <= synSteps; s++ {
			x := float64(s) / synSteps
			noise := func(sd float64) float64 { return sd * rng.NormFloat64() }
			var comps obj
			var loss float64
			switch t.alg {
			case "grao":
				e, im, rg := -0.05-0.1*x+noise(0.04), 0.8*math.Exp(-2*x)+noise(0.05), 0.03*math.Sin(6*x)+noise(0.02)
				switch t.label {
				case "grao-no-imitation":
					im = 0
				case "grao-no-exploration":
					e = 0
				case "grao-no-regularizer":
					rg = 0
				}
				e, im, rg = r4(e), r4(im), r4(rg)
				comps = obj{"exploration": e, "imitation": im, "regulariser": rg, "zero_variance_groups": float64(rng.IntN(3))}
				loss = e + im + rg
			case "ppo":
				pl, vl := -0.02+noise(0.02), 0.3*math.Exp(-x)+noise(0.02)
				comps, loss = obj{"policy": r4(pl), "value": r4(vl)}, pl+0.1*vl
				comps["clip_fraction"] = share(0.02+0.12*x, 0.02)
			case "grpo":
				su, kl := -0.03+noise(0.03), 0.01*x
				comps, loss = obj{"surrogate": r4(su), "kl": r4(kl)}, su+kl
				comps["clip_fraction"] = share(0.01+0.08*x, 0.015)
			case "sft":
				loss = 2.2 - 0.6*x + noise(0.03)
				comps = obj{"nll_seq_mean": r4(loss)}
			case "dpo":
				loss = 0.693 - 0.25*x + noise(0.02)
				comps = obj{"rewards_margin": r4(0.5 * x)}
			}
			line := obj{"step": s, "loss": r4(loss), "components": comps,
				"kl": r4(0.05 * float64(s) * (1 + noise(0.1))), "entropy": r4(1.8 - 0.3*x + noise(0.02)),
				"length_mean": r4(40 + noise(3)), "grad_norm": r4(1 + noise(0.2)), "lr": 5e-4,
				"timing": obj{"rollout": r4(0.8 + noise(0.05)), "reward": 0.01, "score": 0.05, "loss_backward": r4(0.4 + noise(0.02)), "update": 0.02}}
			if online {
				line["reward_mean"] = r4(at(s) + noise(0.05))
				line["reward_std"] = r4(0.7 + noise(0.05))
				line["zero_variance"] = share(0.15+0.25*x, 0.05)
			}
			enc(line)
			if s%synEvalEvery == 0 {
				evalAt(s)
			}
		}
		if err := os.WriteFile(filepath.Join(rd, "metrics.jsonl"), mj.Bytes(), 0o644); err != nil {
			return err
		}
		scores := make([]float64, len(final))
		for i, o := range final {
			scores[i] = r4(math.Max(0, math.Min(1, 0.45+0.15*o+0.12*rng.NormFloat64())))
		}
		improved := fracIf(idx(final), func(i float64) bool { return final[int(i)] > pre[int(i)] })
		worsened := fracIf(idx(final), func(i float64) bool { return final[int(i)] < pre[int(i)] })
		metrics := obj{
			"RAS":         r4(fracIf(final, func(x float64) bool { return x > 0 })),
			"win_tie":     r4(fracIf(final, func(x float64) bool { return x >= 0 })),
			"NAG":         r4(improved),
			"NAG_signed":  r4(improved - worsened),
			"reward":      r4(mean(final)),
			"score":       r4(mean(scores)),
			"kl":          r4(0.05 * synSteps * (1 + 0.1*rng.NormFloat64())),
			"length":      r4(40 + 3*rng.NormFloat64()),
			"distinct2":   r4(0.6 + 0.03*rng.NormFloat64()),
			"steps_to_90": float64(synEvalEvery * int(math.Ceil(tau*math.Log(10)/synEvalEvery))),
		}
		ev := obj{"trial": t.id, "task": "helpful", "model": t.model, "algorithm": t.label, "seed": t.seed,
			"metrics": metrics, "rewards": final, "scores": scores}
		b, _ := json.MarshalIndent(ev, "", " ")
		if err := os.WriteFile(filepath.Join(rd, "eval.json"), append(b, '\n'), 0o644); err != nil {
			return err
		}
		cfg := fmt.Sprintf("seed = %d\n\n[task]\nname = \"helpful\"\n\n[model]\npreset = %q\n\n[train]\nsteps = %d\neval_every = %d\n\n[[algorithm]]\nname = %q\n",
			t.seed, t.model, synSteps, synEvalEvery, t.label)
		if t.alg == "grao" {
			cfg += fmt.Sprintf("beta = %g\nlambda = %g\n", t.beta, t.lambda)
		}
		if err := os.WriteFile(filepath.Join(rd, "config.toml"), []byte(cfg), 0o644); err != nil {
			return err
		}
		for _, k := range []string{"RAS", "win_tie", "NAG", "NAG_signed", "reward", "score", "kl", "length", "distinct2", "steps_to_90"} {
			bs, ls := "", ""
			if !math.IsNaN(t.beta) {
				bs, ls = strconv.FormatFloat(t.beta, 'g', -1, 64), strconv.FormatFloat(t.lambda, 'g', -1, 64)
			}
			rows = append(rows, []string{t.id, "helpful", t.model, t.label, strconv.Itoa(t.seed), k,
				strconv.FormatFloat(metrics[k].(float64), 'g', -1, 64), bs, ls})
		}
	}
	b, _ := json.MarshalIndent(obj{"sweep": "synthetic", "trials": plan}, "", " ")
	if err := os.WriteFile(filepath.Join(dir, "plan.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	var csvb bytes.Buffer
	w := csv.NewWriter(&csvb)
	w.WriteAll(rows)
	return os.WriteFile(filepath.Join(dir, "results.csv"), csvb.Bytes(), 0o644)
}

func idx(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i := range out {
		out[i] = float64(i)
	}
	return out
}

const synDir = "testdata/sweep"

// TestGenerateTestdata keeps testdata/sweep equal to what the seeded
// generator writes; run with -update to rewrite it after changing the
// generator.
func TestGenerateTestdata(t *testing.T) {
	if *update {
		if err := os.RemoveAll(synDir); err != nil {
			t.Fatal(err)
		}
		if err := generateSweep(synDir); err != nil {
			t.Fatal(err)
		}
		return
	}
	tmp := t.TempDir()
	if err := generateSweep(tmp); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := filepath.WalkDir(tmp, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(tmp, p)
		got, _ := os.ReadFile(p)
		want, err := os.ReadFile(filepath.Join(synDir, rel))
		if err != nil {
			return fmt.Errorf("%s missing from %s (run go test ./plots -run TestGenerateTestdata -update): %v", rel, synDir, err)
		}
		if !bytes.Equal(got, want) {
			return fmt.Errorf("%s differs from the generator's output (run with -update)", rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 3 {
		t.Fatalf("generator wrote only %d files", n)
	}
}
