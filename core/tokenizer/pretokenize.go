package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// GPT-2 splits text into words with the pattern
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// under Python's regex module. Go's regexp has no lookahead, so gpt2Piece
// replays what a backtracking engine does with it, alternative by
// alternative. The classes are those of the regex module: \s is Unicode's
// White_Space property and \p{L}, \p{N} the general categories L and N,
// which are exactly unicode.IsSpace, unicode.IsLetter and unicode.IsNumber
// (checked code point by code point; only characters assigned after
// Go's Unicode version differ).

type class uint8

const (
	classOther class = iota // [^\s\p{L}\p{N}], which includes invalid UTF-8
	classSpace
	classLetter
	classNumber
)

// asciiClass spares the common case the unicode tables.
var asciiClass = func() (t [utf8.RuneSelf]class) {
	for r := range rune(utf8.RuneSelf) {
		t[r] = classOfSlow(r)
	}
	return t
}()

func classOfSlow(r rune) class {
	switch {
	case unicode.IsSpace(r):
		return classSpace
	case unicode.IsLetter(r):
		return classLetter
	case unicode.IsNumber(r):
		return classNumber
	}
	return classOther
}

// firstClass is the class of the first character of s (non-empty) and
// its length in bytes. A byte that is not valid UTF-8 counts as one
// character of class other, so every byte of the text lands in some piece.
func firstClass(s string) (class, int) {
	if c := s[0]; c < utf8.RuneSelf {
		return asciiClass[c], 1
	}
	r, w := utf8.DecodeRuneInString(s)
	return classOfSlow(r), w
}

// classRun is the length in bytes of the run of characters of class c
// at the start of s.
func classRun(s string, c class) int {
	n := 0
	for n < len(s) {
		cc, w := firstClass(s[n:])
		if cc != c {
			break
		}
		n += w
	}
	return n
}

// gpt2Split calls yield with each word of text, in order; the words
// concatenate back to text.
func gpt2Split(text string, yield func(word string)) {
	for len(text) > 0 {
		n := gpt2Piece(text)
		yield(text[:n])
		text = text[n:]
	}
}

// gpt2Piece is the length of the match at the start of s (non-empty): the
// pattern matches every character, so the next match always starts there.
func gpt2Piece(s string) int {
	if s[0] == '\'' && len(s) > 1 {
		// Case-sensitive, as in GPT-2: "'S" is not a contraction and
		// falls through to the punctuation alternative.
		switch s[1] {
		case 's', 't', 'm', 'd':
			return 2
		case 'r', 'v':
			if len(s) > 2 && s[2] == 'e' {
				return 3
			}
		case 'l':
			if len(s) > 2 && s[2] == 'l' {
				return 3
			}
		}
	}
	c, w := firstClass(s)
	if s[0] == ' ' && len(s) > 1 {
		// " ?X+": a single ASCII space (only U+0020) joins the run that
		// follows it, unless that run is whitespace.
		if next, _ := firstClass(s[1:]); next != classSpace {
			return 1 + classRun(s[1:], next)
		}
	}
	if c != classSpace {
		return classRun(s, c)
	}
	// "\s+(?!\S)" backtracks from the whole run to the last position
	// followed by whitespace: the run's last character goes to the next
	// word (where a space then joins a letter, number or punctuation run).
	// A run of one character before non-space fails it and matches "\s+".
	n := classRun(s, classSpace)
	if n == len(s) {
		return n
	}
	_, last := utf8.DecodeLastRuneInString(s[:n])
	if n > last {
		return n - last
	}
	return w
}
