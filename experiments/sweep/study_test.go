package sweep

import (
	"strings"
	"testing"
)

const studyHead = `name = "st"
seeds = [1, 2]
[model]
preset = "small"
[task]
name = "skills"
kinds = ["repeat", "capital"]
dev_size = 8
[train]
max_new_tokens = 24
[eval]
max_new_tokens = 24
[[algorithm]]
name = "sft"
[[algorithm]]
name = "grpo"
g = 4
`

// The keys of a study are validated with file, line, key and reason.
func TestStudyKeyErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		line      int
		key, want string
	}{
		{"unknown kind", strings.Replace(studyHead, `"repeat"`, `"repeet"`, 1), 7, "task.kinds", `unknown kind "repeet"`},
		{"level out of range", studyHead + "[task.levels]\nrepeat = 12\n", 0, "task.levels", "repeat must be 1–8"},
		{"band", strings.Replace(studyHead, "dev_size = 8", "dev_size = 8\nband = [0.7, 0.2]", 1), 9, "task.band", "0 ≤ lo ≤ hi ≤ 1"},
		{"kinds on another task", strings.Replace(studyHead, `name = "skills"`, `name = "arith"`, 1), 7, "task.kinds", "skills task only"},
		{"truncate", strings.Replace(studyHead, "dev_size = 8", "dev_size = 8\ntruncate = \"right\"", 1), 9, "task.truncate", `"right"`},
		{"dev split without dev", strings.Replace(strings.Replace(studyHead, "dev_size = 8\n", "", 1), "[eval]\n", "[eval]\nsplit = \"dev\"\n", 1), 11, "eval.split", "needs one: set task.dev_size"},
		{"task cannot be built", strings.Replace(studyHead, "dev_size = 8", "dev_size = 8\neval_size = 200\ntrain_size = 10", 1), 6, "task.name", "distinct eval prompts"},
		{"select without dev", strings.Replace(studyHead, "dev_size = 8\n", "", 1) + "[select]\n\"train.lr\" = [1e-4, 1e-3]\n", 0, "select", "needs one: set task.dev_size"},
		{"select metric", studyHead + "[select]\n\"train.lr\" = [1e-4]\nmetric = \"kl\"\n", 20, "select.metric", `"kl"`},
		{"select and sweep", studyHead + "[select]\n\"train.lr\" = [1e-4]\n[sweep]\n\"train.lr\" = [1e-3, 2e-3]\n", 19, `select."train.lr"`, "also a [sweep] key"},
		{"select bad value", studyHead + "[select]\n\"train.lr\" = [1e-4, \"fast\"]\n", 19, `select."train.lr"`, "value 2: want a number"},
		{"select unknown label", studyHead + "[select]\n\"algorithm.ppo.kl_beta\" = [0]\n", 19, `select."algorithm.ppo.kl_beta"`, `no [[algorithm]] is labelled "ppo"`},
		{"select bad param value", studyHead + "[select]\n\"algorithm.grpo.kl_beta\" = [-1]\n", 19, "", "kl_beta"},
		{"select settings only", studyHead + "[select]\nseeds = [3]\n", 18, "select", "no grid keys"},
		{"compare label", studyHead + "[[report.compare]]\na = \"grpo\"\nb = \"ppo\"\n", 20, "report.compare[1].b", `"ppo"`},
		{"compare metric", studyHead + "[[report.compare]]\na = \"grpo\"\nb = \"sft\"\nmetric = \"kl\"\n", 21, "report.compare[1].metric", `"kl"`},
		{"compare kinds", studyHead + "[[report.compare]]\na = \"grpo\"\nb = \"sft\"\nkinds = [\"bogus\"]\n", 21, "report.compare[1].kinds", "neither a kind"},
		{"compare predict", studyHead + "[[report.compare]]\na = \"grpo\"\nb = \"sft\"\npredict = \">=\"\n", 21, "report.compare[1].predict", `">="`},
		{"dense on harmless", strings.Replace(strings.Replace(studyHead, `name = "skills"`, `name = "hh-harmless"`, 1), "kinds = [\"repeat\", \"capital\"]\n", "", 1) + "[reward]\nkind = \"dense\"\n", 0, "reward.kind", "no partial-credit rubric"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src), "st.toml")
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			found := false
			for _, e := range Errors(err) {
				if strings.Contains(e.Reason, tc.want) && (tc.key == "" || e.Key == tc.key) && (tc.line == 0 || e.Line == tc.line) {
					found = true
				}
			}
			if !found {
				t.Errorf("want %s at line %d: %s; got %v", tc.key, tc.line, tc.want, err)
			}
		})
	}
}

// Prompts that do not fit are rejected at validation with the count and a
// preset that fits, unless task.truncate = "left"; answers are checked
// only for algorithms that train on them.
func TestPromptFit(t *testing.T) {
	src := `name = "f"
seeds = [1]
[model]
preset = "tiny"
[task]
name = "hh-helpful"
[[algorithm]]
name = "grpo"
`
	_, err := Parse([]byte(src), "f.toml")
	if err == nil || !strings.Contains(err.Error(), "f.toml:6: task.name:") || !strings.Contains(err.Error(), "preset small or medium or large") ||
		!strings.Contains(err.Error(), `task.truncate = "left"`) {
		t.Fatalf("tiny hh-helpful with 48 new tokens: %v", err)
	}
	if _, err := Parse([]byte(strings.Replace(src, `name = "hh-helpful"`, "name = \"hh-helpful\"\ntruncate = \"left\"", 1)), "f.toml"); err != nil {
		t.Errorf("with truncate = left: %v", err)
	}
	// Short prompts, long answers: fine for GRPO, not for SFT.
	arith := `name = "f"
seeds = [1]
[model]
preset = "tiny"
context = 44
[task]
name = "arith"
[train]
max_new_tokens = 8
[eval]
max_new_tokens = 8
[[algorithm]]
name = "%s"
`
	if _, err := Parse([]byte(strings.Replace(arith, "%s", "grpo", 1)), "f.toml"); err != nil {
		t.Errorf("grpo: %v", err)
	}
	if _, err := Parse([]byte(strings.Replace(arith, "%s", "sft", 1)), "f.toml"); err == nil || !strings.Contains(err.Error(), "answers do not fit") {
		t.Errorf("sft with answers longer than the context: %v", err)
	}
}

func TestSelectionExpansion(t *testing.T) {
	s := mustParse(t, studyHead+"[select]\n\"train.lr\" = [1e-4, 1e-3]\n\"algorithm.grpo.kl_beta\" = [0, 0.04]\nseeds = [9]\n", "st.toml")
	s.Resolve()
	sel, err := s.SelectionTrials()
	if err != nil {
		t.Fatal(err)
	}
	// sft: 2 lr values; grpo: 2 × 2; one seed each.
	if len(sel) != 6 {
		t.Fatalf("%d selection trials, want 6", len(sel))
	}
	for _, tr := range sel {
		if tr.Seed != 9 || tr.Eval.Split != "dev" || tr.Selected["train.lr"] == "" {
			t.Errorf("selection trial %+v", tr)
		}
		if tr.Label == "grpo" && tr.Selected["algorithm.grpo.kl_beta"] == "" {
			t.Errorf("grpo selection trial without kl_beta: %v", tr.Selected)
		}
	}
	chosen := map[string]map[string]string{
		"sft":  {"train.lr": "0.001"},
		"grpo": {"train.lr": "0.0001", "algorithm.grpo.kl_beta": "0.04"},
	}
	main, err := s.ExpandChosen(chosen)
	if err != nil {
		t.Fatal(err)
	}
	if len(main) != 4 {
		t.Fatalf("%d main trials", len(main))
	}
	for _, tr := range main {
		switch tr.Label {
		case "sft":
			if tr.Train.LR != 1e-3 {
				t.Errorf("sft lr %v", tr.Train.LR)
			}
		case "grpo":
			if tr.Train.LR != 1e-4 || tr.Params["kl_beta"] != 0.04 {
				t.Errorf("grpo lr %v kl %v", tr.Train.LR, tr.Params["kl_beta"])
			}
		}
		if tr.Eval.Split != "eval" || len(tr.Selected) == 0 {
			t.Errorf("main trial %+v", tr)
		}
	}
	for _, bad := range []map[string]map[string]string{
		{"sft": {"train.lr": "0.001"}},
		{"sft": {"train.lr": "0.5"}, "grpo": chosen["grpo"]},
		{"sft": {"train.lr": "0.001", "train.steps": "3"}, "grpo": chosen["grpo"]},
	} {
		if _, err := s.ExpandChosen(bad); err == nil {
			t.Errorf("choice %v accepted", bad)
		}
	}
}
