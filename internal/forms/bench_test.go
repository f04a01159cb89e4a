package forms

import (
	"bytes"
	"image"
	"image/jpeg"
	"net/url"
	"testing"
)

// BenchmarkComment decodes and encodes one comment as the demo's policy takes it, with an
// e-mail address to hash: the work the service does per comment.
func BenchmarkComment(b *testing.B) {
	f := compile(b, "comment", commentPolicy)
	v := url.Values{
		"fields[name]":      {"Claire M."},
		"fields[email]":     {"claire.martin@example.fr"},
		"fields[message]":   {"Merci pour ces précisions sur le budget participatif.\r\nLe projet du parc me semble une bonne idée, et j'espère que l'éclairage sera revu."},
		"fields[website]":   {""},
		"options[page]":     {"articles/budget-2026"},
		"options[redirect]": {"https://www.belcombe.fr/articles/budget-2026/#comments"},
		"options[token]":    {"1712345678.c2lnbmVkLXRva2Vu"},
		"options[pow]":      {"000f3a:19"},
	}
	b.ReportAllocs()
	for b.Loop() {
		s, errs := f.Decode(v, nil)
		if errs != nil {
			b.Fatal(errs)
		}
		if _, err := f.Encode(s, testGen); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCommentParallel is the same on every core, as the service runs it.
func BenchmarkCommentParallel(b *testing.B) {
	f := compile(b, "comment", commentPolicy)
	v := url.Values{
		"fields[name]":    {"Claire M."},
		"fields[email]":   {"claire.martin@example.fr"},
		"fields[message]": {"Merci pour ces précisions sur le budget participatif."},
		"options[page]":   {"articles/budget-2026"},
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s, errs := f.Decode(v, nil)
			if errs != nil {
				b.Error(errs)
				return
			}
			if _, err := f.Encode(s, testGen); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkPhoto re-encodes a 12-megapixel camera photo to 2560 pixels: the costly upload.
func BenchmarkPhoto(b *testing.B) {
	img := image.NewYCbCr(image.Rect(0, 0, 4000, 3000), image.YCbCrSubsampleRatio420)
	for i := range img.Y {
		img.Y[i] = byte(i * 7)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.ReportAllocs()
	for b.Loop() {
		if _, w, _, err := reencode(data, "image/jpeg", 2560); err != nil || w != 2560 {
			b.Fatal(w, err)
		}
	}
}
