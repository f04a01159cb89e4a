package doccorpus

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/ascii85"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// Encode encodes data so that the PDF filters named decode it back, in their order: the
// last filter is applied first. A filter may carry its parameters after a colon:
// "FlateDecode:png=4" (PNG Up predictor, 4 columns, Predictor 12), "FlateDecode:tiff=3"
// (TIFF predictor, 3 columns), "LZWDecode:early=0", "LZWDecode:png=5", "ASCII85Decode:<~"
// (with the "<~" prefix). Spelling the name as a stream wants it is Filter.
func Encode(data []byte, filters ...string) []byte {
	for i := len(filters) - 1; i >= 0; i-- {
		name, opt, _ := strings.Cut(filters[i], ":")
		switch unescape(name) {
		case "ASCIIHexDecode", "AHx":
			var b bytes.Buffer
			h := hex.EncodeToString(data)
			for j := 0; j < len(h); j += 64 {
				b.WriteString(h[j:min(len(h), j+64)])
				b.WriteByte('\n')
			}
			b.WriteByte('>')
			data = b.Bytes()
		case "ASCII85Decode", "A85":
			out := make([]byte, ascii85.MaxEncodedLen(len(data)))
			out = out[:ascii85.Encode(out, data)]
			if opt == "<~" {
				out = append([]byte("<~"), out...)
			}
			data = append(out, "~>"...)
		case "LZWDecode", "LZW":
			data = predictEncode(data, opt)
			data = LZW(data, opt != "early=0" && !strings.Contains(opt, "early=0"))
		case "FlateDecode", "Fl":
			data = predictEncode(data, opt)
			data = Deflate(data)
		case "RunLengthDecode", "RL":
			data = RunLength(data)
		default:
			panic("doccorpus: no encoder for " + name)
		}
	}
	return data
}

// unescape decodes a name's #xx escapes.
func unescape(name string) string {
	var b []byte
	for i := 0; i < len(name); i++ {
		if name[i] == '#' && i+2 < len(name) {
			if v, err := hex.DecodeString(name[i+1 : i+3]); err == nil {
				b = append(b, v[0])
				i += 2
				continue
			}
		}
		b = append(b, name[i])
	}
	return string(b)
}

// Parms returns the /DecodeParms entry (a dictionary, or null) that Encode's options for
// one filter need.
func Parms(filter string) string {
	_, opt, _ := strings.Cut(filter, ":")
	var parts []string
	for o := range strings.SplitSeq(opt, ",") {
		var n int
		switch {
		case strings.HasPrefix(o, "png="):
			fmt.Sscanf(o, "png=%d", &n)
			parts = append(parts, fmt.Sprintf("/Predictor 12 /Columns %d", n))
		case strings.HasPrefix(o, "tiff="):
			fmt.Sscanf(o, "tiff=%d", &n)
			parts = append(parts, fmt.Sprintf("/Predictor 2 /Columns %d", n))
		case o == "early=0":
			parts = append(parts, "/EarlyChange 0")
		}
	}
	if len(parts) == 0 {
		return "null"
	}
	return "<< " + strings.Join(parts, " ") + " >>"
}

// FilterEntries returns the /Filter and /DecodeParms entries for filters as Encode reads
// them: "/Filter /FlateDecode" or "/Filter [/ASCIIHexDecode /FlateDecode] /DecodeParms
// [null << /Predictor 12 /Columns 4 >>]".
func FilterEntries(filters ...string) string {
	if len(filters) == 0 {
		return ""
	}
	names := make([]string, len(filters))
	parms := make([]string, len(filters))
	any := false
	for i, f := range filters {
		name, _, _ := strings.Cut(f, ":")
		names[i] = "/" + name
		parms[i] = Parms(f)
		any = any || parms[i] != "null"
	}
	if len(filters) == 1 {
		s := "/Filter " + names[0]
		if any {
			s += " /DecodeParms " + parms[0]
		}
		return s
	}
	s := "/Filter [" + strings.Join(names, " ") + "]"
	if any {
		s += " /DecodeParms [" + strings.Join(parms, " ") + "]"
	}
	return s
}

// predictEncode applies the PNG (Up, on every row) or TIFF predictor that opt names.
func predictEncode(data []byte, opt string) []byte {
	var cols int
	for o := range strings.SplitSeq(opt, ",") {
		switch {
		case strings.HasPrefix(o, "png="):
			fmt.Sscanf(o, "png=%d", &cols)
			var out []byte
			prev := make([]byte, cols)
			for i := 0; i < len(data); i += cols {
				row := make([]byte, cols)
				copy(row, data[i:min(len(data), i+cols)])
				out = append(out, 2) // Up
				for j := range row {
					out = append(out, row[j]-prev[j])
				}
				prev = row
			}
			return out
		case strings.HasPrefix(o, "tiff="):
			fmt.Sscanf(o, "tiff=%d", &cols)
			out := make([]byte, 0, len(data)+cols)
			for i := 0; i < len(data); i += cols {
				row := make([]byte, cols)
				copy(row, data[i:min(len(data), i+cols)])
				for j := len(row) - 1; j > 0; j-- {
					row[j] -= row[j-1]
				}
				out = append(out, row...)
			}
			return out
		}
	}
	return data
}

// Deflate compresses data in the zlib format, as FlateDecode reads it.
func Deflate(data []byte) []byte {
	var b bytes.Buffer
	w, _ := zlib.NewWriterLevel(&b, zlib.BestCompression)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// ZerosDeflate is a raw deflate stream of n zero bytes (n a multiple of 1 MiB), as the
// best compression writes it, built from one compressed MiB repeated: compressing a bomb
// byte by byte would take seconds, minutes under the race detector.
func ZerosDeflate(n int) []byte {
	const mb = 1 << 20
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	zeros := make([]byte, mb)
	chunk := func() []byte {
		at := b.Len()
		w.Write(zeros)
		w.Flush()
		return bytes.Clone(b.Bytes()[at:])
	}
	head, second, third := chunk(), chunk(), chunk()
	if n%mb != 0 || n < 3*mb || !bytes.Equal(second, third) {
		var full bytes.Buffer
		fw, _ := flate.NewWriter(&full, flate.BestCompression)
		for left := n; left > 0; left -= min(left, mb) {
			fw.Write(zeros[:min(left, mb)])
		}
		fw.Close()
		return full.Bytes()
	}
	out := append(head, bytes.Repeat(second, n/mb-1)...)
	// Each chunk ends with a sync flush, on a byte: an empty final block with fixed codes
	// ends the stream.
	return append(out, 0x03, 0x00)
}

// ZerosZlib is ZerosDeflate in the zlib format, as FlateDecode reads it.
func ZerosZlib(n int) []byte {
	out := append([]byte{0x78, 0xDA}, ZerosDeflate(n)...)
	// Adler-32 of n zeros: the sum of bytes stays 1, the sum of sums is n.
	return binary.BigEndian.AppendUint32(out, uint32(n%65521)<<16|1)
}

// RunLength encodes data as RunLengthDecode reads it.
func RunLength(data []byte) []byte {
	var out []byte
	for i := 0; i < len(data); {
		j := i + 1
		for j < len(data) && j-i < 128 && data[j] == data[i] {
			j++
		}
		if j-i >= 2 {
			out = append(out, byte(257-(j-i)), data[i])
			i = j
			continue
		}
		j = i + 1
		for j < len(data) && j-i < 128 && (j+1 >= len(data) || data[j+1] != data[j]) {
			j++
		}
		out = append(out, byte(j-i-1))
		out = append(out, data[i:j]...)
		i = j
	}
	return append(out, 128)
}

// LZW compresses data as LZWDecode reads it, with EarlyChange 1 (the default, as TIFF)
// or 0 (as GIF): the code width grows one code sooner with early change.
func LZW(data []byte, early bool) []byte {
	const clearCode, eod, litWidth = 256, 257, 8
	var out []byte
	var acc uint32
	var nbits uint
	write := func(code, width int) {
		acc = acc<<uint(width) | uint32(code)
		nbits += uint(width)
		for nbits >= 8 {
			out = append(out, byte(acc>>(nbits-8)))
			nbits -= 8
		}
		acc &= 1<<nbits - 1
	}
	width, hi, overflow := litWidth+1, eod, 1<<(litWidth+1)
	table := map[int]int{}
	reset := func() {
		width, hi, overflow = litWidth+1, eod, 1<<(litWidth+1)
		clear(table)
	}
	// incHi takes the next code; the decoder, a code behind, grows its width when its own
	// count reaches the overflow (minus one with early change).
	incHi := func() bool {
		hi++
		lim := overflow
		if early {
			lim--
		}
		if hi == lim {
			width++
			overflow <<= 1
		}
		// The table is full at 4095 codes (4094 with early change, whose decoder stops
		// one sooner): start again.
		full := 4095
		if early {
			full = 4094
		}
		if hi >= full {
			write(clearCode, width)
			reset()
			return false
		}
		return true
	}
	write(clearCode, width)
	if len(data) == 0 {
		write(eod, width)
		return flush(out, acc, nbits)
	}
	code := int(data[0])
	for _, x := range data[1:] {
		key := code<<8 | int(x)
		if t, ok := table[key]; ok {
			code = t
			continue
		}
		write(code, width)
		code = int(x)
		if incHi() {
			table[key] = hi
		}
	}
	write(code, width)
	incHi()
	write(eod, width)
	return flush(out, acc, nbits)
}

func flush(out []byte, acc uint32, nbits uint) []byte {
	if nbits > 0 {
		out = append(out, byte(acc<<(8-nbits)))
	}
	return out
}
