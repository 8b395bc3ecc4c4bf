package sweep

import (
	"strconv"
	"strings"
)

// The toml package keeps key positions private, so a small scanner finds
// the line of every key in a document that toml has already accepted. It
// does not validate anything: on valid TOML it records, for each key path,
// the line where the key (or table header) first appears; on anything else
// it still terminates (every step consumes input) and may record less.
//
// Paths are the key segments joined by pathSep; the n-th table of an array
// of tables ([[algorithm]]) contributes the segment "[n]" (0-based), so the
// strict decoder, which walks the decoded value, builds the same paths.

const pathSep = "\x00"

func joinPath(segs ...string) string { return strings.Join(segs, pathSep) }

func indexSeg(i int) string { return "[" + strconv.Itoa(i) + "]" }

type locator struct {
	lines  map[string]int // path -> first line
	arrays map[string]int // path of an array of tables -> tables seen so far

	src  string
	pos  int
	line int
}

func locate(src string) *locator {
	l := &locator{lines: map[string]int{}, arrays: map[string]int{}, src: src, line: 1}
	l.document()
	return l
}

// lineOf returns the line of path, or of its nearest recorded ancestor, or
// 0 when nothing matches.
func (l *locator) lineOf(segs ...string) int {
	if l == nil {
		return 0
	}
	for n := len(segs); n > 0; n-- {
		if ln, ok := l.lines[joinPath(segs[:n]...)]; ok {
			return ln
		}
	}
	return 0
}

func (l *locator) record(segs []string, line int) {
	for n := 1; n <= len(segs); n++ {
		k := joinPath(segs[:n]...)
		if _, ok := l.lines[k]; !ok {
			l.lines[k] = line
		}
	}
}

func (l *locator) eof() bool { return l.pos >= len(l.src) }

func (l *locator) peek() byte {
	if l.eof() {
		return 0
	}
	return l.src[l.pos]
}

func (l *locator) advance() {
	if l.src[l.pos] == '\n' {
		l.line++
	}
	l.pos++
}

// skipSpace skips blanks and, if nl, newlines and comments too.
func (l *locator) skipSpace(nl bool) {
	for !l.eof() {
		switch c := l.peek(); {
		case c == ' ' || c == '\t' || c == '\r':
			l.advance()
		case nl && c == '\n':
			l.advance()
		case nl && c == '#':
			l.skipComment()
		default:
			return
		}
	}
}

func (l *locator) skipComment() {
	for !l.eof() && l.peek() != '\n' {
		l.advance()
	}
}

func (l *locator) document() {
	var table []string
	for {
		l.skipSpace(true)
		if l.eof() {
			return
		}
		start := l.pos
		line := l.line
		if l.peek() == '[' {
			l.advance()
			array := l.peek() == '['
			if array {
				l.advance()
			}
			segs := l.key()
			table = l.resolveHeader(segs, array)
			l.record(table, line)
			// Skip "]" or "]]" and the rest of the line (a comment).
			l.skipLine()
		} else {
			segs := l.key()
			l.skipSpace(false)
			if l.peek() == '=' {
				l.advance()
				path := append(append([]string{}, table...), segs...)
				l.record(path, line)
				l.value(path)
			}
			l.skipLine()
		}
		if l.pos == start { // cannot happen on valid TOML; guarantees progress
			l.advance()
		}
	}
}

// resolveHeader turns a header's segments into a path: every prefix that
// names an array of tables refers to its last table, and a [[header]]
// starts a new one.
func (l *locator) resolveHeader(segs []string, array bool) []string {
	var path []string
	for i, s := range segs {
		path = append(path, s)
		k := joinPath(path...)
		last := i == len(segs)-1
		if last && array {
			n := l.arrays[k]
			l.arrays[k] = n + 1
			l.record(path, l.line) // the array itself
			path = append(path, indexSeg(n))
		} else if n, ok := l.arrays[k]; ok && n > 0 {
			path = append(path, indexSeg(n-1))
		}
	}
	return path
}

func (l *locator) skipLine() {
	for !l.eof() && l.peek() != '\n' {
		l.advance()
	}
}

// key reads a dotted key: bare, "basic" or 'literal' segments.
func (l *locator) key() []string {
	var segs []string
	for {
		l.skipSpace(false)
		switch c := l.peek(); {
		case c == '"':
			segs = append(segs, l.basicString())
		case c == '\'':
			segs = append(segs, l.literalString())
		case isBare(c):
			s := l.pos
			for !l.eof() && isBare(l.peek()) {
				l.advance()
			}
			segs = append(segs, l.src[s:l.pos])
		default:
			return segs
		}
		l.skipSpace(false)
		if l.peek() != '.' {
			return segs
		}
		l.advance()
	}
}

func isBare(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

func (l *locator) basicString() string {
	s := l.pos
	l.advance() // opening quote
	for !l.eof() && l.peek() != '"' && l.peek() != '\n' {
		if l.peek() == '\\' {
			l.advance()
			if l.eof() {
				break
			}
		}
		l.advance()
	}
	if !l.eof() && l.peek() == '"' {
		l.advance()
	}
	raw := l.src[s:l.pos]
	if u, err := strconv.Unquote(raw); err == nil {
		return u
	}
	return strings.Trim(raw, `"`)
}

func (l *locator) literalString() string {
	l.advance()
	s := l.pos
	for !l.eof() && l.peek() != '\'' && l.peek() != '\n' {
		l.advance()
	}
	out := l.src[s:l.pos]
	if !l.eof() && l.peek() == '\'' {
		l.advance()
	}
	return out
}

// multiline skips a multi-line string (three quotes or three
// apostrophes); the opening delimiter is at pos.
func (l *locator) multiline(q byte) {
	for range 3 {
		l.advance()
	}
	for !l.eof() {
		c := l.peek()
		if q == '"' && c == '\\' {
			l.advance()
			if !l.eof() {
				l.advance()
			}
			continue
		}
		if c == q && strings.HasPrefix(l.src[l.pos:], strings.Repeat(string(q), 3)) {
			for range 3 {
				l.advance()
			}
			// Up to two more quotes belong to the content ("""a"""").
			for range 2 {
				if l.peek() == q {
					l.advance()
				}
			}
			return
		}
		l.advance()
	}
}

// value skips one value. Keys inside an inline table are recorded under
// path; path is nil inside arrays, whose tables have no stable key path.
func (l *locator) value(path []string) {
	l.skipSpace(false)
	switch c := l.peek(); c {
	case '"', '\'':
		if strings.HasPrefix(l.src[l.pos:], strings.Repeat(string(c), 3)) {
			l.multiline(c)
		} else if c == '"' {
			l.basicString()
		} else {
			l.literalString()
		}
	case '[':
		l.advance()
		for {
			l.skipSpace(true)
			if l.eof() {
				return
			}
			if l.peek() == ']' {
				l.advance()
				return
			}
			if l.peek() == ',' {
				l.advance()
				continue
			}
			start := l.pos
			l.value(nil)
			if l.pos == start {
				l.advance()
			}
		}
	case '{':
		l.advance()
		for {
			l.skipSpace(true) // TOML 1.1 allows newlines in inline tables
			if l.eof() {
				return
			}
			if l.peek() == '}' {
				l.advance()
				return
			}
			if l.peek() == ',' {
				l.advance()
				continue
			}
			start := l.pos
			line := l.line
			segs := l.key()
			l.skipSpace(false)
			if l.peek() == '=' {
				l.advance()
				var sub []string
				if path != nil {
					sub = append(append([]string{}, path...), segs...)
					l.record(sub, line)
				}
				l.value(sub)
			}
			if l.pos == start {
				l.advance()
			}
		}
	default:
		// A bare scalar: number, boolean, date-time (which may contain a
		// space). It ends at a separator, a comment or the line's end.
		for !l.eof() {
			switch l.peek() {
			case ',', ']', '}', '#', '\n':
				return
			}
			l.advance()
		}
	}
}
