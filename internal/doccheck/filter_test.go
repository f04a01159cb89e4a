package doccheck_test

import (
	"archive/zip"
	"bytes"
	"compress/lzw"
	"compress/zlib"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/parvis/parvis/internal/doccheck"
	"github.com/parvis/parvis/internal/doccheck/doccorpus"
)

// text is n bytes that look like a PDF's objects: repetitive enough for LZW to reach its
// widest codes, varied enough not to collapse.
func text(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	for b.Len() < n {
		fmt.Fprintf(&b, "%d 0 obj << /Type /Annot /Rect [%d %d %d %d] /A << /S /URI /URI (https://x.example/%d) >> >> endobj\n",
			r.IntN(5000), r.IntN(600), r.IntN(800), r.IntN(600), r.IntN(800), r.IntN(1e6))
	}
	return b.Bytes()[:n]
}

// TestFiltersRoundTrip: every filter and chain of the corpus decodes what was encoded
// (finding 1: the check reads what a viewer reads, whatever the encoding).
func TestFiltersRoundTrip(t *testing.T) {
	data := text(210000) // whole rows for every predictor below
	chains := append(doccorpus.Filters, []string{"LZWDecode:tiff=7"}, []string{"FlateDecode:png=1"}, []string{"RunLengthDecode", "RunLengthDecode"})
	for _, f := range chains {
		t.Run(strings.Join(f, "+"), func(t *testing.T) {
			got, err := doccheck.Decode(doccorpus.FilterEntries(f...), doccorpus.Encode(data, f...))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("decoded %d bytes, not the %d encoded", len(got), len(data))
			}
		})
	}
}

// TestLZWVariants: the corpus's LZW encoder writes what compress/lzw writes for
// EarlyChange 0, and the two variants differ, so that each decoder is really tested.
func TestLZWVariants(t *testing.T) {
	data := text(64 << 10)
	var want bytes.Buffer
	w := lzw.NewWriter(&want, lzw.MSB, 8)
	w.Write(data)
	w.Close()
	if got := doccorpus.LZW(data, false); !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("EarlyChange 0: %d bytes, compress/lzw writes %d", len(got), want.Len())
	}
	early := doccorpus.LZW(data, true)
	if bytes.Equal(early, want.Bytes()) {
		t.Fatal("both variants encode alike")
	}
	if got, err := doccheck.Decode("/Filter /LZWDecode /DecodeParms << /EarlyChange 0 >>", early); err == nil && bytes.Equal(got, data) {
		t.Error("data encoded with early change decodes without it")
	}
}

// TestPNGPredictors decodes a PNG's own image data, which Go's encoder filters row by row
// with all five PNG filters, as a Flate stream with predictor 15: an encoder this package
// did not write.
func TestPNGPredictors(t *testing.T) {
	const w, h = 61, 40
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(3, 4))
	for y := range h {
		for x := range w {
			c := color.RGBA{byte(x * 4), byte(y * 6), byte(r.IntN(256)), 255}
			if y%3 == 0 {
				c.B = byte(x + y)
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	var idat []byte
	for p := b.Bytes()[8:]; len(p) >= 12; {
		n := int(p[0])<<24 | int(p[1])<<16 | int(p[2])<<8 | int(p[3])
		if string(p[4:8]) == "IDAT" {
			idat = append(idat, p[8:8+n]...)
		}
		p = p[12+n:]
	}
	got, err := doccheck.Decode(fmt.Sprintf("/Filter /FlateDecode /DecodeParms << /Predictor 15 /Colors 3 /BitsPerComponent 8 /Columns %d >>", w), idat)
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	for y := range h {
		for x := range w {
			c := img.RGBAAt(x, y)
			want = append(want, c.R, c.G, c.B)
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("decoded %d bytes, %d expected, or not the same", len(got), len(want))
	}
}

func TestFilterRefusals(t *testing.T) {
	for _, tt := range []struct {
		entries string
		want    error
		reason  string
	}{
		{"/Filter /ROT13Decode", doccheck.ErrMalformed, "unknown filter /ROT13Decode"},
		{"/Filter [/FlateDecode /DCTDecode]", doccheck.ErrMalformed, "image filter /DCTDecode on a stream that is not an image"},
		{"/Filter [/AHx /AHx /AHx /AHx /AHx /AHx /AHx /AHx /AHx]", doccheck.ErrMalformed, "more than 8 filters"},
		{"/Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 100000000 >>", doccheck.ErrMalformed, "columns"},
		{"/Filter /FlateDecode /DecodeParms << /Predictor 12 /Colors 4 /Columns 100000 >>", doccheck.ErrMalformed, "predictor rows of"},
		{"/Filter /FlateDecode /DecodeParms << /Predictor 7 >>", doccheck.ErrMalformed, "unknown predictor 7"},
		{"/Filter 5", doccheck.ErrMalformed, "a filter that is not a name"},
	} {
		_, err := doccheck.Decode(tt.entries, []byte("x"))
		if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("%s: %v, want %q", tt.entries, err, tt.reason)
		}
	}
}

// TestBombBuilders: the corpus's quick bombs are what they claim, checksums included, so
// that a refusal is for their size and nothing else.
func TestBombBuilders(t *testing.T) {
	if testing.Short() {
		t.Skip("unpacks 250 MB")
	}
	z, err := zlib.NewReader(bytes.NewReader(doccorpus.ZerosZlib(250 << 20)))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := io.Copy(io.Discard, z); err != nil || n != 250<<20 {
		t.Fatalf("the PDF bomb's stream: %d bytes, %v", n, err)
	}
	odt := doccorpus.ODT120()
	r, err := zip.NewReader(bytes.NewReader(odt), int64(len(odt)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, rc)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err) // archive/zip checks the size and CRC
		}
		if f.Name == "Pictures/photo.png" && n != 120<<20 {
			t.Fatalf("%s: %d bytes", f.Name, n)
		}
	}
	t.Logf("bombs: a %d KB PDF of 250 MB, a %d KB ODT with an entry of 120 MB", len(doccorpus.Bomb250())>>10, len(odt)>>10)
}
