package pretrain

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/optim"
	"github.com/grao-lab/grao/core/tokenizer"
)

func TestDataShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	docs := Docs{"short", strings.Repeat("long document ", 20)}
	stream := Stream(strings.Repeat("a stream of text ", 30))
	for name, d := range map[string]Data{"docs": docs, "stream": stream} {
		for _, seq := range d.Next(rng, 50, 32) {
			if len(seq) < 2 || len(seq) > 32 || seq[0] != tokenizer.BOS {
				t.Fatalf("%s: sequence of %d tokens starting with %d", name, len(seq), seq[0])
			}
		}
	}
	// A short document is whole: BOS, bytes, EOS.
	for _, seq := range (Docs{"hi"}).Next(rng, 3, 32) {
		if len(seq) != 4 || seq[3] != tokenizer.EOS {
			t.Fatalf("short doc encoded as %v", seq)
		}
	}
}

func TestRunLowersLossDeterministically(t *testing.T) {
	mc := model.Config{VocabSize: tokenizer.VocabSize, DModel: 16, NLayer: 1, NHead: 2, Context: 32, LNEps: 1e-5}
	oc := optim.DefaultConfig()
	oc.LR = 1e-2
	cfg := Config{Model: mc, Steps: 40, Batch: 4, Seq: 32, Optim: oc, Seed: 3}
	data := Stream(strings.Repeat("abcabcabd ", 50))
	train := func() (*model.Params, []float64) {
		var losses []float64
		p, err := Run(context.Background(), cfg, data, nil, func(pr Progress) { losses = append(losses, pr.Loss) })
		if err != nil {
			t.Fatal(err)
		}
		return p, losses
	}
	p1, l1 := train()
	p2, _ := train()
	if !(l1[len(l1)-1] < l1[0]-1) {
		t.Errorf("loss %.3f -> %.3f: want a clear decrease", l1[0], l1[len(l1)-1])
	}
	for i, a := range p1.All() {
		for j, v := range a.Data {
			if math.Float32bits(v) != math.Float32bits(p2.All()[i].Data[j]) {
				t.Fatalf("%s[%d] differs between identical runs", a.Name, j)
			}
		}
	}
	if _, err := Run(context.Background(), Config{Model: mc, Steps: 0, Batch: 1, Seq: 8, Optim: oc}, data, nil, nil); err == nil {
		t.Error("steps = 0 accepted")
	}
}
