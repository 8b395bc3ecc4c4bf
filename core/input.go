package core

import (
	"fmt"
	"strings"
)

// InputError is bad input at one place of a file: a sweep, a dataset, a
// results table, a run directory's logs. It reads "file:line: key: reason",
// without the line when it is not known (0) and without the key when no
// single key is at fault. Every parser of user files returns it, so a
// program tells bad input (exit code 2) from a failure with one errors.As.
type InputError struct {
	File   string
	Line   int
	Key    string // dotted key or column name, as the user wrote it
	Reason string
}

func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}
