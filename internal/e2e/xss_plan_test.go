package e2e

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/parvis/parvis/internal/site"
)

// How the corpus goes through the forms: every payload into every field that reaches a page
// or the moderation preview. A one-line field takes a few payloads side by side, as many as
// its length allows (up to maxPerLine), so that the number of submissions, and of pages to
// load, stays within the time budget; a Markdown field takes its share, each payload a
// block of its own. A payload that a field's type cannot take as it is (a URL, a date, a
// choice, a line break in a one-line field, too long) goes alone, with harmless values in
// the other fields, so that its refusal costs no other payload its test. A refused pack is
// split until each refusal is one payload's.

// placementBase is the first placement number: five digits, easy to find in what fires.
const placementBase = 10000

// maxPerLine bounds the payloads put side by side in a one-line or short field.
const maxPerLine = 3

type fieldKind int

const (
	kindLine     fieldKind = iota // text: one line
	kindText                      // textarea
	kindMarkdown                  // markdown
	kindStrict                    // url, date, datetime, choice: a value of its type or nothing
	kindPDFLink                   // the address of a link in an uploaded PDF, shown to moderators
)

// xssField is one field the corpus goes into.
type xssField struct {
	form, name string
	kind       fieldKind
	spec       *site.FieldSpec
	idx        int
}

func (f *xssField) String() string {
	if f.kind == kindPDFLink {
		return f.form + "." + f.name + " (a link in the PDF)"
	}
	return f.form + "." + f.name
}

// commentTarget is a page open to comments, with a comment to answer if it has one.
type commentTarget struct {
	path, ref, parent string
}

// attempt is one submission to post: for each field that carries payloads, which.
type attempt struct {
	form   string
	vals   map[int][]int // field index → payload indexes
	target commentTarget
	image  bool // an article with an illustration
	tries  int
}

func (a *attempt) count() int {
	n := 0
	for _, v := range a.vals {
		n += len(v)
	}
	return n
}

// placementOutcome is what became of a payload in a field.
type placementOutcome struct {
	accepted bool
	reason   string // why it was refused
	sub      string // the submission that carries it, once accepted
}

type xssPlan struct {
	corpus []payload
	fields []*xssField
	cfg    *site.Config

	mu       sync.Mutex
	outcome  map[[2]int]*placementOutcome // (field, payload)
	subs     map[string]*attempt          // accepted submission id → what it carries
	posted   int
	rejected int // submissions answered with a refusal
}

func newXSSPlan(corpus []payload, cfg *site.Config) *xssPlan {
	p := &xssPlan{corpus: corpus, cfg: cfg, outcome: map[[2]int]*placementOutcome{}, subs: map[string]*attempt{}}
	forms := make([]string, 0, len(cfg.Forms))
	for name := range cfg.Forms {
		forms = append(forms, name)
	}
	sort.Strings(forms)
	for _, form := range forms {
		spec := cfg.Forms[form]
		for _, name := range spec.FieldOrder() {
			fs := spec.Fields[name]
			if fs.Private {
				continue // kept by the service, never shown: not a page's or a preview's
			}
			f := &xssField{form: form, name: name, spec: fs}
			switch fs.Type {
			case "text":
				f.kind = kindLine
			case "textarea":
				f.kind = kindText
			case "markdown":
				f.kind = kindMarkdown
			case "file":
				if !slices.Contains(fs.Accept, "application/pdf") {
					continue
				}
				f.kind = kindPDFLink
			case "image", "email":
				continue
			default:
				f.kind = kindStrict
			}
			f.idx = len(p.fields)
			p.fields = append(p.fields, f)
		}
	}
	return p
}

// placement numbers a payload in a field.
func (p *xssPlan) placement(fi, pi int) int { return placementBase + pi*len(p.fields) + fi }

// placed tells the field and payload of a placement number.
func (p *xssPlan) placed(n int) (fi, pi int, ok bool) {
	n -= placementBase
	if n < 0 || n >= len(p.corpus)*len(p.fields) {
		return 0, 0, false
	}
	return n % len(p.fields), n / len(p.fields), true
}

// text is the value a field gets for some payloads, padded to the field's minimum length.
func (p *xssPlan) text(f *xssField, pis []int) string {
	sep := map[fieldKind]string{kindLine: " ", kindText: "\n", kindMarkdown: "\n\n"}[f.kind]
	parts := make([]string, len(pis))
	for i, pi := range pis {
		parts[i] = p.corpus[pi].expand(p.placement(f.idx, pi))
	}
	v := strings.Join(parts, sep)
	for utf8.RuneCountInString(strings.TrimSpace(v)) < f.spec.Min {
		if f.kind == kindLine {
			v += " sonde"
		} else {
			v += sep + filler
		}
	}
	return v
}

// filler is harmless text that brings a long field to its minimum length.
const filler = "Texte de remplissage pour atteindre la longueur demandée : la commune organise une réunion publique sur ce projet, ouverte à toutes et à tous, avec un temps d'échange et des documents consultables à l'accueil de la mairie aux heures d'ouverture."

// harmless is a valid value for a field that carries no payload.
func harmless(f *xssField) string {
	switch f.spec.Type {
	case "text":
		return "Sonde de sécurité"
	case "textarea":
		return "Une légende sans histoire, pour la sonde."
	case "markdown":
		return filler
	case "url":
		return "https://inscriptions.belcombe.example/sonde"
	case "date":
		return "2027-05-15"
	case "datetime":
		if f.name == "end" {
			return "2027-05-15T18:00"
		}
		return "2027-05-15T14:00"
	case "choice":
		if len(f.spec.Choices) > 0 {
			return f.spec.Choices[0]
		}
	}
	return ""
}

// alone reports whether a payload must go by itself in a field: its type takes no free
// text, or it holds what a one-line field refuses (a line break, a control character), or
// it is too long for the field.
func (p *xssPlan) alone(f *xssField, pi int) bool {
	if f.kind == kindStrict {
		return true
	}
	if f.kind == kindPDFLink {
		return false // a PDF holds as many links as it likes
	}
	v := p.corpus[pi].expand(p.placement(f.idx, pi))
	if f.spec.Max > 0 && utf8.RuneCountInString(v) > f.spec.Max {
		return true
	}
	if f.kind == kindLine {
		for _, r := range v {
			if r < 0x20 && r != '\t' || r >= 0x7f && r < 0xa0 || r == '\u2028' || r == '\u2029' {
				return true
			}
		}
	}
	return !utf8.ValidString(v)
}

// attempts plans the first round of submissions.
func (p *xssPlan) attempts(targets []commentTarget) []*attempt {
	var out []*attempt
	byForm := map[string][]*xssField{}
	var forms []string
	for _, f := range p.fields {
		if byForm[f.form] == nil {
			forms = append(forms, f.form)
		}
		byForm[f.form] = append(byForm[f.form], f)
	}
	for _, form := range forms {
		packs := map[int][][]int{}
		var singles []*attempt
		groups := 0
		for _, f := range byForm[form] {
			var list []int
			for k := range p.corpus {
				// Each field starts at another payload, so that a payload is first in
				// some fields and second in others.
				pi := (k + 7*f.idx) % len(p.corpus)
				if p.alone(f, pi) {
					singles = append(singles, &attempt{form: form, vals: map[int][]int{f.idx: {pi}}})
				} else {
					list = append(list, pi)
				}
			}
			if f.kind != kindMarkdown && f.kind != kindPDFLink {
				packs[f.idx] = p.pack(f, list, 0)
				groups = max(groups, len(packs[f.idx]))
			} else {
				packs[f.idx] = [][]int{list}
			}
		}
		// Every field is spread over as many submissions as the tightest one needs.
		for _, f := range byForm[form] {
			if len(packs[f.idx]) == groups {
				continue
			}
			var list []int
			for _, pk := range packs[f.idx] {
				list = append(list, pk...)
			}
			packs[f.idx] = p.pack(f, list, groups)
			groups = max(groups, len(packs[f.idx]))
		}
		for j := range groups {
			a := &attempt{form: form, vals: map[int][]int{}}
			for fi, pk := range packs {
				if j < len(pk) {
					a.vals[fi] = pk[j]
				}
			}
			a.image = form == "article" && j%4 == 0
			out = append(out, a)
		}
		out = append(out, singles...)
	}
	n := 0
	for _, a := range out {
		if a.form == "comment" {
			a.target = targets[n%len(targets)]
			if n%3 != 0 {
				a.target.parent = "" // a third are replies
			}
			n++
		}
	}
	return out
}

// pack groups a field's payloads: into groups submissions when groups > 0, as evenly as
// the field's length allows, or else into as few as the length and maxPerLine allow (first
// fit, longest first).
func (p *xssPlan) pack(f *xssField, list []int, groups int) [][]int {
	limit := maxPerLine
	if f.kind == kindMarkdown || f.kind == kindPDFLink {
		limit = len(list)
	}
	var out [][]int
	if groups == 0 {
		size := func(pi int) int { return utf8.RuneCountInString(p.text(f, []int{pi})) }
		byLen := slices.Clone(list)
		sort.SliceStable(byLen, func(i, j int) bool { return size(byLen[i]) > size(byLen[j]) })
	next:
		for _, pi := range byLen {
			for i, bin := range out {
				if len(bin) < limit && (f.spec.Max == 0 || utf8.RuneCountInString(p.text(f, append(slices.Clone(bin), pi))) <= f.spec.Max) {
					out[i] = append(bin, pi)
					continue next
				}
			}
			out = append(out, []int{pi})
		}
		return out
	}
	for i := 0; i < len(list); {
		k := limit
		if groups > 0 {
			left := max(groups-len(out), 1)
			k = min(k, (len(list)-i+left-1)/left)
		}
		k = max(min(k, len(list)-i), 1)
		for k > 1 && f.spec.Max > 0 && utf8.RuneCountInString(p.text(f, list[i:i+k])) > f.spec.Max {
			k--
		}
		out = append(out, list[i:i+k])
		i += k
	}
	return out
}

// pngImage is a small valid photograph.
var pngImage = func() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{uint8(40 + x*3), uint8(90 + y*2), 160, 255})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}()

// pdfFile makes a one-page PDF, with a link annotation to each of links.
func pdfFile(links []string) []byte {
	esc := strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`, "\r", `\r`, "\n", `\n`).Replace
	content := "BT /F1 12 Tf 20 100 Td (Document de test) Tj ET"
	annots := ""
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	if len(links) > 0 {
		var refs []string
		for i, l := range links {
			refs = append(refs, fmt.Sprintf("%d 0 R", 6+i))
			objs = append(objs, fmt.Sprintf("<< /Type /Annot /Subtype /Link /Rect [20 %d 200 %d] /Border [0 0 0] /A << /S /URI /URI (%s) >> >>", 10+i*12, 20+i*12, esc(l)))
		}
		annots = " /Annots [" + strings.Join(refs, " ") + "]"
	}
	objs[2] = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >>" + annots + " >>"
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// request makes the body of an attempt.
func (p *xssPlan) request(a *attempt, token string) (url.Values, []upload) {
	spec := p.cfg.Forms[a.form]
	v := url.Values{"options[token]": {token}}
	if h := spec.Antispam.Honeypot; h != "" {
		v.Set("fields["+h+"]", "")
	}
	if a.target.ref != "" {
		v.Set("options[page]", a.target.ref)
		if a.target.parent != "" {
			v.Set("options[parent]", a.target.parent)
		}
	}
	var files []upload
	for _, name := range spec.FieldOrder() {
		fs := spec.Fields[name]
		switch fs.Type {
		case "image":
			if fs.Required || a.image {
				files = append(files, upload{field: name, name: "photo.png", media: "image/png", data: pngImage})
			}
			continue
		case "file":
			var links []string
			for fi, pis := range a.vals {
				if f := p.fields[fi]; f.kind == kindPDFLink && f.name == name {
					for _, pi := range pis {
						links = append(links, p.corpus[pi].expand(p.placement(fi, pi)))
					}
				}
			}
			files = append(files, upload{field: name, name: "document.pdf", media: "application/pdf", data: pdfFile(links)})
			continue
		}
		if fs.Private {
			continue
		}
		var f *xssField
		for _, x := range p.fields {
			if x.form == a.form && x.name == name && x.kind != kindPDFLink {
				f = x
			}
		}
		if f == nil {
			continue
		}
		if pis, ok := a.vals[f.idx]; ok {
			v.Set("fields["+name+"]", p.text(f, pis))
		} else {
			v.Set("fields["+name+"]", harmless(f))
		}
	}
	return v, files
}

// tokenPool holds form tokens fetched ahead, since a form may only be posted some seconds
// after its token was issued.
type tokenPool struct {
	s     *xssServer
	cfg   *site.Config
	pages map[string]string // form → a page that holds it
	mu    sync.Mutex
	toks  map[string][]string
	at    time.Time // when the last token was fetched
}

// fill fetches n more tokens for each form.
func (tp *tokenPool) fill(t *testing.T, want map[string]int) {
	t.Helper()
	type job struct{ form string }
	jobs := make(chan job)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				tok, err := tp.s.token(j.form, tp.pages[j.form])
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if err == nil {
					tp.toks[j.form] = append(tp.toks[j.form], tok)
				}
				mu.Unlock()
			}
		}()
	}
	for form, n := range want {
		for range n {
			jobs <- job{form}
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	tp.at = time.Now()
}

// ready waits until every token fetched is old enough for its form to be posted.
func (tp *tokenPool) ready() {
	wait := time.Duration(0)
	for _, f := range tp.cfg.Forms {
		s := f.Antispam.MinSeconds
		if s == 0 {
			s = 3
		}
		wait = max(wait, time.Duration(s)*time.Second)
	}
	if d := time.Until(tp.at.Add(wait + 500*time.Millisecond)); d > 0 {
		time.Sleep(d)
	}
}

func (tp *tokenPool) take(form string) (string, bool) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	l := tp.toks[form]
	if len(l) == 0 {
		return "", false
	}
	tp.toks[form] = l[1:]
	return l[0], true
}

// run posts the attempts, splits what is refused and posts again, until each payload in
// each field is accepted or refused on its own.
func (p *xssPlan) run(t *testing.T, s *xssServer, tp *tokenPool, queue []*attempt) {
	t.Helper()
	for round := 0; len(queue) > 0; round++ {
		if round == 12 {
			t.Fatalf("submissions still refused after %d rounds: %d left", round, len(queue))
		}
		// Tokens for this round, with a margin; fetched ahead when the pool runs short.
		need := map[string]int{}
		for _, a := range queue {
			need[a.form]++
		}
		short := map[string]int{}
		tp.mu.Lock()
		for form, n := range need {
			if have := len(tp.toks[form]); have < n {
				short[form] = n - have + 10
			}
		}
		tp.mu.Unlock()
		if len(short) > 0 {
			tp.fill(t, short)
		}
		tp.ready()
		type result struct {
			a   *attempt
			ans answer
			err error
		}
		results := make([]result, len(queue))
		var wg sync.WaitGroup
		next := make(chan int)
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					a := queue[i]
					tok, _ := tp.take(a.form)
					v, files := p.request(a, tok)
					ans, err := s.post(a.form, v, files)
					results[i] = result{a, ans, err}
				}
			}()
		}
		for i := range queue {
			next <- i
		}
		close(next)
		wg.Wait()
		queue = nil
		for _, r := range results {
			p.posted++
			if r.err != nil {
				t.Fatalf("post a %s: %v", r.a.form, r.err)
			}
			queue = append(queue, p.settle(t, r.a, r.ans)...)
		}
	}
}

// settle records an answer and returns what must be posted again.
func (p *xssPlan) settle(t *testing.T, a *attempt, ans answer) []*attempt {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if ans.status == http.StatusAccepted && ans.ID != "" {
		p.subs[ans.ID] = a
		for fi, pis := range a.vals {
			for _, pi := range pis {
				p.outcome[[2]int{fi, pi}] = &placementOutcome{accepted: true, sub: ans.ID}
			}
		}
		return nil
	}
	p.rejected++
	switch {
	case len(ans.Fields) > 0:
		var again []*attempt
		for key, msg := range ans.Fields {
			name, ok := strings.CutPrefix(key, "fields[")
			name = strings.TrimSuffix(name, "]")
			fi := -1
			for k, pis := range a.vals {
				if f := p.fields[k]; ok && f.name == name && len(pis) > 0 {
					fi = k
				}
			}
			if fi < 0 {
				t.Fatalf("a %s was refused for %s (%s), which carried no payload: %v", a.form, key, msg, a.vals)
			}
			pis := a.vals[fi]
			delete(a.vals, fi)
			if len(pis) == 1 {
				p.outcome[[2]int{fi, pis[0]}] = &placementOutcome{reason: msg}
				continue
			}
			h := len(pis) / 2
			for _, half := range [][]int{pis[:h], pis[h:]} {
				again = append(again, &attempt{form: a.form, vals: map[int][]int{fi: half}, target: a.target})
			}
		}
		if a.count() > 0 {
			again = append(again, a)
		}
		return again
	case ans.status == http.StatusUnprocessableEntity && (ans.Error == "links" || ans.Error == "blocked_word"):
		// The whole submission was refused for what its texts hold together: split it.
		type one struct{ fi, pi int }
		var all []one
		for fi, pis := range a.vals {
			for _, pi := range pis {
				all = append(all, one{fi, pi})
			}
		}
		if len(all) == 1 {
			p.outcome[[2]int{all[0].fi, all[0].pi}] = &placementOutcome{reason: "refused as spam: " + ans.Error}
			return nil
		}
		sort.Slice(all, func(i, j int) bool { return all[i].fi*100000+all[i].pi < all[j].fi*100000+all[j].pi })
		var again []*attempt
		for _, half := range [][]one{all[:len(all)/2], all[len(all)/2:]} {
			b := &attempt{form: a.form, vals: map[int][]int{}, target: a.target, image: a.image}
			for _, o := range half {
				b.vals[o.fi] = append(b.vals[o.fi], o.pi)
			}
			again = append(again, b)
		}
		return again
	default:
		// A fault of the post itself (a token spent or too young, a limit): once more.
		a.tries++
		if a.tries > 3 {
			t.Fatalf("a %s keeps being refused: %d %s", a.form, ans.status, ans.Error)
		}
		return []*attempt{a}
	}
}
