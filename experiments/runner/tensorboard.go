package runner

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/grao-lab/grao/experiments/tensorboard"
)

// TensorBoardDir is where a run with Options.TensorBoard writes event
// files, one directory per trial (`tensorboard --logdir DIR/tensorboard`
// shows the trials as runs).
const TensorBoardDir = "tensorboard"

// metricsLog writes metrics.jsonl lines and, with --tensorboard, the same
// numbers as TensorBoard scalars: one source, so the two never disagree.
type metricsLog struct {
	w  *bufio.Writer
	tb *tensorboard.Writer // nil without --tensorboard
}

// openTensorBoard starts a trial's event file. The trial's earlier event
// files are removed; a trial resumed from a checkpoint replays the log it
// keeps (prefix, metrics.jsonl up to the checkpoint) so that its charts
// are whole and hold each step once.
func openTensorBoard(out, id string, prefix io.Reader) (*tensorboard.Writer, error) {
	dir := filepath.Join(out, TensorBoardDir, id)
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	tb, err := tensorboard.Create(dir)
	if err != nil {
		return nil, err
	}
	if prefix != nil {
		sc := bufio.NewScanner(prefix)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			if err := tbLine(tb, sc.Bytes()); err != nil {
				tb.Close()
				return nil, err
			}
		}
		if err := sc.Err(); err != nil {
			tb.Close()
			return nil, err
		}
	}
	return tb, nil
}

// write appends v as one JSON line, and its numbers to TensorBoard.
func (l *metricsLog) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if _, err := l.w.Write(b); err != nil {
		return err
	}
	if l.tb == nil {
		return nil
	}
	return tbLine(l.tb, b)
}

// flush pushes buffered lines to the file (and events to theirs).
func (l *metricsLog) flush() error {
	if err := l.w.Flush(); err != nil {
		return err
	}
	if l.tb != nil {
		return l.tb.Flush()
	}
	return nil
}

// tbLine writes the numbers of one metrics.jsonl line as scalars: a
// training line's under "train/" (its loss components under
// "train/components/", timings under "train/timing/"), an evaluation's
// under "eval/".
func tbLine(tb *tensorboard.Writer, line []byte) error {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return nil
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return fmt.Errorf("tensorboard: metrics line: %w", err)
	}
	step, _ := m["step"].(json.Number).Int64()
	delete(m, "step")
	vals := map[string]float64{}
	if ev, ok := m["eval"].(map[string]any); ok {
		flatten(vals, "eval/", ev)
	} else {
		flatten(vals, "train/", m)
	}
	return tb.Scalars(step, vals)
}

func flatten(out map[string]float64, prefix string, m map[string]any) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch v := m[k].(type) {
		case json.Number:
			if f, err := v.Float64(); err == nil {
				out[prefix+k] = f
			}
		case map[string]any:
			flatten(out, prefix+k+"/", v)
		}
	}
}
