package sweep_test

import (
	"fmt"
	"log"

	"github.com/grao-lab/grao/experiments/sweep"
)

func Example() {
	src := `
name = "demo"
seeds = [1, 2]
[task]
name = "arith"
[train]
steps = 20
[[algorithm]]
name = "grpo"
g = 4
[[algorithm]]
name = "grao"
[sweep]
"algorithm.grao.beta" = [0.3, 0.5]
`
	s, err := sweep.Parse([]byte(src), "demo.toml")
	if err != nil {
		log.Fatal(err)
	}
	trials, err := s.Expand()
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range trials {
		fmt.Println(t.Label, t.Seed, t.Params["beta"], t.Varying, t.Train.EvalEvery)
	}
	// Output:
	// grpo 1 <nil> map[] 1
	// grpo 2 <nil> map[] 1
	// grao 1 0.3 map[algorithm.grao.beta:0.3] 1
	// grao 2 0.3 map[algorithm.grao.beta:0.3] 1
	// grao 1 0.5 map[algorithm.grao.beta:0.5] 1
	// grao 2 0.5 map[algorithm.grao.beta:0.5] 1
}

func ExampleError() {
	_, err := sweep.Parse([]byte("name = \"x\"\nseeds = [1]\n[train]\nsteps = -3\n[task]\nname = \"arith\"\n[[algorithm]]\nname = \"sft\"\n"), "x.toml")
	fmt.Println(err)
	// Output: x.toml:4: train.steps: must be ≥ 1, got -3
}
