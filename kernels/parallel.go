package kernels

import (
	"runtime"
	"sync"
)

// minElementwise is the element count below which an element-wise kernel
// runs in the caller's goroutine: a goroutine fan-out costs a few µs.
const minElementwise = 1 << 15

// ParallelFor is parallelFor for other packages' element-wise loops (the
// optimiser's update, bias rows): fn(lo, hi) must compute each index of
// [lo, hi) independently; work is the elements the whole call touches.
func ParallelFor(n, work int, fn func(lo, hi int)) { parallelFor(n, work, fn) }

// parallelFor splits [0, n) into one contiguous chunk per core and runs fn
// on each when the call touches at least minElementwise elements (work);
// every index is computed independently, so the result equals fn(0, n).
func parallelFor(n, work int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers < 2 || work < minElementwise {
		fn(0, n)
		return
	}
	chunk := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}
