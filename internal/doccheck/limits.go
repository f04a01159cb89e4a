package doccheck

import (
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// The caps. Each is far above what office suites and PDF writers produce, and low enough
// that a check's memory stays within a few tens of MiB whatever it is given.
const (
	// MaxLinks and MaxLinkLen bound a report: a moderator reads the list.
	MaxLinks   = 100
	MaxLinkLen = 2048

	// A file may unpack to max(minBudget, budgetRatio × its size) in all. Text and
	// object streams compress 3 to 10 times; images, already compressed, are not decoded.
	minBudget   = 64 << 20
	budgetRatio = 16

	// An object stream is held whole to parse its objects at their offsets: writers keep
	// them to a few hundred objects, well under 1 MiB.
	maxObjStm = 8 << 20
	// How many objects an object stream may declare.
	maxObjStmN = 1 << 20

	maxDepth      = 64      // nesting of arrays and dictionaries
	maxString     = 4096    // bytes of a string kept (longer ones are read, not kept)
	maxName       = 256     // bytes of a name kept (the PDF limit is 127)
	maxKeyword    = 64      // bytes of a keyword or number kept
	maxNodes      = 1 << 16 // values kept for one object
	maxArrayKeep  = 64      // elements kept of an array: rules look at the first few only
	maxIndexKeep  = 1 << 12 // elements kept of a cross-reference stream's /Index
	maxDictKeep   = 256     // entries kept of a dictionary, beyond those the rules read
	maxFilters    = 8       // filters in a chain
	maxObjects    = 1 << 19 // object definitions indexed in a file
	maxContainers = 1 << 16 // object streams that cross-reference streams name
	maxRow        = 256 << 10
	maxResolve    = 1024 // indirect objects looked up to follow automatic actions
	maxPending    = 4096 // automatic actions and links waiting to be resolved
	maxDefs       = 64   // definitions of one object number (one per update, in a file updated often)

	// OpenDocument: entries, their names, and XML structure.
	maxEntries  = 10000
	maxZipName  = 1024
	maxXMLDepth = 1024
	maxXMLName  = 1024
	maxAttrKeep = 4096     // bytes of an attribute value kept for checks
	maxXMLSpan  = 64 << 20 // bytes of one comment, CDATA or processing instruction
	// A stream or zip entry that unpacks to more than bombRatio times its size, past
	// bombRatioFloor bytes, is a bomb: deflate tops out near 1032:1, while text, XML
	// and object streams stay under 50:1. It is refused after 4 MiB of decoding, not 64.
	bombRatio      = 200
	bombRatioFloor = 4 << 20
)

// budgetFor is how many decoded bytes a file of n bytes may unpack to.
func budgetFor(n int) int64 {
	return max(int64(minBudget), budgetRatio*int64(n))
}

// workFor bounds the bytes parsed in a PDF of n bytes: each byte belongs to one object in a
// well-formed file, so only objects made to overlap come near.
func workFor(n int, budget int64) int64 {
	return 4*int64(n) + 2*budget + 1<<20
}

// cleanLink makes a link's text safe to show: UTF-8 (UTF-16 when it starts with a byte
// order mark, as PDF text strings may), without control characters, trimmed, at most
// MaxLinkLen bytes.
func cleanLink(s string) string {
	if len(s) >= 2 && s[0] == 0xFE && s[1] == 0xFF {
		u := make([]uint16, 0, (len(s)-2)/2)
		for i := 2; i+1 < len(s); i += 2 {
			u = append(u, uint16(s[i])<<8|uint16(s[i+1]))
		}
		s = string(utf16.Decode(u))
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > MaxLinkLen {
		n := MaxLinkLen
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	return s
}

// scheme returns a link's scheme in lower case, as a browser or office suite reads it:
// after dropping the whitespace and control characters they ignore. "" when there is none.
func scheme(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r <= ' ' || r == 0x7f || unicode.IsControl(r) || unicode.IsSpace(r):
			continue
		case r == ':':
			return strings.ToLower(b.String())
		case r == '/' || r == '?' || r == '#':
			return ""
		}
		if b.Len() > 64 {
			return ""
		}
		b.WriteRune(r)
	}
	return ""
}

// scriptSchemes run code, in a browser or in an office suite, when a link is followed.
var scriptSchemes = map[string]bool{
	"javascript": true, "vbscript": true, "vnd.sun.star.script": true, "vnd.sun.star.basic": true,
	"vnd.sun.star.cmd": true, "macro": true, "service": true, ".uno": true, "slot": true,
}

// dangerousScheme reports a link that runs code.
func dangerousScheme(s string) bool { return scriptSchemes[scheme(s)] }

// dangerousPDFLink reports a PDF link that runs code, or that opens a local file or a
// document of its own instead of an address.
func dangerousPDFLink(s string) bool {
	switch sc := scheme(s); sc {
	case "data", "file", "jar":
		return true
	default:
		return scriptSchemes[sc]
	}
}
