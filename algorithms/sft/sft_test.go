package sft_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/grao-lab/grao/algorithms/algotest"
	"github.com/grao-lab/grao/algorithms/sft"
)

func TestHandValues(t *testing.T) {
	in := sft.Input{LogP: [][]float64{{-1, -3}, {-2}}}
	tests := []struct {
		agg  string
		want float64
	}{
		{"seq_mean", (2 + 2) / 2.0},       // answers' mean NLLs 2 and 2
		{"token_mean", (1 + 3 + 2) / 3.0}, // 6 nats over 3 tokens
	}
	for _, tc := range tests {
		res, err := sft.Loss(in, sft.Params{Aggregation: tc.agg})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(res.Loss-tc.want) > 1e-15 {
			t.Errorf("%s: loss %v, want %v", tc.agg, res.Loss, tc.want)
		}
	}
	in = sft.Input{LogP: [][]float64{{-1, -3, -1}, {-2}}}
	seq, _ := sft.Loss(in, sft.Params{Aggregation: "seq_mean"})
	tok, _ := sft.Loss(in, sft.Params{Aggregation: "token_mean"})
	if seq.Loss == tok.Loss {
		t.Error("aggregations agree on unequal lengths; they should differ")
	}
}

func TestFiniteDifferences(t *testing.T) {
	r := algotest.NewRand(21)
	for _, agg := range []string{"seq_mean", "token_mean"} {
		in := sft.Input{LogP: algotest.RandSeqs(r, 5, 1, 8, -5, 0)}
		p := sft.Params{Aggregation: agg}
		res, err := sft.Loss(in, p)
		if err != nil {
			t.Fatal(err)
		}
		num := algotest.NumGrad(func() float64 { r, _ := sft.Loss(in, p); return r.Loss }, in.LogP, 1e-6)
		if msg := algotest.Close(res.Grad.LogP, num, 1e-9, 1e-6); msg != "" {
			t.Errorf("%s: %s", agg, msg)
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		in   sft.Input
		p    sft.Params
		want string
	}{
		{"aggregation", sft.Input{LogP: [][]float64{{-1}}}, sft.Params{Aggregation: "sum"}, `aggregation = "sum"`},
		{"empty batch", sft.Input{}, sft.DefaultParams(), "logp is empty"},
		{"empty answer", sft.Input{LogP: [][]float64{{-1}, {}}}, sft.DefaultParams(), "logp[1] is empty"},
		{"NaN", sft.Input{LogP: [][]float64{{-1, math.NaN()}}}, sft.DefaultParams(), "logp[0][1] = NaN"},
	}
	for _, tc := range tests {
		_, err := sft.Loss(tc.in, tc.p)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want mention of %q", tc.name, err, tc.want)
		}
	}
}

func ExampleLoss() {
	in := sft.Input{LogP: [][]float64{{-1, -3}, {-2}}}
	res, _ := sft.Loss(in, sft.DefaultParams())
	fmt.Println(res.Loss, res.Grad.LogP)
	// Output: 2 [[-0.25 -0.25] [-0.5]]
}
