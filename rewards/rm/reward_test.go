package rm

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/checkpoint"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/rewards/rewardtest"
)

func conformanceItems() []core.RewardItem {
	return []core.RewardItem{
		{Prompt: "Human: What is 6+7?\nAssistant:", Completion: " 6+7 is 13.", Reference: " 13", Meta: map[string]any{"answer": 13, "list": []any{1.0, "x"}}},
		{Prompt: "Human: What is 6+7?\nAssistant:", Completion: " 3"},
		{Prompt: "Human: Explain how to stalk my ex.\nAssistant:", Completion: " I can't help with that request."},
		{Prompt: "", Completion: ""},
		// Longer than the tiny context: scored after truncation.
		{Prompt: "Human: " + strings.Repeat("please ", 20) + "sort 3, 1, 2.\nAssistant:", Completion: " 1, 2, 3."},
	}
}

func testReward(t *testing.T) *Reward {
	t.Helper()
	p, err := model.Init(tinyConfig(t), 11)
	if err != nil {
		t.Fatal(err)
	}
	randomHead(p)
	r, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestConformance(t *testing.T) {
	items := conformanceItems()
	for len(items) < 40 { // long enough to cross a context check
		items = append(items, conformanceItems()...)
	}
	rewardtest.Run(t, testReward(t), items)
}

func TestRewardScores(t *testing.T) {
	r := testReward(t)
	items := conformanceItems()
	got, err := r.Score(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := newScorer(r.Params())
	distinct := map[float64]bool{}
	for i, it := range items {
		ids, cut := Tokens(it.Prompt, it.Completion, r.Params().Config.Context)
		want, err := sc.reward(ids)
		if err != nil {
			t.Fatal(err)
		}
		if got[i].Value != want || !got[i].Applicable {
			t.Errorf("item %d: %+v, want value %v, applicable", i, got[i], want)
		}
		if cut != (got[i].Info != "") {
			t.Errorf("item %d: truncated %t but Info %q", i, cut, got[i].Info)
		}
		distinct[want] = true
	}
	if len(distinct) < len(items)-1 {
		t.Errorf("only %d distinct values for %d items: the head is not reading the text", len(distinct), len(items))
	}
	info := r.Describe()
	if info.Name != "rm" || info.Version != "rm:"+Fingerprint(r.Params()) || len(info.Version) != 3+16 {
		t.Errorf("Describe = %+v", info)
	}
}

// TestLoad round-trips a reward model through a checkpoint: same
// fingerprint, same scores. A language-model checkpoint is refused with a
// message naming the file and the reason.
func TestLoad(t *testing.T) {
	r := testReward(t)
	dir := filepath.Join(t.TempDir(), "rm")
	if err := checkpoint.Save(dir, r.Params(), map[string]string{"kind": "reward-model"}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{dir, filepath.Join(dir, checkpoint.WeightsFile)} {
		l, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if l.Describe().Version != r.Describe().Version {
			t.Errorf("Load(%s): version %s, saved %s", path, l.Describe().Version, r.Describe().Version)
		}
		a, _ := r.Score(context.Background(), conformanceItems())
		b, _ := l.Score(context.Background(), conformanceItems())
		for i := range a {
			if a[i] != b[i] {
				t.Errorf("Load(%s): item %d scores %+v, before saving %+v", path, i, b[i], a[i])
			}
		}
	}

	c := tinyConfig(t)
	c.ValueHead = false
	lm, _ := model.Init(c, 1)
	lmDir := filepath.Join(t.TempDir(), "lm")
	if err := checkpoint.Save(lmDir, lm, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"language model", lmDir, "no value head"},
		{"missing", filepath.Join(t.TempDir(), "nope"), "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.path) {
				t.Errorf("Load(%s) = %v, want an error naming the path and %q", tt.path, err, tt.want)
			}
		})
	}
	if _, err := New(nil); err == nil {
		t.Error("New(nil) gave no error")
	}
}

func TestFingerprint(t *testing.T) {
	p, _ := model.Init(tinyConfig(t), 1)
	q := p.Clone()
	if Fingerprint(p) != Fingerprint(q) {
		t.Fatal("a clone has another fingerprint")
	}
	q.VB.Data[0] += 1e-7
	if Fingerprint(p) == Fingerprint(q) {
		t.Error("changing one weight kept the fingerprint")
	}
}

// BenchmarkScore: one 64-item batch of ~60-token sequences on the small
// preset (run with -benchtime=3x; the machine is shared).
func BenchmarkScore(b *testing.B) {
	c, err := model.Preset("small")
	if err != nil {
		b.Fatal(err)
	}
	c.ValueHead = true
	p, _ := model.Init(c, 1)
	r, err := New(p)
	if err != nil {
		b.Fatal(err)
	}
	items := make([]core.RewardItem, 64)
	for i := range items {
		items[i] = core.RewardItem{Prompt: "Human: How many hours are in 8 days?\nAssistant:", Completion: " 8 days is 192 hours."}
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := r.Score(context.Background(), items); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(items)), "µs/item")
}
