package rm

import (
	"math"
	"testing"
)

func TestBTLossValues(t *testing.T) {
	tests := []struct {
		name   string
		rc, rr []float64
		l2     float64
		want   float64
	}{
		{"empty", nil, nil, 0, 0},
		{"tie", []float64{0.3}, []float64{0.3}, 0, math.Ln2},
		{"margin 1", []float64{1}, []float64{0}, 0, math.Log1p(math.Exp(-1))},
		{"margin −1", []float64{0}, []float64{1}, 0, math.Log1p(math.Exp(1))},
		{"mean of two", []float64{2, 0}, []float64{0, 0}, 0, (math.Log1p(math.Exp(-2)) + math.Ln2) / 2},
		// L2: λ·mean(r²) over the four rewards = 0.1·(1+4+0+1)/4.
		{"l2", []float64{1, 0}, []float64{2, 1}, 0.1, (math.Log1p(math.Exp(1))+math.Log1p(math.Exp(1)))/2 + 0.1*6.0/4},
		// Huge margins must neither overflow nor lose the linear tail.
		{"large positive", []float64{1000}, []float64{0}, 0, 0},
		{"large negative", []float64{0}, []float64{1000}, 0, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BTLoss(tt.rc, tt.rr, tt.l2, nil, nil)
			if math.Abs(got-tt.want) > 1e-12*math.Max(1, math.Abs(tt.want)) {
				t.Errorf("BTLoss = %.15g, want %.15g", got, tt.want)
			}
		})
	}
}

// TestBTLossGradient compares the analytic gradient with central finite
// differences at random points, with and without the L2 term.
func TestBTLossGradient(t *testing.T) {
	tests := []struct {
		name   string
		rc, rr []float64
		l2     float64
	}{
		{"one pair", []float64{0.7}, []float64{-0.2}, 0},
		{"mixed signs", []float64{0.5, -1.5, 3, 0}, []float64{1, -1, -2, 0}, 0},
		{"with l2", []float64{0.5, -1.5, 3, 0}, []float64{1, -1, -2, 0.25}, 0.05},
		{"large l2", []float64{2, -3}, []float64{-1, 4}, 1},
	}
	const h = 1e-6
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(tt.rc)
			dc, dr := make([]float64, n), make([]float64, n)
			BTLoss(tt.rc, tt.rr, tt.l2, dc, dr)
			check := func(x []float64, g []float64, which string) {
				for i := range x {
					orig := x[i]
					x[i] = orig + h
					up := BTLoss(tt.rc, tt.rr, tt.l2, nil, nil)
					x[i] = orig - h
					down := BTLoss(tt.rc, tt.rr, tt.l2, nil, nil)
					x[i] = orig
					fd := (up - down) / (2 * h)
					if math.Abs(fd-g[i]) > 1e-6 {
						t.Errorf("d/d%s[%d]: analytic %.9f, finite difference %.9f", which, i, g[i], fd)
					}
				}
			}
			check(tt.rc, dc, "rc")
			check(tt.rr, dr, "rr")
		})
	}
}

func FuzzBTLoss(f *testing.F) {
	f.Add(0.0, 0.0, 0.0)
	f.Add(1e100, -1e100, 0.0)
	f.Add(3.0, -2.0, 0.5)
	f.Fuzz(func(t *testing.T, c, r, l2 float64) {
		if math.IsNaN(c) || math.IsNaN(r) || math.IsInf(c, 0) || math.IsInf(r, 0) || !(l2 >= 0 && l2 < 1e6) {
			t.Skip()
		}
		if math.Abs(c) > 1e150 || math.Abs(r) > 1e150 { // keep c−r and c² finite
			t.Skip()
		}
		dc, dr := make([]float64, 1), make([]float64, 1)
		l := BTLoss([]float64{c}, []float64{r}, l2, dc, dr)
		if math.IsNaN(l) || l < 0 {
			t.Fatalf("BTLoss(%g, %g, %g) = %g", c, r, l2, l)
		}
		// Without L2 the pair's gradients are opposite and |g| ≤ 1.
		if l2 == 0 && (dc[0] != -dr[0] || math.Abs(dc[0]) > 1) {
			t.Fatalf("gradients %g, %g", dc[0], dr[0])
		}
	})
}
