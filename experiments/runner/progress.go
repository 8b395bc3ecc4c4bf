package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress reports trials done / running / failed with an ETA: a
// rewritten status line on a terminal, plain log lines otherwise.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	total    int
	done     int
	failed   int
	skipped  int
	running  map[string]time.Time
	start    time.Time
	lastLine int
	// phase prefixes every line ("select: " in a selection phase).
	phase string
}

func newProgress(w io.Writer, tty bool, total, skipped int) *progress {
	return &progress{w: w, tty: tty, total: total, skipped: skipped, running: map[string]time.Time{}, start: time.Now()}
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
	eta := "?"
	if p.done > 0 {
		per := time.Since(p.start) / time.Duration(p.done)
		eta = (per * time.Duration(todo-p.done)).Round(time.Second).String()
	}
	line := fmt.Sprintf("[%d/%d done, %d running, %d failed, %d skipped] ETA %s",
		p.done, todo, len(p.running), p.failed, p.skipped, eta)
	fmt.Fprint(p.w, line)
	p.lastLine = len(line)
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
}
