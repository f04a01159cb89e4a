package doccheck

import "errors"

type kind uint8

const (
	kNull kind = iota
	kBool
	kInt
	kReal
	kString
	kName
	kKeyword
	kRef
	kArray
	kDict
)

// object is a parsed PDF value. Only what the rules may read is kept: the first
// maxArrayKeep elements of an array, the first maxDictKeep entries of a dictionary and
// every entry whose key a rule reads; every dictionary, kept or not, is checked as it is
// completed (parser.onDict).
type object struct {
	k kind
	n int64    // integer; 1 for true; a reference's object number
	g int64    // a reference's generation
	s string   // string, name or keyword; a name cut at maxName ends with "\x00"
	a []object // array elements; a dictionary's keys and values, alternating
}

// get returns the first value of key in a dictionary, or nil.
func (o *object) get(key string) *object {
	if o == nil || o.k != kDict {
		return nil
	}
	for i := 0; i+1 < len(o.a); i += 2 {
		if o.a[i].s == key {
			return &o.a[i+1]
		}
	}
	return nil
}

// each calls fn with every value of key: a dictionary may repeat a key, and viewers
// differ on which one they take.
func (o *object) each(key string, fn func(v *object)) {
	if o == nil || o.k != kDict {
		return
	}
	for i := 0; i+1 < len(o.a); i += 2 {
		if o.a[i].s == key {
			fn(&o.a[i+1])
		}
	}
}

func (o *object) has(key string) bool { return o.get(key) != nil }

// nameOf returns the first value of key when it is a name.
func (o *object) nameOf(key string) string {
	if v := o.get(key); v != nil && v.k == kName {
		return v.s
	}
	return ""
}

func (o *object) ref() uint64 { return pack(o.n, o.g) }

func pack(num, gen int64) uint64 { return uint64(num)<<16 | uint64(gen&0xffff) }

// ruleKeys are the keys the rules and the stream decoder read: kept in a dictionary
// however many entries come before them.
var ruleKeys = map[string]bool{
	"S": true, "JS": true, "JavaScript": true, "Type": true, "Subtype": true, "URI": true,
	"OpenAction": true, "AA": true, "Next": true, "EmbeddedFiles": true, "EF": true, "XFA": true,
	"RichMediaContent": true, "RichMediaSettings": true, "3DD": true, "Encrypt": true,
	"Filter": true, "F": true, "DecodeParms": true, "DP": true, "Length": true, "N": true,
	"First": true, "W": true, "Width": true, "Height": true, "Predictor": true, "Colors": true,
	"BitsPerComponent": true, "Columns": true, "EarlyChange": true, "Length1": true,
	"FunctionType": true, "ShadingType": true, "Index": true, "Size": true,
}

var (
	errDepth = errors.New("nesting deeper than the limit")
	errNodes = errors.New("more values than the limit")
	errKeys  = errors.New("a dictionary repeats the keys checked too often")
)

// parser reads values the way viewers do when they repair a file: leniently. A key that
// is not a name is skipped, a keyword where a value is expected is a value, and the end of
// the input closes what is open. So no malformed object escapes the rules by failing to
// parse: what a viewer could read as a dictionary is checked as one.
type parser struct {
	lx     *lexer
	q      [3]token
	qn     int
	nodes  int
	onDict func(d *object) error
	// wide lets the next array keep up to maxIndexKeep elements: a cross-reference
	// stream's /Index, which says which object each of its rows is.
	wide bool
}

func newParser(lx *lexer, onDict func(*object) error) *parser {
	return &parser{lx: lx, onDict: onDict}
}

// peek returns the i-th token ahead (i < 3).
func (p *parser) peek(i int) *token {
	for p.qn <= i {
		p.lx.next(&p.q[p.qn])
		p.qn++
	}
	return &p.q[i]
}

// shift drops the token ahead, keeping every slot's buffer for reuse.
func (p *parser) shift() {
	first := p.q[0]
	copy(p.q[:], p.q[1:])
	p.q[len(p.q)-1] = first
	p.qn--
}

func tokString(t *token) string {
	if t.long {
		return string(t.b) + "\x00"
	}
	return string(t.b)
}

// value reads one value. It returns errDepth, errNodes or errKeys when a cap is
// crossed, or the error onDict returned.
func (p *parser) value(depth int) (object, error) {
	if depth > maxDepth {
		return object{}, errDepth
	}
	t := p.peek(0)
	switch t.kind {
	case tEOF:
		return object{k: kNull}, nil
	case tInt:
		n := t.n
		if n >= 0 {
			if t2 := p.peek(1); t2.kind == tInt && t2.n >= 0 && t2.n <= 0xffff {
				if p.peek(2).is("R") {
					g := t2.n
					p.shift()
					p.shift()
					p.shift()
					return object{k: kRef, n: n, g: g}, nil
				}
			}
		}
		p.shift()
		return object{k: kInt, n: n}, nil
	case tReal:
		p.shift()
		return object{k: kReal}, nil
	case tString:
		o := object{k: kString, s: string(t.b)}
		p.shift()
		return o, nil
	case tName:
		o := object{k: kName, s: tokString(t)}
		p.shift()
		return o, nil
	case tKeyword:
		var o object
		switch {
		case t.is("true"):
			o = object{k: kBool, n: 1}
		case t.is("false"):
			o = object{k: kBool}
		case t.is("null"):
			o = object{k: kNull}
		default:
			o = object{k: kKeyword, s: tokString(t)}
		}
		p.shift()
		return o, nil
	case tArrOpen:
		p.shift()
		return p.array(depth)
	case tDictOpen:
		p.shift()
		return p.dict(depth)
	case tArrClose:
		p.shift()
		return object{k: kKeyword, s: "]"}, nil
	default: // tDictClose where a value is expected
		p.shift()
		return object{k: kKeyword, s: ">>"}, nil
	}
}

func (p *parser) array(depth int) (object, error) {
	o := object{k: kArray}
	keep := maxArrayKeep
	if p.wide {
		keep, p.wide = maxIndexKeep, false
	}
	for {
		t := p.peek(0)
		if t.kind == tArrClose {
			p.shift()
			return o, nil
		}
		if t.kind == tEOF {
			return o, nil
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return o, err
		}
		if len(o.a) < keep {
			if p.nodes++; p.nodes > maxNodes {
				return o, errNodes
			}
			o.a = append(o.a, v)
		}
	}
}

func (p *parser) dict(depth int) (object, error) {
	o := object{k: kDict}
	extra := 0
	for {
		t := p.peek(0)
		if t.kind == tDictClose {
			p.shift()
			break
		}
		if t.kind == tEOF {
			break
		}
		if t.kind != tName {
			p.shift() // as viewers do: a key must be a name, anything else is dropped
			continue
		}
		key := tokString(t)
		p.shift()
		if p.peek(0).kind == tEOF {
			break
		}
		p.wide = key == "Index"
		v, err := p.value(depth + 1)
		p.wide = false
		if err != nil {
			return o, err
		}
		keep := len(o.a) < 2*maxDictKeep
		if !keep && ruleKeys[key] {
			if extra++; extra > maxDictKeep {
				return o, errKeys
			}
			keep = true
		}
		if keep {
			if p.nodes += 2; p.nodes > maxNodes {
				return o, errNodes
			}
			o.a = append(o.a, object{k: kName, s: key}, v)
		}
	}
	if p.onDict != nil {
		if err := p.onDict(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}
