package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// progress reports trials done / running / failed with an ETA: a
// rewritten status line on a terminal, plain log lines otherwise.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	tty     bool
	total   int
	done    int
	failed  int
	skipped int
	running map[string]time.Time
	// steps is each running trial's training progress (step, of total).
	steps    map[string][2]int
	start    time.Time
	lastLine int
	// phase prefixes every line ("select: " in a selection phase).
	phase string
}

func newProgress(w io.Writer, tty bool, total, skipped int) *progress {
	return &progress{w: w, tty: tty, total: total, skipped: skipped, running: map[string]time.Time{},
		steps: map[string][2]int{}, start: time.Now()}
}

func (p *progress) begin(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running[id] = time.Now()
	if !p.tty {
		fmt.Fprintf(p.w, "%sstart  %s\n", p.phase, id)
	}
	p.clear() // the new status line replaces the old one
	p.status()
}

func (p *progress) end(id string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	el := time.Since(p.running[id])
	delete(p.running, id)
	delete(p.steps, id)
	p.done++
	word := "done  "
	switch {
	case errors.Is(err, context.Canceled):
		word = "interrupted"
	case err != nil:
		p.failed++
		word = "FAILED"
	}
	p.clear()
	fmt.Fprintf(p.w, "%s%s %s (%.0fs)", p.phase, word, id, el.Seconds())
	if err != nil {
		fmt.Fprintf(p.w, ": %v", err)
	}
	fmt.Fprintln(p.w)
	p.status()
}

// step records a running trial's training step. A terminal shows it in
// the status line; a log gets a line at every tenth of the trial, so a
// long trial is never silent.
func (p *progress) step(id string, step, total int) {
	if total <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	prev := p.steps[id][0]
	p.steps[id] = [2]int{step, total}
	if !p.tty {
		if step*10/total > prev*10/total {
			fmt.Fprintf(p.w, "%sstep   %s %d/%d (%.0fs)\n", p.phase, id, step, total, time.Since(p.running[id]).Seconds())
		}
		return
	}
	p.clear()
	p.status()
}

// log prints a message line without breaking the status line.
func (p *progress) log(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	fmt.Fprintf(p.w, p.phase+format+"\n", args...)
	p.status()
}

func (p *progress) clear() {
	if p.tty && p.lastLine > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.lastLine))
		p.lastLine = 0
	}
}

func (p *progress) status() {
	if !p.tty {
		return
	}
	todo := p.total - p.skipped
	// Work done counts the running trials' fractions of their steps, so
	// the ETA moves before the first trial ends.
	work := float64(p.done)
	var steps []string
	for _, id := range sortedIDs(p.steps) {
		st := p.steps[id]
		work += float64(st[0]) / float64(st[1])
		steps = append(steps, fmt.Sprintf("%s %d/%d", id, st[0], st[1]))
	}
	eta := "?"
	if work > 0 {
		left := time.Duration(float64(time.Since(p.start)) / work * (float64(todo) - work))
		eta = left.Round(time.Second).String()
	}
	line := fmt.Sprintf("[%d/%d done, %d running, %d failed, %d skipped] ETA %s",
		p.done, todo, len(p.running), p.failed, p.skipped, eta)
	if len(steps) > 0 {
		line += " · " + strings.Join(steps, ", ")
	}
	fmt.Fprint(p.w, line)
	p.lastLine = len(line)
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
}

func sortedIDs(m map[string][2]int) []string {
	out := make([]string, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}
