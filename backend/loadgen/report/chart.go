package report

import (
	"math"
	"strconv"

	"github.com/covetpy/covet/backend/loadgen"
)

// Chart geometry, in SVG user units: the plot area is inset by the margins.
const (
	chartW, chartH                     = 900, 220
	marginL, marginR, marginT, marginB = 64, 16, 28, 30
	// maxBuckets bounds how many min/max pairs a line is drawn with: a
	// one-hour run's 3600 seconds become at most 2×maxBuckets points.
	maxBuckets = 450
)

// chart is an SVG chart ready for the template: every coordinate is
// preformatted, every text is escaped by html/template.
type chart struct {
	Title         string
	W, H          int
	X0, X1        string // the plot's left and right edges
	Y0, Y1        string // the plot's top and bottom edges
	XTicks        []tick
	YTicks        []tick
	Lines         []polyline
	Bars          []bar
	Legend        []legendItem
	Width, Height string // the plot area's size, for the frame
}

type tick struct {
	X, Y  string
	Label string
}

type polyline struct {
	Color, Points string
}

type bar struct {
	X, Y, W, H string
	Title      string
}

type legendItem struct {
	X, TextX, Color, Label string
}

// line is one series of a line chart: a value per x.
type line struct {
	Label, Color string
	Values       []float64
}

// Series colours.
const (
	blue   = "#2563eb"
	red    = "#dc2626"
	green  = "#16a34a"
	purple = "#9333ea"
	orange = "#ea580c"
	grey   = "#6b7280"
)

func newChart(title string) chart {
	return chart{
		Title: title, W: chartW, H: chartH,
		X0: px(marginL), X1: px(chartW - marginR), Y0: px(marginT), Y1: px(chartH - marginB),
		Width: px(chartW - marginL - marginR), Height: px(chartH - marginT - marginB),
	}
}

// lineChart draws lines over the time axis [0, xmax]; xs are the seconds'
// ends.
func lineChart(title string, xs []float64, xmax float64, lines []line) chart {
	c := newChart(title)
	plotW, plotH := float64(chartW-marginL-marginR), float64(chartH-marginT-marginB)
	if xmax <= 0 {
		xmax = 1
	}
	top := 0.0
	for _, l := range lines {
		for _, v := range l.Values {
			top = max(top, v)
		}
	}
	step, ymax := niceScale(top)
	for v := 0.0; v <= ymax+step/2; v += step {
		y := marginT + plotH*(1-v/ymax)
		c.YTicks = append(c.YTicks, tick{X: px(marginL - 6), Y: px(y), Label: axisLabel(v, step)})
	}
	tstep := timeStep(xmax)
	for t := 0.0; t <= xmax+1e-9; t += tstep {
		c.XTicks = append(c.XTicks, tick{X: px(marginL + plotW*t/xmax), Y: px(chartH - marginB + 16), Label: clock(t)})
	}
	x := marginL + 4.0
	for _, l := range lines {
		idx := downsample(l.Values)
		if len(idx) == 1 {
			idx = append(idx, idx[0]) // a dot, thanks to the round line caps
		}
		pts := make([]byte, 0, len(idx)*14)
		for i, k := range idx {
			if i > 0 {
				pts = append(pts, ' ')
			}
			pts = append(pts, px(marginL+plotW*xs[k]/xmax)...)
			pts = append(pts, ',')
			pts = append(pts, px(marginT+plotH*(1-l.Values[k]/ymax))...)
		}
		c.Lines = append(c.Lines, polyline{Color: l.Color, Points: string(pts)})
		c.Legend = append(c.Legend, legendItem{X: px(x), TextX: px(x + 18), Color: l.Color, Label: l.Label})
		x += 30 + 7*float64(len(l.Label))
	}
	return c
}

// histogramChart draws one bar per log-spaced bucket.
func histogramChart(title string, buckets []loadgen.Bucket) chart {
	c := newChart(title)
	plotW, plotH := float64(chartW-marginL-marginR), float64(chartH-marginT-marginB)
	top := 0.0
	for _, b := range buckets {
		top = max(top, float64(b.Count))
	}
	step, ymax := niceScale(top)
	for v := 0.0; v <= ymax+step/2; v += step {
		c.YTicks = append(c.YTicks, tick{X: px(marginL - 6), Y: px(marginT + plotH*(1-v/ymax)), Label: axisLabel(v, step)})
	}
	n := len(buckets)
	if n == 0 {
		return c
	}
	bw := plotW / float64(n)
	every := (n + 9) / 10
	for i, b := range buckets {
		h := plotH * float64(b.Count) / ymax
		c.Bars = append(c.Bars, bar{
			X: px(marginL + bw*float64(i) + 0.5), Y: px(marginT + plotH - h), W: px(max(bw-1, 0.5)), H: px(h),
			Title: "≤ " + strconv.FormatFloat(b.UpToMs, 'f', -1, 64) + " ms: " + count(b.Count) + " requests",
		})
		if (n-1-i)%every == 0 {
			c.XTicks = append(c.XTicks, tick{X: px(marginL + bw*float64(i+1)), Y: px(chartH - marginB + 16), Label: bucketLabel(b.UpToMs)})
		}
	}
	return c
}

// downsample returns the indexes of values to draw: all of them when there
// are few, else each bucket's minimum and maximum in order, so that spikes
// survive.
func downsample(values []float64) []int {
	n := len(values)
	if n <= 2*maxBuckets {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	idx := make([]int, 0, 2*maxBuckets)
	for b := range maxBuckets {
		lo, hi := b*n/maxBuckets, (b+1)*n/maxBuckets
		imin, imax := lo, lo
		for i := lo; i < hi; i++ {
			if values[i] < values[imin] {
				imin = i
			}
			if values[i] > values[imax] {
				imax = i
			}
		}
		if imin == imax {
			idx = append(idx, imin)
		} else {
			idx = append(idx, min(imin, imax), max(imin, imax))
		}
	}
	return idx
}

// niceScale returns a tick step of 1, 2 or 5 times a power of ten giving
// about five ticks, and the axis maximum: top rounded up to a step.
func niceScale(top float64) (step, ymax float64) {
	if !(top > 0) || math.IsInf(top, 0) {
		return 0.2, 1
	}
	raw := top / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	switch norm := raw / mag; {
	case norm <= 1:
		step = mag
	case norm <= 2:
		step = 2 * mag
	case norm <= 5:
		step = 5 * mag
	default:
		step = 10 * mag
	}
	return step, math.Ceil(top/step-1e-9) * step
}

// timeStep returns a tick step, in seconds, giving at most nine ticks.
func timeStep(xmax float64) float64 {
	for _, s := range []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800} {
		if xmax/s <= 8 {
			return s
		}
	}
	return 3600
}

// clock labels a time axis tick: 45s, 2m, 2m30s.
func clock(t float64) string {
	s := int(math.Round(t))
	switch {
	case s < 60:
		return strconv.Itoa(s) + "s"
	case s%60 == 0:
		return strconv.Itoa(s/60) + "m"
	default:
		return strconv.Itoa(s/60) + "m" + strconv.Itoa(s%60) + "s"
	}
}

// axisLabel labels a value axis tick with the step's decimals, large
// values shortened (20k, 1.5M).
func axisLabel(v, step float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case v >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', max(0, int(-math.Floor(math.Log10(step)))), 64)
}

// bucketLabel labels a histogram bucket's upper bound with three
// significant digits or so.
func bucketLabel(ms float64) string {
	d := 3
	switch {
	case ms >= 100:
		d = 0
	case ms >= 10:
		d = 1
	case ms >= 1:
		d = 2
	}
	return strconv.FormatFloat(ms, 'f', d, 64)
}

// px formats a coordinate to a tenth of a unit.
func px(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }
