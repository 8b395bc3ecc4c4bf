package kit_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/grao-lab/grao/algorithms/algotest"
	"github.com/grao-lab/grao/algorithms/kit"
)

// TestAdvantageCheckValues: the GRPO advantages of rewards [1,0,0,1].
func TestAdvantageCheckValues(t *testing.T) {
	tests := []struct {
		name, std, scale string
		eps, want        float64
	}{
		{"bessel eps 1e-4", "bessel", "group", 1e-4, 0.865875},
		{"bessel eps 1e-6", "bessel", "group", 1e-6, 0.866024},
		{"population eps 0", "population", "group", 0, 1.0},
		{"population eps 1e-12", "population", "group", 1e-12, 1.0},
		{"scale none (Dr. GRPO)", "bessel", "none", 1e-4, 0.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			adv, zero, err := kit.GroupRelative([]float64{1, 0, 0, 1}, 4, kit.Std(tc.std), tc.eps, 0, kit.Scale(tc.scale))
			if err != nil || zero != 0 {
				t.Fatal(err, zero)
			}
			want := []float64{tc.want, -tc.want, -tc.want, tc.want}
			for i := range want {
				if math.Abs(adv[i]-want[i]) > 5e-7 {
					t.Errorf("Â[%d] = %.7f, want %.6f", i, adv[i], want[i])
				}
			}
		})
	}
}

func TestKLCheckValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func(float64, float64) float64
		want float64
	}{{"k1", kit.K1, 0.5}, {"k2", kit.K2, 0.125}, {"k3", kit.K3, 0.106531}} {
		if got := tc.f(-1.0, -1.5); math.Abs(got-tc.want) > 5e-7 {
			t.Errorf("%s(−1, −1.5) = %.7f, want %v", tc.name, got, tc.want)
		}
	}
	// k3 is ≥ 0 and 0 only at equality; k1 changes sign.
	if kit.K3(-2, -2) != 0 || kit.K3(-2, -1) <= 0 || kit.K1(-2, -1) >= 0 {
		t.Error("KL estimator signs are wrong")
	}
}

func TestZeroVarianceGroups(t *testing.T) {
	adv, zero, err := kit.GroupRelative([]float64{1, 1, 0, 1, 0.3, 0.3}, 2, kit.Bessel, 0, 0, kit.ScaleGroup)
	if err != nil {
		t.Fatal(err)
	}
	if zero != 2 || adv[0] != 0 || adv[1] != 0 || adv[4] != 0 || adv[5] != 0 {
		t.Errorf("adv %v zero %d; want exact zeros for groups 0 and 2", adv, zero)
	}
}

func ExampleGroupRelative() {
	for _, c := range []struct{ std, scale string }{{"bessel", "group"}, {"population", "group"}, {"bessel", "none"}} {
		adv, _, _ := kit.GroupRelative([]float64{1, 0, 0, 1}, 4, kit.Std(c.std), 1e-4, 0, kit.Scale(c.scale))
		fmt.Printf("%-10s %-5s %.6f\n", c.std, c.scale, adv)
	}
	// Output:
	// bessel     group [0.865875 -0.865875 -0.865875 0.865875]
	// population group [0.999800 -0.999800 -0.999800 0.999800]
	// bessel     none  [0.500000 -0.500000 -0.500000 0.500000]
}

// TestGAEHand: one 2-token sequence, r = [0, 1], V = [0.5, 0.25], γ = 1,
// λ = 0.95: δ_1 = 1 − 0.25 = 0.75, δ_0 = 0 + 0.25 − 0.5 = −0.25,
// Â_0 = −0.25 + 0.95·0.75 = 0.4625; returns [0.9625, 1.0].
func TestGAEHand(t *testing.T) {
	adv, ret := kit.GAE([][]float64{{0, 1}}, [][]float64{{0.5, 0.25}}, 1, 0.95)
	want := [][]float64{{0.4625, 0.75}}
	if msg := algotest.Close(adv, want, 1e-15, 0); msg != "" {
		t.Errorf("advantages: %s", msg)
	}
	if msg := algotest.Close(ret, [][]float64{{0.9625, 1.0}}, 1e-15, 0); msg != "" {
		t.Errorf("returns: %s", msg)
	}
	// γ = 0.5, λ = 0: one-step TD errors δ_t = r_t + γV_{t+1} − V_t
	adv, _ = kit.GAE([][]float64{{0, 1}}, [][]float64{{0.5, 0.25}}, 0.5, 0)
	if msg := algotest.Close(adv, [][]float64{{0.125 - 0.5, 0.75}}, 1e-15, 0); msg != "" {
		t.Errorf("TD(0): %s", msg)
	}
}

func TestWhiten(t *testing.T) {
	w, err := kit.Whiten([][]float64{{1, 2}, {3, 4, 5}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	// mean 3, Bessel variance 2.5
	s := 1 / math.Sqrt(2.5)
	if msg := algotest.Close(w, [][]float64{{-2 * s, -s}, {0, s, 2 * s}}, 1e-15, 0); msg != "" {
		t.Error(msg)
	}
	if _, err := kit.Whiten([][]float64{{1}}, 0); err == nil {
		t.Error("whitening one token must fail")
	}
}

// ExampleGAE: δ = (0.2, 0.2, 0.4); Â_1 = 0.2 + 0.95·0.4 = 0.58,
// Â_0 = 0.2 + 0.95·0.58 = 0.751.
func ExampleGAE() {
	adv, ret := kit.GAE([][]float64{{0, 0, 1}}, [][]float64{{0.2, 0.4, 0.6}}, 1, 0.95)
	fmt.Printf("advantages %.4f\nreturns    %.4f\n", adv[0], ret[0])
	// Output:
	// advantages [0.7510 0.5800 0.4000]
	// returns    [0.9510 0.9800 1.0000]
}
