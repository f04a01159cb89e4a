package forms

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"runtime"

	"golang.org/x/image/draw"
)

// imageSlots bounds how many images are decoded at once: decoding is CPU-bound, and a
// decoded image takes up to 4 bytes × MaxImagePixels (160 MB by default).
var imageSlots = make(chan struct{}, runtime.GOMAXPROCS(0))

// imageSize reads an image's dimensions and its bytes per decoded pixel from its header,
// without decoding its pixels.
func imageSize(mt string, data []byte) (w, h, depth int, err error) {
	var cfg image.Config
	r := bytes.NewReader(data)
	switch mt {
	case "image/jpeg":
		cfg, err = jpeg.DecodeConfig(r)
	case "image/png":
		cfg, err = png.DecodeConfig(r)
	case "image/gif":
		cfg, err = gif.DecodeConfig(r)
	default:
		err = errors.New("not an image")
	}
	if err == nil && (cfg.Width <= 0 || cfg.Height <= 0) {
		err = errors.New("an image without pixels")
	}
	if err != nil {
		return 0, 0, 0, err
	}
	return cfg.Width, cfg.Height, bytesPerPixel(cfg.ColorModel), nil
}

// reencode decodes an image and encodes it again in its own format (JPEG at quality 85),
// turned upright as its EXIF orientation says, and fitted to longest pixels on its longest
// side. Only pixels survive: no metadata, no trailing data. A GIF keeps its first frame.
func reencode(data []byte, mt string, longest int) (out []byte, w, h int, err error) {
	imageSlots <- struct{}{}
	defer func() { <-imageSlots }()
	var img image.Image
	orientation := 1
	r := bytes.NewReader(data)
	switch mt {
	case "image/jpeg":
		orientation = jpegOrientation(data)
		img, err = jpeg.Decode(r)
	case "image/png":
		img, err = png.Decode(r)
	case "image/gif":
		img, err = gif.Decode(r)
	default:
		err = errors.New("not an image")
	}
	if err != nil {
		return nil, 0, 0, err
	}
	b := img.Bounds()
	sw, sh := fit(b.Dx(), b.Dy(), longest)
	if sw != b.Dx() || sh != b.Dy() {
		img = shrink(img, sw, sh)
	}
	if orientation != 1 {
		src, ok := img.(*image.RGBA)
		if !ok {
			src = image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
			draw.Draw(src, src.Bounds(), img, b.Min, draw.Src)
		}
		img = orient(src, orientation)
	}
	var buf bytes.Buffer
	buf.Grow(len(data) / 2)
	switch mt {
	case "image/jpeg":
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85})
	case "image/png":
		err = (&png.Encoder{CompressionLevel: png.DefaultCompression}).Encode(&buf, img)
	case "image/gif":
		err = gif.Encode(&buf, img, nil)
	}
	if err != nil {
		return nil, 0, 0, err
	}
	return buf.Bytes(), img.Bounds().Dx(), img.Bounds().Dy(), nil
}

// fit scales w×h down so that its longest side is at most longest, keeping its ratio.
func fit(w, h, longest int) (int, int) {
	if w <= longest && h <= longest {
		return w, h
	}
	if w >= h {
		return longest, max(1, int((int64(h)*int64(longest)+int64(w)/2)/int64(w)))
	}
	return max(1, int((int64(w)*int64(longest)+int64(h)/2)/int64(h))), longest
}

// orient turns an image upright as an EXIF orientation (2 to 8) says.
func orient(src *image.RGBA, o int) *image.RGBA {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	w, h := sw, sh
	if o >= 5 {
		w, h = sh, sw
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var sx, sy int
			switch o {
			case 2: // mirrored
				sx, sy = w-1-x, y
			case 3: // upside down
				sx, sy = w-1-x, h-1-y
			case 4: // mirrored upside down
				sx, sy = x, h-1-y
			case 5: // mirrored, turned a quarter counter-clockwise
				sx, sy = y, x
			case 6: // turned a quarter counter-clockwise: turn it clockwise
				sx, sy = y, sh-1-x
			case 7: // mirrored, turned a quarter clockwise
				sx, sy = sw-1-y, sh-1-x
			case 8: // turned a quarter clockwise: turn it counter-clockwise
				sx, sy = sw-1-y, x
			default:
				sx, sy = x, y
			}
			s := src.PixOffset(src.Rect.Min.X+sx, src.Rect.Min.Y+sy)
			d := dst.PixOffset(x, y)
			copy(dst.Pix[d:d+4], src.Pix[s:s+4])
		}
	}
	return dst
}

// jpegOrientation reads the EXIF orientation (1 to 8) of a JPEG file, 1 when it has none.
func jpegOrientation(b []byte) int {
	if len(b) < 4 || b[0] != 0xff || b[1] != 0xd8 {
		return 1
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xff {
			return 1
		}
		marker := b[i+1]
		if marker == 0xff { // fill byte
			i++
			continue
		}
		if marker == 0xda || marker == 0xd9 { // the image data starts: no EXIF before it
			return 1
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return 1
		}
		seg := b[i+4 : i+2+n]
		if marker == 0xe1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return tiffOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

// tiffOrientation reads tag 0x0112 of the first IFD of an EXIF (TIFF) block.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var order binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return 1
	}
	if order.Uint16(t[2:]) != 42 {
		return 1
	}
	ifd := int64(order.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > int64(len(t)) {
		return 1
	}
	n := int64(order.Uint16(t[ifd:]))
	for k := int64(0); k < n; k++ {
		e := ifd + 2 + 12*k
		if e+12 > int64(len(t)) {
			return 1
		}
		if order.Uint16(t[e:]) == 0x0112 && order.Uint16(t[e+2:]) == 3 {
			if v := int(order.Uint16(t[e+8:])); v >= 1 && v <= 8 {
				return v
			}
			return 1
		}
	}
	return 1
}
