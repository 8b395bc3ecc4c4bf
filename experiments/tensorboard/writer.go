package tensorboard

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/grao-lab/grao/experiments/tensorboard/eventpb"
)

// FileVersion is the first event of every file. Version 2 matters: for
// older files TensorBoard's legacy loader treats a step that goes backwards
// as a crash restart and discards the later points; for version 2 it
// purges only on a SessionLog START event, which this package never writes.
const FileVersion = "brain.Event:2"

// ErrClosed is returned by the methods of a closed Writer.
var ErrClosed = errors.New("tensorboard: writer closed")

// fileSeq tells apart files one process creates in the same second, as
// TensorBoard's own writer does with its global counter.
var fileSeq atomic.Uint64

// Writer appends events to one event file. It is safe for concurrent use.
type Writer struct {
	path string

	mu     sync.Mutex
	c      io.Closer
	bw     *bufio.Writer
	buf    []byte // reused record buffer
	err    error  // first write error; sticky, since the file is then torn
	closed bool
}

// Create makes dir (and its parents) if needed and starts a new event file
// in it, named as TensorBoard's own writer names them:
// events.out.tfevents.<unix seconds>.<hostname>.<pid>.<counter>. TensorBoard
// reads a directory's files in name order, so the zero-padded time keeps
// them chronological, and pid and counter keep two writers from colliding.
func Create(dir string) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tensorboard: %w", err)
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	now := time.Now()
	name := fmt.Sprintf("events.out.tfevents.%010d.%s.%d.%d", now.Unix(), host, os.Getpid(), fileSeq.Add(1)-1)
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("tensorboard: %w", err)
	}
	w := newWriter(f, path)
	// Written through at once so that TensorBoard recognises the file even
	// before the first Flush.
	if err := w.write(&eventpb.Event{
		WallTime: wallTime(now),
		What:     &eventpb.Event_FileVersion{FileVersion: FileVersion},
	}); err == nil {
		err = w.Flush()
	}
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return w, nil
}

func newWriter(w io.WriteCloser, path string) *Writer {
	return &Writer{path: path, c: w, bw: bufio.NewWriter(w)}
}

// Path is the event file's path.
func (w *Writer) Path() string { return w.path }

// Scalars logs values at step as one event, one Summary.Value per tag in
// sorted tag order so that equal inputs give equal files. Values are stored
// as float32; NaN, ±Inf and values outside float32's range are skipped (see
// the package comment). If nothing is left, no event is written.
func (w *Writer) Scalars(step int64, values map[string]float64) error {
	sum := &eventpb.Summary{Value: make([]*eventpb.Summary_Value, 0, len(values))}
	for _, tag := range slices.Sorted(maps.Keys(values)) {
		v := float32(values[tag])
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			continue
		}
		sum.Value = append(sum.Value, &eventpb.Summary_Value{
			Tag:   tag,
			Value: &eventpb.Summary_Value_SimpleValue{SimpleValue: v},
		})
	}
	if len(sum.Value) == 0 {
		return w.check()
	}
	return w.write(&eventpb.Event{
		WallTime: wallTime(time.Now()),
		Step:     step,
		What:     &eventpb.Event_Summary{Summary: sum},
	})
}

// Flush hands buffered records to the operating system. It costs nothing
// when no record is pending.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.checkLocked(); err != nil {
		return err
	}
	if err := w.bw.Flush(); err != nil {
		w.err = fmt.Errorf("tensorboard: write %s: %w", w.path, err)
	}
	return w.err
}

// Close flushes and closes the file. It reports the first write error the
// Writer met, so a run that checks only Close still learns of a lost tail.
// Closing twice returns ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	w.closed = true
	if w.err == nil {
		if err := w.bw.Flush(); err != nil {
			w.err = fmt.Errorf("tensorboard: write %s: %w", w.path, err)
		}
	}
	if err := w.c.Close(); err != nil && w.err == nil {
		w.err = fmt.Errorf("tensorboard: close %s: %w", w.path, err)
	}
	return w.err
}

func (w *Writer) check() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.checkLocked()
}

func (w *Writer) checkLocked() error {
	if w.closed {
		return ErrClosed
	}
	return w.err
}

// write frames ev as one record into the buffer.
func (w *Writer) write(ev *eventpb.Event) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.checkLocked(); err != nil {
		return err
	}
	var err error
	w.buf, err = appendRecord(w.buf[:0], ev)
	if err != nil {
		return err
	}
	if _, err := w.bw.Write(w.buf); err != nil {
		w.err = fmt.Errorf("tensorboard: write %s: %w", w.path, err)
	}
	return w.err
}

// appendRecord appends ev in TFRecord framing:
//
//	uint64 length, uint32 masked CRC-32C(length bytes), data, uint32 masked CRC-32C(data)
//
// all little-endian.
func appendRecord(b []byte, ev *eventpb.Event) ([]byte, error) {
	start := len(b)
	b = append(b, make([]byte, headerLen)...)
	b, err := proto.MarshalOptions{}.MarshalAppend(b, ev)
	if err != nil {
		return b[:start], fmt.Errorf("tensorboard: encode event: %w", err)
	}
	data := b[start+headerLen:]
	binary.LittleEndian.PutUint64(b[start:], uint64(len(data)))
	binary.LittleEndian.PutUint32(b[start+8:], maskedCRC(b[start:start+8]))
	return binary.LittleEndian.AppendUint32(b, maskedCRC(data)), nil
}

const (
	headerLen = 12 // length + its CRC
	footerLen = 4  // CRC of the data
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maskedCRC is TFRecord's masked CRC-32C. The mask exists so that a CRC
// computed over data that itself embeds CRCs does not degenerate.
func maskedCRC(b []byte) uint32 {
	return mask(crc32.Checksum(b, castagnoli))
}

func mask(crc uint32) uint32 {
	return (crc>>15 | crc<<17) + 0xa282ead8
}

func wallTime(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}
