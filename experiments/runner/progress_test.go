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
