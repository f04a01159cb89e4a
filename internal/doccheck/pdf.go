package doccheck

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
)

// PDF checks a PDF file and returns the links it holds. The objects are found the way a
// viewer repairing a file finds them: every "N G obj" in the file, wherever it stands (in
// another object's string, after a broken cross-reference table), and every object packed
// in an object stream. Every dictionary, including those in decoded content streams, goes
// through the rules (rules.go).
func PDF(data []byte) (Report, error) {
	c := &pdfCheck{data: data}
	c.meter.limit = budgetFor(len(data))
	c.meter.left = c.meter.limit
	c.workLeft = workFor(len(data), c.meter.limit)
	err := c.run()
	if err != nil {
		return Report{}, err
	}
	return Report{Links: c.links.list}, nil
}

// An index entry says where an object is defined: at >= 0 is the offset in the file just
// after its "obj"; at < 0 is -1 - (container<<20 | i), the i-th object of the object stream
// c.containers[container].
type indexEntry struct {
	key uint64
	at  int64
}

type streamAt struct {
	body int64 // just after "obj"
	ref  uint64
}

type pdfCheck struct {
	data     []byte
	meter    meter
	workLeft int64
	links    links

	encrypted bool
	raw       []indexEntry // objects in the file, sorted by key after the first pass
	packed    []indexEntry // objects in object streams
	streams   []streamAt
	// containers are the object streams parsed (the offset of each one's body), and done
	// the same as a set.
	containers []int64
	done       map[int64]bool
	// xrefContainers are the object numbers that cross-reference streams name as
	// containers of compressed objects, and xrefMap what they say each object is: some
	// viewers take the i-th object of a container for the one the cross-reference names,
	// whatever number the container's own header gives it.
	xrefContainers map[int64]bool
	xrefMap        []xrefMapping
	containerAt    map[int64]int // a container's body offset → its index in containers

	pending  []pend
	visited  map[uint64]bool
	resolved int

	objBuf      []byte // the object stream being read, reused
	cached      int    // which container objBuf holds (-1: none)
	cachedFirst int64  // its /First
	offs        []memberAt
}

type xrefMapping struct{ num, container, index uint32 }

type memberAt struct {
	num int64
	off int64
}

func (c *pdfCheck) run() error {
	d := c.data
	if !bytes.HasPrefix(d, []byte("%PDF-1.")) && !bytes.HasPrefix(d, []byte("%PDF-2.")) {
		return refuse(ErrMalformed, "no PDF header")
	}
	if !bytes.Contains(d[max(0, len(d)-1024):], []byte("%%EOF")) {
		return refuse(ErrMalformed, "no %s: the file is incomplete", "%%EOF")
	}
	if zipAppended(d) {
		return refuse(ErrMalformed, "the file is also a zip archive")
	}
	c.cached = -1
	c.done = map[int64]bool{}
	c.xrefContainers = map[int64]bool{}
	c.containerAt = map[int64]int{}
	c.visited = map[uint64]bool{}

	// First pass: every object in the file and every trailer, parsed and checked; the
	// streams are noted.
	for off := 0; ; {
		i := bytes.Index(d[off:], []byte("obj"))
		if i < 0 {
			break
		}
		at := off + i
		off = at + 3
		if off < len(d) && isRegular(d[off]) {
			continue // "object", or part of a longer word
		}
		num, gen, ok := objHeader(d, at)
		if !ok {
			continue
		}
		if err := c.rawObject(num, gen, int64(off)); err != nil {
			return err
		}
	}
	if err := c.trailers(); err != nil {
		return err
	}
	if c.encrypted {
		return refuse(ErrProtected, "encrypted: its content cannot be checked")
	}
	slices.SortStableFunc(c.raw, func(a, b indexEntry) int { return cmpKey(a.key, b.key) })

	// Second pass: the streams' data, decoded: cross-reference streams first, which name
	// the object streams that their type may not.
	for _, s := range c.streams {
		if err := c.stream(s, false, true); err != nil {
			return err
		}
	}
	for _, s := range c.streams {
		if err := c.stream(s, c.xrefContainers[int64(s.ref>>16)] && s.ref&0xffff == 0, false); err != nil {
			return err
		}
	}
	// Containers that only a cross-reference stream names.
	nums := make([]int64, 0, len(c.xrefContainers))
	for n := range c.xrefContainers {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	for _, n := range nums {
		list, err := defsOf(c.raw, n)
		if err != nil {
			return err
		}
		for _, e := range list {
			if c.done[e.at] {
				continue
			}
			if err := c.stream(streamAt{body: e.at, ref: pack(n, 0)}, true, false); err != nil {
				return err
			}
		}
	}
	// Objects as the cross-reference streams place them.
	for _, m := range c.xrefMap {
		list, err := defsOf(c.raw, int64(m.container))
		if err != nil {
			return err
		}
		for _, e := range list {
			if idx, ok := c.containerAt[e.at]; ok && m.index < 1<<20 {
				if len(c.raw)+len(c.packed) >= maxObjects {
					return refuse(ErrMalformed, "more than %d objects", maxObjects)
				}
				c.packed = append(c.packed, indexEntry{pack(int64(m.num), 0), -1 - int64(idx<<20|int(m.index))})
			}
		}
	}
	slices.SortStableFunc(c.packed, func(a, b indexEntry) int { return cmpKey(a.key, b.key) })

	// Last: what automatic actions and links point to.
	return c.resolvePending()
}

func cmpKey(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// objHeader reads "N G " before the "obj" at d[at:], as a repairing viewer does.
func objHeader(d []byte, at int) (num, gen int64, ok bool) {
	i := at
	spaces := func() bool {
		n := 0
		for i > 0 && isSpace(d[i-1]) && n < 32 {
			i--
			n++
		}
		return n > 0
	}
	digits := func(most int) (int64, bool) {
		end := i
		for i > 0 && d[i-1] >= '0' && d[i-1] <= '9' && end-i < most {
			i--
		}
		if i == end || (i > 0 && d[i-1] >= '0' && d[i-1] <= '9') {
			return 0, false
		}
		var v int64
		for _, c := range d[i:end] {
			v = v*10 + int64(c-'0')
		}
		return v, true
	}
	if !spaces() {
		return 0, 0, false
	}
	if gen, ok = digits(5); !ok || gen > 0xffff || !spaces() {
		return 0, 0, false
	}
	if num, ok = digits(10); !ok || num > 1<<31-1 {
		return 0, 0, false
	}
	return num, gen, true
}

func objName(ref uint64) string { return fmt.Sprintf("object %d %d", ref>>16, ref&0xffff) }

// spend counts parse work; past the file's allowance, objects overlap too much.
func (c *pdfCheck) spend(n int64) error {
	if c.workLeft -= n; c.workLeft < 0 {
		limit := workFor(len(c.data), c.meter.limit)
		e := refuse(ErrBomb, "takes more than %d MiB of parsing: its objects overlap", limit>>20)
		e.Limit = limit
		return e
	}
	return nil
}

// parse reads one value from a lexer, checking every dictionary it completes.
func (c *pdfCheck) parse(lx *lexer, where string, check bool) (object, *parser, error) {
	var onDict func(*object) error
	if check {
		onDict = func(d *object) error { return c.dict(d, where) }
	}
	p := newParser(lx, onDict)
	start := lx.pos()
	v, err := p.value(0)
	if werr := c.spend(lx.pos() - start); werr != nil {
		return v, p, werr
	}
	return v, p, c.capError(err, where)
}

// capError names a cap crossed while parsing; other errors pass as they are.
func (c *pdfCheck) capError(err error, where string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errDepth):
		return refuse(ErrMalformed, "%s is nested deeper than %d levels", where, maxDepth)
	case errors.Is(err, errNodes):
		return refuse(ErrMalformed, "%s holds more than %d values", where, maxNodes)
	case errors.Is(err, errKeys):
		return refuse(ErrMalformed, "%s repeats its keys more than %d times", where, maxDictKeep)
	}
	return err
}

func (c *pdfCheck) rawObject(num, gen, body int64) error {
	ref := pack(num, gen)
	where := objName(ref)
	lx := newSliceLexer(c.data, int(body))
	v, p, err := c.parse(lx, where, true)
	if err != nil {
		return err
	}
	if len(c.raw)+len(c.packed) >= maxObjects {
		return refuse(ErrMalformed, "more than %d objects", maxObjects)
	}
	c.raw = append(c.raw, indexEntry{ref, body})
	if err := c.top(&v, where); err != nil {
		return err
	}
	if v.k == kDict && p.qn == 0 {
		before := lx.pos()
		stream := p.peek(0).is("stream")
		if err := c.spend(lx.pos() - before); err != nil {
			return err
		}
		if stream {
			c.streams = append(c.streams, streamAt{body, ref})
		}
	}
	return nil
}

// trailers checks every trailer dictionary in the file.
func (c *pdfCheck) trailers() error {
	d := c.data
	for off := 0; ; {
		i := bytes.Index(d[off:], []byte("trailer"))
		if i < 0 {
			return nil
		}
		at := off + i
		off = at + len("trailer")
		if (at > 0 && isRegular(d[at-1])) || (off < len(d) && isRegular(d[off])) {
			continue
		}
		lx := newSliceLexer(d, off)
		v, _, err := c.parse(lx, "a trailer", true)
		if err != nil {
			return err
		}
		if err := c.top(&v, "a trailer"); err != nil {
			return err
		}
	}
}

// defsOf returns every definition of object number num in list, of any generation: a file
// may define one several times (updates, or hiding), viewers differ on which they read,
// and some do not compare generations.
func defsOf(list []indexEntry, num int64) ([]indexEntry, error) {
	i, _ := slices.BinarySearchFunc(list, pack(num, 0), func(e indexEntry, k uint64) int { return cmpKey(e.key, k) })
	j := i
	for j < len(list) && int64(list[j].key>>16) == num {
		if j++; j-i > maxDefs {
			return nil, refuse(ErrMalformed, "object %d is defined more than %d times", num, maxDefs)
		}
	}
	return list[i:j], nil
}

// rawValue parses, without checking again, the object defined in the file at body.
func (c *pdfCheck) rawValue(body int64, where string) (object, error) {
	v, _, err := c.parse(newSliceLexer(c.data, int(body)), where, false)
	return v, err
}

// direct follows a reference to an object defined in the file, for the stream keys that
// may be indirect (Length, Filter, DecodeParms, N, First).
func (c *pdfCheck) direct(v *object) (*object, error) {
	if v == nil || v.k != kRef {
		return v, nil
	}
	list, err := defsOf(c.raw, v.n)
	if err != nil {
		return nil, err
	}
	var found *object
	for _, e := range list {
		o, err := c.rawValue(e.at, objName(v.ref()))
		if err != nil {
			return nil, err
		}
		if o.k == kRef {
			continue
		}
		// Two definitions that differ: a viewer may decode with the one this check
		// did not take.
		if found != nil && !sameValue(found, &o) {
			return nil, refuse(ErrMalformed, "object %d, which a stream's decoding needs, is defined twice differently", v.n)
		}
		found = &o
	}
	return found, nil
}

func sameValue(a, b *object) bool {
	if a.k != b.k || a.n != b.n || a.g != b.g || a.s != b.s || len(a.a) != len(b.a) {
		return false
	}
	for i := range a.a {
		if !sameValue(&a.a[i], &b.a[i]) {
			return false
		}
	}
	return true
}

func (c *pdfCheck) intOf(v *object) (int64, bool, error) {
	v, err := c.direct(v)
	if err != nil || v == nil || v.k != kInt {
		return 0, false, err
	}
	return v.n, true, nil
}

// stream decodes the data of the stream whose dictionary starts at s.body. container says
// a cross-reference stream names it as an object stream, whatever its type says; xrefOnly
// leaves every other stream for later.
func (c *pdfCheck) stream(s streamAt, container, xrefOnly bool) error {
	where := objName(s.ref)
	lx := newSliceLexer(c.data, int(s.body))
	d, p, err := c.parse(lx, where, false)
	if err != nil {
		return err
	}
	if d.k != kDict || p.qn != 0 || !p.peek(0).is("stream") {
		return nil
	}
	typ := d.nameOf("Type")
	if xrefOnly != (typ == "XRef") || c.done[s.body] {
		return nil
	}
	start := int(lx.pos())
	if start < len(c.data) && c.data[start] == '\r' {
		start++
	}
	if start < len(c.data) && c.data[start] == '\n' {
		start++
	}
	raw, err := c.streamData(&d, start)
	if err != nil {
		return err
	}
	switch {
	case container || typ == "ObjStm":
		return c.objStm(s, &d, raw)
	case typ == "XRef":
		return c.xrefStream(&d, raw, where)
	}
	// An image's data is pixels: no syntax in it for a viewer to run, so it is not
	// decoded, whatever its filters (and its size does not count).
	if d.nameOf("Subtype") == "Image" || (d.has("Width") && d.has("Height")) {
		return nil
	}
	r, err := c.decoder(&d, raw, where)
	if err != nil {
		return err
	}
	if binaryStream(&d) {
		_, err := io.Copy(io.Discard, r)
		return bombOnly(err)
	}
	return c.scan(r, "the content of "+where)
}

// binaryStream reports streams whose decoded data is binary by their dictionary: font
// programs, ICC profiles (/N, object streams having gone before), sampled functions, mesh
// shadings, XML metadata. They are decoded (their size counts) but not tokenised, where
// binary could read as syntax by chance.
func binaryStream(d *object) bool {
	switch {
	case d.has("Length1"), intIs(d.get("FunctionType"), 0),
		d.has("ShadingType"), d.nameOf("Type") == "Metadata", d.nameOf("Subtype") == "XML",
		d.has("N"), d.nameOf("Subtype") == "Type1C", d.nameOf("Subtype") == "CIDFontType0C",
		d.nameOf("Subtype") == "OpenType":
		return true
	}
	return false
}

func intIs(v *object, n int64) bool { return v != nil && v.k == kInt && v.n == n }

// bombOnly keeps a decoding error only when it is a refusal (the budget): a damaged
// content stream shows as garbage in a viewer, and runs nothing.
func bombOnly(err error) error {
	var e *Error
	if errors.As(err, &e) && e.Kind == ErrBomb {
		return e
	}
	return nil
}

// streamData returns a stream's raw data: /Length bytes when "endstream" follows them,
// else up to the next "endstream", as viewers repair it.
func (c *pdfCheck) streamData(d *object, start int) ([]byte, error) {
	if start > len(c.data) {
		return nil, nil
	}
	n, ok, err := c.intOf(d.get("Length"))
	if err != nil {
		return nil, err
	}
	if ok && n >= 0 && n <= int64(len(c.data)-start) {
		j := start + int(n)
		for j < len(c.data) && isSpace(c.data[j]) && j < start+int(n)+4 {
			j++
		}
		if bytes.HasPrefix(c.data[j:], []byte("endstream")) {
			return c.data[start : start+int(n)], nil
		}
	}
	k := bytes.Index(c.data[start:], []byte("endstream"))
	cost := k
	if k < 0 {
		cost = len(c.data) - start
	}
	if err := c.spend(int64(cost)); err != nil {
		return nil, err
	}
	if k < 0 {
		return c.data[start:], nil
	}
	end := start + k
	if end > start && c.data[end-1] == '\n' {
		end--
	}
	if end > start && c.data[end-1] == '\r' {
		end--
	}
	return c.data[start:end], nil
}

// decoder returns the reader of a stream's decoded data.
func (c *pdfCheck) decoder(d *object, raw []byte, where string) (io.Reader, error) {
	fv := d.get("Filter")
	if fv == nil {
		fv = d.get("F") // read as Filter by some viewers when it is a name
	}
	pv := d.get("DecodeParms")
	if pv == nil {
		pv = d.get("DP")
	}
	fref, pref := fv != nil && fv.k == kRef, pv != nil && pv.k == kRef
	fv, err := c.direct(fv)
	if err != nil {
		return nil, err
	}
	pv, err = c.direct(pv)
	if err != nil {
		return nil, err
	}
	if fref && fv == nil || pref && pv == nil {
		// A viewer that finds them decodes what this check could not.
		return nil, refuse(ErrMalformed, "filters given by a reference that cannot be followed in %s", where)
	}
	var names []string
	var parms []*object
	switch {
	case fv == nil || fv.k == kNull || fv.k == kString:
	case fv.k == kName:
		names = []string{fv.s}
	case fv.k == kArray:
		for i := range fv.a {
			e, err := c.direct(&fv.a[i])
			if err != nil {
				return nil, err
			}
			if e == nil || e.k != kName {
				return nil, refuse(ErrMalformed, "a filter that is not a name in %s", where)
			}
			names = append(names, e.s)
		}
	default:
		return nil, refuse(ErrMalformed, "a filter that is not a name in %s", where)
	}
	switch {
	case pv == nil:
	case pv.k == kDict:
		parms = []*object{pv}
	case pv.k == kArray:
		for i := range pv.a {
			e, err := c.direct(&pv.a[i])
			if err != nil {
				return nil, err
			}
			if e == nil && pv.a[i].k == kRef {
				return nil, refuse(ErrMalformed, "filter parameters given by a reference that cannot be followed in %s", where)
			}
			parms = append(parms, e)
		}
	}
	r, err := chain(bytes.NewReader(raw), names, parms, &c.meter)
	var e *Error
	if errors.As(err, &e) && e.Kind != ErrBomb {
		e.Reason += " in " + where
	}
	if err != nil || len(names) == 0 {
		return r, err
	}
	return &ratioMeter{r: r, size: int64(len(raw)), where: where}, nil
}

// objStm reads an object stream: held whole, up to maxObjStm, its objects parsed at the
// offsets its header gives, and all of it tokenised from the start as well, so that what
// hides between the objects is seen too.
func (c *pdfCheck) objStm(s streamAt, d *object, raw []byte) error {
	where := "object stream " + objName(s.ref)[len("object "):]
	buf, err := c.readObjStm(d, raw, where)
	if err != nil {
		return err
	}
	c.done[s.body] = true
	idx := len(c.containers)
	c.containers = append(c.containers, s.body)
	c.containerAt[s.body] = idx
	offs, first, err := c.members(d, buf)
	if err != nil {
		return err
	}
	c.cached, c.cachedFirst = idx, first
	for i, m := range offs {
		ref := pack(m.num, 0)
		if len(c.raw)+len(c.packed) >= maxObjects {
			return refuse(ErrMalformed, "more than %d objects", maxObjects)
		}
		c.packed = append(c.packed, indexEntry{ref, -1 - int64(idx<<20|i)})
		at := first + m.off
		if at < 0 || at >= int64(len(buf)) {
			continue
		}
		w := objName(ref)
		v, _, err := c.parse(newSliceLexer(buf, int(at)), w, true)
		if err != nil {
			return err
		}
		if err := c.top(&v, w); err != nil {
			return err
		}
	}
	if err := c.spend(int64(len(buf))); err != nil {
		return err
	}
	if err := c.scan(bytes.NewReader(buf), where); err != nil {
		return err
	}
	// Without a header, which objects it holds is anyone's guess: the scan above saw
	// everything in it, but references to its objects could not be followed.
	if len(offs) == 0 && len(bytes.TrimSpace(buf)) > 0 {
		return refuse(ErrMalformed, "%s has no readable header (/N, /First)", where)
	}
	return nil
}

// readObjStm decodes an object stream into c.objBuf.
func (c *pdfCheck) readObjStm(d *object, raw []byte, where string) ([]byte, error) {
	r, err := c.decoder(d, raw, where)
	if err != nil {
		return nil, err
	}
	buf := c.objBuf[:0]
	for {
		if len(buf) == cap(buf) {
			if cap(buf) > maxObjStm {
				return nil, &Error{Kind: ErrBomb, Reason: fmt.Sprintf("%s decompresses to more than %d MiB", where, maxObjStm>>20), Limit: maxObjStm}
			}
			buf = slices.Grow(buf, min(max(64<<10, cap(buf)), maxObjStm+1-cap(buf)+1))
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > maxObjStm {
			return nil, &Error{Kind: ErrBomb, Reason: fmt.Sprintf("%s decompresses to more than %d MiB", where, maxObjStm>>20), Limit: maxObjStm}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				return nil, e
			}
			return nil, refuse(ErrMalformed, "%s cannot be decoded: %v", where, err)
		}
	}
	c.objBuf = buf
	return buf, nil
}

// members reads an object stream's header: /N pairs of object number and offset.
func (c *pdfCheck) members(d *object, buf []byte) ([]memberAt, int64, error) {
	c.offs = c.offs[:0]
	n, okN, err := c.intOf(d.get("N"))
	if err != nil {
		return nil, 0, err
	}
	first, okF, err := c.intOf(d.get("First"))
	if err != nil || !okN || !okF || n <= 0 || first < 0 || first > int64(len(buf)) {
		return nil, 0, err
	}
	if n > maxObjStmN {
		return nil, 0, refuse(ErrMalformed, "an object stream of more than %d objects", maxObjStmN)
	}
	lx := newSliceLexer(buf[:first], 0)
	var t token
	for range n {
		lx.next(&t)
		num := t.n
		if t.kind != tInt {
			break
		}
		lx.next(&t)
		if t.kind != tInt || num < 0 || num > 1<<31-1 {
			break
		}
		c.offs = append(c.offs, memberAt{num, t.n})
	}
	if err := c.spend(first); err != nil {
		return nil, 0, err
	}
	return c.offs, first, nil
}

// xrefStream notes the containers a cross-reference stream names (its type 2 entries).
// Its dictionary, with any /Encrypt, went through the first pass.
func (c *pdfCheck) xrefStream(d *object, raw []byte, where string) error {
	w := d.get("W")
	if w == nil || w.k != kArray || len(w.a) < 3 {
		return nil
	}
	var widths [3]int
	row := 0
	for i := range 3 {
		if w.a[i].k != kInt || w.a[i].n < 0 || w.a[i].n > 8 {
			return nil
		}
		widths[i] = int(w.a[i].n)
		row += widths[i]
	}
	// A filter that cannot be read hides which object streams the file holds: refused.
	// Damaged data, past that, is what repairing viewers read around.
	r, err := c.decoder(d, raw, where)
	if err != nil || row == 0 {
		return err
	}
	// The object number of each row, from /Index (or [0 /Size]).
	var subs [][2]int64
	if idx := d.get("Index"); idx != nil && idx.k == kArray {
		for i := 0; i+1 < len(idx.a); i += 2 {
			if idx.a[i].k == kInt && idx.a[i+1].k == kInt && idx.a[i].n >= 0 && idx.a[i+1].n >= 0 {
				subs = append(subs, [2]int64{idx.a[i].n, idx.a[i+1].n})
			}
		}
	} else if size, ok, _ := c.intOf(d.get("Size")); ok && size > 0 {
		subs = [][2]int64{{0, size}}
	}
	sub, k := 0, int64(0)
	buf := make([]byte, row)
	for {
		if _, err := io.ReadFull(r, buf); err != nil {
			return bombOnly(err)
		}
		num := int64(-1)
		for sub < len(subs) && k >= subs[sub][1] {
			sub, k = sub+1, 0
		}
		if sub < len(subs) {
			num = subs[sub][0] + k
			k++
		}
		field := func(i, at int) int64 {
			var v int64
			for _, b := range buf[at : at+widths[i]] {
				v = v<<8 | int64(b)
			}
			return v
		}
		typ := int64(1)
		if widths[0] > 0 {
			typ = field(0, 0)
		}
		if typ == 2 {
			n := field(1, widths[0])
			if i := field(2, widths[0]+widths[1]); num >= 0 && num < 1<<31 && n < 1<<31 && i < 1<<20 {
				if len(c.xrefMap) >= maxObjects {
					return refuse(ErrMalformed, "more than %d objects", maxObjects)
				}
				c.xrefMap = append(c.xrefMap, xrefMapping{uint32(num), uint32(n), uint32(i)})
			}
			if !c.xrefContainers[n] {
				if len(c.xrefContainers) >= maxContainers {
					return refuse(ErrMalformed, "more than %d object streams", maxContainers)
				}
				c.xrefContainers[n] = true
			}
		}
	}
}

// scan tokenises decoded data and checks every dictionary in it. What is not a dictionary
// (operators, operands) is read and dropped; inline images are skipped. A cap crossed or a
// decoding error ends the scan of this stream without refusing the file, since a
// content stream's dictionaries run nothing; the budget and the rules do refuse it.
func (c *pdfCheck) scan(r io.Reader, where string) error {
	lx := newReaderLexer(r)
	p := newParser(lx, func(d *object) error { return c.dict(d, where) })
	for {
		t := p.peek(0)
		switch {
		case t.kind == tEOF:
			return bombOnly(lx.err)
		case t.kind == tDictOpen || t.kind == tArrOpen:
			p.nodes = 0
			if _, err := p.value(0); err != nil {
				var e *Error
				if errors.As(err, &e) {
					return e
				}
				return bombOnly(lx.err)
			}
		case t.is("ID") && p.qn == 1:
			p.shift()
			skipInlineImage(lx)
		default:
			p.shift()
		}
	}
}

// skipInlineImage skips an inline image's data, up to "EI" between whitespace.
func skipInlineImage(lx *lexer) {
	p3, p2, p1 := byte('x'), byte('x'), byte('x')
	for {
		ch, ok := lx.read()
		if !ok || isSpace(p3) && p2 == 'E' && p1 == 'I' && isSpace(ch) {
			return
		}
		p3, p2, p1 = p2, p1, ch
	}
}

// zipAppended reports a zip archive's end record at the end of a PDF: a file that is both
// a PDF and a zip (a polyglot) is read as either by whoever downloads it.
func zipAppended(d []byte) bool {
	for i := len(d) - 22; i >= 0 && i >= len(d)-22-0xffff; i-- {
		if d[i] == 'P' && d[i+1] == 'K' && d[i+2] == 5 && d[i+3] == 6 {
			if int(d[i+20])|int(d[i+21])<<8 == len(d)-i-22 {
				return true
			}
		}
	}
	return false
}

// member returns the i-th object of container idx, decoding the container again unless
// it is the one held.
func (c *pdfCheck) member(idx, i int) (object, bool, error) {
	if idx >= len(c.containers) {
		return object{}, false, nil
	}
	body := c.containers[idx]
	where := "an object stream"
	if c.cached != idx {
		c.cached = -1
		lx := newSliceLexer(c.data, int(body))
		d, p, err := c.parse(lx, where, false)
		if err != nil || d.k != kDict || p.qn != 0 || !p.peek(0).is("stream") {
			return object{}, false, err
		}
		start := int(lx.pos())
		if start < len(c.data) && c.data[start] == '\r' {
			start++
		}
		if start < len(c.data) && c.data[start] == '\n' {
			start++
		}
		raw, err := c.streamData(&d, start)
		if err != nil {
			return object{}, false, err
		}
		buf, err := c.readObjStm(&d, raw, where)
		if err != nil {
			return object{}, false, err
		}
		_, first, err := c.members(&d, buf)
		if err != nil {
			return object{}, false, err
		}
		c.cached, c.cachedFirst = idx, first
	}
	if i >= len(c.offs) {
		return object{}, false, nil
	}
	at := c.cachedFirst + c.offs[i].off
	if at < 0 || at >= int64(len(c.objBuf)) {
		return object{}, false, nil
	}
	v, _, err := c.parse(newSliceLexer(c.objBuf, int(at)), where, false)
	return v, err == nil, err
}
