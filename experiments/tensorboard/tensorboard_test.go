package tensorboard

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/grao-lab/grao/experiments/tensorboard/eventpb"
)

// The standard CRC-32C check value and the iSCSI test vectors (RFC 3720
// B.4); the masked values were worked out by hand from the mask formula,
// e.g. 0xe3069283 → (0x1c60d | 0x25060000) + 0xa282ead8 = 0xc78ab0e5.
func TestMaskedCRC(t *testing.T) {
	ascending := make([]byte, 32)
	for i := range ascending {
		ascending[i] = byte(i)
	}
	for _, tc := range []struct {
		name        string
		in          []byte
		crc, masked uint32
	}{
		{"empty", nil, 0, 0xa282ead8},
		{"check value", []byte("123456789"), 0xe3069283, 0xc78ab0e5},
		{"32 zeros", make([]byte, 32), 0x8a9136aa, 0x0fd7fffa},
		{"32 0xff", bytes.Repeat([]byte{0xff}, 32), 0x62a8ab43, 0xf909b029},
		{"32 ascending", ascending, 0x46dd794e, 0x951f7892},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mask(tc.crc); got != tc.masked {
				t.Errorf("mask(%#08x) = %#08x, want %#08x", tc.crc, got, tc.masked)
			}
			if got := maskedCRC(tc.in); got != tc.masked {
				t.Errorf("maskedCRC = %#08x, want %#08x", got, tc.masked)
			}
		})
	}
}

// step is one Scalars call and what an exact reader must find for it.
type step struct {
	step   int64
	values map[string]float64
	want   map[string]float64 // float32-rounded finite values; nil: no event
}

var steps = []step{
	{0, map[string]float64{"loss": 2.5, "reward/mean": -0.125}, map[string]float64{"loss": 2.5, "reward/mean": -0.125}},
	{1, map[string]float64{"loss": 0.1, "kl": 1e-3}, map[string]float64{"loss": float64(float32(0.1)), "kl": float64(float32(1e-3))}},
	{2, map[string]float64{"loss": math.NaN(), "kl": math.Inf(1), "lr": math.Inf(-1), "ok": 0}, map[string]float64{"ok": 0}},
	{3, map[string]float64{"big": 3e38, "huge": 1e39, "tiny": 1e-45, "négatif/ü": -7}, map[string]float64{"big": float64(float32(3e38)), "tiny": float64(float32(1e-45)), "négatif/ü": -7}},
	{4, map[string]float64{"nan": math.NaN()}, nil},
	{5, map[string]float64{}, nil},
	{1 << 40, map[string]float64{"late": 42}, map[string]float64{"late": 42}},
	{-1, map[string]float64{"z": 1, "a": 2, "m": 3}, map[string]float64{"a": 2, "m": 3, "z": 1}},
}

// writeSteps writes steps to a new file in a fresh directory and returns its
// path and the time bracket of the writes.
func writeSteps(t *testing.T) (path string, start, end float64) {
	t.Helper()
	start = float64(time.Now().UnixNano()) / 1e9
	w, err := Create(filepath.Join(t.TempDir(), "run", "a"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		if err := w.Scalars(s.step, s.values); err != nil {
			t.Fatalf("Scalars(%d): %v", s.step, err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.Path(), start, float64(time.Now().UnixNano()) / 1e9
}

// wantEvents is steps as (step, values) pairs, those with no event left out.
func wantEvents() []step {
	var out []step
	for _, s := range steps {
		if s.want != nil {
			out = append(out, s)
		}
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	path, start, end := writeSteps(t)
	if name := filepath.Base(path); !regexp.MustCompile(`^events\.out\.tfevents\.\d{10}\.[^/]+\.\d+\.\d+$`).MatchString(name) {
		t.Errorf("file name %q does not follow TensorBoard's pattern", name)
	}
	events := readFile(t, path)
	want := wantEvents()
	if len(events) != 1+len(want) {
		t.Fatalf("got %d events, want %d", len(events), 1+len(want))
	}
	if v := events[0].GetFileVersion(); v != FileVersion {
		t.Errorf("first event file_version %q, want %q", v, FileVersion)
	}
	for i, ev := range events {
		if ev.WallTime < start || ev.WallTime > end {
			t.Errorf("event %d wall_time %f outside [%f, %f]", i, ev.WallTime, start, end)
		}
	}
	for i, s := range want {
		ev := events[i+1]
		if ev.Step != s.step {
			t.Errorf("event %d step %d, want %d", i+1, ev.Step, s.step)
		}
		var tags []string
		got := map[string]float64{}
		for _, v := range ev.GetSummary().GetValue() {
			tags = append(tags, v.Tag)
			got[v.Tag] = float64(v.GetSimpleValue())
		}
		if !maps.Equal(got, s.want) {
			t.Errorf("step %d values %v, want %v", s.step, got, s.want)
		}
		if !slices.IsSorted(tags) {
			t.Errorf("step %d tags %q not sorted", s.step, tags)
		}
	}
}

func TestCreateNamesAreUnique(t *testing.T) {
	dir := t.TempDir()
	seen := map[string]bool{}
	for range 3 {
		w, err := Create(dir)
		if err != nil {
			t.Fatal(err)
		}
		if seen[w.Path()] {
			t.Errorf("path %s reused", w.Path())
		}
		seen[w.Path()] = true
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCreateWritesHeaderAtOnce: TensorBoard must see a valid file even
// before the first Flush.
func TestCreateWritesHeaderAtOnce(t *testing.T) {
	w, err := Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Scalars(0, map[string]float64{"x": 1}); err != nil {
		t.Fatal(err)
	}
	if events := readFile(t, w.Path()); len(events) != 1 || events[0].GetFileVersion() != FileVersion {
		t.Errorf("before Flush: %v, want only the file_version event", events)
	}
}

type failWriter struct{ closed bool }

var errDisk = errors.New("disk full")

func (*failWriter) Write([]byte) (int, error) { return 0, errDisk }
func (f *failWriter) Close() error            { f.closed = true; return nil }

func TestWriteErrorsAreReturned(t *testing.T) {
	fw := &failWriter{}
	w := newWriter(fw, "test")
	if err := w.Scalars(0, map[string]float64{"x": 1}); err != nil {
		t.Fatalf("Scalars before any flush: %v", err) // still buffered
	}
	if err := w.Flush(); !errors.Is(err, errDisk) {
		t.Errorf("Flush = %v, want %v", err, errDisk)
	}
	if err := w.Scalars(1, map[string]float64{"x": 1}); !errors.Is(err, errDisk) {
		t.Errorf("Scalars after a failed write = %v, want %v", err, errDisk)
	}
	if err := w.Close(); !errors.Is(err, errDisk) {
		t.Errorf("Close = %v, want %v", err, errDisk)
	}
	if !fw.closed {
		t.Error("Close did not close the file after a write error")
	}
	if err := w.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	if err := w.Flush(); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close = %v, want ErrClosed", err)
	}
}

func TestClosedWriter(t *testing.T) {
	w, err := Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"Scalars":       w.Scalars(0, map[string]float64{"x": 1}),
		"Scalars empty": w.Scalars(0, nil),
		"Flush":         w.Flush(),
		"Close":         w.Close(),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
}

// validStream is three framed events: the header, then two summaries.
func validStream(t testing.TB) (b []byte, offsets []int) {
	for _, ev := range []*eventpb.Event{
		{WallTime: 1, What: &eventpb.Event_FileVersion{FileVersion: FileVersion}},
		{WallTime: 2, Step: 1, What: summary("loss", 1)},
		{WallTime: 3, Step: 2, What: summary("loss", 0.5)},
	} {
		offsets = append(offsets, len(b))
		var err error
		if b, err = appendRecord(b, ev); err != nil {
			t.Fatal(err)
		}
	}
	return b, offsets
}

func summary(tag string, v float32) *eventpb.Event_Summary {
	return &eventpb.Event_Summary{Summary: &eventpb.Summary{Value: []*eventpb.Summary_Value{
		{Tag: tag, Value: &eventpb.Summary_Value_SimpleValue{SimpleValue: v}},
	}}}
}

func TestReadErrors(t *testing.T) {
	good, off := validStream(t)
	r1 := off[1] // record 1 is the one damaged below
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x40
		return b
	}
	for _, tc := range []struct {
		name   string
		in     []byte
		kind   error // nil: no error
		events int   // events returned before the fault
		record int
		offset int
	}{
		{"empty", nil, nil, 0, 0, 0},
		{"valid", good, nil, 3, 0, 0},
		{"torn header", good[:r1+5], ErrTruncated, 1, 1, r1},
		{"torn data", good[:r1+headerLen+2], ErrTruncated, 1, 1, r1},
		{"torn data CRC", good[:off[2]-1], ErrTruncated, 1, 1, r1},
		{"length flipped", flip(r1), ErrCorrupt, 1, 1, r1},
		{"length CRC flipped", flip(r1 + 9), ErrCorrupt, 1, 1, r1},
		{"data flipped", flip(r1 + headerLen + 3), ErrCorrupt, 1, 1, r1},
		{"data CRC flipped", flip(off[2] - 2), ErrCorrupt, 1, 1, r1},
		{"last record torn", good[:len(good)-1], ErrTruncated, 2, 2, off[2]},
		{"not an event", record([]byte{0xff}), ErrCorrupt, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events, err := Read(bytes.NewReader(tc.in))
			if len(events) != tc.events {
				t.Errorf("got %d events, want %d", len(events), tc.events)
			}
			if tc.kind == nil {
				if err != nil {
					t.Errorf("Read: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.kind) {
				t.Fatalf("Read error %v, want %v", err, tc.kind)
			}
			if where := fmt.Sprintf("record %d at byte offset %d:", tc.record, tc.offset); !strings.Contains(err.Error(), where) {
				t.Errorf("error %q does not say %q", err, where)
			}
		})
	}
}

// record frames raw data, which need not be an Event.
func record(data []byte) []byte {
	b := recordHeader(uint64(len(data)))
	b = append(b, data...)
	return binary.LittleEndian.AppendUint32(b, maskedCRC(data))
}

// recordHeader is a valid header claiming n bytes of data.
func recordHeader(n uint64) []byte {
	b := binary.LittleEndian.AppendUint64(nil, n)
	return binary.LittleEndian.AppendUint32(b, maskedCRC(b))
}

// FuzzRead: Read never panics, fails only with its own error kinds, and
// what it accepts re-encodes to a stream it accepts again.
func FuzzRead(f *testing.F) {
	good, off := validStream(f)
	f.Add(good)
	f.Add(good[:off[1]+7])
	f.Add([]byte{})
	f.Add(record(nil))
	f.Add(record([]byte{0x1a, 0x05}))
	f.Add(recordHeader(1 << 61)) // a length no file backs
	f.Fuzz(func(t *testing.T, in []byte) {
		events, err := Read(bytes.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		var again []byte
		for _, ev := range events {
			if again, err = appendRecord(again, ev); err != nil {
				t.Fatal(err)
			}
		}
		back, err := Read(bytes.NewReader(again))
		if err != nil || len(back) != len(events) {
			t.Fatalf("re-encoded stream: %d events, %v; want %d", len(back), err, len(events))
		}
		for i := range back {
			if !proto.Equal(back[i], events[i]) {
				t.Fatalf("event %d changed on re-encoding", i)
			}
		}
	})
}

// TestPythonReader reads a written file with testdata/read_events.py, which
// shares no code with this package: it has its own CRC-32C and builds the
// Event message at run time with python3-protobuf. It needs Debian's
// python3-protobuf at /usr/bin/python3 (GRAO_TORCH_PYTHON names another
// interpreter, as for the other Python checks); without it the test skips,
// unless GRAO_REQUIRE_TORCH=1 (CI) turns the skip into a failure.
func TestPythonReader(t *testing.T) {
	python := cmp.Or(os.Getenv("GRAO_TORCH_PYTHON"), "/usr/bin/python3")
	if out, err := exec.Command(python, "-c", "import google.protobuf").CombinedOutput(); err != nil {
		msg := fmt.Sprintf("%s cannot import google.protobuf (%v: %s); install it with: apt-get install -y python3-protobuf",
			python, err, lastLine(out))
		if os.Getenv("GRAO_REQUIRE_TORCH") == "1" {
			t.Fatal(msg + " and GRAO_REQUIRE_TORCH=1")
		}
		t.Skip(msg)
	}
	path, _, _ := writeSteps(t)
	goEvents := readFile(t, path)

	out, err := exec.Command(python, "testdata/read_events.py", path).Output()
	if err != nil {
		t.Fatalf("read_events.py: %v\n%s", err, stderr(err))
	}
	type pyEvent struct {
		Step        int64              `json:"step"`
		WallTime    float64            `json:"wall_time"`
		FileVersion *string            `json:"file_version"`
		Values      map[string]float64 `json:"values"`
	}
	var py []pyEvent
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var ev pyEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("read_events.py line %q: %v", sc.Text(), err)
		}
		py = append(py, ev)
	}
	want := wantEvents()
	if len(py) != 1+len(want) || len(goEvents) != len(py) {
		t.Fatalf("Python read %d events, Go %d, want %d", len(py), len(goEvents), 1+len(want))
	}
	if py[0].FileVersion == nil || *py[0].FileVersion != FileVersion || py[0].Values != nil {
		t.Errorf("Python's first event %+v, want file_version %q", py[0], FileVersion)
	}
	for i, ev := range py {
		if ev.WallTime != goEvents[i].WallTime {
			t.Errorf("event %d: Python wall_time %v, Go %v", i, ev.WallTime, goEvents[i].WallTime)
		}
		if i == 0 {
			continue
		}
		s := want[i-1]
		if ev.FileVersion != nil || ev.Step != s.step || !maps.Equal(ev.Values, s.want) {
			t.Errorf("event %d: Python read step %d %v (file_version %v), want step %d %v",
				i, ev.Step, ev.Values, ev.FileVersion, s.step, s.want)
		}
	}

	// The Python side checks CRCs too, so a damaged copy must fail there.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-6] ^= 1 // inside the last record's data
	bad := filepath.Join(t.TempDir(), "bad")
	if err := os.WriteFile(bad, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(python, "testdata/read_events.py", bad).Output(); err == nil {
		t.Errorf("read_events.py accepted a damaged file:\n%s", out)
	} else if msg := stderr(err); !strings.Contains(msg, "bad data CRC") {
		t.Errorf("read_events.py on a damaged file: %v %s, want a bad data CRC", err, msg)
	}
}

func lastLine(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}

func stderr(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}

func readFile(t *testing.T, path string) []*eventpb.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	events, err := Read(f)
	if err != nil {
		t.Fatal(err)
	}
	return events
}
