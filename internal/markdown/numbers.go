package markdown

import "strings"

const nbsp = "\u00a0" // no-break space

// units are the symbols and abbreviations that French sets after a number with a narrow
// no-break space ("24 000 €", "12 %", "3 km"), longest first where one starts another.
var units = []string{"Md€", "M€", "k€", "€", "%", "‰", "$", "£", "°C", "°", "kWh", "MWh", "km", "m²", "m³", "cm", "mm", "m", "kg", "ha"}

// number sets the spaces of the number that starts at buf[i], and returns where scanning
// goes on:
//
//   - groups of three digits are joined by narrow no-break spaces ("24 000", "1 000 000"):
//     the first group has one to three digits and no leading zero, so that phone numbers
//     ("04 75 00 12 34") and a year before a count ("2026 100") are left alone;
//   - a unit after the number is held to it by a narrow no-break space ("24 000 €");
//   - a time's parts are held together by no-break spaces ("19 h", "19 h 30").
//
// Only the spaces the author wrote change: one space, no-break or not, between the parts.
// A number glued to a word or to another number's punctuation ("A4", "1.5") is skipped.
func (f *flow) number(i int) int {
	b := f.buf
	end := digitsEnd(b, i)
	if prev := f.runeBefore(i); isAlnum(prev) || strings.ContainsRune(".,:/", prev) {
		return end
	}
	n := end - i
	if n <= 3 && !(n > 1 && b[i] == '0') {
		for {
			k := spaceEnd(b, end)
			if k < 0 {
				break
			}
			e := digitsEnd(b, k)
			if e-k != 3 || isAlnum(f.runeAt(e)) {
				break
			}
			f.setSpace(end, k, nnbsp)
			end = e
		}
	}
	if end+1 < len(b) && (b[end] == ',' || b[end] == '.') && isDigit(b[end+1]) {
		end = digitsEnd(b, end+1)
	}
	k := spaceEnd(b, end)
	if k < 0 {
		return end
	}
	if u := unitAt(f, k); u > 0 {
		f.setSpace(end, k, nnbsp)
		return k + u
	}
	// A time: 0 to 24, " h", and maybe two digits of minutes.
	if n <= 2 && end == i+n && atoi(b[i:end]) <= 24 && b[k] == 'h' && !isAlnum(f.runeAt(k+1)) {
		f.setSpace(end, k, nbsp)
		end = k + 1
		if m := spaceEnd(b, end); m >= 0 {
			if e := digitsEnd(b, m); e-m == 2 && !isAlnum(f.runeAt(e)) {
				f.setSpace(end, m, nbsp)
				end = e
			}
		}
	}
	return end
}

// setSpace turns the space buf[from:to] into s, unless it is s already.
func (f *flow) setSpace(from, to int, s string) {
	if string(f.buf[from:to]) != s {
		f.add(from, to, s)
	}
}

// spaceEnd returns the end of the single space that starts at buf[i], or -1 when there
// is none, or more than one.
func spaceEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	r, size := decode(b, i)
	if r != ' ' && r != '\u00a0' && r != '\u2009' && r != '\u202f' {
		return -1
	}
	if i+size < len(b) {
		if r, _ := decode(b, i+size); isSpaceMark(r) || r == '\n' {
			return -1
		}
	}
	return i + size
}

// unitAt returns the length of the unit that starts at buf[i] and ends a word, or 0.
func unitAt(f *flow, i int) int {
	rest := f.buf[i:]
	for _, u := range units {
		if len(rest) >= len(u) && string(rest[:len(u)]) == u && !isAlnum(f.runeAt(i+len(u))) {
			return len(u)
		}
	}
	return 0
}

func digitsEnd(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func atoi(b []byte) int {
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n
}

// hasDigit reports whether s holds an ASCII digit, for the quick test of Typography.
func hasDigit(s string) bool {
	return strings.ContainsAny(s, "0123456789")
}
