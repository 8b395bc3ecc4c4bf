package plots

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/grao-lab/grao/algorithms"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"
)

func hex(s string) color.NRGBA {
	c, _ := parseHex(s)
	return c
}

// Algorithms register their colours (algorithms.Identity; the built-ins
// use the Okabe–Ito palette, distinguishable under the common colour-vision
// deficiencies, and Tol's muted scheme). extraColours (Tol's muted scheme,
// also colour-blind safe) go to labels without a registered colour, in sorted label order over the whole
// sweep, so one label keeps its colour in every figure of a run.
var extraColours = []color.NRGBA{
	hex("#332288"), hex("#117733"), hex("#882255"), hex("#44AA99"),
	hex("#AA4499"), hex("#88CCEE"), hex("#DDCC77"), hex("#661100"),
}

// componentColours are for the GRAO loss terms; they come from Tol's
// scheme so they are not mistaken for algorithms.
var componentColours = map[string]color.NRGBA{
	"total":       hex("#000000"),
	"exploration": hex("#332288"),
	"imitation":   hex("#117733"),
	"regularizer": hex("#AA4499"),
}

// glyphNames are the markers an algorithms.Identity may name.
var glyphNames = map[string]draw.GlyphDrawer{
	"circle": draw.CircleGlyph{}, "ring": draw.RingGlyph{}, "square": draw.SquareGlyph{},
	"triangle": draw.TriangleGlyph{}, "pyramid": draw.PyramidGlyph{}, "cross": draw.CrossGlyph{},
	"plus": draw.PlusGlyph{}, "box": draw.BoxGlyph{},
}

// ablationDashes tell a method's ablations apart.
var ablationDashes = [][]vg.Length{
	{vg.Points(5), vg.Points(2)},
	{vg.Points(1.5), vg.Points(1.5)},
	{vg.Points(6), vg.Points(2), vg.Points(1.5), vg.Points(2)},
}

// parseHex reads "#RRGGBB".
func parseHex(s string) (color.NRGBA, bool) {
	var r, g, b uint8
	if n, err := fmt.Sscanf(s, "#%02x%02x%02x", &r, &g, &b); err != nil || n != 3 || len(s) != 7 {
		return color.NRGBA{}, false
	}
	return color.NRGBA{R: r, G: g, B: b, A: 255}, true
}

// style is how one algorithm label is drawn.
type style struct {
	Colour color.NRGBA
	Dashes []vg.Length
	Glyph  draw.GlyphDrawer
	Width  vg.Length
}

type palette struct{ m map[string]style }

func newPalette(labels []string, target string) *palette {
	sort.Strings(labels)
	p := &palette{m: map[string]style{}}
	extra := 0
	for _, l := range labels {
		if _, ok := p.m[l]; ok {
			continue
		}
		s := style{Width: vg.Points(1.3), Glyph: draw.CircleGlyph{}}
		id, known := algorithms.IdentityOf(l)
		if c, ok := parseHex(id.Colour); known && ok {
			s.Colour = c
		} else {
			s.Colour = extraColours[extra%len(extraColours)]
			extra++
		}
		if g, ok := glyphNames[id.Glyph]; known && ok {
			s.Glyph = g
		}
		base, _, abl := splitAblation(l)
		if abl {
			// the k-th registered ablation of a method gets the k-th pattern
			s.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
			if k := algorithms.Rank(l) - algorithms.Rank(base) - 1; known && algorithms.Known(base) && k >= 0 {
				s.Dashes = ablationDashes[k%len(ablationDashes)]
			}
		}
		if l == target || (base == target && !abl) {
			s.Width = vg.Points(2) // the method under study stands out
		}
		p.m[l] = s
	}
	return p
}

func (p *palette) get(l string) style {
	if s, ok := p.m[l]; ok {
		return s
	}
	return style{Colour: hex("#444444"), Glyph: draw.CircleGlyph{}, Width: vg.Points(1.3)}
}

func withAlpha(c color.NRGBA, a uint8) color.NRGBA { c.A = a; return c }

// Text sizes chosen for a figure printed at about its nominal width
// (6.5 in, a paper's text width): 9–11 pt matches the body text.
const (
	titleSize  = 10.5
	labelSize  = 10
	tickSize   = 9
	legendSize = 9
	cellSize   = 8
)

// newPlot is plot.New with the package's fonts and a light grid.
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	return newPlotGrid(title, xlabel, ylabel, true, true)
}

// newPlotGrid is newPlot with a choice of grid lines: bar and category
// charts drop the lines that would run through their bars.
func newPlotGrid(title, xlabel, ylabel string, vertical, horizontal bool) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = font.Length(titleSize)
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text, p.Y.Label.Text = xlabel, ylabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = font.Length(labelSize)
		a.Tick.Label.Font.Size = font.Length(tickSize)
		a.Label.Padding = vg.Points(3)
		a.Tick.Marker = niceTicks{}
	}
	p.Legend.TextStyle.Font.Size = font.Length(legendSize)
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{Y: 225}
	g.Horizontal.Color = color.Gray{Y: 225}
	g.Vertical.Width = vg.Points(0.4)
	g.Horizontal.Width = vg.Points(0.4)
	if !vertical {
		g.Vertical.Color = nil
	}
	if !horizontal {
		g.Horizontal.Color = nil
	}
	if vertical || horizontal {
		p.Add(g)
	}
	return p
}

func newLegend() *plot.Legend {
	l := plot.NewLegend()
	l.TextStyle.Font.Size = font.Length(legendSize)
	l.Top, l.Left = true, true
	l.ThumbnailWidth = vg.Points(22)
	l.Padding = vg.Points(2)
	return &l
}

// figure is one chart ready to render.
type figure struct {
	Figure
	p      *plot.Plot
	legend *plot.Legend // drawn in a strip right of the plot, never over data
	side   *plot.Plot   // drawn in a strip right of the plot (colour bar)
	sideW  vg.Length
	w, h   vg.Length
	// panels, when set, replace p: a row-major grid of plots aligned on
	// their data areas (plot.Align), titled by Figure.Title, with the
	// legend in the first empty (nil) tile so it never covers a panel.
	panels [][]*plot.Plot
}

const (
	defaultW = 6.5 * vg.Inch
	defaultH = 3.6 * vg.Inch
)

func (f *figure) draw(c draw.Canvas) {
	if f.panels != nil {
		f.drawPanels(c)
		return
	}
	// The title spans the whole canvas (legend strip included), so a
	// two-line title has the full width and is never clipped.
	title := f.p.Title.Text
	th := vg.Length(0)
	if title != "" {
		sty := f.p.Title.TextStyle
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
		pad := f.p.Title.Padding
		c.FillText(sty, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: c.Max.Y - pad/2}, title)
		th = sty.Height(title) + pad
		f.p.Title.Text = ""
		defer func() { f.p.Title.Text = title }()
	}
	body := draw.Crop(c, 0, 0, 0, -th)
	strip := vg.Length(0)
	if f.legend != nil {
		strip = f.legend.Rectangle(body).Size().X + vg.Points(14)
	}
	if f.side != nil {
		strip = max(strip, f.sideW)
	}
	f.p.Draw(draw.Crop(body, 0, -strip, 0, 0))
	if strip == 0 {
		return
	}
	right := draw.Crop(body, body.Size().X-strip, 0, 0, 0)
	if f.side != nil {
		// Level the colour bar with the plot's data area: skip the height
		// of the main plot's x axis (tick labels, label, paddings).
		xa := f.p.X
		bottom := xa.Tick.Label.Height("0") + xa.Tick.Length + xa.Label.TextStyle.Height(xa.Label.Text) + xa.Label.Padding
		f.side.Draw(draw.Crop(right, vg.Points(6), 0, bottom, 0))
	}
	if f.legend != nil {
		f.legend.Draw(draw.Crop(right, vg.Points(10), 0, 0, -vg.Points(4)))
	}
}

// drawPanels is draw for a grid of panels.
func (f *figure) drawPanels(c draw.Canvas) {
	tp := newPlot(f.Title, "", "")
	th := vg.Length(0)
	if f.Title != "" {
		sty := tp.Title.TextStyle
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
		c.FillText(sty, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: c.Max.Y - tp.Title.Padding/2}, f.Title)
		th = sty.Height(f.Title) + tp.Title.Padding
	}
	body := draw.Crop(c, 0, 0, 0, -th)
	tiles := draw.Tiles{Rows: len(f.panels), Cols: len(f.panels[0]),
		PadX: vg.Points(12), PadY: vg.Points(8), PadRight: vg.Points(6), PadBottom: vg.Points(2)}
	cs := plot.Align(f.panels, tiles, body)
	legend := f.legend
	for j, row := range f.panels {
		for i, p := range row {
			switch {
			case p != nil:
				p.Draw(cs[j][i])
			case legend != nil:
				// The whole tile, not the aligned data area: legend
				// labels may be wider than a panel's data area.
				legend.Draw(draw.Crop(tiles.At(body, i, j), vg.Points(8), 0, 0, -vg.Points(6)))
				legend = nil
			}
		}
	}
}

// save renders f in each format into dir and returns the paths written.
func (f *figure) save(dir string, formats []string, dpi int) ([]string, error) {
	w, h := f.w, f.h
	if w == 0 {
		w, h = defaultW, defaultH
	}
	var paths []string
	for _, format := range formats {
		var buf bytes.Buffer
		switch format {
		case "png":
			c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))
			f.draw(draw.New(c))
			if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
				return paths, fmt.Errorf("%s: png: %w", f.Name, err)
			}
			b, err := withPHYs(buf.Bytes(), dpi)
			if err != nil {
				return paths, err
			}
			buf.Reset()
			buf.Write(b)
		case "svg":
			c := vgsvg.New(w, h)
			f.draw(draw.New(c))
			if _, err := c.WriteTo(&buf); err != nil {
				return paths, fmt.Errorf("%s: svg: %w", f.Name, err)
			}
		case "pdf":
			c := vgpdf.New(w, h)
			c.EmbedFonts(true)
			f.draw(draw.New(c))
			if _, err := c.WriteTo(&buf); err != nil {
				return paths, fmt.Errorf("%s: pdf: %w", f.Name, err)
			}
		default:
			return paths, fmt.Errorf("unknown format %q", format)
		}
		p := filepath.Join(dir, f.Name+"."+format)
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// withPHYs inserts a pHYs chunk after IHDR so that LaTeX, word processors
// and image viewers know the image is dpi dots per inch; Go's PNG encoder
// writes none and readers then assume 72 or 96 dpi (a 300 dpi figure
// would come out four times too large).
func withPHYs(png []byte, dpi int) ([]byte, error) {
	const ihdrEnd = 8 + 4 + 4 + 13 + 4
	if len(png) < ihdrEnd || string(png[12:16]) != "IHDR" {
		return nil, fmt.Errorf("png: unexpected layout")
	}
	ppm := uint32(math.Round(float64(dpi) / 0.0254))
	chunk := make([]byte, 4+4+9+4)
	binary.BigEndian.PutUint32(chunk[0:], 9)
	copy(chunk[4:], "pHYs")
	binary.BigEndian.PutUint32(chunk[8:], ppm)
	binary.BigEndian.PutUint32(chunk[12:], ppm)
	chunk[16] = 1 // unit: metre
	binary.BigEndian.PutUint32(chunk[17:], crc32.ChecksumIEEE(chunk[4:17]))
	out := make([]byte, 0, len(png)+len(chunk))
	out = append(out, png[:ihdrEnd]...)
	out = append(out, chunk...)
	return append(out, png[ihdrEnd:]...), nil
}

// niceTicks labels about five round values (1, 2, 2.5 or 5 × 10^k) so
// that every axis has several readable numbers; gonum's default ticker can
// leave a tall axis with only two labels.
type niceTicks struct{}

func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || !finite(lo) || !finite(hi) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	dec := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	if math.Abs(step/math.Pow(10, math.Floor(math.Log10(step)))-2.5) < 1e-9 {
		dec++ // 0.25, 2.5
	}
	var ts []plot.Tick
	minor := step / 2
	for v := math.Ceil(lo/minor-1e-9) * minor; v <= hi+1e-9*step; v += minor {
		k := math.Round(v / step)
		if math.Abs(v-k*step) < 1e-6*step {
			x := k * step
			if x == 0 {
				x = 0 // no "-0"
			}
			ts = append(ts, plot.Tick{Value: x, Label: strconv.FormatFloat(x, 'f', dec, 64)})
		} else {
			ts = append(ts, plot.Tick{Value: v})
		}
	}
	return ts
}
