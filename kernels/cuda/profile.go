//go:build grao_cuda

package cuda

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"gorgonia.org/cu"
)

// EnvProfile names the file for a profile of the GPU's time: with it set,
// every call the engines make on the device (kernel, GEMM, copy, memset)
// is bracketed by two CUDA events, and the process's totals by call are
// rewritten to the file after each batch of work. "%p" in the name
// becomes the process id (bench speed measures each model in a process of
// its own). The events cost the host a few microseconds per call, so wall
// times under a profile are not the engine's; the GPU times are.
const EnvProfile = "GRAO_CUDA_PROFILE"

// profiler is one device's events: a pool, and the calls timed since the
// last synchronisation.
type profiler struct {
	free  []cu.Event
	marks []mark
}

type mark struct {
	name       string
	start, end cu.Event
}

// callTime is what one kind of call cost in all.
type callTime struct {
	name  string
	calls int
	ms    float64
}

// profile is the process's totals, shared by its devices.
var profile = struct {
	sync.Mutex
	path   string
	began  time.Time
	syncs  int
	totals map[string]*callTime
}{path: strings.ReplaceAll(os.Getenv(EnvProfile), "%p", strconv.Itoa(os.Getpid()))}

// newProfiler is nil unless EnvProfile is set.
func newProfiler() *profiler {
	if profile.path == "" {
		return nil
	}
	return &profiler{}
}

func (p *profiler) event() (cu.Event, error) {
	if n := len(p.free); n > 0 {
		ev := p.free[n-1]
		p.free = p.free[:n-1]
		return ev, nil
	}
	ev, err := cu.MakeEvent(cu.DefaultEvent)
	if err != nil {
		return ev, fmt.Errorf("cuda: profile: creating an event: %w", err)
	}
	return ev, nil
}

// tick records the start of a call and returns its mark, or -1 when not
// profiling.
func (q *queue) tick() int {
	p := q.dv.prof
	if p == nil || q.err != nil {
		return -1
	}
	ev, err := p.event()
	if err == nil {
		err = ev.Record(cu.NoStream)
	}
	if err != nil {
		q.fail(err)
		return -1
	}
	p.marks = append(p.marks, mark{start: ev})
	return len(p.marks) - 1
}

// tock records the end of the call tick started.
func (q *queue) tock(i int, name string) {
	if i < 0 || q.err != nil {
		return
	}
	p := q.dv.prof
	ev, err := p.event()
	if err == nil {
		err = ev.Record(cu.NoStream)
	}
	if err != nil {
		q.fail(err)
		return
	}
	p.marks[i].name, p.marks[i].end = name, ev
}

// collect adds the calls timed since the last synchronisation (the GPU is
// done with them) to the totals and rewrites the profile file.
func (p *profiler) collect() error {
	defer func() {
		for _, m := range p.marks {
			p.free = append(p.free, m.start)
			if m.name != "" {
				p.free = append(p.free, m.end)
			}
		}
		p.marks = p.marks[:0]
	}()
	profile.Lock()
	defer profile.Unlock()
	if profile.totals == nil {
		profile.totals, profile.began = map[string]*callTime{}, time.Now()
	}
	profile.syncs++
	for _, m := range p.marks {
		if m.name == "" {
			continue // the call failed; its error is the queue's
		}
		ms, err := m.start.Elapsed(m.end)
		if err != nil {
			return fmt.Errorf("cuda: profile: timing %s: %w", m.name, err)
		}
		t := profile.totals[m.name]
		if t == nil {
			t = &callTime{name: m.name}
			profile.totals[m.name] = t
		}
		t.calls++
		t.ms += ms
	}
	return writeProfile()
}

// writeProfile replaces the profile file with the totals, the costliest
// call first. The caller holds profile's lock.
func writeProfile() error {
	ts := make([]*callTime, 0, len(profile.totals))
	var calls int
	var ms float64
	for _, t := range profile.totals {
		ts = append(ts, t)
		calls += t.calls
		ms += t.ms
	}
	slices.SortFunc(ts, func(a, b *callTime) int { return cmp.Or(cmp.Compare(b.ms, a.ms), strings.Compare(a.name, b.name)) })
	var sb strings.Builder
	fmt.Fprintf(&sb, "# grao CUDA engine profile, process %d: GPU time by call, between CUDA events around each\n", os.Getpid())
	fmt.Fprintf(&sb, "# %d synchronisations, %d calls, %.3f ms on the GPU in %.3f s\n", profile.syncs, calls, ms, time.Since(profile.began).Seconds())
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ms\tshare\tcalls\tµs/call\t  call")
	for _, t := range ts {
		fmt.Fprintf(tw, "%.3f\t%.1f%%\t%d\t%.1f\t  %s\n", t.ms, 100*t.ms/max(ms, 1e-12), t.calls, 1e3*t.ms/float64(t.calls), t.name)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	tmp := profile.path + ".tmp"
	if err := os.WriteFile(tmp, []byte(sb.String()), 0o644); err != nil {
		return fmt.Errorf("cuda: profile: %w", err)
	}
	if err := os.Rename(tmp, profile.path); err != nil {
		return fmt.Errorf("cuda: profile: %w", err)
	}
	return nil
}

// release destroys the pool's events when the device closes.
func (p *profiler) release() {
	for _, ev := range p.free {
		cu.DestroyEvent(&ev)
	}
	p.free = nil
}
