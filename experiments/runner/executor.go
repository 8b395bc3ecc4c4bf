package runner

import (
	"context"
	"sync"

	"github.com/grao-lab/grao/experiments/sweep"
)

// Executor runs trials. Local is the in-process worker pool; a cluster
// engine implements the same contract (each trial's files land in the
// shared sweep directory).
type Executor interface {
	// Execute calls run for every trial, at most its parallelism at a
	// time, and returns when all have finished or ctx is done. Errors of
	// single trials are recorded by run itself, not returned.
	Execute(ctx context.Context, trials []sweep.Trial, run func(context.Context, sweep.Trial)) error
}

// Local runs trials on a pool of Workers goroutines in this process. Each
// trial builds its own graphs and weights, as gorgonia requires.
type Local struct{ Workers int }

// Execute implements Executor.
func (l Local) Execute(ctx context.Context, trials []sweep.Trial, run func(context.Context, sweep.Trial)) error {
	jobs := make(chan sweep.Trial)
	var wg sync.WaitGroup
	for w := 0; w < max(l.Workers, 1); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for tr := range jobs {
				run(ctx, tr)
			}
		}()
	}
feed:
	for _, tr := range trials {
		select {
		case jobs <- tr:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	return ctx.Err()
}
