package kernels

import (
	"fmt"
	"testing"
)

var embedCases = []struct {
	vocab, t, d int
	ids         []int
}{
	{1, 1, 1, []int{0}},
	{5, 3, 4, []int{1, 1, 4, 0, 2, 1}}, // batch 2, repeated ids
	{7, 4, 9, []int{6, 0, 3}},          // partial last sequence
	{3, 2, 5, nil},
}

func TestEmbed(t *testing.T) {
	for _, c := range embedCases {
		t.Run(fmt.Sprintf("v%d_t%d_d%d", c.vocab, c.t, c.d), func(t *testing.T) {
			wte := fkRand(1, c.vocab*c.d, 1)
			wpe := fkRand(2, c.t*c.d, 1)
			want := make([]float64, len(c.ids)*c.d)
			for i, id := range c.ids {
				for j := 0; j < c.d; j++ {
					want[i*c.d+j] = wte[id*c.d+j] + wpe[(i%c.t)*c.d+j]
				}
			}
			h := make([]float64, len(want))
			Embed(h, wte, wpe, c.ids, c.t, c.d)
			fkClose(t, "h", h, want, 0, 0)

			dh := fkRand(3, len(want), 1)
			dwte := fkRand(4, len(wte), 1) // garbage: must be overwritten
			dwpe := fkRand(5, len(wpe), 1)
			EmbedBackward(dwte, dwpe, dh, c.ids, c.t, c.d)
			loss := func() float64 { Embed(h, wte, wpe, c.ids, c.t, c.d); return fkDot(h, dh) }
			fkGradCheck(t, "dwte", wte, dwte, loss)
			fkGradCheck(t, "dwpe", wpe, dwpe, loss)

			// A second call overwrites rather than accumulates; nil skips.
			EmbedBackward(dwte, nil, dh, c.ids, c.t, c.d)
			fkGradCheck(t, "dwte again", wte, dwte, loss)
		})
	}
}

func TestEmbedBadID(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || fmt.Sprint(r) != "kernels.Embed: ids[1] = 4 is out of range for a table of 4 rows" {
			t.Fatalf("panic = %v", r)
		}
	}()
	Embed(make([]float32, 4), make([]float32, 8), make([]float32, 4), []int{0, 4}, 2, 2)
}
