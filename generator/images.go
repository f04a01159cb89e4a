package generator

import (
	"bytes"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io/fs"
	"path"
	"strings"

	"golang.org/x/image/draw"

	"github.com/parvis/parvis/internal/site"
)

// thumbWidths are the widths offered in a photo's srcset; none is larger than the original.
var thumbWidths = []int{320, 640, 1280}

// photo decodes a photo's image, writes its resized versions and returns how to show it.
func (b *build) photo(p *site.Page) (*ImageView, error) {
	alt := p.Photo.Alt
	if alt == "" {
		alt = p.Photo.Caption
	}
	return b.image(p, p.Photo.Image, alt)
}

// pageImage gives a page's image (front matter image) its thumbnails when it is a file of
// the page's bundle, so that cards do not load a full-sized picture.
func (b *build) pageImage(p *site.Page, v *ImageView) (*ImageView, error) {
	for _, r := range p.Resources {
		if r.Name != p.Image {
			continue
		}
		switch r.MediaType {
		case "image/jpeg", "image/png", "image/gif":
			return b.image(p, r, v.Alt)
		}
	}
	return v, nil
}

// image decodes a bundle's image, writes its resized versions and returns how to show it.
func (b *build) image(p *site.Page, res *site.Resource, alt string) (*ImageView, error) {
	data, err := fs.ReadFile(b.g.src, res.Path)
	if err != nil {
		return nil, err
	}
	var img image.Image
	switch res.MediaType {
	case "image/jpeg":
		img, err = jpeg.Decode(bytes.NewReader(data))
	case "image/png":
		img, err = png.Decode(bytes.NewReader(data))
	case "image/gif":
		img, err = gif.Decode(bytes.NewReader(data))
	default:
		err = fmt.Errorf("unsupported image type %s", res.MediaType)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the image: %v", err)
	}
	cfg := b.site.Config
	bounds := img.Bounds()
	v := &ImageView{URL: cfg.RelURL(p.URL + res.Name), Width: bounds.Dx(), Height: bounds.Dy(), Alt: alt}
	v.Thumb = v.URL
	var srcset []string
	base := strings.TrimSuffix(res.Name, path.Ext(res.Name))
	src := img
	// Largest first, each from the previous one: cheaper than always from the original.
	for i := len(thumbWidths) - 1; i >= 0; i-- {
		w := thumbWidths[i]
		if w >= src.Bounds().Dx() {
			continue
		}
		h := src.Bounds().Dy() * w / src.Bounds().Dx()
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
		var out bytes.Buffer
		if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: 80}); err != nil {
			return nil, err
		}
		name := fmt.Sprintf("%s-%dw.jpg", base, w)
		if err := b.write(p.URL+name, out.Bytes()); err != nil {
			return nil, err
		}
		u := cfg.RelURL(p.URL + name)
		srcset = append([]string{fmt.Sprintf("%s %dw", u, w)}, srcset...)
		if w == 640 {
			v.Thumb = u
		}
		src = dst
	}
	srcset = append(srcset, fmt.Sprintf("%s %dw", v.URL, v.Width))
	v.Srcset = strings.Join(srcset, ", ")
	return v, nil
}
