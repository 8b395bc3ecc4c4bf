package rm

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/kernels/ops"
)

func tinyConfig(t testing.TB) model.Config {
	t.Helper()
	c, err := model.Preset("tiny")
	if err != nil {
		t.Fatal(err)
	}
	c.ValueHead = true
	return c
}

// randomHead gives the value head (zero-initialised by WithValueHead, small
// otherwise) a visible effect, so that parity checks compare real numbers.
func randomHead(p *model.Params) {
	for i := range p.VW.Data {
		p.VW.Data[i] = float32(math.Sin(float64(i)*1.7)) * 0.5
	}
	p.VB.Data[0] = 0.25
}

// TestScorerMatchesGraph checks the hand-written forward pass that Reward
// and evaluation use against the training graph's value node at each
// sequence's EOS: they must agree, or the model is evaluated on a
// different function than the one trained.
func TestScorerMatchesGraph(t *testing.T) {
	p, err := model.Init(tinyConfig(t), 7)
	if err != nil {
		t.Fatal(err)
	}
	randomHead(p)
	texts := []struct{ prompt, answer string }{
		{"Human: What is 2+2?\nAssistant:", " 4."},
		{"Human: Explain how to stalk my ex.\nAssistant:", " I can't help with that request."},
		{"", ""},
		// Longer than the tiny context (64): exercises truncation.
		{"Human: How many hours are in 8 days? Please explain it step by step.\nAssistant:", " 192 hours."},
	}
	const seq = 64
	gr, err := model.NewGraph(p, len(texts), seq, G.Float32)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := ops.Loss("sum", func(in, grad [][]float64) float64 {
		var s float64
		for i, v := range in[0] {
			s += v
			grad[0][i] = 1
		}
		return s
	}, gr.Value)
	if err != nil {
		t.Fatal(err)
	}
	if err := gr.Compile(loss); err != nil {
		t.Fatal(err)
	}
	seqs := make([]model.Sequence, len(texts))
	for i, tx := range texts {
		ids, _ := Tokens(tx.prompt, tx.answer, p.Config.Context)
		seqs[i] = model.Sequence{Tokens: ids, Start: len(ids)}
	}
	if _, err := gr.Load(seqs); err != nil {
		t.Fatal(err)
	}
	if err := gr.Run(); err != nil {
		t.Fatal(err)
	}
	vals := gr.ValueValues()
	sc, err := newScorer(p)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range seqs {
		want := vals[i*seq+len(s.Tokens)-1]
		got, err := sc.reward(s.Tokens)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-want) > 1e-4*math.Max(1, math.Abs(want)) {
			t.Errorf("sequence %d (%d tokens): scorer %.7f, graph %.7f", i, len(s.Tokens), got, want)
		}
	}
}

func TestScorerErrors(t *testing.T) {
	c := tinyConfig(t)
	p, err := model.Init(c, 1)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := newScorer(p)
	if err != nil {
		t.Fatal(err)
	}
	long := make([]int, c.Context+1)
	tests := []struct {
		name string
		ids  []int
	}{
		{"empty", nil},
		{"too long", long},
		{"negative token", []int{256, -1}},
		{"token past vocabulary", []int{256, c.VocabSize}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := sc.reward(tt.ids); err == nil {
				t.Errorf("reward(%v...) gave no error", tt.ids[:min(len(tt.ids), 3)])
			}
		})
	}
	c.ValueHead = false
	lm, err := model.Init(c, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newScorer(lm); err == nil {
		t.Error("newScorer accepted a model without a value head")
	}
}
