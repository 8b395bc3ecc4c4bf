//go:build grao_cuda

package cuda

import (
	"sync"

	"gorgonia.org/cu"
)

// ledger counts the device memory the engines of this process hold, and
// its high-water mark: what bench speed reports beside PyTorch's
// torch.cuda.max_memory_allocated.
var ledger struct {
	sync.Mutex
	sizes      map[ptr]int64
	held, peak int64
}

// memAlloc is cu.MemAlloc, counted.
func memAlloc(size int64) (ptr, error) {
	p, err := cu.MemAlloc(size)
	if err != nil {
		return p, err
	}
	ledger.Lock()
	defer ledger.Unlock()
	if ledger.sizes == nil {
		ledger.sizes = map[ptr]int64{}
	}
	ledger.sizes[p] = size
	ledger.held += size
	ledger.peak = max(ledger.peak, ledger.held)
	return p, nil
}

// memFree is cu.MemFree, counted.
func memFree(p ptr) {
	cu.MemFree(p)
	ledger.Lock()
	defer ledger.Unlock()
	ledger.held -= ledger.sizes[p]
	delete(ledger.sizes, p)
}

// PeakDeviceMemory is the most device memory the process's CUDA engines
// held at once (weights, gradients, optimiser moments, activations and KV
// caches; not cuBLAS's own workspace), in bytes.
func PeakDeviceMemory() int64 {
	ledger.Lock()
	defer ledger.Unlock()
	return ledger.peak
}

// PeakDeviceMemory lets callers that only hold a core.Engine ask.
func (e *Engine) PeakDeviceMemory() int64 { return PeakDeviceMemory() }
