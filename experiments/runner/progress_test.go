package runner

import (
	"bytes"
	"strings"
	"testing"
)

// On a terminal every status line replaces the previous one: each
// starting trial clears the line before writing the next status.
func TestProgressRedraw(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, true, 3, 0)
	p.begin("a")
	p.begin("b")
	p.end("a", nil)
	p.finish()
	out := buf.String()
	// What a terminal shows: apply carriage returns, keep the last line.
	screen := ""
	for _, part := range strings.Split(out, "\n") {
		if i := strings.LastIndex(part, "\r"); i >= 0 {
			part = part[i+1:]
		}
		if part != "" {
			screen = part
		}
	}
	if n := strings.Count(out, "ETA"); n != 3 {
		t.Fatalf("%d status lines in %q, want 3", n, out)
	}
	// Each status line starts a line or follows a clear; one written
	// straight after another leaves both on the screen.
	for i := 0; i < len(out); {
		j := strings.Index(out[i:], "/3 done")
		if j < 0 {
			break
		}
		start := strings.LastIndex(out[:i+j], "[")
		if start > 0 && out[start-1] != '\n' && out[start-1] != '\r' {
			t.Errorf("status line drawn beside another: %q", out[max(0, start-60):i+j+7])
		}
		i += j + 1
	}
	if !strings.HasPrefix(screen, "done   a") {
		t.Errorf("last visible line %q", screen)
	}
}

// A long trial is never silent: a log gets a line at every tenth of its
// steps, and a terminal's status line shows each running trial's step and
// an ETA before the first trial ends.
func TestProgressSteps(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, false, 2, 0)
	p.begin("a")
	for s := 1; s <= 200; s++ {
		p.step("a", s, 200)
	}
	p.end("a", nil)
	if n := strings.Count(buf.String(), "step   a "); n != 10 {
		t.Errorf("%d step lines for 200 steps, want 10:\n%s", n, buf.String())
	}
	if !strings.Contains(buf.String(), "step   a 20/200") || !strings.Contains(buf.String(), "step   a 200/200") {
		t.Errorf("step lines at the wrong steps:\n%s", buf.String())
	}
	buf.Reset()
	p = newProgress(&buf, true, 2, 0)
	p.begin("a")
	p.step("a", 50, 200)
	if out := buf.String(); !strings.Contains(out, "a 50/200") || strings.Contains(out[strings.LastIndex(out, "["):], "ETA ?") {
		t.Errorf("status line %q: want the step and an ETA from the partial work", out[strings.LastIndex(out, "["):])
	}
}
