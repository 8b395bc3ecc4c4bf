package runner

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// peakRSSMiB is the process's peak resident set size since it started
// (0 where unknown).
func peakRSSMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024 // kilobytes on Linux
}

// rssWatch samples the process's resident set size while a trial runs
// and keeps the largest: unlike the process's high-water mark, it does not
// carry the peaks of the trials that ran before. With other trials running
// beside it, the samples include them.
type rssWatch struct {
	stop chan struct{}
	done chan float64
}

// rssInterval is how often rssWatch samples.
const rssInterval = 100 * time.Millisecond

func watchRSS() *rssWatch {
	w := &rssWatch{stop: make(chan struct{}), done: make(chan float64, 1)}
	go func() {
		peak := currentRSSMiB()
		t := time.NewTicker(rssInterval)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				w.done <- max(peak, currentRSSMiB())
				return
			case <-t.C:
				peak = max(peak, currentRSSMiB())
			}
		}
	}()
	return w
}

// peak stops the sampling and returns the largest sample (0 where
// /proc is not available).
func (w *rssWatch) peak() float64 {
	close(w.stop)
	return <-w.done
}

// currentRSSMiB reads the resident set size from /proc/self/statm.
func currentRSSMiB() float64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseFloat(f[1], 64)
	if err != nil {
		return 0
	}
	return pages * float64(os.Getpagesize()) / (1 << 20)
}
