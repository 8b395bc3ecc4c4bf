package model

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/grao-lab/grao/core/tokenizer"
)

// samplePrompts returns n short prompts starting with BOS.
func samplePrompts(rng *rand.Rand, n int) [][]int {
	var prompts [][]int
	for i := 0; i < n; i++ {
		pr := []int{tokenizer.BOS}
		for j := 0; j < 2+i*2; j++ {
			pr = append(pr, 'a'+rng.IntN(26))
		}
		prompts = append(prompts, pr)
	}
	return prompts
}

// graphLogProbs runs a float32 graph at temperature temp over seqs and
// returns each sequence's scored log-probs.
func graphLogProbs(t *testing.T, p *Params, seqs []Sequence, temp float64) [][]float64 {
	t.Helper()
	gr, err := NewGraphAt(p, len(seqs), p.Config.Context, G.Float32, temp)
	if err != nil {
		t.Fatal(err)
	}
	compileSum(t, gr, nil)
	spans, err := gr.Load(seqs)
	if err != nil {
		t.Fatal(err)
	}
	if err := gr.Run(); err != nil {
		t.Fatal(err)
	}
	lp := gr.LogPValues()
	out := make([][]float64, len(seqs))
	for i, sp := range spans {
		out[i] = lp[sp.Off : sp.Off+sp.Len]
	}
	return out
}

// close32 is the float32 parity tolerance of TestSamplerParityWithGraph.
func close32(a, b float64) bool { return math.Abs(a-b) <= 1e-4*math.Max(1, math.Abs(a)) }

// At a sampling temperature, the three paths agree on the tempered
// log-probs of the sampled tokens: the training graph (NewGraphAt), the
// scorer (LogProbsAt) and the sampler (TemperedLogProbs). Sampling uses
// top-k so that a sampler renormalising over the kept tokens would fail,
// and the untempered log-probs must fail the same tolerance somewhere, so
// that the comparison can tell the temperature apart.
func TestTemperedLogProbsParity(t *testing.T) {
	const temp = 0.7
	c := testConfig()
	c.Context = 32
	p := perturbed(t, c, 5)
	prompts := samplePrompts(rand.New(rand.NewPCG(5, 6)), 5)
	cfg := SampleConfig{Temperature: temp, TopK: 20, MaxNew: 12, Seed: 9, TemperedLogProbs: true}
	outs, err := NewSampler(p, 3).Generate(prompts, cfg)
	if err != nil {
		t.Fatal(err)
	}
	seqs := make([]Sequence, len(prompts))
	for i, o := range outs {
		seqs[i] = Sequence{Tokens: append(append([]int(nil), prompts[i]...), o.Tokens...), Start: len(prompts[i])}
	}
	graph := graphLogProbs(t, p, seqs, temp)
	sc := NewScorer(p)
	tempered, untempered := 0, 0
	for i, o := range outs {
		scored, err := sc.LogProbsAt(seqs[i], temp)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := sc.LogProbs(seqs[i])
		if err != nil {
			t.Fatal(err)
		}
		if len(graph[i]) != len(o.LogProbs) || len(scored) != len(o.LogProbs) {
			t.Fatalf("row %d: graph %d, scorer %d, sampler %d log-probs", i, len(graph[i]), len(scored), len(o.LogProbs))
		}
		for j, s := range o.LogProbs {
			g, sp := graph[i][j], float64(s)
			if !close32(g, scored[j]) || !close32(g, sp) {
				t.Errorf("row %d token %d: graph %v scorer %v sampler %v", i, j, g, scored[j], sp)
			}
			tempered++
			if !close32(scored[j], plain[j]) {
				untempered++
			}
		}
	}
	if untempered == 0 {
		t.Fatalf("none of %d tempered log-probs differs from the untempered one", tempered)
	}
}

// At temperature 1 (and, for the sampler, at 0 and whenever
// TemperedLogProbs is off) the temperature-aware paths give the plain
// results bit for bit; at other temperatures the tokens drawn do not
// depend on TemperedLogProbs.
func TestTemperatureOneUnchanged(t *testing.T) {
	c := testConfig()
	c.Context = 32
	p := perturbed(t, c, 7)
	rng := rand.New(rand.NewPCG(7, 8))
	seqs := randomSeqs(rng, 3, c.Context, 256)

	run := func(gr *Graph, err error) ([]float64, [][]float32) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		compileSum(t, gr, rand.New(rand.NewPCG(1, 1)))
		if _, err := gr.Load(seqs); err != nil {
			t.Fatal(err)
		}
		if err := gr.Run(); err != nil {
			t.Fatal(err)
		}
		gs, err := gr.Grads()
		if err != nil {
			t.Fatal(err)
		}
		cp := make([][]float32, len(gs))
		for i, g := range gs {
			cp[i] = slices.Clone(g)
		}
		return gr.LogPValues(), cp
	}
	lpA, gA := run(NewGraph(p, 3, c.Context, G.Float32))
	lpB, gB := run(NewGraphAt(p, 3, c.Context, G.Float32, 1))
	if !slices.Equal(lpA, lpB) {
		t.Error("NewGraphAt(T=1) LogP differs from NewGraph's")
	}
	for i := range gA {
		if !slices.Equal(gA[i], gB[i]) {
			t.Errorf("NewGraphAt(T=1) gradient %d differs from NewGraph's", i)
		}
	}

	sc := NewScorer(p)
	for i, s := range seqs {
		a, err := sc.LogProbs(s)
		if err != nil {
			t.Fatal(err)
		}
		b, err := sc.LogProbsAt(s, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a, b) {
			t.Errorf("seq %d: Scorer.LogProbsAt(T=1) %v, LogProbs %v", i, b, a)
		}
	}

	prompts := samplePrompts(rng, 4)
	smp := NewSampler(p, 4)
	gen := func(cfg SampleConfig) []Completion {
		t.Helper()
		out, err := smp.Generate(prompts, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, temp := range []float64{0, 1, 0.7} {
		cfg := SampleConfig{Temperature: temp, TopP: 0.9, MaxNew: 10, Seed: 3}
		plain := gen(cfg)
		cfg.TemperedLogProbs = true
		tempered := gen(cfg)
		for i := range plain {
			if !slices.Equal(plain[i].Tokens, tempered[i].Tokens) || plain[i].Stopped != tempered[i].Stopped {
				t.Errorf("T=%g row %d: TemperedLogProbs changed the sample", temp, i)
			}
			same := slices.Equal(plain[i].LogProbs, tempered[i].LogProbs)
			if want := temp != 0.7; same != want {
				t.Errorf("T=%g row %d: log-probs equal = %v, want %v", temp, i, same, want)
			}
		}
	}
}

func TestBadLogProbTemperature(t *testing.T) {
	c := testConfig()
	p := perturbed(t, c, 1)
	sc := NewScorer(p)
	seq := Sequence{Tokens: []int{tokenizer.BOS, 'a', 'b'}, Start: 1}
	for _, temp := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if _, err := NewGraphAt(p, 1, 4, G.Float32, temp); err == nil {
			t.Errorf("NewGraphAt(T=%g): want error", temp)
		}
		if _, err := sc.LogProbsAt(seq, temp); err == nil {
			t.Errorf("Scorer.LogProbsAt(T=%g): want error", temp)
		}
	}
	// Greedy decoding has no tempered distribution; asking for tempered
	// log-probs there is allowed and leaves them untempered.
	if err := (SampleConfig{MaxNew: 1, TemperedLogProbs: true}).Validate(); err != nil {
		t.Errorf("greedy with TemperedLogProbs: %v", err)
	}
}

// GenerateContext gives Generate's completions and stops once its context
// is done.
func TestGenerateContext(t *testing.T) {
	p, err := Init(Config{VocabSize: 259, DModel: 16, NLayer: 1, NHead: 2, Context: 32, LNEps: 1e-5}, 3)
	if err != nil {
		t.Fatal(err)
	}
	prompts := [][]int{{256, 1}, {256, 2}, {256, 3}}
	cfg := SampleConfig{Temperature: 1, MaxNew: 5, Seed: 4}
	a, err := NewSampler(p, 2).Generate(prompts, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSampler(p, 2).GenerateContext(context.Background(), prompts, cfg)
	if err != nil || !reflect.DeepEqual(a, b) {
		t.Fatalf("GenerateContext differs from Generate: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewSampler(p, 2).GenerateContext(ctx, prompts, cfg); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
