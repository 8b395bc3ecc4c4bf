package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// barRefresh is how often the bars are redrawn: live enough to follow a
// trial, slow enough not to flood a remote terminal (ssh, tmux).
const barRefresh = 150 * time.Millisecond

// barWidth caps the drawn part of a bar; on a narrow terminal mpb shrinks
// it first and then cuts the text, so the numbers outlive the graphics.
const barWidth = 30

// workScale turns the sweep's fractional work (trials done plus the
// running trials' shares of their steps) into the integers mpb draws.
const workScale = 1000

// progress reports trials done / running / failed with an ETA: live mpb
// bars on a terminal, plain log lines otherwise. Logs, CI and users grep
// the plain lines, so that path writes them itself, byte for byte.
type progress struct {
	// out orders the output and guards the display: bars, sweep,
	// finished and each trial's bar.
	out sync.Mutex
	// mu guards the counts and the trials' steps. mpb's render goroutines
	// read them through the decorators, so mu is never held while calling
	// into mpb: a call that waits for a render waiting for mu would hang.
	mu      sync.Mutex
	w       io.Writer
	tty     bool
	total   int
	done    int
	failed  int
	skipped int
	running map[string]*trialProgress
	start   time.Time
	// phase prefixes every line and bar name ("select: " in a selection
	// phase).
	phase string

	// bars starts with the first trial, so a sweep with nothing to run,
	// or one that stops before its first trial, never leaves a display
	// running; finish stops it and nothing is drawn afterwards.
	bars     *mpb.Progress
	sweep    *mpb.Bar
	finished bool
}

// trialProgress is one running trial's state.
type trialProgress struct {
	began time.Time
	step  int
	total int
	loss  float64
	// first and last are when the first step (numbered firstStep) and the
	// latest were seen: the trial's ETA leaves out its setup (data, the
	// step-0 evaluation), which would make early estimates far too long.
	first, last time.Time
	firstStep   int
	bar         *mpb.Bar
}

func newProgress(w io.Writer, tty bool, total, skipped int) *progress {
	return &progress{w: w, tty: tty, total: total, skipped: skipped,
		running: map[string]*trialProgress{}, start: time.Now()}
}

func (p *progress) begin(id string) {
	p.out.Lock()
	defer p.out.Unlock()
	tp := &trialProgress{began: time.Now()}
	p.mu.Lock()
	p.running[id] = tp
	p.mu.Unlock()
	if !p.tty {
		fmt.Fprintf(p.w, "%sstart  %s\n", p.phase, id)
		return
	}
	if !p.startBars() {
		return
	}
	// The bar never completes by itself (total 0 disables that): end
	// aborts it, whatever the outcome, so mpb's Wait cannot hang on it.
	bar, err := p.bars.Add(0, mpb.BarStyle().Build(), mpb.BarWidth(barWidth),
		mpb.PrependDecorators(decor.Name(p.phase+id, decor.WCSyncSpaceR)),
		mpb.AppendDecorators(
			decor.Any(func(decor.Statistics) string { return p.trialSteps(tp) }, decor.WCSyncSpace),
			decor.Any(func(decor.Statistics) string { return p.trialETA(tp) }, decor.WCSyncSpace),
			decor.Any(func(decor.Statistics) string { return p.trialLoss(tp) }, decor.WC{C: decor.DextraSpace}),
		))
	if err == nil {
		tp.bar = bar
	}
}

// startBars starts the terminal display unless it runs or has finished;
// it reports whether the display runs. The caller holds out.
func (p *progress) startBars() bool {
	if p.bars != nil {
		return true
	}
	if p.finished {
		return false
	}
	// ForceTTY and WithAutoRefresh: the caller found a terminal, even when
	// w wraps it, so redraw in place on a timer rather than append frames.
	bars := mpb.New(mpb.WithOutput(p.w), mpb.ForceTTY(), mpb.WithAutoRefresh(), mpb.WithRefreshRate(barRefresh))
	// The sweep's bar sits below the trials' (largest priority) and is
	// the last to go: its removal makes mpb draw a final frame, which
	// erases the bars and flushes the lines written above them.
	sweep, err := bars.Add(0, mpb.BarStyle().Build(), mpb.BarWidth(barWidth),
		mpb.BarPriority(math.MaxInt), mpb.BarRemoveOnComplete(),
		mpb.PrependDecorators(decor.Name(p.phase+"sweep", decor.WCSyncSpaceR)),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return p.summary() })))
	if err != nil {
		bars.Shutdown()
		return false
	}
	// A total given to Add would complete the bar, and remove it, when the
	// last trial ends; one set without forcing never completes it, so the
	// bar stays until finish, whose completion brings the final frame.
	sweep.SetTotal(int64((p.total-p.skipped)*workScale), false)
	p.bars, p.sweep = bars, sweep
	return true
}

func (p *progress) end(id string, err error) {
	p.out.Lock()
	defer p.out.Unlock()
	p.mu.Lock()
	tp := p.running[id]
	var el time.Duration
	if tp != nil {
		el = time.Since(tp.began)
	}
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
	work := p.work()
	p.mu.Unlock()
	line := fmt.Sprintf("%s%s %s (%.0fs)", p.phase, word, id, el.Seconds())
	if err != nil {
		line += fmt.Sprintf(": %v", err)
	}
	p.println(line)
	if tp != nil && tp.bar != nil {
		tp.bar.Abort(true)
	}
	p.setWork(work)
}

// step records a running trial's training step. A terminal shows it in
// the trial's bar; a log gets a line at every tenth of the trial, so a
// long trial is never silent.
func (p *progress) step(id string, step, total int, loss float64) {
	if total <= 0 {
		return
	}
	p.out.Lock()
	defer p.out.Unlock()
	p.mu.Lock()
	tp := p.running[id]
	if tp == nil {
		p.mu.Unlock()
		return
	}
	prev, prevTotal := tp.step, tp.total
	now := time.Now()
	if tp.first.IsZero() {
		tp.first, tp.firstStep = now, step
	}
	tp.step, tp.total, tp.loss, tp.last = step, total, loss, now
	work := p.work()
	p.mu.Unlock()
	if !p.tty {
		if step*10/total > prev*10/total {
			fmt.Fprintf(p.w, "%sstep   %s %d/%d (%.0fs)\n", p.phase, id, step, total, now.Sub(tp.began).Seconds())
		}
		return
	}
	if tp.bar != nil {
		if total != prevTotal {
			tp.bar.SetTotal(int64(total), false)
		}
		tp.bar.SetCurrent(int64(step))
	}
	p.setWork(work)
}

// log prints a message line; on a terminal mpb puts it above the bars.
func (p *progress) log(format string, args ...any) {
	p.out.Lock()
	defer p.out.Unlock()
	p.println(fmt.Sprintf(p.phase+format, args...))
}

// finish stops the terminal display and returns once mpb has drawn its
// last frame. Bars of trials still running (an executor may return on
// cancellation before its trials end) are dropped; such trials' ends then
// print plain lines.
func (p *progress) finish() {
	p.out.Lock()
	defer p.out.Unlock()
	p.finished = true
	bars, sweep := p.bars, p.sweep
	p.bars, p.sweep = nil, nil
	if bars == nil {
		return
	}
	var left []*mpb.Bar
	p.mu.Lock()
	for _, tp := range p.running {
		if tp.bar != nil {
			left = append(left, tp.bar)
			tp.bar = nil
		}
	}
	p.mu.Unlock()
	for _, b := range left {
		b.Abort(true)
	}
	// Complete the sweep's bar at whatever it reached: mpb's Wait waits
	// for every bar to complete or abort.
	sweep.SetTotal(-1, true)
	bars.Wait()
}

// println writes a line above the bars while they run, else to w. A
// display that stopped on its own (a render error) refuses the line,
// which then goes to w rather than being lost. The caller holds out.
func (p *progress) println(line string) {
	if p.bars != nil {
		if _, err := io.WriteString(p.bars, line+"\n"); err == nil {
			return
		}
	}
	io.WriteString(p.w, line+"\n")
}

// setWork moves the sweep's bar. The caller holds out, so two trials'
// steps cannot move it backwards.
func (p *progress) setWork(work float64) {
	if p.sweep != nil {
		p.sweep.SetCurrent(int64(work * workScale))
	}
}

// work is the trials done plus the running trials' shares of their steps,
// so the ETA moves before the first trial ends. The caller holds mu.
func (p *progress) work() float64 {
	work := float64(p.done)
	for _, tp := range p.running {
		if tp.total > 0 {
			work += float64(tp.step) / float64(tp.total)
		}
	}
	return work
}

// summary is the sweep's line, drawn beside its bar.
func (p *progress) summary() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	todo := p.total - p.skipped
	work := p.work()
	eta := "?"
	if work > 0 {
		left := time.Duration(float64(time.Since(p.start)) / work * (float64(todo) - work))
		eta = left.Round(time.Second).String()
	}
	return fmt.Sprintf("[%d/%d done, %d running, %d failed, %d skipped] ETA %s",
		p.done, todo, len(p.running), p.failed, p.skipped, eta)
}

func (p *progress) trialSteps(tp *trialProgress) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if tp.total == 0 {
		return "0/?"
	}
	return fmt.Sprintf("%d/%d", tp.step, tp.total)
}

func (p *progress) trialETA(tp *trialProgress) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if tp.step <= tp.firstStep {
		return "ETA ?"
	}
	per := tp.last.Sub(tp.first) / time.Duration(tp.step-tp.firstStep)
	return "ETA " + (per * time.Duration(tp.total-tp.step)).Round(time.Second).String()
}

func (p *progress) trialLoss(tp *trialProgress) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if tp.total == 0 {
		return ""
	}
	return fmt.Sprintf("loss %.4f", tp.loss)
}
