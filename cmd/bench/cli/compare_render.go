package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"
)

// heading says which prompts are shown, out of how many.
func (t *compareTable) heading() string {
	first := t.runs[0]
	h := fmt.Sprintf("%d of %d prompts", len(t.rows), t.matching)
	if t.filter != "" {
		h += " " + t.filter
	}
	if t.offset > 0 {
		h += fmt.Sprintf(", after the first %d", t.offset)
	}
	if t.matching != t.total {
		h += fmt.Sprintf(" (%d in all)", t.total)
	}
	return fmt.Sprintf("%s · task %s · split %s · base: the starting model of %s", h, first.ev.Task, first.ev.Split, first.trial)
}

// compareSummary is one line of the table under the prompts: a column's
// mean reward and RAS over the shown prompts.
type compareSummary struct{ run, trial, reward, ras string }

// summaries gives the base column first, then the runs in column order.
func (t *compareTable) summaries() []compareSummary {
	type stat struct {
		reward float64
		wins   int
	}
	stats := make([]stat, 1+len(t.runs))
	for _, r := range t.rows {
		for k, c := range append([]compareCell{r.base}, r.cells...) {
			stats[k].reward += c.judge
			if c.judge > 0 {
				stats[k].wins++
			}
		}
	}
	n := len(t.rows)
	out := make([]compareSummary, len(stats))
	for k, s := range stats {
		out[k] = compareSummary{
			// Signed, so that a column of mean rewards lines up.
			reward: fmt.Sprintf("%+.3f", s.reward/float64(n)),
			ras:    fmt.Sprintf("%.1f%% (%d/%d)", 100*float64(s.wins)/float64(n), s.wins, n),
		}
		if k == 0 {
			out[k].run, out[k].trial = "base", "start of "+t.runs[0].trial
		} else {
			out[k].run, out[k].trial = t.runs[k-1].title, t.runs[k-1].trial
		}
	}
	return out
}

// judgeString prints a judge reward: −1, 0 and +1 without decimals.
func judgeString(v float64) string {
	if v == 0 {
		return "0"
	}
	return fmt.Sprintf("%+g", v)
}

func scoreString(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

func (t *compareTable) renderMarkdown(w io.Writer) {
	fmt.Fprintf(w, "%s\n\n", t.heading())
	head := []string{"#"}
	align := []string{"--:"}
	if t.hasKinds {
		head, align = append(head, "kind"), append(align, "---")
	}
	head = append(head, "prompt", "reference", "base")
	align = append(align, "---", "---", "---")
	for _, r := range t.runs {
		head, align = append(head, mdEscape(r.title)), append(align, "---")
	}
	mdRow(w, head)
	mdRow(w, align)
	for _, r := range t.rows {
		cells := []string{strconv.Itoa(r.line)}
		if t.hasKinds {
			cells = append(cells, mdEscape(r.kind))
		}
		cells = append(cells, mdText(r.prompt), mdText(r.reference), mdCell(r.base))
		for _, c := range r.cells {
			cells = append(cells, mdCell(c))
		}
		mdRow(w, cells)
	}
	fmt.Fprintf(w, "\nA cell is the completion, its judge reward against the reference (−1, 0, +1) and its score; ∅ is an empty completion, ␠ a space of a blank one. RAS is the share of these prompts whose reward is +1.\n\n")
	mdRow(w, []string{"run", "trial", "mean reward", "RAS"})
	mdRow(w, []string{"---", "---", "--:", "--:"})
	for _, s := range t.summaries() {
		mdRow(w, []string{mdEscape(s.run), mdEscape(s.trial), s.reward, s.ras})
	}
	for _, n := range t.notes {
		fmt.Fprintf(w, "\nNote: %s.\n", mdEscape(n))
	}
}

func mdRow(w io.Writer, cells []string) {
	fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
}

func mdCell(c compareCell) string {
	s := mdText(c.text) + "<br>**" + judgeString(c.judge) + "**"
	if c.hasScore {
		s += " · " + scoreString(c.score)
	}
	return s
}

// mdText makes a completion safe in a table cell: one line, no Markdown or
// HTML of its own, and visible when it is empty or only blanks.
func mdText(s string) string {
	s = visible(s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		// Markdown drops a cell's outer blanks anyway; blank completions
		// were made visible above.
		lines[i] = mdEscape(strings.TrimSpace(l))
	}
	return strings.Join(lines, "<br>")
}

var mdReplacer = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", `\<`, ">", `\>`, "|", `\|`, "~", `\~`, "&", "&amp;",
)

func mdEscape(s string) string { return mdReplacer.Replace(s) }

// visible shows what a terminal or a Markdown viewer would hide: an empty
// completion, one of blanks only, and control characters.
func visible(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	if s == "" {
		return "∅"
	}
	blank := strings.TrimSpace(s) == ""
	var b strings.Builder
	for _, r := range s {
		switch {
		case blank && r == ' ':
			b.WriteString("␠")
		case blank && r == '\n':
			b.WriteString("⏎")
		case r == '\t':
			b.WriteString("⇥")
		case r == '\n':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (t *compareTable) renderText(w io.Writer, width int) {
	fmt.Fprintf(w, "%s\n", t.heading())
	names := []string{"prompt", "reference", "base"}
	for _, r := range t.runs {
		names = append(names, r.title)
	}
	nameW := 0
	for _, n := range names {
		nameW = max(nameW, utf8.RuneCountInString(n))
	}
	judgeW, scoreW := 1, 4
	for _, r := range t.rows {
		judgeW = max(judgeW, utf8.RuneCountInString(judgeString(r.base.judge)))
		for _, c := range r.cells {
			judgeW = max(judgeW, utf8.RuneCountInString(judgeString(c.judge)))
			scoreW = max(scoreW, len(scoreString(c.score)))
		}
	}
	textCol := nameW + 2 + judgeW + 2 + scoreW + 2
	wrapAt := max(width-textCol, 20)
	block := func(left, text string) {
		for i, l := range wrapText(visible(text), wrapAt) {
			if i > 0 {
				left = ""
			}
			fmt.Fprintf(w, "%s%s\n", padRight(left, textCol), l)
		}
	}
	for _, r := range t.rows {
		fmt.Fprintf(w, "\n#%d", r.line)
		if r.kind != "" {
			fmt.Fprintf(w, " · %s", r.kind)
		}
		fmt.Fprintln(w)
		block("prompt", r.prompt)
		block("reference", r.reference)
		cell := func(name string, c compareCell) {
			sc := ""
			if c.hasScore {
				sc = scoreString(c.score)
			}
			block(fmt.Sprintf("%s  %*s  %*s", padRight(name, nameW), judgeW, judgeString(c.judge), scoreW, sc), c.text)
		}
		cell("base", r.base)
		for k, c := range r.cells {
			cell(t.runs[k].title, c)
		}
	}
	plural := "s"
	if len(t.rows) == 1 {
		plural = ""
	}
	fmt.Fprintf(w, "\nover the %d prompt%s shown (reward: judge against the reference; RAS: share of +1)\n", len(t.rows), plural)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "run\tmean reward\tRAS\ttrial")
	for _, s := range t.summaries() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.run, s.reward, s.ras, s.trial)
	}
	tw.Flush()
	for _, n := range t.notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

func padRight(s string, n int) string {
	if k := utf8.RuneCountInString(s); k < n {
		return s + strings.Repeat(" ", n-k)
	}
	return s
}

// wrapText splits text into lines of at most width runes, at the last
// space that fits where there is one; its own line breaks stay.
func wrapText(s string, width int) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		r := []rune(line)
		for len(r) > width {
			cut, skip := width, 0
			for i := width; i > 0; i-- {
				if r[i] == ' ' {
					cut, skip = i, 1
					break
				}
			}
			out = append(out, string(r[:cut]))
			r = r[cut+skip:]
		}
		out = append(out, string(r))
	}
	return out
}
