package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestXSS attacks the demo site as hostile citizens would (issue 8: "keep the attack in the
// tests"): every payload of the corpus goes into every field of every form of the real
// parvis serve, over HTTP; headless Chromium then loads the moderation pages while the
// submissions wait, with their previews, and, once a moderator has approved them all,
// every page of the site that shows one. A hook in the browser records any script that
// is not one of the site's own files, exception, dialog, navigation away and CSP
// violation, on the page and in its frames; a snapshot of the DOM is checked for markup a
// citizen must not be able to put there. Everything runs twice, with the CSP the server
// sends and without any, since the CSP is a second wall, not the first. It requires zero
// of each, and prints the counts; PARVIS_XSS_REPORT=file writes the whole list of what got
// through, when something did.
func TestXSS(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are left out by -short")
	}
	clock := newPhases()
	defer func() { t.Logf("xss: timings: %s", clock) }()
	corpus, err := loadCorpus(corpusFile)
	if err != nil {
		t.Fatal(err)
	}
	b := xssBrowser(t)
	if !t.Run("hook", func(t *testing.T) { selfCheck(t, b) }) {
		t.Fatal("the hook misses what it must catch: the attack would prove nothing")
	}
	clock.done("browser and hook self-check")

	s := startXSSServer(t)
	clock.done("build and start parvis serve")
	plan := newXSSPlan(corpus, s.cfg)
	if n := plan.placement(len(plan.fields)-1, len(corpus)-1); n > 99999 {
		t.Fatalf("%d payloads × %d fields need placement numbers up to %d: more than five digits", len(corpus), len(plan.fields), n)
	}
	pristine := s.crawl(t)
	targets, formPages := commentTargets(pristine)
	if len(targets) == 0 {
		t.Fatal("no page of the demo site takes comments")
	}
	attempts := plan.attempts(targets)
	need := map[string]int{}
	for _, a := range attempts {
		need[a.form] += 1
	}
	for form, n := range need {
		need[form] = n + n/10 + 11 // a control each, and what is refused is posted again
	}
	tp := &tokenPool{s: s, cfg: s.cfg, pages: formPages, toks: map[string][]string{}}
	tp.fill(t, need)
	clock.done(fmt.Sprintf("%d form tokens", sumValues(need)))

	// While the tokens age: the two tabs, a moderator's session, and the theme's own
	// markup, from the site as it stands.
	tabs := []*xssTab{newXSSTab(t, b, s.base, true), newXSSTab(t, b, s.base, false)}
	login(t, b, s.base)
	theme := map[string]*themeMarkup{"site": newThemeMarkup(), "admin": newThemeMarkup(), "feed": newThemeMarkup()}
	run := &xssRun{t: t, plan: plan, tabs: tabs, theme: theme, s: s, chosen: chosenIDs(plan)}
	for _, p := range samplePages(pristine) {
		run.learn(surfaceOf(pristine[p]), s.base+p, false)
	}
	search, hasSearch := s.searchPage()
	if hasSearch {
		run.learn("site", s.base+search+"?q=belcombe", false)
	}

	// Controls: one harmless submission per form. The moderation pages that show only
	// them, and their pages once published, are the theme's own markup too.
	var controls []*attempt
	for _, form := range keys(s.cfg.Forms) {
		a := &attempt{form: form, vals: map[int][]int{}}
		if form == "comment" {
			a.target = targets[0]
		}
		controls = append(controls, a)
	}
	plan.run(t, s, tp, controls)
	controlIDs := keys(plan.subs)
	if len(controlIDs) != len(controls) {
		t.Fatalf("%d of %d harmless submissions were accepted", len(controlIDs), len(controls))
	}
	s.waitFor(t, controlIDs, time.Minute, "pending")
	run.learn("admin", s.base+"/admin/", true)
	for _, id := range controlIDs {
		run.learn("admin", s.base+"/admin/submissions/"+id, true)
	}
	s.approve(t, controlIDs)
	recs := s.waitFor(t, controlIDs, 2*time.Minute, "published")
	before := s.crawl(t)
	for _, id := range controlIDs {
		if u := recs[id].URL; u != "" && plan.subs[id].form != "comment" {
			run.learn("site", s.base+pathOf(u), true)
		}
	}
	plan.subs = map[string]*attempt{}
	plan.posted, plan.rejected = 0, 0
	var own []string
	for _, surface := range keys(theme) {
		own = append(own, keys(theme[surface].sigs)...)
	}
	t.Logf("xss: the theme's own markup, learnt on %d pages without payloads, %d notable elements and attributes: %s", len(run.visits), len(own), strings.Join(own, "; "))
	clock.done("the theme's own markup, and controls")

	// The attack.
	plan.run(t, s, tp, attempts)
	ids := keys(plan.subs)
	clock.done(fmt.Sprintf("%d submissions posted, %d accepted", plan.posted, len(ids)))
	s.waitFor(t, ids, 3*time.Minute, "pending")
	clock.done("pending")

	// The moderation pages while the submissions wait: the queue, page after page, and
	// each submission with its preview.
	for next := s.base + "/admin/"; next != ""; {
		links := run.check("admin", next, true, nil)
		next = ""
		for _, h := range links {
			if strings.Contains(h, "before=") && !strings.Contains(h, "status=") {
				next = s.base + pathOf(h)
				break
			}
		}
	}
	for _, id := range ids {
		run.check("admin", s.base+"/admin/submissions/"+id, true, []string{id})
	}
	clock.done(fmt.Sprintf("%d moderation pages", run.loaded["admin"]))

	s.approve(t, ids)
	recs = s.waitFor(t, ids, 3*time.Minute, "published")
	clock.done("approved and published")

	// Every page of the site that changed: the submissions' own, the pages with comments,
	// the lists, the home page, the agenda, the feeds.
	after := s.crawl(t)
	onPage := map[string][]string{} // path → the submissions it shows as the page itself or a comment
	citizen := map[string]bool{}
	for _, id := range ids {
		p := pathOf(recs[id].URL)
		onPage[p] = append(onPage[p], id)
		if plan.subs[id].form != "comment" {
			citizen[p] = true
		}
	}
	var changed []string
	for p, c := range after {
		if c.kind == "" {
			continue
		}
		if old := before[p]; old == nil || old.sum != c.sum {
			changed = append(changed, p)
		}
	}
	sort.Strings(changed)
	for _, p := range changed {
		run.check(surfaceOf(after[p]), s.base+p, citizen[p], onPage[p])
	}
	t.Logf("xss: %d pages of the site changed: %d made by the submissions, %d that show them (lists, comments, feeds)", len(changed), len(citizen), len(changed)-len(citizen))
	// The search page, where the site has one, with payloads as queries too.
	if hasSearch {
		// What the site's pages hold, and the query itself as a payload: the first of each
		// family (the search page writes the query back into the page).
		qs := []string{"sonde", "xss"}
		first := map[string]bool{}
		for _, p := range corpus {
			if !first[p.Family] {
				first[p.Family] = true
				qs = append(qs, p.expand(99999))
			}
		}
		for _, q := range qs {
			run.check("site", s.base+search+"?q="+url.QueryEscape(q), false, nil)
		}
	} else {
		t.Logf("xss: no search page at /search: left out")
	}
	clock.done(fmt.Sprintf("%d pages of the site", run.loaded["site"]+run.loaded["feed"]))

	run.report(t, len(ids))
}

// xssRun is the attack's state in the browser.
type xssRun struct {
	t       *testing.T
	plan    *xssPlan
	tabs    []*xssTab // with the CSP, without it
	theme   map[string]*themeMarkup
	s       *xssServer
	chosen  map[string]bool
	loaded  map[string]int // pages loaded per surface, in both tabs
	visits  []pageLoad
	failing [2]int // loads that failed in a row, per tab

	mu   sync.Mutex
	seen map[string]map[int]bool // surface → placements whose number a page showed
}

// pageLoad is a page loaded in one tab, and what the report needs to know of it.
type pageLoad struct {
	v     *visit
	csp   bool
	learn bool     // a page without payloads, read for the theme's markup
	subs  []string // the submissions the page shows
}

// hole is something that got through.
type hole struct {
	cause, page, what string
	csp               bool
	placements        []int
	subs              []string // the submissions the page shows, when what fired names none
}

func (r *xssRun) context(surface string, citizen bool) *checkContext {
	return &checkContext{origin: r.s.base, surface: surface, citizen: citizen, theme: r.theme[surface], chosen: r.chosen}
}

// learn loads a page without payloads, with its CSP, and adds its markup to the theme's.
// Anything that fires on it is a fault of the harness or of the theme.
func (r *xssRun) learn(surface, u string, citizen bool) {
	cc := &checkContext{origin: r.s.base, surface: surface, citizen: citizen}
	x := r.tabs[0]
	v := x.load(u, func(p *pageSnapshot) []finding {
		r.theme[surface].learnSafely(p, cc)
		return nil
	})
	r.visits = append(r.visits, pageLoad{v: v, csp: x.csp, learn: true})
}

// check loads a page in both tabs and records what got through; it returns the links of
// the page. subs are the submissions the page shows, for the report when what fired does
// not say its placement.
func (r *xssRun) check(surface, u string, citizen bool, subs []string) []string {
	if r.loaded == nil {
		r.loaded = map[string]int{}
	}
	r.loaded[surface] += len(r.tabs)
	cc := r.context(surface, citizen)
	var links []string
	r.both(func(x *xssTab) pageLoad {
		v := x.load(u, x.structural(func(p *pageSnapshot) []finding {
			links = p.links()
			r.saw(surface, p.texts)
			return cc.unexpected(p.check(cc))
		}))
		return pageLoad{v: v, csp: x.csp, subs: subs}
	})
	return links
}

// structural returns check for the tab that keeps the CSP, and nil for the other: the
// markup is the same in both, and what scripts would change in the second one, the hook
// records as having run.
func (x *xssTab) structural(check func(*pageSnapshot) []finding) func(*pageSnapshot) []finding {
	if x.csp {
		return check
	}
	return nil
}

// both loads a page in every tab at once.
func (r *xssRun) both(load func(*xssTab) pageLoad) {
	out := make([]pageLoad, len(r.tabs))
	var wg sync.WaitGroup
	for i, x := range r.tabs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = load(x)
		}()
	}
	wg.Wait()
	r.visits = append(r.visits, out...)
	// A tab that no longer loads anything (a page that hangs its renderer) would make every
	// page after it wait its timeout: stop there, with what it loaded last.
	for i, l := range out {
		if l.v.Err == nil {
			r.failing[i] = 0
			continue
		}
		if r.failing[i]++; r.failing[i] == 5 {
			r.t.Fatalf("the tab %s the CSP stopped loading pages, at %s: %v", map[bool]string{true: "with", false: "without"}[l.csp], l.v.URL, l.v.Err)
		}
	}
}

// holes lists what got through, once every tab has settled.
func (r *xssRun) holes() []hole {
	for _, x := range r.tabs {
		time.Sleep(300 * time.Millisecond) // the last page's late events
		x.settle()
	}
	var out []hole
	for _, l := range r.visits {
		page := shortURL(l.v.URL)
		if l.v.Err != nil {
			out = append(out, hole{cause: "load", page: page, what: l.v.Err.Error(), csp: l.csp, subs: l.subs})
		}
		for _, f := range l.v.Fired {
			cause := f.Kind
			if l.learn {
				cause += " (on a page without payloads)"
			}
			out = append(out, hole{cause: cause, page: page, what: f.Detail, csp: l.csp, placements: r.placements(unURL(f.Detail, l.v.URL)), subs: l.subs})
		}
		for _, f := range l.v.Found {
			what := f.Detail
			if f.Doc != page {
				what += " in the frame " + f.Doc
			}
			out = append(out, hole{cause: "structural: " + f.Rule, page: page, what: what, csp: l.csp, placements: r.placements(unURL(f.Detail, l.v.URL)), subs: l.subs})
		}
	}
	return out
}

// saw notes the placements whose numbers a page shows: the attack checks that it looked
// where the payloads are.
func (r *xssRun) saw(surface string, texts []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]map[int]bool{}
	}
	if r.seen[surface] == nil {
		r.seen[surface] = map[int]bool{}
	}
	for _, t := range texts {
		for _, n := range r.placements(t) {
			r.seen[surface][n] = true
		}
	}
}

// unURL takes a page's own address out of what fired there: its slug holds the numbers of
// the payloads in its title, which did not fire for being in the address.
func unURL(s, page string) string {
	if u, err := url.Parse(page); err == nil {
		s = strings.ReplaceAll(s, page, "")
		s = strings.ReplaceAll(s, u.Path, "")
	}
	return s
}

var (
	numberRE  = regexp.MustCompile(`\d+`)
	percentRE = regexp.MustCompile(`%[0-9A-Fa-f]{2}`)
)

// placements finds the placement numbers in what fired or what a page shows, in plain
// text or percent-encoded in a URL ("xss%2812345%29").
func (r *xssRun) placements(s string) []int {
	var out []int
	s = percentRE.ReplaceAllStringFunc(s, func(m string) string {
		b, _ := strconv.ParseUint(m[1:], 16, 8)
		if b >= '0' && b <= '9' {
			return string(rune(b))
		}
		return " "
	})
	for _, m := range numberRE.FindAllString(s, -1) {
		if len(m) != 5 {
			continue
		}
		n, _ := strconv.Atoi(m)
		if _, _, ok := r.plan.placed(n); ok && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// report prints the counts, per field and in all, and fails the test on every hole, grouped
// by what let it through.
func (r *xssRun) report(t *testing.T, accepted int) {
	t.Helper()
	p := r.plan
	type tally struct{ ok, refused int }
	perField := make([]tally, len(p.fields))
	refusedWhy := make([]map[string]int, len(p.fields))
	totalOK, totalRefused := 0, 0
	for fi := range p.fields {
		refusedWhy[fi] = map[string]int{}
		for pi := range p.corpus {
			o := p.outcome[[2]int{fi, pi}]
			switch {
			case o == nil:
				t.Errorf("xss: payload %d never went into %s", pi, p.fields[fi])
			case o.accepted:
				perField[fi].ok++
				totalOK++
			default:
				perField[fi].refused++
				totalRefused++
				refusedWhy[fi][o.reason]++
			}
		}
	}
	seenAdmin, seenSite := 0, 0
	for fi, f := range p.fields {
		why := ""
		for reason, n := range refusedWhy[fi] {
			if len(why) < 160 {
				why += fmt.Sprintf("; %d× « %s »", n, clip(reason, 80))
			}
		}
		admin, site := 0, 0
		for pi := range p.corpus {
			if o := p.outcome[[2]int{fi, pi}]; o != nil && o.accepted {
				if r.seen["admin"][p.placement(fi, pi)] {
					admin++
				}
				if r.seen["site"][p.placement(fi, pi)] || r.seen["feed"][p.placement(fi, pi)] {
					site++
				}
			}
		}
		seenAdmin += admin
		seenSite += site
		t.Logf("xss: %-38s %3d accepted (seen on %3d moderation pages, %3d pages of the site), %3d refused%s", f, perField[fi].ok, admin, site, perField[fi].refused, why)
		// A moderator sees every field of a submission; the site shows most of them.
		if perField[fi].ok > 0 && admin == 0 {
			t.Errorf("xss: none of the %d payloads accepted in %s was seen on a moderation page: the attack did not look where they are", perField[fi].ok, f)
		}
	}
	if seenSite < totalOK/2 {
		t.Errorf("xss: only %d of the %d payloads accepted were seen on a page of the site: the attack did not look where they are", seenSite, totalOK)
	}
	holes := r.holes()
	count := map[string]int{}
	for _, h := range holes {
		switch {
		case strings.HasPrefix(h.cause, "structural"):
			count["structural"]++
		case strings.HasPrefix(h.cause, firedScript), strings.HasPrefix(h.cause, firedException):
			count["executed"]++
		default:
			count[strings.Fields(h.cause)[0]]++
		}
	}
	t.Logf("xss: %d payloads × %d fields (%d placements): %d accepted (%d seen on the moderation pages, %d on the site), %d refused, in %d submissions (%d accepted); %d moderation pages and %d pages of the site loaded (CSP on and off): %d executed, %d dialogs, %d navigations, %d CSP violations, %d structural, %d errors of the site's own scripts, %d pages that did not load",
		len(p.corpus), len(p.fields), len(p.corpus)*len(p.fields), totalOK, seenAdmin, seenSite, totalRefused, p.posted, accepted,
		r.loaded["admin"], r.loaded["site"]+r.loaded["feed"],
		count["executed"], count[firedDialog], count[firedNavigation], count[firedCSP], count["structural"], count[firedSiteError], count["load"])
	if totalOK == 0 {
		t.Error("xss: no payload was accepted: the attack proves nothing")
	}
	if len(holes) == 0 {
		return
	}
	// Group by cause, then by payload and what it did: one entry each, with its pages. The
	// test's output shows the first entries of each cause; PARVIS_XSS_REPORT=file writes
	// them all.
	byCause := map[string][]hole{}
	for _, h := range holes {
		byCause[h.cause] = append(byCause[h.cause], h)
	}
	var short, full strings.Builder
	for _, cause := range sortedKeysOf(byCause) {
		hs := byCause[cause]
		pages := map[string][]string{}
		var order []string
		for _, h := range hs {
			k := r.who(h) + "\n      " + clip(h.what, 300)
			if pages[k] == nil {
				order = append(order, k)
			}
			where := fmt.Sprintf("%s (CSP %s)", h.page, map[bool]string{true: "on", false: "off"}[h.csp])
			if len(pages[k]) < 4 {
				pages[k] = append(pages[k], where)
			} else if len(pages[k]) == 4 {
				pages[k] = append(pages[k], "…")
			}
		}
		head := fmt.Sprintf("\n%s: %d, in %d cases", cause, len(hs), len(order))
		short.WriteString(head)
		full.WriteString(head)
		for i, k := range order {
			entry := fmt.Sprintf("\n  %s\n      on %s", k, strings.Join(pages[k], ", "))
			full.WriteString(entry)
			switch {
			case i < 20:
				short.WriteString(entry)
			case i == 20:
				fmt.Fprintf(&short, "\n  … and %d more", len(order)-20)
			}
		}
	}
	if f := os.Getenv("PARVIS_XSS_REPORT"); f != "" {
		if err := os.WriteFile(f, []byte(full.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
	t.Errorf("xss: %d things got through:%s", len(holes), short.String())
}

// who names the payloads and fields behind a hole.
func (r *xssRun) who(h hole) string {
	p := r.plan
	var parts []string
	for _, n := range h.placements {
		fi, pi, _ := p.placed(n)
		parts = append(parts, fmt.Sprintf("payload %s#%d %q in %s", p.corpus[pi].Family, pi, clip(p.corpus[pi].Text, 90), p.fields[fi]))
	}
	if len(parts) > 0 {
		return strings.Join(parts, "; ")
	}
	var subs []string
	for _, id := range h.subs {
		a := p.subs[id]
		if a == nil {
			continue
		}
		var in []string
		for fi, pis := range a.vals {
			for _, pi := range pis {
				in = append(in, fmt.Sprintf("%s#%d in %s", p.corpus[pi].Family, pi, p.fields[fi].name))
			}
		}
		sort.Strings(in)
		subs = append(subs, a.form+" "+id+" ("+strings.Join(in, ", ")+")")
		if len(subs) == 3 {
			subs = append(subs, "…")
			break
		}
	}
	if len(subs) > 0 {
		return "no placement named; the page shows " + strings.Join(subs, "; ")
	}
	return "no placement named"
}

// login signs the demo moderator in, in a tab of its own: the hook's tabs share its
// cookies, and have the DOM domain that the form filling needs turned off.
func login(t *testing.T, b context.Context, base string) {
	t.Helper()
	ctx, closeTab := chromedp.NewContext(b)
	defer closeTab()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/admin/login"),
		chromedp.WaitVisible(`#name`),
		chromedp.SendKeys(`#name`, "demo"),
		chromedp.SendKeys(`#password`, "belcombe-demo-2026"),
		chromedp.Click(`main form button[type=submit]`),
		chromedp.WaitNotPresent(`#password`),
	)
	if err != nil {
		t.Fatalf("sign in as the demo moderator: %v", err)
	}
}

// formRE finds the forms of a page.
var formRE = regexp.MustCompile(`data-parvis-form="([a-z_0-9]+)"`)

// commentTargets finds the pages that take comments, with a comment to answer, and a page
// for each form, to fetch its tokens from.
func commentTargets(pages map[string]*crawled) ([]commentTarget, map[string]string) {
	pageRE := regexp.MustCompile(`name="options\[page\]" value="([^"]+)"`)
	replyRE := regexp.MustCompile(`data-reply="([^"]+)"`)
	var out []commentTarget
	forms := map[string]string{}
	for _, p := range sortedKeysOf(pages) {
		c := pages[p]
		if c.kind != "html" {
			continue
		}
		for _, m := range formRE.FindAllStringSubmatch(c.sum, -1) {
			if forms[m[1]] == "" {
				forms[m[1]] = p
			}
		}
		if !strings.Contains(c.sum, `data-parvis-form="comment"`) {
			continue
		}
		m := pageRE.FindStringSubmatch(c.sum)
		r := replyRE.FindStringSubmatch(c.sum)
		if m == nil || r == nil || len(out) >= 6 {
			continue
		}
		out = append(out, commentTarget{path: p, ref: m[1], parent: r[1]})
	}
	return out, forms
}

// samplePages picks, of the pages found, one of each shape (section and depth), and the
// feeds: enough to learn the theme's markup.
func samplePages(pages map[string]*crawled) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range sortedKeysOf(pages) {
		c := pages[p]
		if c.kind == "" {
			continue
		}
		seg := strings.Split(strings.Trim(p, "/"), "/")
		k := c.kind + "|" + seg[0] + "|" + strconv.Itoa(len(seg)) + "|" + strings.Join(formRE.FindAllString(c.sum, -1), ",")
		if !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	return out
}

func surfaceOf(c *crawled) string {
	if c.kind == "xml" {
		return "feed"
	}
	return "site"
}

// chosenIDs are the ids the payloads try to set of their own, as placed.
func chosenIDs(p *xssPlan) map[string]bool {
	re := regexp.MustCompile(`xss(?:id|nm)\d+`)
	out := map[string]bool{}
	for pi, c := range p.corpus {
		for fi := range p.fields {
			for _, m := range re.FindAllString(c.expand(p.placement(fi, pi)), -1) {
				out[m] = true
			}
		}
	}
	return out
}

func pathOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	s := p.Path
	if p.RawQuery != "" {
		s += "?" + p.RawQuery
	}
	return s
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedKeysOf[V any](m map[string]V) []string { return keys(m) }

func sumValues(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// phases times the steps of the attack.
type phases struct {
	start, last time.Time
	steps       []string
}

func newPhases() *phases { now := time.Now(); return &phases{start: now, last: now} }

func (p *phases) done(step string) {
	now := time.Now()
	p.steps = append(p.steps, fmt.Sprintf("%s %.1fs", step, now.Sub(p.last).Seconds()))
	p.last = now
}

func (p *phases) String() string {
	return strings.Join(p.steps, "; ") + fmt.Sprintf("; in all %.1fs", time.Since(p.start).Seconds())
}
