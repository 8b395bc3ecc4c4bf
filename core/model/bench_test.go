package model

import (
	"fmt"
	"testing"

	"github.com/grao-lab/grao/core/tokenizer"
)

// BenchmarkSample times KV-cache generation of 64 tokens per row from a
// 3-token prompt (the shape of `bench speed`), reporting tokens/s.
func BenchmarkSample(b *testing.B) {
	for _, preset := range []string{"small", "medium"} {
		c, err := Preset(preset)
		if err != nil {
			b.Fatal(err)
		}
		p, err := Init(c, 1)
		if err != nil {
			b.Fatal(err)
		}
		for _, rows := range []int{1, 32} {
			b.Run(fmt.Sprintf("%s/b=%d", preset, rows), func(b *testing.B) {
				prompts := make([][]int, rows)
				for i := range prompts {
					prompts[i] = []int{tokenizer.BOS, 'H', 'i'}
				}
				s := NewSampler(p, rows)
				cfg := SampleConfig{Temperature: 1, MaxNew: 64, Seed: 1}
				var made int
				for b.Loop() {
					outs, err := s.Generate(prompts, cfg)
					if err != nil {
						b.Fatal(err)
					}
					for _, o := range outs {
						made += len(o.Tokens)
					}
				}
				b.ReportMetric(float64(made)/b.Elapsed().Seconds(), "tokens/s")
			})
		}
	}
}
