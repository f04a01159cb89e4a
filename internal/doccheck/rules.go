package doccheck

// The PDF rules. Each dictionary is judged on its own entries, wherever it stands, whether
// anything refers to it or not: what runs code, sends data, opens another file or carries
// one is refused outright. An automatic action (/OpenAction, /AA, and the /Next chains
// they start) may only move within the document: it is followed through indirect
// references once every object is known (resolvePending). A link a reader clicks (a URI
// action) is kept and reported.

// refusedActions are action types (/S) refused wherever they stand.
var refusedActions = map[string]string{
	"JavaScript":       "JavaScript action",
	"Launch":           "Launch action",
	"SubmitForm":       "SubmitForm action",
	"ImportData":       "ImportData action",
	"RichMediaExecute": "RichMedia action",
	"GoToR":            "GoToR action (to another file)",
	"GoToE":            "GoToE action (to an embedded file)",
	"Rendition":        "Rendition action",
	"Movie":            "Movie action",
	"Sound":            "Sound action",
	"GoTo3DView":       "3D action",
}

// refusedKeys are keys refused in any dictionary.
var refusedKeys = map[string]string{
	"JS":                "JavaScript (/JS)",
	"JavaScript":        "JavaScript name tree",
	"EmbeddedFiles":     "embedded files",
	"EF":                "embedded file",
	"XFA":               "XFA form",
	"RichMediaContent":  "RichMedia content",
	"RichMediaSettings": "RichMedia content",
	"3DD":               "3D content",
}

// refusedSubtypes are annotation types that play or carry something.
var refusedSubtypes = map[string]string{
	"FileAttachment": "file attachment annotation",
	"RichMedia":      "RichMedia annotation",
	"3D":             "3D annotation",
	"Movie":          "Movie annotation",
	"Sound":          "Sound annotation",
}

// dict applies the rules to one dictionary.
func (c *pdfCheck) dict(d *object, where string) error {
	uri := false
	for i := 0; i+1 < len(d.a); i += 2 {
		k, v := d.a[i].s, &d.a[i+1]
		if r, ok := refusedKeys[k]; ok {
			return refuse(ErrActive, "%s in %s", r, where)
		}
		var err error
		switch k {
		case "S":
			if v.k == kName {
				if r, ok := refusedActions[v.s]; ok {
					return refuse(ErrActive, "%s in %s", r, where)
				}
				uri = uri || v.s == "URI"
			}
		case "Subtype":
			if r, ok := refusedSubtypes[v.s]; ok && v.k == kName {
				return refuse(ErrActive, "%s in %s", r, where)
			}
		case "Type":
			if v.k == kName && v.s == "EmbeddedFile" {
				return refuse(ErrActive, "embedded file in %s", where)
			}
		case "OpenAction":
			err = c.auto(v, "the /OpenAction of "+where, 0, true)
		case "AA":
			err = c.autoAA(v, "the /AA of "+where)
		case "Encrypt":
			c.encrypted = c.encrypted || v.k == kRef || v.k == kDict
		}
		if err != nil {
			return err
		}
	}
	if !uri {
		return nil
	}
	for i := 0; i+1 < len(d.a); i += 2 {
		if d.a[i].s != "URI" {
			continue
		}
		switch v := &d.a[i+1]; v.k {
		case kString:
			if err := c.link(v.s, where); err != nil {
				return err
			}
		case kRef:
			if err := c.push(pend{kind: pURI, ref: v.ref(), trig: where}); err != nil {
				return err
			}
		}
	}
	return nil
}

// link reports a URI action's address, or refuses one that runs code or opens a file.
func (c *pdfCheck) link(s, where string) error {
	if dangerousPDFLink(cleanLink(s)) {
		return refuse(ErrActive, "%s: link in %s", scheme(cleanLink(s)), where)
	}
	c.links.add(s)
	return nil
}

// top applies the rules that concern a whole object: a name alone as an object can only
// serve to give an action or annotation its type by reference, out of the rules' sight.
func (c *pdfCheck) top(v *object, where string) error {
	if v.k != kName {
		return nil
	}
	_, a := refusedActions[v.s]
	_, s := refusedSubtypes[v.s]
	if a || s || v.s == "EmbeddedFile" || v.s == "URI" {
		return refuse(ErrActive, "the name /%s as %s, a type given by reference", printable(v.s), where)
	}
	return nil
}

type pendKind uint8

const (
	pAction pendKind = iota // an automatic action
	pDest                   // an /OpenAction: an automatic action, or a destination
	pAA                     // an additional-actions dictionary
	pType                   // the /S of an automatic action
	pURI                    // a URI action's address
)

type pend struct {
	kind  pendKind
	ref   uint64
	trig  string
	depth int
}

func (c *pdfCheck) push(p pend) error {
	if len(c.pending) >= maxPending {
		return refuse(ErrMalformed, "more than %d automatic actions and links to follow", maxPending)
	}
	c.pending = append(c.pending, p)
	return nil
}

// auto checks an automatic action: a plain GoTo, or (for an /OpenAction, dest) a
// destination; its /Next actions too.
func (c *pdfCheck) auto(v *object, trig string, depth int, dest bool) error {
	if depth > maxDepth {
		return refuse(ErrMalformed, "automatic actions chained deeper than %d in %s", maxDepth, trig)
	}
	switch v.k {
	case kNull:
		return nil
	case kRef:
		k := pAction
		if dest {
			k = pDest
		}
		return c.push(pend{kind: k, ref: v.ref(), trig: trig, depth: depth})
	case kArray:
		if dest {
			if isDest(v) {
				return nil
			}
			return refuse(ErrActive, "an automatic action that is neither a GoTo nor a destination in %s", trig)
		}
		for i := range v.a { // a /Next list
			if err := c.auto(&v.a[i], trig, depth+1, false); err != nil {
				return err
			}
		}
		return nil
	case kDict:
		typed := false
		for i := 0; i+1 < len(v.a); i += 2 {
			k, e := v.a[i].s, &v.a[i+1]
			switch k {
			case "S":
				typed = true
				switch e.k {
				case kName:
					if e.s != "GoTo" {
						return refuse(ErrActive, "automatic %s action in %s", printable(e.s), trig)
					}
				case kRef:
					if err := c.push(pend{kind: pType, ref: e.ref(), trig: trig, depth: depth}); err != nil {
						return err
					}
				default:
					return refuse(ErrActive, "an automatic action of no known type in %s", trig)
				}
			case "Next":
				if err := c.auto(e, trig, depth+1, false); err != nil {
					return err
				}
			}
		}
		if !typed {
			return refuse(ErrActive, "an automatic action without a type in %s", trig)
		}
		return nil
	}
	return refuse(ErrActive, "an automatic action that is neither a GoTo nor a destination in %s", trig)
}

// isDest reports an explicit destination: a page (a reference or a number) and a fit.
func isDest(v *object) bool {
	return len(v.a) >= 1 && (v.a[0].k == kRef || v.a[0].k == kInt) && (len(v.a) == 1 || v.a[1].k == kName)
}

// autoAA checks an additional-actions dictionary: each of its entries is an automatic
// action, run on an event (opening a page, moving the pointer over a field...).
func (c *pdfCheck) autoAA(v *object, trig string) error {
	switch v.k {
	case kRef:
		return c.push(pend{kind: pAA, ref: v.ref(), trig: trig})
	case kDict:
		for i := 0; i+1 < len(v.a); i += 2 {
			if err := c.auto(&v.a[i+1], trig+" /"+printable(v.a[i].s), 0, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// resolvePending follows the references that automatic actions and links left, through
// every definition of each object, until none is left.
func (c *pdfCheck) resolvePending() error {
	// In the order found: the first path to an object names it best in a refusal.
	for i := 0; i < len(c.pending); i++ {
		p := c.pending[i]
		key := p.ref<<3 | uint64(p.kind)
		if c.visited[key] {
			continue
		}
		c.visited[key] = true
		if c.resolved++; c.resolved > maxResolve {
			return refuse(ErrMalformed, "more than %d indirect actions to follow", maxResolve)
		}
		vals, err := c.resolve(p.ref)
		if err != nil {
			return err
		}
		for i := range vals {
			v := &vals[i]
			switch p.kind {
			case pAction, pDest:
				err = c.auto(v, p.trig, p.depth+1, p.kind == pDest)
			case pAA:
				err = c.autoAA(v, p.trig)
			case pType:
				if v.k != kName || v.s != "GoTo" {
					err = refuse(ErrActive, "automatic %s action in %s", printable(v.s), p.trig)
				}
			case pURI:
				if v.k == kString {
					err = c.link(v.s, p.trig)
				}
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// resolve returns every definition of an object number, in the file and in object
// streams, whatever their generation.
func (c *pdfCheck) resolve(ref uint64) ([]object, error) {
	var out []object
	raw, err := defsOf(c.raw, int64(ref>>16))
	if err != nil {
		return nil, err
	}
	packed, err := defsOf(c.packed, int64(ref>>16))
	if err != nil {
		return nil, err
	}
	for _, e := range raw {
		v, err := c.rawValue(e.at, objName(ref))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	for _, e := range packed {
		loc := -1 - e.at
		v, ok, err := c.member(int(loc>>20), int(loc&(1<<20-1)))
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, v)
		}
	}
	return out, nil
}
