package calibrate

import (
	"bytes"
	"context"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/tokenizer"
)

// byIndex is a judge that ignores the text: the k-th item of a call gets
// −1 when k mod n < lose, else +1 (every prompt's n samples then hold
// exactly lose losses).
type byIndex struct{ n, lose int }

func (j byIndex) Describe() core.RewardInfo {
	return core.RewardInfo{Name: "by-index", Min: -1, Max: 1}
}

func (j byIndex) Score(_ context.Context, items []core.RewardItem) ([]core.Score, error) {
	out := make([]core.Score, len(items))
	for k := range items {
		v := 1.0
		if k%j.n < j.lose {
			v = -1
		}
		out[k] = core.Score{Value: v, Applicable: true}
	}
	return out, nil
}

type constScore struct{ v float64 }

func (c constScore) Describe() core.RewardInfo { return core.RewardInfo{Name: "const"} }
func (c constScore) Score(_ context.Context, items []core.RewardItem) ([]core.Score, error) {
	out := make([]core.Score, len(items))
	for i := range out {
		out[i] = core.Score{Value: c.v, Applicable: true}
	}
	return out, nil
}

func tinyModel(t *testing.T) core.Engine {
	t.Helper()
	p, err := model.Init(model.Config{VocabSize: tokenizer.VocabSize, DModel: 16, NLayer: 1, NHead: 2, Context: 48, LNEps: 1e-5}, 7)
	if err != nil {
		t.Fatal(err)
	}
	return model.NewFrozen(p)
}

func examples(kinds ...string) []core.Example {
	var out []core.Example
	for i, k := range kinds {
		out = append(out, core.Example{Prompt: "Human: q" + string(rune('a'+i)) + "\nAssistant:", Chosen: " y",
			Meta: map[string]any{"kind": k, "regime": "explore", "level": 2}})
	}
	return out
}

// The group shares are C(lose, G)/C(N, G) and C(win, G)/C(N, G), checked
// against hand-computed binomial coefficients: with 12 losses of 16,
// C(12,4)/C(16,4) = 495/1820 and C(12,8)/C(16,8) = 495/12870.
func TestMeasureGroupShares(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxNew, cfg.PromptsPerStep = 4, 8
	tab, err := Measure(context.Background(), tinyModel(t), byIndex{16, 12}, constScore{0.25}, examples("a", "a", "b"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Kinds) != 2 || tab.Kinds[0].Kind != "a" || tab.Kinds[0].Prompts != 2 || tab.Kinds[1].Prompts != 1 {
		t.Fatalf("rows %+v", tab.Kinds)
	}
	a := tab.Kinds[0]
	want := []Groups{
		{G: 4, AllLose: 495.0 / 1820, AllWin: 1.0 / 1820, ZeroVar: 496.0 / 1820, Informative: 8 * (2.0 / 3) * (1 - 496.0/1820)},
		{G: 8, AllLose: 495.0 / 12870, AllWin: 0, ZeroVar: 495.0 / 12870, Informative: 8 * (2.0 / 3) * (1 - 495.0/12870)},
		{G: 16, AllLose: 0, AllWin: 0, ZeroVar: 0, Informative: 8 * (2.0 / 3)},
	}
	for i, w := range want {
		g := a.Groups[i]
		for _, f := range [][2]float64{{g.AllLose, w.AllLose}, {g.AllWin, w.AllWin}, {g.ZeroVar, w.ZeroVar}, {g.Informative, w.Informative}} {
			if math.Abs(f[0]-f[1]) > 1e-12 {
				t.Errorf("G=%d: got %+v, want %+v", w.G, g, w)
				break
			}
		}
	}
	if a.Pass != 0.25 || a.Win != 0.25 || a.Score != 0.25 || a.Level != 2 || a.Regime != "explore" || math.Abs(a.Share-2.0/3) > 1e-15 {
		t.Errorf("row %+v", a)
	}
	if tab.All.Prompts != 3 || tab.All.Pass != 0.25 {
		t.Errorf("all %+v", tab.All)
	}
}

// On a fixed tiny model with the real sampler, the table is deterministic
// and its shares are coherent.
func TestMeasureTinyModel(t *testing.T) {
	p := tinyModel(t)
	cfg := DefaultConfig()
	cfg.MaxNew, cfg.Samples, cfg.Gs = 6, 8, []int{4, 8}
	judge := textJudge{}
	exs := examples("x", "y", "x", "y")
	a, err := Measure(context.Background(), p, judge, constScore{1}, exs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Measure(context.Background(), p, judge, constScore{1}, exs, cfg)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different tables")
	}
	cfg.Seed = 2
	c, _ := Measure(context.Background(), p, judge, constScore{1}, exs, cfg)
	if reflect.DeepEqual(a, c) {
		t.Error("the sampling seed changed nothing")
	}
	for _, r := range append(a.Kinds, a.All) {
		if r.Pass < r.Win || r.Pass > 1 || r.Win < 0 {
			t.Errorf("%s: pass %v win %v", r.Kind, r.Pass, r.Win)
		}
		for _, g := range r.Groups {
			if g.ZeroVar < g.AllLose+g.AllWin-1e-12 || g.ZeroVar > 1 {
				t.Errorf("%s: G=%d shares %+v", r.Kind, g.G, g)
			}
		}
	}
	var out bytes.Buffer
	if err := a.Render(&out, func(k string, l int) string { return "lvl" }); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| x | explore | 2 (lvl) | 2 |", "**all**", "zero-var G=8"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("render lacks %q:\n%s", want, out.String())
		}
	}
}

// textJudge wins on completions with an even byte sum, loses otherwise.
type textJudge struct{}

func (textJudge) Describe() core.RewardInfo { return core.RewardInfo{Name: "parity"} }
func (textJudge) Score(_ context.Context, items []core.RewardItem) ([]core.Score, error) {
	out := make([]core.Score, len(items))
	for i, it := range items {
		s := 0
		for _, c := range []byte(it.Completion) {
			s += int(c)
		}
		out[i] = core.Score{Value: float64(1 - 2*(s%2)), Applicable: true}
	}
	return out, nil
}

// Place picks the in-band level nearest the band's middle, or the level
// nearest the band, the easier on ties.
func TestPlace(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxNew, cfg.Samples, cfg.Gs = 2, 4, []int{4}
	p := tinyModel(t)
	// byIndex{4, lose} gives every level the same pass, 1 − lose/4.
	lv := func(kind string, level int) []core.Example {
		ex := examples(kind)
		ex[0].Meta["level"] = level
		return ex
	}
	cands := []Candidate{{"k", 1, lv("k", 1)}, {"k", 2, lv("k", 2)}, {"k", 3, lv("k", 3)}}
	for _, tc := range []struct {
		lose int
		band Band
		want int
		in   bool
	}{
		{1, Band{0.2, 0.8}, 1, true},  // pass 0.75 at every level: in band, ties → level 1
		{1, Band{0.1, 0.5}, 1, false}, // above the band everywhere
	} {
		pl, err := Place(context.Background(), p, byIndex{4, tc.lose}, constScore{1}, cands, tc.band, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if pl.Levels["k"] != tc.want || pl.InBand["k"] != tc.in || len(pl.Tried.Kinds) != 3 {
			t.Errorf("lose %d band %+v: %+v", tc.lose, tc.band, pl)
		}
	}
	if _, err := Place(context.Background(), p, byIndex{4, 1}, constScore{1}, cands, Band{0.6, 0.2}, cfg); err == nil {
		t.Error("a band with lo > hi was accepted")
	}
	bad := []Candidate{{"k", 1, lv("k", 2)}}
	if _, err := Place(context.Background(), p, byIndex{4, 1}, constScore{1}, bad, Band{0, 1}, cfg); err == nil {
		t.Error("a candidate whose examples are at another level was accepted")
	}
}

// Levels 1..4 pass 1, 0.75, 0.5, 0.25: Place takes the in-band level
// nearest the middle, else the nearest level.
func TestPlacePicksByPass(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxNew, cfg.Samples, cfg.Gs = 2, 4, []int{4}
	p := tinyModel(t)
	var cands []Candidate
	for l := 1; l <= 4; l++ {
		ex := examples("k")
		ex[0].Meta["level"] = l
		cands = append(cands, Candidate{"k", l, ex})
	}
	// Levels 1..4 have 0, 1, 2, 3 losses of 4: pass 1, 0.75, 0.5, 0.25.
	j := levelLoses{}
	for _, tc := range []struct {
		band Band
		want int
		in   bool
	}{
		{Band{0.4, 0.6}, 3, true},   // only 0.5 is in
		{Band{0.2, 0.8}, 3, true},   // 0.75, 0.5 and 0.25 are in; 0.5 is at the middle
		{Band{0.6, 1}, 2, true},     // 1 and 0.75 are in; 0.75 is nearer the middle 0.8
		{Band{0.5, 1}, 2, true},     // 1, 0.75, 0.5 in; middle 0.75
		{Band{0.25, 1}, 2, true},    // 0.75 and 0.5 both 0.125 from the middle: the easier level
		{Band{0.05, 0.1}, 4, false}, // nothing in; 0.25 is nearest
		{Band{0.9, 0.95}, 1, false}, // nothing in; 1 is nearest
	} {
		pl, err := Place(context.Background(), p, j, constScore{1}, cands, tc.band, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if pl.Levels["k"] != tc.want || pl.InBand["k"] != tc.in {
			t.Errorf("band %+v: level %d in band %v, want %d %v", tc.band, pl.Levels["k"], pl.InBand["k"], tc.want, tc.in)
		}
	}
}

// levelLoses loses (level−1) of every 4 consecutive items; the level is
// read from the prompt's position in the call (one prompt per level, 4
// samples each).
type levelLoses struct{}

func (levelLoses) Describe() core.RewardInfo { return core.RewardInfo{Name: "level-loses"} }
func (levelLoses) Score(_ context.Context, items []core.RewardItem) ([]core.Score, error) {
	out := make([]core.Score, len(items))
	for k, it := range items {
		level := it.Meta["level"].(int)
		v := 1.0
		if k%4 < level-1 {
			v = -1
		}
		out[k] = core.Score{Value: v, Applicable: true}
	}
	return out, nil
}

// A prompt too long for the context is an error, unless the task's
// truncation policy (Config.Truncate) cuts it from the left, as training
// does.
func TestMeasureTruncation(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxNew, cfg.Samples, cfg.Gs = 4, 4, []int{4}
	exs := examples("a")
	exs[0].Prompt = "Human: " + strings.Repeat("long history ", 10) + "\nAssistant:"
	if _, err := Measure(context.Background(), tinyModel(t), byIndex{4, 2}, constScore{0.25}, exs, cfg); err == nil || !strings.Contains(err.Error(), "leaves no room") {
		t.Errorf("without truncation: err %v, want the prompt refused", err)
	}
	cfg.Truncate = true
	if _, err := Measure(context.Background(), tinyModel(t), byIndex{4, 2}, constScore{0.25}, exs, cfg); err != nil {
		t.Errorf("with truncation: %v", err)
	}
}
