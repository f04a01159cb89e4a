package forms

import (
	"image"
	"image/color"

	"golang.org/x/image/draw"
)

// shrink scales src down to dw×dh by area averaging: each pixel of the result is the mean
// of the source area it covers, weighted by coverage. It is the filter for shrinking (no
// aliasing, no ringing), and it streams: besides the result it keeps one source row and two
// rows of sums, where x/image/draw's kernels keep a float per source row per result column
// (a quarter of a gigabyte for one camera photo).
func shrink(src image.Image, dw, dh int) *image.RGBA {
	b := src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	row := image.NewRGBA(image.Rect(0, 0, sw, 1)) // one source row, premultiplied RGBA
	xs := spans(sw, dw)
	hsum := make([]float32, 4*dw) // the current source row, shrunk horizontally
	vsum := make([]float32, 4*dw) // the result row being summed
	ys := spans(sh, dh)
	norm := float32(dw) * float32(dh) / (float32(sw) * float32(sh)) // 1 / the area of a result pixel
	for dy, sy := 0, 0; dy < dh; dy++ {
		clear(vsum)
		sp := ys[dy]
		for ; sy < sp.last+1; sy++ {
			draw.Draw(row, row.Rect, src, image.Pt(b.Min.X, b.Min.Y+sy), draw.Src)
			for dx, xp := range xs {
				var r, g, bl, a float32
				for x := xp.first; x <= xp.last; x++ {
					w := xp.weight(x)
					p := row.Pix[4*x : 4*x+4 : 4*x+4]
					r += w * float32(p[0])
					g += w * float32(p[1])
					bl += w * float32(p[2])
					a += w * float32(p[3])
				}
				hsum[4*dx], hsum[4*dx+1], hsum[4*dx+2], hsum[4*dx+3] = r, g, bl, a
			}
			w := sp.weight(sy)
			for i, v := range hsum {
				vsum[i] += w * v
			}
			if sy == sp.last && sp.lastW < 1 {
				break // the row is shared with the next result row: read it again there
			}
		}
		out := dst.Pix[dy*dst.Stride : dy*dst.Stride+4*dw]
		for i, v := range vsum {
			out[i] = clamp8(v * norm)
		}
	}
	return dst
}

// span is the source pixels a result pixel covers: from first to last, the first and last
// only partly.
type span struct {
	first, last   int
	firstW, lastW float32
}

func (s span) weight(i int) float32 {
	switch i {
	case s.first:
		return s.firstW
	case s.last:
		return s.lastW
	}
	return 1
}

// spans cuts n source pixels into m ≤ n result pixels of n/m source pixels each.
func spans(n, m int) []span {
	out := make([]span, m)
	scale := float64(n) / float64(m)
	for i := range out {
		lo, hi := float64(i)*scale, float64(i+1)*scale
		first, last := int(lo), int(hi)
		if float64(last) == hi {
			last-- // hi is the start of the next pixel
		}
		last = min(last, n-1)
		s := span{first: first, last: last, firstW: float32(float64(first+1) - lo), lastW: float32(hi - float64(last))}
		if first == last {
			s.firstW, s.lastW = float32(hi-lo), float32(hi-lo)
		}
		s.lastW = min(s.lastW, 1)
		out[i] = s
	}
	return out
}

func clamp8(v float32) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}

// bytesPerPixel is what a decoded image of this color model takes in memory.
func bytesPerPixel(m color.Model) int {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	case color.YCbCrModel:
		return 3 // at most, for 4:4:4
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 4
}
