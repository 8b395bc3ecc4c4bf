package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// A long trial is never silent: a log gets a line at every tenth of its
// steps.
func TestProgressSteps(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, false, 2, 0)
	p.begin("a")
	for s := 1; s <= 200; s++ {
		p.step("a", s, 200, 0.5)
	}
	p.end("a", nil)
	if n := strings.Count(buf.String(), "step   a "); n != 10 {
		t.Errorf("%d step lines for 200 steps, want 10:\n%s", n, buf.String())
	}
	if !strings.Contains(buf.String(), "step   a 20/200") || !strings.Contains(buf.String(), "step   a 200/200") {
		t.Errorf("step lines at the wrong steps:\n%s", buf.String())
	}
}

// The plain lines are what logs, CI and users grep: they keep their exact
// form.
func TestProgressPlainLines(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, false, 4, 1)
	p.phase = "select: "
	p.log("resume: %d kept", 1)
	p.begin("a")
	p.begin("b")
	p.begin("c")
	p.end("b", errors.New("no data"))
	p.end("c", fmt.Errorf("trial c: %w", context.Canceled))
	p.end("a", nil)
	p.finish()
	got := elapsed.ReplaceAllString(buf.String(), "(Ns)")
	want := "select: resume: 1 kept\n" +
		"select: start  a\nselect: start  b\nselect: start  c\n" +
		"select: FAILED b (Ns): no data\n" +
		"select: interrupted c (Ns): trial c: context canceled\n" +
		"select: done   a (Ns)\n"
	if got != want {
		t.Errorf("plain output\n%s\nwant\n%s", got, want)
	}
}

// On a terminal each running trial has a bar with its step, ETA and loss
// above the sweep's bar; finished trials and messages become lines above
// the bars, and after finish only those lines are left on the screen.
func TestProgressBars(t *testing.T) {
	var out lockedBuffer
	p := newProgress(&out, true, 3, 1)
	p.phase = "select: "
	p.log("resume: %d kept", 1)
	p.begin("a")
	p.step("a", 40, 200, 0.5)
	p.step("a", 50, 200, 0.4312)
	live := waitScreen(t, &out, func(s []string) bool {
		return lineWith(s, "select: a ", "50/200", "ETA ", "loss 0.4312") != ""
	})
	if l := lineWith(live, "select: a "); strings.Contains(l, "ETA ?") {
		t.Errorf("trial bar %q: want an ETA from its steps", l)
	}
	sweep := lineWith(live, "select: sweep", "[0/2 done, 1 running, 0 failed, 1 skipped] ETA ")
	if sweep == "" || strings.Contains(sweep, "ETA ?") {
		t.Errorf("screen %q: want the sweep's line with an ETA from the partial work", live)
	}
	if i, j := slices.Index(live, lineWith(live, "select: a ")), slices.Index(live, sweep); i > j {
		t.Errorf("screen %q: the sweep's bar is above the trial's", live)
	}

	p.begin("b")
	p.end("b", errors.New("no data")) // failed before its first step
	p.log("note %d", 7)
	p.step("a", 200, 200, 0.25)
	p.end("a", nil)
	finishWithin(t, p)
	got := screen(elapsed.ReplaceAllString(out.String(), "(Ns)"))
	want := []string{"select: resume: 1 kept", "select: FAILED b (Ns): no data", "select: note 7", "select: done   a (Ns)"}
	if !slices.Equal(got, want) {
		t.Errorf("screen after finish %q, want %q", got, want)
	}
	n := out.Len()
	time.Sleep(3 * barRefresh)
	if out.Len() != n {
		t.Errorf("drawn after finish: %q", out.String()[n:])
	}
}

// finish never hangs: mpb waits for every bar, so each one must end
// whatever becomes of its trial.
func TestProgressFinish(t *testing.T) {
	for _, tc := range []struct {
		name           string
		total, skipped int
		run            func(p *progress)
		want           []string
	}{
		{"nothing to run", 0, 0, func(p *progress) {}, nil},
		{"all skipped", 2, 2, func(p *progress) { p.log("resume: kept") }, []string{"resume: kept"}},
		{"failed before its first step", 2, 0, func(p *progress) {
			p.begin("a")
			p.end("a", errors.New("bad config"))
		}, []string{"FAILED a (Ns): bad config"}},
		{"interrupted", 2, 0, func(p *progress) {
			p.begin("a")
			p.step("a", 3, 10, 1)
			p.begin("b")
			p.end("a", context.Canceled)
			p.end("b", context.Canceled)
		}, []string{"interrupted a (Ns): context canceled", "interrupted b (Ns): context canceled"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out lockedBuffer
			p := newProgress(&out, true, tc.total, tc.skipped)
			tc.run(p)
			finishWithin(t, p)
			if got := screen(elapsed.ReplaceAllString(out.String(), "(Ns)")); !slices.Equal(got, tc.want) {
				t.Errorf("screen %q, want %q", got, tc.want)
			}
		})
	}
	// An executor may return on cancellation before its trials end: their
	// ends come after finish and print plain lines.
	t.Run("trial ends after finish", func(t *testing.T) {
		var out lockedBuffer
		p := newProgress(&out, true, 1, 0)
		p.begin("a")
		p.step("a", 1, 10, 1)
		finishWithin(t, p)
		p.step("a", 2, 10, 1)
		p.end("a", context.Canceled)
		if got := screen(elapsed.ReplaceAllString(out.String(), "(Ns)")); !slices.Equal(got, []string{"interrupted a (Ns): context canceled"}) {
			t.Errorf("screen %q", got)
		}
	})
}

// A bar never grows past the terminal: mpb cuts its text to the width.
func TestProgressNarrow(t *testing.T) {
	var out lockedBuffer
	p := newProgress(&out, true, 1, 0)
	id := strings.Repeat("long-trial-name-", 8)
	p.begin(id)
	p.step(id, 5, 10, 0.1)
	live := waitScreen(t, &out, func(s []string) bool { return lineWith(s, "sweep") != "" && len(s) == 2 })
	for _, l := range live {
		// Without a terminal to ask, mpb draws 80 columns.
		if w := utf8.RuneCountInString(l); w > 80 {
			t.Errorf("%d columns: %q", w, l)
		}
	}
	finishWithin(t, p)
}

// elapsed matches a line's seconds, which vary with the machine.
var elapsed = regexp.MustCompile(`\(\d+s\)`)

// cursorUp is how mpb takes back its previous frame: up n lines, erase
// to the end of the screen.
var cursorUp = regexp.MustCompile(`\x1b\[(\d+)A\x1b\[J`)

// screen is the lines a terminal shows after out.
func screen(out string) []string {
	var lines []string
	for out != "" {
		text, rest, n := out, "", 0
		if m := cursorUp.FindStringSubmatchIndex(out); m != nil {
			text, rest = out[:m[0]], out[m[1]:]
			n, _ = strconv.Atoi(out[m[2]:m[3]])
		}
		lines = append(lines, strings.Split(strings.TrimSuffix(text, "\n"), "\n")...)
		if text == "" {
			lines = lines[:len(lines)-1]
		}
		lines = lines[:max(0, len(lines)-n)]
		out = rest
	}
	return lines
}

// lineWith returns the first line holding every part, or "".
func lineWith(lines []string, parts ...string) string {
	for _, l := range lines {
		ok := true
		for _, part := range parts {
			ok = ok && strings.Contains(l, part)
		}
		if ok {
			return l
		}
	}
	return ""
}

// waitScreen waits for mpb to draw a screen that ok accepts.
func waitScreen(t *testing.T, out *lockedBuffer, ok func([]string) bool) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := screen(out.String())
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("no such screen; last %q", s)
		}
		time.Sleep(barRefresh / 4)
	}
}

func finishWithin(t *testing.T, p *progress) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		p.finish()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("finish hangs")
	}
}

// lockedBuffer is written by mpb's goroutine while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Len()
}
