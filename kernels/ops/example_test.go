package ops_test

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/grao-lab/grao/kernels/ops"
)

// A negative log-likelihood over two positions of a 3-token vocabulary:
// LogProbs gathers the targets' log-probabilities, Loss turns them into a
// scalar with a hand-written gradient, and G.Grad differentiates through
// both.
func Example() {
	g := G.NewGraph()
	logits := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 3), G.WithName("logits"),
		G.WithValue(tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 2, 3, 0, 0, 0}))))
	targets := &ops.Index{}
	lp, err := ops.LogProbs(logits, targets)
	if err != nil {
		panic(err)
	}
	nll, err := ops.Loss("nll", func(in, grads [][]float64) float64 {
		var l float64
		for i, v := range in[0] {
			l -= v / float64(len(in[0]))
			grads[0][i] = -1 / float64(len(in[0]))
		}
		return l
	}, lp)
	if err != nil {
		panic(err)
	}
	if _, err := G.Grad(nll, logits); err != nil {
		panic(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(logits))
	defer vm.Close()

	targets.IDs = []int{2, 0} // set before every run
	if err := vm.RunAll(); err != nil {
		panic(err)
	}
	grad, _ := logits.Grad()
	fmt.Printf("loss %.4f\n", nll.Value().Data())
	fmt.Printf("dlogits %.4f\n", grad.Data())
	// Output:
	// loss 0.7531
	// dlogits [0.0450 0.1224 -0.1674 -0.3333 0.1667 0.1667]
}
