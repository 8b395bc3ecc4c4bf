package tensorboard_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/grao-lab/grao/experiments/tensorboard"
)

func Example() {
	logdir, err := os.MkdirTemp("", "tensorboard-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(logdir)

	// One directory per run; point `tensorboard --logdir` at their parent.
	w, err := tensorboard.Create(filepath.Join(logdir, "run1"))
	if err != nil {
		log.Fatal(err)
	}
	for step := int64(1); step <= 3; step++ {
		err := w.Scalars(step, map[string]float64{
			"train/loss":   1 / float64(step),
			"train/reward": 0.25 * float64(step),
		})
		if err == nil {
			err = w.Flush() // cheap; lets TensorBoard see the step now
		}
		if err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	// Read back what TensorBoard will see.
	f, err := os.Open(w.Path())
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	events, err := tensorboard.Read(f)
	if err != nil {
		log.Fatal(err)
	}
	for _, ev := range events {
		if v := ev.GetFileVersion(); v != "" {
			fmt.Println(v)
		}
		for _, v := range ev.GetSummary().GetValue() {
			fmt.Printf("step %d %s = %g\n", ev.Step, v.Tag, v.GetSimpleValue())
		}
	}
	// Output:
	// brain.Event:2
	// step 1 train/loss = 1
	// step 1 train/reward = 0.25
	// step 2 train/loss = 0.5
	// step 2 train/reward = 0.5
	// step 3 train/loss = 0.33333334
	// step 3 train/reward = 0.75
}
