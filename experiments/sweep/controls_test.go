package sweep

import (
	"strings"
	"testing"
)

const controlled = `name = "c"
seeds = [1, 2]
controls = ["base", "sft-ref", "random-reward"]
[task]
name = "skills"
kinds = ["first-letter"]
dev_size = 16
[select]
"train.lr" = [1e-4, 2e-4]
[sweep]
"algorithm.grpo.g" = [4, 8]
[[algorithm]]
name = "grpo"
[[algorithm]]
name = "dpo"
`

func parseString(t *testing.T, src string) *Sweep {
	t.Helper()
	s, err := Parse([]byte(src), "c.toml")
	if err != nil {
		t.Fatal(err)
	}
	s.Resolve()
	return s
}

func TestControlArms(t *testing.T) {
	s := parseString(t, controlled)
	if got, want := strings.Join(s.labels(), ","), "grpo,dpo,base,sft-ref,grpo-random"; got != want {
		t.Fatalf("labels %s, want %s", got, want)
	}
	if got := strings.Join(s.Report.Baselines, ","); got != "dpo" {
		t.Errorf("default baselines %q leave the controls out, want dpo", got)
	}
	sel, err := s.SelectionTrials()
	if err != nil {
		t.Fatal(err)
	}
	selecting := map[string]int{}
	for _, tr := range sel {
		selecting[tr.Label]++
	}
	// grpo: 2 grid points × 2 lr; dpo and sft-ref: 2 lr; no base, no grpo-random.
	if selecting["grpo"] != 4 || selecting["dpo"] != 2 || selecting["sft-ref"] != 2 || len(selecting) != 3 {
		t.Errorf("selection trials per label %v", selecting)
	}
	// grpo chose 2e-4 at g = 4 and 1e-4 at g = 8; the random arm must follow.
	chosen := map[string]map[string]string{
		"grpo|algorithm.grpo.g=4": {"train.lr": "0.0002"}, "grpo|algorithm.grpo.g=8": {"train.lr": "0.0001"},
		"dpo": {"train.lr": "0.0002"}, "sft-ref": {"train.lr": "0.0001"},
	}
	main, err := s.ExpandChosen(chosen)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, tr := range main {
		count[tr.Label]++
		switch tr.Label {
		case "grpo-random":
			if tr.Control != ControlRandomReward || tr.ControlOf != "grpo" || tr.Reward.Kind != RewardRandom || tr.Algorithm != "grpo" {
				t.Errorf("%s: control %q of %q, reward %q, algorithm %q", tr.ID, tr.Control, tr.ControlOf, tr.Reward.Kind, tr.Algorithm)
			}
			want := map[int64]float64{4: 2e-4, 8: 1e-4}[tr.Params["g"].(int64)]
			if tr.Train.LR != want {
				t.Errorf("%s: g = %v, lr %g, want the parent's choice %g", tr.ID, tr.Params["g"], tr.Train.LR, want)
			}
		case "base":
			if tr.Control != ControlBase || len(tr.Varying) != 0 || len(tr.Selected) != 0 {
				t.Errorf("%s: control %q, varying %v, selected %v", tr.ID, tr.Control, tr.Varying, tr.Selected)
			}
		case "sft-ref":
			if tr.Control != ControlSFTRef || tr.Algorithm != "sft" || tr.Train.LR != 1e-4 {
				t.Errorf("%s: %+v", tr.ID, tr)
			}
		default:
			if tr.Control != "" || tr.Reward.Kind != "judge" {
				t.Errorf("%s: control %q, reward %q", tr.ID, tr.Control, tr.Reward.Kind)
			}
		}
	}
	// Per seed: grpo and its random arm at each g, dpo, sft-ref and base once.
	if want := map[string]int{"grpo": 4, "grpo-random": 4, "dpo": 2, "sft-ref": 2, "base": 2}; len(count) != len(want) ||
		count["grpo"] != 4 || count["grpo-random"] != 4 || count["dpo"] != 2 || count["sft-ref"] != 2 || count["base"] != 2 {
		t.Errorf("trials per label %v, want %v", count, want)
	}

	// Adding controls leaves every other trial's ID alone, so --resume
	// trains only the new arms.
	plain := parseString(t, strings.Replace(controlled, `controls = ["base", "sft-ref", "random-reward"]`+"\n", "", 1))
	before, err := plain.ExpandChosen(chosen)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, tr := range main {
		ids[tr.ID] = true
	}
	for _, tr := range before {
		if !ids[tr.ID] {
			t.Errorf("trial %s (%s) has another ID once controls are added", tr.ID, tr.Label)
		}
	}
}

func TestControlsWithSFT(t *testing.T) {
	s := parseString(t, minimal+"[[algorithm]]\nname = \"sft\"\n")
	s2 := parseString(t, strings.Replace(minimal, `seeds = [1]`, "seeds = [1]\ncontrols = [\"sft-ref\"]", 1)+"[[algorithm]]\nname = \"sft\"\n")
	if a, b := strings.Join(s.labels(), ","), strings.Join(s2.labels(), ","); a != b {
		t.Errorf("with an sft algorithm, sft-ref adds nothing: %s vs %s", a, b)
	}
}

func TestSweepKeyErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, key, msg string }{
		{"unknown control", strings.Replace(minimal, "seeds = [1]", "seeds = [1]\ncontrols = [\"random\"]", 1), "controls", `unknown control "random"`},
		{"control twice", strings.Replace(minimal, "seeds = [1]", "seeds = [1]\ncontrols = [\"base\", \"base\"]", 1), "controls", "listed twice"},
		{"k too large", minimal + "[passk]\nk = 2000\n", "passk.k", "must be in [1, 1024]"},
		{"k zero", minimal + "[passk]\nk = 0\n", "passk.k", "must be in [1, 1024]"},
		{"greedy pass@k", minimal + "[passk]\nk = 8\ntemperature = 0\n", "passk.temperature", "must be > 0"},
		{"settings without k", minimal + "[passk]\nseed = 3\n", "passk.seed", "has no effect without passk.k"},
		{"unknown report metric", minimal + "[report]\nmetric = \"nope\"\n", "report.metric", `"nope" is not a metric the runner writes`},
		{"unknown table metric", minimal + "[report]\nmetrics = [\"RAS\", \"RAS@repeat\", \"winrate\"]\n", "report.metrics", `"winrate" is not a metric`},
		{"NaN algorithm parameter", minimal + "beta = nan\n", "algorithm.grao.beta", "must be a finite number, got NaN"},
		{"infinite algorithm parameter", minimal + "lambda = -inf\n", "algorithm.grao.lambda", "must be a finite number, got -Inf"},
		{"GRPO group of one", strings.Replace(minimal, `name = "grao"`, "name = \"grpo\"\ng = 1", 1), "algorithm.grpo.g", `std "bessel" needs g ≥ 2`},
		{"random reward part", minimal + "[reward]\nkind = \"combine\"\n[[reward.part]]\nkind = \"random\"\n", "", "random"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src), "c.toml")
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.msg) || (tc.key != "" && !strings.Contains(err.Error(), tc.key)) {
				t.Errorf("error %q, want %s: …%s", err, tc.key, tc.msg)
			}
		})
	}
}
