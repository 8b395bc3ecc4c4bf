package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/grao-lab/grao/core/tokenizer"
	"github.com/grao-lab/grao/kernels/ops"
)

// testConfig is small enough for float64 finite differences over every
// weight class, with a real vocabulary so BOS/EOS work.
func testConfig() Config {
	return Config{VocabSize: tokenizer.VocabSize, DModel: 16, NLayer: 2, NHead: 2, Context: 16, LNEps: 1e-5}
}

// perturbed returns Init weights with every tensor (biases and gains
// included) jittered, so no layout or gradient bug hides behind a zero.
func perturbed(t *testing.T, c Config, seed uint64) *Params {
	t.Helper()
	p, err := Init(c, seed)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 99))
	for _, ts := range p.All() {
		for i := range ts.Data {
			ts.Data[i] += float32(rng.NormFloat64() * 0.05)
		}
	}
	return p
}

func randomSeqs(rng *rand.Rand, n, maxLen, vocab int) []Sequence {
	seqs := make([]Sequence, n)
	for i := range seqs {
		l := 3 + rng.IntN(maxLen-2)
		toks := []int{tokenizer.BOS}
		for len(toks) < l {
			toks = append(toks, rng.IntN(vocab))
		}
		seqs[i] = Sequence{Tokens: toks, Start: 1 + rng.IntN(l-1)}
	}
	return seqs
}

func TestInitDeterministic(t *testing.T) {
	c, _ := Preset("tiny")
	a, _ := Init(c, 7)
	b, _ := Init(c, 7)
	d, _ := Init(c, 8)
	same, diff := true, false
	for i, ta := range a.All() {
		for j := range ta.Data {
			same = same && ta.Data[j] == b.All()[i].Data[j]
			diff = diff || ta.Data[j] != d.All()[i].Data[j]
		}
	}
	if !same || !diff {
		t.Fatalf("same seed equal: %v, different seed differs: %v", same, diff)
	}
}

func TestNumParams(t *testing.T) {
	for _, name := range Presets() {
		c, _ := Preset(name)
		c.ValueHead = true
		p, _ := NewParams(c)
		n := 0
		for _, ts := range p.All() {
			n += len(ts.Data)
		}
		if n != c.NumParams() {
			t.Errorf("%s: counted %d, NumParams %d", name, n, c.NumParams())
		}
	}
}

// The graph's log-probs equal the hand-written forward's (float32).
func TestGraphMatchesForward(t *testing.T) {
	c := testConfig()
	p := perturbed(t, c, 1)
	rng := rand.New(rand.NewPCG(1, 2))
	seqs := randomSeqs(rng, 3, c.Context, 256)
	gr, err := NewGraph(p, 4, c.Context, G.Float32)
	if err != nil {
		t.Fatal(err)
	}
	compileSum(t, gr, nil)
	checkGraphMatchesForward(t, p, gr, seqs)
}

// checkGraphMatchesForward runs gr on seqs and compares its log-probs
// with the hand-written forward's (float32 rounding).
func checkGraphMatchesForward(t *testing.T, p *Params, gr *Graph, seqs []Sequence) {
	t.Helper()
	spans, err := gr.Load(seqs)
	if err != nil {
		t.Fatal(err)
	}
	if err := gr.Run(); err != nil {
		t.Fatal(err)
	}
	lp := gr.LogPValues()
	for r, s := range seqs {
		lg, err := p.Logits(s.Tokens)
		if err != nil {
			t.Fatal(err)
		}
		want := TokenLogProbs(lg, s.Tokens, p.Config.VocabSize)[s.Start-1:]
		for j := 0; j < spans[r].Len; j++ {
			got := lp[spans[r].Off+j]
			if math.Abs(got-want[j]) > 1e-4*math.Max(1, math.Abs(want[j])) {
				t.Fatalf("seq %d token %d: graph %v, forward %v", r, j, got, want[j])
			}
		}
	}
}

// compileSum compiles loss = Σ w_i·LogP_i (+ Σ u_i·Value_i), weights random.
func compileSum(t *testing.T, gr *Graph, rng *rand.Rand) {
	t.Helper()
	n := gr.Batch * gr.Seq
	w := make([]float64, n)
	u := make([]float64, n)
	for i := range w {
		w[i], u[i] = 1, 0.5
		if rng != nil {
			w[i], u[i] = rng.NormFloat64(), rng.NormFloat64()
		}
	}
	inputs := []*G.Node{gr.LogP}
	if gr.Value != nil {
		inputs = append(inputs, gr.Value)
	}
	loss, err := ops.Loss("weighted", func(in, grad [][]float64) float64 {
		var s float64
		for i, v := range in[0] {
			s += w[i] * v
			grad[0][i] = w[i]
		}
		if len(in) > 1 {
			for i, v := range in[1] {
				s += u[i] * v
				grad[1][i] = u[i]
			}
		}
		return s
	}, inputs...)
	if err != nil {
		t.Fatal(err)
	}
	if err := gr.Compile(loss); err != nil {
		t.Fatal(err)
	}
}

// Full-model finite-difference check in float64: every weight tensor,
// several entries each, value head included, with LogP untempered and at a
// sampling temperature.
func TestModelGradientFiniteDifference(t *testing.T) {
	for _, temp := range []float64{1, 0.7} {
		t.Run(fmt.Sprintf("T=%g", temp), func(t *testing.T) { modelGradientFD(t, temp) })
	}
}

func modelGradientFD(t *testing.T, temp float64) {
	c := testConfig()
	c.ValueHead = true
	p := perturbed(t, c, 3)
	rng := rand.New(rand.NewPCG(3, 4))
	gr, err := NewGraphAt(p, 2, 8, G.Float64, temp)
	if err != nil {
		t.Fatal(err)
	}
	compileSum(t, gr, rng)
	seqs := randomSeqs(rng, 2, 8, 256)
	if _, err := gr.Load(seqs); err != nil {
		t.Fatal(err)
	}
	if err := gr.Run(); err != nil {
		t.Fatal(err)
	}
	analytic := make([][]float64, len(gr.weights))
	for i, w := range gr.weights {
		gv, err := w.Grad()
		if err != nil {
			t.Fatal(err)
		}
		analytic[i] = append([]float64(nil), gv.Data().([]float64)...)
	}
	lossAt := func() float64 {
		if err := gr.Run(); err != nil {
			t.Fatal(err)
		}
		return gr.LossValue()
	}
	const h = 1e-5
	for i, val := range gr.values {
		data := val.Data().([]float64)
		// wte rows of unused tokens have zero gradient; probe used ones too.
		probes := []int{0, len(data) / 2, len(data) - 1, rng.IntN(len(data))}
		if i == 0 {
			probes = append(probes, seqs[0].Tokens[1]*c.DModel+1)
		}
		for _, j := range probes {
			orig := data[j]
			data[j] = orig + h
			up := lossAt()
			data[j] = orig - h
			down := lossAt()
			data[j] = orig
			num := (up - down) / (2 * h)
			if math.Abs(num-analytic[i][j]) > 1e-6+1e-5*math.Abs(num) {
				t.Errorf("%s[%d]: analytic %.10g, numeric %.10g", gr.weights[i].Name(), j, analytic[i][j], num)
			}
		}
	}
}

// Parity: the sampler's log-probs of its own tokens equal the training
// graph's log-probs of the same (prompt, completion), fp32, rel. 1e-4.
func TestSamplerParityWithGraph(t *testing.T) {
	c := testConfig()
	c.Context = 32
	p := perturbed(t, c, 5)
	prompts, outs, seqs := sampledSequences(t, p, 5, 2)
	gr, err := NewGraph(p, len(prompts), c.Context, G.Float32)
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
	for i, o := range outs {
		if spans[i].Len != len(o.LogProbs) {
			t.Fatalf("row %d: %d scored tokens, sampler gave %d", i, spans[i].Len, len(o.LogProbs))
		}
		for j, want := range o.LogProbs {
			got := lp[spans[i].Off+j]
			if math.Abs(got-float64(want)) > 1e-4*math.Max(1, math.Abs(got)) {
				t.Errorf("row %d token %d: graph %v sampler %v", i, j, got, want)
			}
		}
	}
}

func TestSamplerOptions(t *testing.T) {
	c := testConfig()
	c.Context = 32
	p := perturbed(t, c, 11)
	prompt := [][]int{{tokenizer.BOS, 'h', 'i'}}
	s := NewSampler(p, 4)
	gen := func(cfg SampleConfig) Completion {
		t.Helper()
		out, err := s.Generate(prompt, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return out[0]
	}
	greedy := gen(SampleConfig{Temperature: 0, MaxNew: 10})
	if len(greedy.Tokens) != 10 && !greedy.Stopped {
		t.Fatalf("greedy produced %d tokens without EOS", len(greedy.Tokens))
	}
	if k1 := gen(SampleConfig{Temperature: 1.3, TopK: 1, MaxNew: 10, Seed: 4}); !slices.Equal(k1.Tokens, greedy.Tokens) {
		t.Errorf("top-k=1 %v differs from greedy %v", k1.Tokens, greedy.Tokens)
	}
	if p0 := gen(SampleConfig{Temperature: 1, TopP: 1e-9, MaxNew: 10, Seed: 4}); !slices.Equal(p0.Tokens, greedy.Tokens) {
		t.Errorf("top-p→0 %v differs from greedy %v", p0.Tokens, greedy.Tokens)
	}
	a := gen(SampleConfig{Temperature: 1, MaxNew: 20, Seed: 42})
	b := gen(SampleConfig{Temperature: 1, MaxNew: 20, Seed: 42})
	d := gen(SampleConfig{Temperature: 1, MaxNew: 20, Seed: 43})
	if !slices.Equal(a.Tokens, b.Tokens) {
		t.Error("same seed, different samples")
	}
	if slices.Equal(a.Tokens, d.Tokens) {
		t.Error("different seeds, same 20-token sample (suspicious)")
	}
	// A row's sample does not depend on its batch-mates.
	batch, err := s.Generate([][]int{{tokenizer.BOS, 'x'}, prompt[0]}, SampleConfig{Temperature: 1, MaxNew: 20, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	if alone, _ := s.Generate([][]int{{tokenizer.BOS, 'x'}}, SampleConfig{Temperature: 1, MaxNew: 20, Seed: 42}); !slices.Equal(alone[0].Tokens, batch[0].Tokens) {
		t.Error("row 0 changed with a batch-mate")
	}
}

// Forcing EOS to dominate must stop generation at once.
// A completion stops when prompt + completion fill the context, so the
// whole sequence still fits one graph row.
func TestSamplerRespectsContext(t *testing.T) {
	c := testConfig()
	p := perturbed(t, c, 17)
	prompt := []int{tokenizer.BOS, 'a', 'b', 'c'}
	out, err := NewSampler(p, 1).Generate([][]int{prompt}, SampleConfig{Temperature: 1, MaxNew: 100, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(prompt) + len(out[0].Tokens); n > c.Context || (!out[0].Stopped && n != c.Context) {
		t.Fatalf("prompt+completion = %d tokens (stopped %v), context %d", n, out[0].Stopped, c.Context)
	}
}

func TestSamplerStopsAtEOS(t *testing.T) {
	c := testConfig()
	p := perturbed(t, c, 13)
	// Make the final norm output equal its bias, and aim the bias at EOS.
	for i := range p.LNFG.Data {
		p.LNFG.Data[i] = 0
		p.LNFB.Data[i] = 1
		p.WTE.Data[tokenizer.EOS*c.DModel+i] = 50
	}
	out, err := NewSampler(p, 1).Generate([][]int{{tokenizer.BOS}}, SampleConfig{Temperature: 1, MaxNew: 8, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !out[0].Stopped || len(out[0].Tokens) != 1 || out[0].Tokens[0] != tokenizer.EOS {
		t.Fatalf("got %+v, want a single EOS", out[0])
	}
}

func TestSamplerRejectsBadInput(t *testing.T) {
	c := testConfig()
	p := perturbed(t, c, 1)
	s := NewSampler(p, 2)
	long := make([]int, c.Context)
	cases := map[string]struct {
		prompts [][]int
		cfg     SampleConfig
	}{
		"empty prompt":  {[][]int{{}}, SampleConfig{MaxNew: 1}},
		"too long":      {[][]int{long}, SampleConfig{MaxNew: 1}},
		"bad token":     {[][]int{{tokenizer.BOS, 9999}}, SampleConfig{MaxNew: 1}},
		"zero max new":  {[][]int{{tokenizer.BOS}}, SampleConfig{}},
		"negative temp": {[][]int{{tokenizer.BOS}}, SampleConfig{MaxNew: 1, Temperature: -1}},
		"top-p > 1":     {[][]int{{tokenizer.BOS}}, SampleConfig{MaxNew: 1, TopP: 2}},
	}
	for name, tc := range cases {
		if _, err := s.Generate(tc.prompts, tc.cfg); err == nil {
			t.Errorf("%s: want error", name)
		}
	}
}

// A prompt repeated in a batch is prefilled once and its cache copied:
// the completions are bit-identical to prefilling every row itself.
func TestSamplerSharesRepeatedPrefill(t *testing.T) {
	c := testConfig()
	c.Context = 32
	p := perturbed(t, c, 7)
	a, b := []int{tokenizer.BOS, 'x', 'y', 'z'}, []int{tokenizer.BOS, 'q'}
	prompts := [][]int{a, b, a, a, b, slices.Clone(a)}
	cfg := SampleConfig{Temperature: 1, MaxNew: 10, Seed: 3}
	shared, err := NewSampler(p, 6).Generate(prompts, cfg)
	if err != nil {
		t.Fatal(err)
	}
	sharePrefill = false
	defer func() { sharePrefill = true }()
	own, err := NewSampler(p, 6).Generate(prompts, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(shared, own) {
		t.Errorf("sharing the prefill changed the completions:\n shared %v\n own    %v", shared, own)
	}
	if reflect.DeepEqual(shared[0].Tokens, shared[2].Tokens) && reflect.DeepEqual(shared[0].Tokens, shared[3].Tokens) {
		t.Error("rows with one prompt drew the same completion: their random streams are not their own")
	}
}

// sampledSequences samples 12 tokens (T = 1, 3 rows at a time) after n
// random lowercase prompts of 2, 2+grow, 2+2·grow, … letters and returns
// the prompts, the completions and the prompt+completion sequences.
func sampledSequences(t *testing.T, p *Params, n, grow int) ([][]int, []Completion, []Sequence) {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	var prompts [][]int
	for i := 0; i < n; i++ {
		pr := []int{tokenizer.BOS}
		for j := 0; j < 2+i*grow; j++ {
			pr = append(pr, 'a'+rng.IntN(26))
		}
		prompts = append(prompts, pr)
	}
	outs, err := NewSampler(p, 3).Generate(prompts, SampleConfig{Temperature: 1, MaxNew: 12, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	seqs := make([]Sequence, len(prompts))
	for i, o := range outs {
		seqs[i] = Sequence{Tokens: append(append([]int(nil), prompts[i]...), o.Tokens...), Start: len(prompts[i])}
	}
	return prompts, outs, seqs
}
