package rm

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/grao-lab/grao/core/optim"
	"github.com/grao-lab/grao/experiments/tasks"
)

func TestExplore(t *testing.T) {
	name := os.Getenv("RMTASK")
	if name == "" {
		t.Skip()
	}
	steps, _ := strconv.Atoi(os.Getenv("RMSTEPS"))
	lr, _ := strconv.ParseFloat(os.Getenv("RMLR"), 64)
	tk, err := tasks.Get(name, 1, tasks.WithSizes(2000, 200))
	if err != nil {
		t.Fatal(err)
	}
	oc := optim.DefaultConfig()
	oc.LR = lr
	cfg := Config{Model: tinyConfig(t), Steps: steps, Batch: 16, Optim: oc, Seed: 1, EvalEvery: 20}
	start := time.Now()
	_, ev, err := Train(context.Background(), cfg, tk.Train(), tk.Eval(), nil, func(p Progress) {
		if p.Eval != nil {
			t.Logf("step %d loss %.3f acc %.2f eval %.3f  %.1fs", p.Step, p.Loss, p.Accuracy, p.Eval.Accuracy, time.Since(start).Seconds())
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("final %+v", ev)
}
