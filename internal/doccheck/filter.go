package doccheck

import (
	"bufio"
	"compress/flate"
	"compress/lzw"
	"compress/zlib"
	"encoding/ascii85"
	"errors"
	"fmt"
	"io"

	tifflzw "golang.org/x/image/tiff/lzw"
)

// A stream's filters decode through readers, each over a small buffer: nothing is decoded
// whole. Every stage's output is counted against the file's budget (meter), so a chain of
// filters cannot multiply past it either.

// meter counts decoded bytes against a file's budget.
type meter struct {
	left, limit int64
}

func (m *meter) errBomb() *Error {
	e := refuse(ErrBomb, "decompresses to more than %d MiB", m.limit>>20)
	e.Limit = m.limit
	return e
}

type counted struct {
	r io.Reader
	m *meter
}

func (c *counted) Read(p []byte) (int, error) {
	if c.m.left < 0 {
		return 0, c.m.errBomb()
	}
	// Never more than what is left plus one, so that crossing the budget is seen at once.
	if int64(len(p)) > c.m.left+1 {
		p = p[:c.m.left+1]
	}
	n, err := c.r.Read(p)
	c.m.left -= int64(n)
	if c.m.left < 0 {
		return n, c.m.errBomb()
	}
	return n, err
}

// ratioMeter refuses a stream that unpacks to more than bombRatio times its size.
type ratioMeter struct {
	r     io.Reader
	n     int64
	size  int64
	where string
}

func (rm *ratioMeter) Read(p []byte) (int, error) {
	n, err := rm.r.Read(p)
	rm.n += int64(n)
	if rm.n > bombRatioFloor && rm.n > bombRatio*max(1, rm.size) {
		return n, &Error{Kind: ErrBomb, Reason: fmt.Sprintf("%s unpacks to more than %d times its size", rm.where, bombRatio), Limit: bombRatio * max(1, rm.size)}
	}
	return n, err
}

// tolerant ends a stream quietly where writers commonly end it badly: a missing or wrong
// checksum, a truncated last block. What was decoded up to there is what any viewer sees.
type tolerant struct{ r io.Reader }

func (t tolerant) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if errors.Is(err, zlib.ErrChecksum) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	return n, err
}

// imageFilters decode to pixels, which hold no PDF syntax: allowed on images only.
var imageFilters = map[string]bool{"DCTDecode": true, "DCT": true, "JPXDecode": true, "CCITTFaxDecode": true, "CCF": true, "JBIG2Decode": true}

// chain builds the reader that decodes raw through a stream's filters. Images are not
// decoded (see pdfCheck.stream), so an image filter here is on something else: refused, as
// is any filter this package does not know.
func chain(raw io.Reader, names []string, parms []*object, m *meter) (io.Reader, error) {
	if len(names) > maxFilters {
		return nil, refuse(ErrMalformed, "more than %d filters", maxFilters)
	}
	r := raw
	for i, name := range names {
		var parm *object
		if i < len(parms) {
			parm = parms[i]
		}
		switch name {
		case "ASCIIHexDecode", "AHx":
			r = &hexDecoder{r: bufio.NewReaderSize(r, 4096)}
		case "ASCII85Decode", "A85":
			r = ascii85.NewDecoder(&a85Trim{r: bufio.NewReaderSize(r, 4096)})
		case "LZWDecode", "LZW":
			if parmInt(parm, "EarlyChange", 1) == 0 {
				r = lzw.NewReader(r, lzw.MSB, 8)
			} else {
				r = tifflzw.NewReader(r, tifflzw.MSB, 8)
			}
			var err error
			if r, err = predict(tolerant{r}, parm); err != nil {
				return nil, err
			}
		case "FlateDecode", "Fl":
			var err error
			if r, err = inflate(r); err != nil {
				return nil, err
			}
			if r, err = predict(r, parm); err != nil {
				return nil, err
			}
		case "RunLengthDecode", "RL":
			r = &runLength{r: bufio.NewReaderSize(r, 4096)}
		default:
			if imageFilters[name] {
				return nil, refuse(ErrMalformed, "image filter /%s on a stream that is not an image", name)
			}
			return nil, refuse(ErrMalformed, "unknown filter /%s", printable(name))
		}
		r = &counted{r: r, m: m}
	}
	return r, nil
}

// printable shows a name in an error message without its control bytes.
func printable(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s) && len(b) < 64; i++ {
		if c := s[i]; c > ' ' && c < 0x7f {
			b = append(b, c)
		} else if c != 0 {
			b = fmt.Appendf(b, "#%02x", c)
		}
	}
	return string(b)
}

// inflate reads zlib data, or raw deflate data when the zlib header is missing, as some
// writers emit.
func inflate(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 4096)
	h, _ := br.Peek(2)
	if len(h) == 2 && h[0]&0x0f == 8 && h[0]>>4 <= 7 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0 {
		if h[1]&0x20 != 0 {
			return nil, refuse(ErrMalformed, "a Flate stream with a preset dictionary")
		}
		z, err := zlib.NewReader(br)
		if err != nil {
			return nil, refuse(ErrMalformed, "a Flate stream that cannot be read: %v", err)
		}
		return tolerant{z}, nil
	}
	return tolerant{flate.NewReader(br)}, nil
}

// hexDecoder decodes ASCIIHexDecode: pairs of hexadecimal digits up to '>', whitespace and
// (as viewers do) any other byte skipped, an odd last digit followed by 0.
type hexDecoder struct {
	r    *bufio.Reader
	done bool
}

func (h *hexDecoder) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && !h.done {
		var v byte
		got := 0
		for got < 2 {
			c, err := h.r.ReadByte()
			if err != nil || c == '>' {
				h.done = true
				break
			}
			if x, ok := hexVal(c); ok {
				v = v<<4 | x
				got++
			}
		}
		switch got {
		case 2:
			p[n] = v
			n++
		case 1:
			p[n] = v << 4
			n++
		}
	}
	if n == 0 && h.done {
		return 0, io.EOF
	}
	return n, nil
}

// a85Trim feeds ascii85's decoder the data between an optional "<~" and the "~>" that ends
// it.
type a85Trim struct {
	r       *bufio.Reader
	started bool
	done    bool
}

func (a *a85Trim) Read(p []byte) (int, error) {
	if a.done {
		return 0, io.EOF
	}
	if !a.started {
		a.started = true
		for {
			b, err := a.r.Peek(1)
			if err != nil {
				a.done = true
				return 0, io.EOF
			}
			if !isSpace(b[0]) {
				break
			}
			a.r.ReadByte()
		}
		if b, _ := a.r.Peek(2); len(b) == 2 && b[0] == '<' && b[1] == '~' {
			a.r.Discard(2)
		}
	}
	n := 0
	for n < len(p) {
		c, err := a.r.ReadByte()
		if err != nil || c == '~' {
			a.done = true
			break
		}
		p[n] = c
		n++
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// runLength decodes RunLengthDecode.
type runLength struct {
	r     *bufio.Reader
	copyN int // literal bytes still to copy
	repN  int // times rep is still to be written
	rep   byte
	done  bool
}

func (rl *runLength) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		switch {
		case rl.copyN > 0:
			c, err := rl.r.ReadByte()
			if err != nil {
				rl.done, rl.copyN = true, 0
				continue
			}
			p[n] = c
			n++
			rl.copyN--
		case rl.repN > 0:
			p[n] = rl.rep
			n++
			rl.repN--
		case rl.done:
			if n == 0 {
				return 0, io.EOF
			}
			return n, nil
		default:
			l, err := rl.r.ReadByte()
			switch {
			case err != nil || l == 128:
				rl.done = true
			case l < 128:
				rl.copyN = int(l) + 1
			default:
				c, err := rl.r.ReadByte()
				if err != nil {
					rl.done = true
					continue
				}
				rl.rep, rl.repN = c, 257-int(l)
			}
		}
	}
	return n, nil
}

func parmInt(parm *object, key string, def int64) int64 {
	if v := parm.get(key); v != nil && v.k == kInt {
		return v.n
	}
	return def
}

// predict undoes the PNG (10 to 15) or TIFF (2) predictor a Flate or LZW stream's
// parameters name.
func predict(r io.Reader, parm *object) (io.Reader, error) {
	pred := parmInt(parm, "Predictor", 1)
	if pred <= 1 {
		return r, nil
	}
	colors := parmInt(parm, "Colors", 1)
	bpc := parmInt(parm, "BitsPerComponent", 8)
	columns := parmInt(parm, "Columns", 1)
	switch {
	case pred != 2 && (pred < 10 || pred > 15):
		return nil, refuse(ErrMalformed, "unknown predictor %d", pred)
	case colors < 1 || colors > 32:
		return nil, refuse(ErrMalformed, "a predictor with %d colours", colors)
	case bpc != 1 && bpc != 2 && bpc != 4 && bpc != 8 && bpc != 16:
		return nil, refuse(ErrMalformed, "a predictor with %d bits per component", bpc)
	case columns < 1 || columns > maxRow*8:
		return nil, refuse(ErrMalformed, "a predictor with %d columns", columns)
	}
	rowLen := (colors*bpc*columns + 7) / 8
	if rowLen > maxRow {
		return nil, refuse(ErrMalformed, "predictor rows of %d bytes", rowLen)
	}
	p := &predictor{r: r, png: pred >= 10, colors: int(colors), bpc: int(bpc), bpp: max(1, int(colors*bpc/8))}
	p.prev = make([]byte, rowLen)
	p.cur = make([]byte, rowLen)
	return p, nil
}

type predictor struct {
	r         io.Reader
	png       bool
	colors    int
	bpc       int
	bpp       int
	prev, cur []byte
	tag       [1]byte
	out       []byte
	eof       bool
}

func (p *predictor) Read(b []byte) (int, error) {
	for len(p.out) == 0 {
		if p.eof {
			return 0, io.EOF
		}
		if err := p.row(); err != nil {
			return 0, err
		}
	}
	n := copy(b, p.out)
	p.out = p.out[n:]
	return n, nil
}

// row decodes the next row into p.out; a short last row is decoded as far as it goes.
func (p *predictor) row() error {
	if p.png {
		if _, err := io.ReadFull(p.r, p.tag[:]); err != nil {
			p.eof = true
			return ignoreEOF(err)
		}
	}
	p.prev, p.cur = p.cur, p.prev
	n, err := io.ReadFull(p.r, p.cur)
	if err != nil {
		p.eof = true
		if err = ignoreEOF(err); err != nil {
			return err
		}
	}
	cur, prev := p.cur[:n], p.prev[:n]
	if p.png {
		bpp := p.bpp
		switch p.tag[0] {
		case 0:
		case 1:
			for i := bpp; i < n; i++ {
				cur[i] += cur[i-bpp]
			}
		case 2:
			for i := range cur {
				cur[i] += prev[i]
			}
		case 3:
			for i := range cur {
				var left byte
				if i >= bpp {
					left = cur[i-bpp]
				}
				cur[i] += byte((int(left) + int(prev[i])) / 2)
			}
		case 4:
			for i := range cur {
				var a, c byte
				if i >= bpp {
					a, c = cur[i-bpp], prev[i-bpp]
				}
				cur[i] += paeth(a, prev[i], c)
			}
		default:
			return refuse(ErrMalformed, "PNG predictor row of type %d", p.tag[0])
		}
	} else {
		tiffUndo(cur, p.colors, p.bpc)
	}
	p.out = cur
	return nil
}

func ignoreEOF(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return nil
	}
	return err
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// tiffUndo undoes TIFF predictor 2 (horizontal differencing) on one row.
func tiffUndo(row []byte, colors, bpc int) {
	switch bpc {
	case 8:
		for i := colors; i < len(row); i++ {
			row[i] += row[i-colors]
		}
	case 16:
		for i := 2 * colors; i+1 < len(row); i += 2 {
			v := uint16(row[i])<<8 | uint16(row[i+1])
			w := uint16(row[i-2*colors])<<8 | uint16(row[i-2*colors+1])
			v += w
			row[i], row[i+1] = byte(v>>8), byte(v)
		}
	default: // 1, 2 or 4 bits: components packed from the high bit
		mask := byte(1<<bpc - 1)
		total := len(row) * 8 / bpc
		get := func(k int) byte {
			bit := k * bpc
			return row[bit/8] >> (8 - bpc - bit%8) & mask
		}
		set := func(k int, v byte) {
			bit := k * bpc
			sh := 8 - bpc - bit%8
			row[bit/8] = row[bit/8]&^(mask<<sh) | (v&mask)<<sh
		}
		for k := colors; k < total; k++ {
			set(k, get(k)+get(k-colors))
		}
	}
}
