package forms

import (
	"image"
	"image/color"
	"math"
	"net/url"
	"testing"
)

func TestShrink(t *testing.T) {
	mean := func(img *image.RGBA) float64 {
		var sum float64
		for i := 0; i < len(img.Pix); i += 4 {
			sum += float64(img.Pix[i])
		}
		return sum / float64(len(img.Pix)/4)
	}
	// A checkerboard of single black and white pixels, whose mean is 127.5.
	checker := image.NewRGBA(image.Rect(0, 0, 300, 200))
	for y := range 200 {
		for x := range 300 {
			if (x+y)%2 == 0 {
				checker.Set(x, y, color.White)
			} else {
				checker.Set(x, y, color.Black)
			}
		}
	}
	for _, tt := range []struct{ w, h int }{{150, 100}, {100, 67}, {7, 5}, {299, 199}, {1, 1}} {
		got := shrink(checker, tt.w, tt.h)
		if got.Rect.Dx() != tt.w || got.Rect.Dy() != tt.h {
			t.Errorf("%dx%d: got %v", tt.w, tt.h, got.Rect)
		}
		if m := mean(got); math.Abs(m-127.5) > 1.5 {
			t.Errorf("%dx%d: mean %.2f, want 127.5: area is not preserved", tt.w, tt.h, m)
		}
		if tt.w <= 150 {
			// Averaging, not sampling: no pixel stays black or white (no moiré).
			for i := 0; i < len(got.Pix); i += 4 {
				if v := got.Pix[i]; v < 100 || v > 155 {
					t.Fatalf("%dx%d: pixel %d is %d, want about 128", tt.w, tt.h, i/4, v)
				}
			}
		}
	}
	// A uniform image stays exactly uniform, and the sub-image's offset is honoured.
	flat := image.NewYCbCr(image.Rect(0, 0, 64, 48), image.YCbCrSubsampleRatio420)
	for i := range flat.Y {
		flat.Y[i] = 200
	}
	for i := range flat.Cb {
		flat.Cb[i], flat.Cr[i] = 128, 128
	}
	sub := flat.SubImage(image.Rect(10, 10, 64, 48))
	got := shrink(sub, 20, 14)
	for i, v := range got.Pix {
		if want := uint8(200); i%4 != 3 && v != want || i%4 == 3 && v != 255 {
			t.Fatalf("byte %d is %d", i, v)
		}
	}
	// Transparency is averaged premultiplied: a transparent red half does not tint the rest.
	half := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	half.SetNRGBA(0, 0, color.NRGBA{255, 0, 0, 0})
	half.SetNRGBA(1, 0, color.NRGBA{0, 0, 255, 255})
	if p := shrink(half, 1, 1).Pix; p[0] != 0 || p[2] != 128 || p[3] != 128 {
		t.Errorf("premultiplied mean %v, want [0 0 128 128]", p)
	}
}

func TestDeepImagesHaveASmallerBudget(t *testing.T) {
	f, err := Compile("photo", spec(t, photoPolicy), Options{Location: paris, MaxImagePixels: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	v := url.Values{"fields[title]": {"Brume"}, "fields[caption]": {"Au petit matin."}}
	// 900 × 900 pixels: within a million at 8 bits a channel, over budget at 16.
	for _, tt := range []struct {
		img  image.Image
		code Code
	}{
		{image.NewRGBA(image.Rect(0, 0, 900, 900)), ""},
		{image.NewRGBA64(image.Rect(0, 0, 900, 900)), CodeDimensions},
	} {
		_, errs := f.Decode(v, multipartFiles(t, upload{"fields[image]", "x.png", pngFile(t, tt.img)}))
		if errs["fields[image]"].Code != tt.code {
			t.Errorf("%T: %v, want %q", tt.img, errs, tt.code)
		}
		if tt.code != "" && errs["fields[image]"].Limit != 1 {
			t.Errorf("limit %d megapixels, want 1 (the least a message says)", errs["fields[image]"].Limit)
		}
	}
}
