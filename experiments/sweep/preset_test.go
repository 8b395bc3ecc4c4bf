package sweep

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/grao-lab/grao/algorithms"
)

// TestPresets: the four shipped sweeps parse, resolve and expand into the
// trials they promise.
func TestPresets(t *testing.T) {
	cases := []struct {
		file   string
		trials int
		bases  int
		labels []string
		check  func(t *testing.T, trials []Trial)
	}{
		{"quickstart", 5, 1, []string{"sft", "dpo", "ppo", "grpo", "grao"}, func(t *testing.T, trials []Trial) {
			for _, tr := range trials {
				if tr.Task.Name != "skills" || len(tr.Task.Kinds) != 2 || len(tr.Task.Band) != 2 || tr.Model.Preset != "small" ||
					tr.Pretrain.Steps != 1200 || tr.Train.Steps != 60 || tr.Train.LR != 1e-4 || tr.Eval.Prompts != 0 || tr.Seed != 1 {
					t.Errorf("%s: %+v", tr.ID, tr)
				}
				if g, ok := tr.Params["g"]; ok && g != int64(16) {
					t.Errorf("%s: g = %v, want 16", tr.ID, g)
				}
			}
			if e := trials[2].Params["epochs"]; e != int64(1) {
				t.Errorf("ppo epochs %v, want 1", e)
			}
		}},
		{"study", 75, 1, []string{"sft", "dpo", "ppo", "grpo", "grao", "rloo", "drgrpo", "dapo", "base",
			"ppo-random", "grpo-random", "grao-random", "rloo-random", "drgrpo-random", "dapo-random"}, func(t *testing.T, trials []Trial) {
			controls := map[string]int{}
			for _, tr := range trials {
				if tr.Task.Name != "skills" || tr.Task.DevSize == 0 || tr.Train.Steps != 200 || tr.Eval.Split != "eval" {
					t.Errorf("%s: %+v", tr.ID, tr)
				}
				controls[tr.Control]++
				if (tr.Control == ControlRandomReward) != (tr.Reward.Kind == RewardRandom) {
					t.Errorf("%s: control %q with reward %q", tr.ID, tr.Control, tr.Reward.Kind)
				}
			}
			// sft is in the sweep, so sft-ref adds no arm.
			if want := map[string]int{"": 40, ControlBase: 5, ControlRandomReward: 30}; !reflect.DeepEqual(controls, want) {
				t.Errorf("controls %v, want %v", controls, want)
			}
		}},
		{"null", 20, 1, []string{"grao"}, nil},
		{"paper", 100, 4, []string{"sft", "dpo", "ppo", "grpo", "grao"}, func(t *testing.T, trials []Trial) {
			cells := map[string]int{}
			for _, tr := range trials {
				cells[tr.Task.Name+"/"+tr.Model.Label]++
			}
			want := map[string]int{"hh-helpful/small": 25, "hh-helpful/medium": 25, "hh-harmless/small": 25, "hh-harmless/medium": 25}
			if !reflect.DeepEqual(cells, want) {
				t.Errorf("cells %v, want %v", cells, want)
			}
		}},
		{"ablation", 12, 1, []string{"grao", "grao-no-imitation", "grao-no-exploration", "grao-no-regularizer"}, func(t *testing.T, trials []Trial) {
			switches := map[string]string{"grao-no-imitation": "no_imitation", "grao-no-exploration": "no_exploration", "grao-no-regularizer": "no_regulariser"}
			for _, tr := range trials {
				for name, key := range switches {
					if on := tr.Params[key] == true; on != (tr.Algorithm == name) {
						t.Errorf("%s: %s = %v", tr.ID, key, tr.Params[key])
					}
				}
			}
		}},
		{"sensitivity", 50, 1, []string{"grao"}, func(t *testing.T, trials []Trial) {
			points := map[string]bool{}
			for _, tr := range trials {
				if len(tr.Varying) != 2 {
					t.Errorf("%s: varying %v", tr.ID, tr.Varying)
				}
				points[tr.Varying["algorithm.grao.beta"]+"/"+tr.Varying["algorithm.grao.lambda"]] = true
			}
			if len(points) != 25 {
				t.Errorf("%d grid points, want 25", len(points))
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			s, err := ParseFile("../" + c.file + ".toml")
			if err != nil {
				t.Fatal(err)
			}
			if s.Name != c.file {
				t.Errorf("name %q", s.Name)
			}
			s.Resolve()
			if got := s.labels(); !reflect.DeepEqual(got, c.labels) {
				t.Errorf("labels %v, want %v", got, c.labels)
			}
			if s.Report.Target != "grao" {
				t.Errorf("report target %q", s.Report.Target)
			}
			trials := mustExpand(t, s)
			if len(trials) != c.trials {
				t.Fatalf("%d trials, want %d", len(trials), c.trials)
			}
			if s.HasSelection() {
				sel, err := s.SelectionTrials()
				if err != nil {
					t.Fatal(err)
				}
				points := 1
				for _, vals := range s.Select.Grid {
					points *= len(vals)
				}
				selecting := 0 // controls take their parent's choice (random-reward) or train nothing (base)
				for _, a := range s.Algorithms {
					if a.selects() {
						selecting++
					}
				}
				if want := selecting * points * len(s.SelectSettings().Seeds); len(sel) != want {
					t.Errorf("%d selection trials, want %d", len(sel), want)
				}
			}
			if p := NewPlan(s, trials); p.Bases != c.bases {
				t.Errorf("%d base models, want %d", p.Bases, c.bases)
			}
			if c.check != nil {
				c.check(t, trials)
			}
		})
	}
}

// TestFullParamsRoundTrip: every registered algorithm's full configuration
// is accepted back by its factory unchanged, so config.toml reproduces it.
func TestFullParamsRoundTrip(t *testing.T) {
	for _, name := range algorithms.Names() {
		if name == "plugin" {
			continue // needs a plugin to run: its round trip is TestPluginFactory in package plugins
		}
		p, err := fullParams(name, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(p) == 0 {
			t.Errorf("%s: no parameters recorded", name)
		}
		q, err := fullParams(name, p)
		if err != nil {
			t.Fatalf("%s: its own configuration is rejected: %v", name, err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Errorf("%s: %v != %v", name, p, q)
		}
	}
}

// TestREADMEDocumentsEveryKey: each key a sweep file accepts appears in
// README-snippet.md as `section.key`, and each default constant's value
// next to it.
func TestREADMEDocumentsEveryKey(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "sweeps.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	var keys []string
	top := reflect.TypeOf(Sweep{})
	for i := range top.NumField() {
		f := top.Field(i)
		name := tagName(f)
		if name == "" || name == "algorithm" || name == "sweep" { // own sections, checked below
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Struct {
			for _, sub := range tagNames(ft, true) {
				sf, _ := ft.FieldByName(fieldName(ft, sub))
				if sf.Type.Kind() == reflect.Slice && sf.Type.Elem().Kind() == reflect.Struct {
					for _, leaf := range tagNames(sf.Type.Elem(), true) {
						keys = append(keys, name+"."+sub+"."+leaf)
					}
					continue
				}
				keys = append(keys, name+"."+sub)
			}
			continue
		}
		keys = append(keys, name)
	}
	keys = append(keys, "algorithm.name", "algorithm.label")
	for _, h := range []string{"### `[[algorithm]]`", "### `[sweep]`", "\"algorithm.<label>.<param>\""} {
		if !strings.Contains(doc, h) {
			t.Errorf("README-snippet.md lacks %s", h)
		}
	}
	for _, k := range keys {
		if !regexp.MustCompile("\\| `" + regexp.QuoteMeta(k) + "` \\|").MatchString(doc) {
			t.Errorf("README-snippet.md has no table row for `%s`", k)
		}
	}
	if len(keys) < 50 {
		t.Errorf("only %d keys found; the reflection walk is broken", len(keys))
	}
	for _, name := range algorithms.Names() {
		if !strings.Contains(doc, "`"+name+"`") {
			t.Errorf("README-snippet.md does not list algorithm %s", name)
		}
	}
}

func fieldName(t reflect.Type, tag string) string {
	for i := range t.NumField() {
		if tagName(t.Field(i)) == tag {
			return t.Field(i).Name
		}
	}
	return ""
}
