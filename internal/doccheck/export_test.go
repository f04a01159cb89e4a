package doccheck

import "io"

// Decode runs data through the filters that a stream dictionary's entries name (written
// as in a PDF: "/Filter [/AHx /Fl] /DecodeParms [null << /Predictor 12 >>]"), as the
// check decodes a stream that is not an image, for the filters' tests.
func Decode(entries string, data []byte) ([]byte, error) {
	p := newParser(newSliceLexer([]byte("<< "+entries+" >>"), 0), nil)
	d, err := p.value(0)
	if err != nil {
		return nil, err
	}
	c := &pdfCheck{meter: meter{left: 1 << 30, limit: 1 << 30}, workLeft: 1 << 30}
	r, err := c.decoder(&d, data, "a test")
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}
