package plugins

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// maxLogLine bounds a buffered log line so that a plugin printing megabytes
// without a newline cannot grow the host's memory.
const maxLogLine = 64 << 10

// lineLogger is an io.Writer that forwards a plugin's output, line by line,
// to an hclog logger. We parse levels ourselves instead of letting go-plugin
// do it because go-plugin logs untagged lines at Debug, which would hide a
// Python traceback or a plain fprintf(stderr) at the usual Info level.
type lineLogger struct {
	log    hclog.Logger
	stream string // "stderr" or "stdout", added to each line's fields
	mu     sync.Mutex
	buf    []byte
}

func newLineLogger(log hclog.Logger, stream string) *lineLogger {
	return &lineLogger{log: log, stream: stream}
}

func (w *lineLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.emit(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > maxLogLine {
		w.emit(w.buf)
		w.buf = w.buf[:0]
	}
	// Reclaim the consumed prefix once the buffer is empty.
	if len(w.buf) == 0 {
		w.buf = w.buf[:0:0]
	}
	return len(p), nil
}

// Flush emits a trailing partial line, if any.
func (w *lineLogger) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit(w.buf)
		w.buf = nil
	}
}

func (w *lineLogger) emit(raw []byte) {
	line := strings.TrimRight(string(raw), "\r\n\t ")
	if strings.TrimSpace(line) == "" {
		return
	}
	level, msg, kv := parseLogLine(line)
	w.log.Log(level, msg, append(kv, "stream", w.stream)...)
}

// levelPrefixes are the "[LEVEL] message" tags understood on plain lines.
var levelPrefixes = []struct {
	tag   string
	level hclog.Level
}{
	{"[TRACE]", hclog.Trace},
	{"[DEBUG]", hclog.Debug},
	{"[INFO]", hclog.Info},
	{"[WARN]", hclog.Warn},
	{"[WARNING]", hclog.Warn},
	{"[ERROR]", hclog.Error},
	{"[CRITICAL]", hclog.Error},
}

var crashPrefixes = []string{"panic: ", "fatal error: ", "Traceback (most recent call last):"}

// parseLogLine understands hclog JSON lines ({"@level":…,"@message":…,
// fields…}), "[LEVEL] message" lines, and plain text (logged at Info).
func parseLogLine(line string) (hclog.Level, string, []any) {
	if strings.HasPrefix(line, "{") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			if msg, ok := m["@message"].(string); ok {
				level := hclog.Info
				if s, ok := m["@level"].(string); ok {
					if l := hclog.LevelFromString(s); l != hclog.NoLevel {
						level = l
					}
				}
				keys := make([]string, 0, len(m))
				for k := range m {
					switch k {
					case "@message", "@level", "@timestamp", "@caller":
						continue
					}
					keys = append(keys, k)
				}
				sort.Strings(keys)
				kv := make([]any, 0, 2*len(keys))
				for _, k := range keys {
					kv = append(kv, strings.TrimPrefix(k, "@"), m[k])
				}
				return level, msg, kv
			}
		}
	}
	for _, p := range levelPrefixes {
		if strings.HasPrefix(line, p.tag) {
			return p.level, strings.TrimSpace(line[len(p.tag):]), nil
		}
	}
	// The first line of a Go panic or runtime error and of a Python
	// traceback: the start of a crash report deserves Error.
	for _, p := range crashPrefixes {
		if strings.HasPrefix(line, p) {
			return hclog.Error, line, nil
		}
	}
	return hclog.Info, line, nil
}
