package rm_test

import (
	"fmt"

	"github.com/grao-lab/grao/rewards/rm"
)

// The Bradley–Terry loss of one pair whose chosen answer scores 1 above
// the rejected one, and its gradient.
func ExampleBTLoss() {
	dc, dr := make([]float64, 1), make([]float64, 1)
	loss := rm.BTLoss([]float64{1.5}, []float64{0.5}, 0, dc, dr)
	fmt.Printf("loss %.6f, dL/drc %.6f, dL/drr %.6f\n", loss, dc[0], dr[0])
	// Output: loss 0.313262, dL/drc -0.268941, dL/drr 0.268941
}

// The reward is read at the EOS of BOS + prompt + answer + EOS; a long
// prompt loses its beginning first.
func ExampleTokens() {
	ids, cut := rm.Tokens("Human: hi\nAssistant:", " Hello!", 12)
	fmt.Println(ids, cut)
	// Output: [256 110 116 58 32 72 101 108 108 111 33 257] true
}
