package generator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io/fs"
	"os"
	"path"
	"path/filepath"
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

// image writes a bundle's image's resized versions and returns how to show it. Resized
// versions are kept in the generator's cache, keyed by the image's content, so that a
// rebuild (after each approval) decodes no image that has not changed.
func (b *build) image(p *site.Page, res *site.Resource, alt string) (*ImageView, error) {
	data, err := fs.ReadFile(b.g.src, res.Path)
	if err != nil {
		return nil, err
	}
	conf, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("cannot read the image: %v", err)
	}
	cfg := b.site.Config
	v := &ImageView{URL: cfg.RelURL(p.URL + res.Name), Width: conf.Width, Height: conf.Height, Alt: alt}
	v.Thumb = v.URL
	key := ""
	if b.g.cache != "" {
		sum := sha256.Sum256(data)
		key = hex.EncodeToString(sum[:])
	}
	var img image.Image // decoded on the first cache miss
	var srcset []string
	base := strings.TrimSuffix(res.Name, path.Ext(res.Name))
	for _, w := range thumbWidths {
		if w >= conf.Width {
			continue
		}
		thumb, ok := b.cached(key, w)
		if !ok {
			if img == nil {
				if img, err = decodeImage(res.MediaType, data); err != nil {
					return nil, fmt.Errorf("cannot read the image: %v", err)
				}
			}
			h := conf.Height * w / conf.Width
			dst := image.NewRGBA(image.Rect(0, 0, w, h))
			draw.CatmullRom.Scale(dst, dst.Bounds(), img, img.Bounds(), draw.Src, nil)
			var out bytes.Buffer
			if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: 80}); err != nil {
				return nil, err
			}
			thumb = out.Bytes()
			b.keep(key, w, thumb)
		}
		name := fmt.Sprintf("%s-%dw.jpg", base, w)
		if err := b.write(p.URL+name, thumb); err != nil {
			return nil, err
		}
		u := cfg.RelURL(p.URL + name)
		srcset = append(srcset, fmt.Sprintf("%s %dw", u, w))
		if w == 640 {
			v.Thumb = u
		}
	}
	srcset = append(srcset, fmt.Sprintf("%s %dw", v.URL, v.Width))
	v.Srcset = strings.Join(srcset, ", ")
	return v, nil
}

func decodeImage(mediaType string, data []byte) (image.Image, error) {
	switch mediaType {
	case "image/jpeg":
		return jpeg.Decode(bytes.NewReader(data))
	case "image/png":
		return png.Decode(bytes.NewReader(data))
	case "image/gif":
		return gif.Decode(bytes.NewReader(data))
	}
	return nil, fmt.Errorf("unsupported image type %s", mediaType)
}

// thumbVersion changes when the way thumbnails are made changes, so that old ones are not
// reused.
const thumbVersion = "t1"

func (b *build) thumbPath(key string, w int) string {
	return filepath.Join(b.g.cache, "thumbs", key[:2], fmt.Sprintf("%s-%s-%d.jpg", key, thumbVersion, w))
}

func (b *build) cached(key string, w int) ([]byte, bool) {
	if key == "" {
		return nil, false
	}
	data, err := os.ReadFile(b.thumbPath(key, w))
	return data, err == nil && len(data) > 0
}

// keep stores a thumbnail in the cache; a failure only costs a later resize.
func (b *build) keep(key string, w int, data []byte) {
	if key == "" {
		return
	}
	p := b.thumbPath(key, w)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), p) != nil {
		os.Remove(tmp.Name())
	}
}
