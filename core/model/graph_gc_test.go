package model

import (
	"runtime"
	"testing"
	"weak"

	G "gorgonia.org/gorgonia"

	"github.com/grao-lab/grao/kernels/ops"
)

// compiledCycle builds, compiles and runs a graph whose loss closure leads
// back to the graph, as a trainer's does (its loss method holds the
// trainer, which holds its graphs), and returns only a weak pointer to it.
func compiledCycle(t *testing.T) weak.Pointer[Graph] {
	t.Helper()
	p, err := Init(testConfig(), 1)
	if err != nil {
		t.Fatal(err)
	}
	gr, err := NewGraph(p, 2, 8, G.Float32)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := ops.Loss("cycle", func(in, grad [][]float64) float64 {
		var s float64
		for i, v := range in[0][:gr.Batch*gr.Seq] {
			s += v
			grad[0][i] = 1
		}
		return s
	}, gr.LogP)
	if err != nil {
		t.Fatal(err)
	}
	if err := gr.Compile(loss); err != nil {
		t.Fatal(err)
	}
	if _, err := gr.Load([]Sequence{{Tokens: []int{1, 5, 6, 7}, Start: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := gr.Run(); err != nil {
		t.Fatal(err)
	}
	return weak.Make(gr)
}

// A compiled graph that nothing references any more is collected, even
// when its loss op leads back to it: gorgonia's finalizer on the tape
// machine would otherwise keep the whole cycle (graph, weights, buffers)
// alive forever, which leaked every finished trial's trainer in a sweep.
func TestCompiledGraphIsCollected(t *testing.T) {
	w := compiledCycle(t)
	for range 5 {
		runtime.GC()
		if w.Value() == nil {
			return
		}
	}
	t.Fatal("a compiled graph no longer referenced is still live after 5 GCs")
}
