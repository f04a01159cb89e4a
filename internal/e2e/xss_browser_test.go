package e2e

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	jsonv2 "github.com/chromedp/cdproto/cdp/jsonv2"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/debugger"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/domsnapshot"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/parvis/parvis/internal/testenv"
)

// The browser side of the XSS attack: a tab with a hook that records what a page does that
// the site did not write, and a snapshot of the page's DOM, every frame included, that is
// checked for markup a citizen must not be able to put there. Detection never relies on a
// payload behaving: any script parsed that is not one of the site's own files counts,
// whatever it calls.

// Kinds of what a hook records.
const (
	firedScript     = "executed"   // a script parsed that is not the site's own
	firedException  = "exception"  // an exception thrown outside the site's own scripts
	firedDialog     = "dialog"     // alert, confirm, prompt
	firedNavigation = "navigation" // the page left the URL it was loaded at, or asked to
	firedCSP        = "csp"        // a Content-Security-Policy or sandbox violation
	firedSiteError  = "site-error" // an exception in the site's own script
)

// xssHookName is the name of the hook's own scripts (its sourceURL), so that their parsing
// is not counted. It is drawn afresh for each run: a payload that named its script so would
// not know the name.
var xssHookName = "parvis-xss-hook-" + rand.Text() + ".js"

// xssBinding is the function the hook's script calls to report a CSP violation.
const xssBinding = "__parvisXSSViolation"

// xssHookJS listens for CSP violations in every document, frames included, and reports
// them through a CDP binding, which outlives navigations.
var xssHookJS = `(() => {
  const report = globalThis.` + xssBinding + `;
  if (typeof report !== "function") return;
  document.addEventListener("securitypolicyviolation", e => {
    try {
      report(JSON.stringify({directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample,
        document: e.documentURI, source: e.sourceFile, line: e.lineNumber}));
    } catch (_) {}
  }, true);
})();
//# sourceURL=` + xssHookName

// fired is one thing a page did.
type fired struct {
	Kind, Detail string
}

// visit is one page load and what fired during it: events that come late, after the
// snapshot, are still the visit's until the tab loads the next page.
type visit struct {
	URL   string
	Fired []fired
	Found []finding // structural
	Err   error     // the page did not load

	wait   sync.WaitGroup
	source map[int]string // Fired index → the script's source, fetched after the event
}

// xssTab is a browser tab with the hook installed.
type xssTab struct {
	ctx    context.Context
	origin string            // the site's, whose /js/ files are its own scripts
	csp    bool              // false: the tab bypasses every Content-Security-Policy
	main   string            // the main frame's id
	loads  chan cdp.LoaderID // main-frame documents loaded
	navs   chan cdp.LoaderID // main-frame documents committed

	mu  sync.Mutex
	cur *visit
}

// newXSSTab opens a tab of b with the hook. With csp false, the tab ignores the pages'
// Content-Security-Policy (Page.setBypassCSP), so that the markup itself is what is tested.
// The domains the hook does not read (network, DOM, CSS) are turned off: their events
// cost the browser more than the pages do.
func newXSSTab(t *testing.T, b context.Context, origin string, csp bool) *xssTab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	x := &xssTab{ctx: ctx, origin: origin, csp: csp, loads: make(chan cdp.LoaderID, 64), navs: make(chan cdp.LoaderID, 64)}
	if err := chromedp.Listen(ctx, x.event); err != nil {
		t.Fatal(err)
	}
	call := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("set up the hook: %v", err)
		}
	}
	_, err := chromedp.Call(ctx, network.Disable, cdp.Empty{})
	call(err)
	_, err = chromedp.Call(ctx, css.Disable, cdp.Empty{})
	call(err)
	_, err = chromedp.Call(ctx, dom.Disable, cdp.Empty{})
	call(err)
	_, err = chromedp.Call(ctx, debugger.Enable, debugger.EnableParams{})
	call(err)
	_, err = chromedp.Call(ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: !csp})
	call(err)
	_, err = chromedp.Call(ctx, runtime.AddBinding, runtime.AddBindingParams{Name: xssBinding})
	call(err)
	_, err = chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: xssHookJS})
	call(err)
	tree, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
	call(err)
	x.main = string(tree.FrameTree.Frame.ID)
	return x
}

// own reports whether a script's URL is one of the site's own files.
func (x *xssTab) own(u string) bool {
	return strings.HasPrefix(u, x.origin+"/js/")
}

func (x *xssTab) record(f fired) (*visit, int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.cur == nil {
		return nil, -1
	}
	x.cur.Fired = append(x.cur.Fired, f)
	return x.cur, len(x.cur.Fired) - 1
}

// event is the tab's listener. It must not block: what needs a call to the browser runs
// in a goroutine.
func (x *xssTab) event(ev any) {
	switch e := ev.(type) {
	case *page.EventLifecycleEvent:
		if string(e.FrameID) == x.main && e.Name == "load" {
			select {
			case x.loads <- e.LoaderID:
			default:
			}
		}
	case *debugger.EventScriptParsed:
		// The site's own files are loaded, not named by a sourceURL comment as a payload
		// could name its script.
		if e.URL == xssHookName && e.HasSourceURL || x.own(e.URL) && !e.HasSourceURL || isolatedWorld(e.ExecutionContextAuxData) {
			return
		}
		v, i := x.record(fired{firedScript, fmt.Sprintf("script parsed at %s:%d:%d", shortURL(e.URL), e.StartLine+1, e.StartColumn+1)})
		if v == nil {
			return
		}
		v.wait.Add(1)
		go func() {
			defer v.wait.Done()
			ctx, cancel := context.WithTimeout(x.ctx, 2*time.Second)
			defer cancel()
			src, err := chromedp.Call(ctx, debugger.GetScriptSource, debugger.GetScriptSourceParams{ScriptID: e.ScriptID})
			if err != nil {
				return
			}
			x.mu.Lock()
			defer x.mu.Unlock()
			if v.source == nil {
				v.source = map[int]string{}
			}
			v.source[i] = src.ScriptSource
		}()
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text = d.Exception.Description
		}
		where := d.URL
		if d.StackTrace != nil && len(d.StackTrace.CallFrames) > 0 {
			where = d.StackTrace.CallFrames[0].URL
		}
		kind := firedException
		if x.own(where) {
			kind = firedSiteError
		}
		x.record(fired{kind, firstLine(text) + " at " + shortURL(where)})
	case *page.EventJavascriptDialogOpening:
		x.record(fired{firedDialog, fmt.Sprintf("%s(%q) in %s", e.Type, e.Message, shortURL(e.URL))})
		go func() {
			ctx, cancel := context.WithTimeout(x.ctx, 2*time.Second)
			defer cancel()
			// Dismissed, but a page that asks before it is left is let go.
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: e.Type == page.DialogTypeBeforeunload})
		}()
	case *page.EventFrameNavigated:
		if e.Frame.ParentID != "" {
			return
		}
		select {
		case x.navs <- e.Frame.LoaderID:
		default:
		}
		x.mu.Lock()
		v := x.cur
		x.mu.Unlock()
		if v == nil {
			return
		}
		if u := e.Frame.URL; u != v.URL && u+"/" != v.URL {
			x.record(fired{firedNavigation, "the page navigated to " + shortURL(u)})
		}
	case *page.EventFrameRequestedNavigation:
		switch e.Reason {
		case page.ClientNavigationReasonMetaTagRefresh, page.ClientNavigationReasonHTTPHeaderRefresh,
			page.ClientNavigationReasonScriptInitiated, page.ClientNavigationReasonFormSubmissionGet,
			page.ClientNavigationReasonFormSubmissionPost, page.ClientNavigationReasonAnchorClick:
			where := "the page"
			if string(e.FrameID) != x.main {
				where = "a frame"
			}
			x.record(fired{firedNavigation, fmt.Sprintf("%s asked to navigate to %s (%s)", where, shortURL(e.URL), e.Reason)})
		}
	case *runtime.EventBindingCalled:
		if e.Name == xssBinding {
			x.record(fired{firedCSP, "securitypolicyviolation " + e.Payload})
		}
	case *log.EventEntryAdded:
		// Violations in documents where the hook's script cannot run (a frame sandboxed
		// without allow-scripts) only show in the console.
		if t := e.Entry.Text; strings.HasPrefix(t, "Blocked ") && (strings.Contains(t, "sandbox") || strings.Contains(t, "script")) {
			x.record(fired{firedCSP, "console: " + firstLine(t)})
		}
	}
}

// isolatedWorld reports whether a script runs in a world of the browser's own (the XML
// viewer's, for one), which a page's markup cannot reach: a page's scripts, a payload's
// included, run in its main world.
func isolatedWorld(aux jsonv2.Value) bool {
	var d struct {
		IsDefault *bool `json:"isDefault"`
	}
	return json.Unmarshal([]byte(aux), &d) == nil && d.IsDefault != nil && !*d.IsDefault
}

// settle closes the current visit: the script sources it asked for are in its details.
func (x *xssTab) settle() {
	x.mu.Lock()
	v := x.cur
	x.cur = nil
	x.mu.Unlock()
	if v == nil {
		return
	}
	v.wait.Wait()
	x.mu.Lock()
	defer x.mu.Unlock()
	for i, src := range v.source {
		v.Fired[i].Detail += ": " + clip(src, 160)
	}
	v.source = nil
}

// load navigates the tab to u, waits for the page to load and takes a snapshot of its DOM,
// which check reads (none when check is nil). What fires goes on being recorded into the
// visit until the next load or settle.
func (x *xssTab) load(u string, check func(*pageSnapshot) []finding) *visit {
	x.settle()
	v := &visit{URL: u}
	for len(x.loads) > 0 || len(x.navs) > 0 {
		select {
		case <-x.loads:
		case <-x.navs:
		}
	}
	x.mu.Lock()
	x.cur = v
	x.mu.Unlock()
	ctx, cancel := context.WithTimeout(x.ctx, 30*time.Second)
	defer cancel()
	res, err := chromedp.Call(ctx, page.Navigate, page.NavigateParams{URL: u})
	switch {
	case err != nil:
		v.Err = err
		return v
	case res.ErrorText != "":
		v.Err = fmt.Errorf("%s", res.ErrorText)
		return v
	}
	// The page's own document, or one it went on to once committed (a refresh): whichever
	// loads. A document the previous page went on to is not this page's.
	want := map[cdp.LoaderID]bool{res.LoaderID: true}
	committed := false
	for loaded := false; !loaded; {
		select {
		case id := <-x.navs:
			if id == res.LoaderID {
				committed = true
			} else if committed {
				want[id] = true
			}
		case id := <-x.loads:
			loaded = want[id]
		case <-ctx.Done():
			v.Err = fmt.Errorf("%s did not load: %w", u, ctx.Err())
			return v
		}
	}
	if check == nil {
		return v
	}
	snap, err := chromedp.Call(ctx, domsnapshot.CaptureSnapshot, domsnapshot.CaptureSnapshotParams{ComputedStyles: snapshotStyles})
	if err != nil {
		v.Err = fmt.Errorf("snapshot: %w", err)
		return v
	}
	v.Found = check(newPageSnapshot(snap))
	return v
}

// evalHarness evaluates a JavaScript expression in the tab's page as the harness, whose
// scripts the hook does not count.
func evalHarness[T any](x *xssTab, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(x.ctx, 10*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr+"\n//# sourceURL="+xssHookName))
}

// xssBrowser starts headless Chromium for the attack. Sandboxed frames stay in their
// page's process (IsolateSandboxedIframes off), so that the hook and the snapshot see
// into the moderation preview: isolation changes which process runs a frame, not what the
// frame may do. Each page is loaded afresh, as a reader arriving on it (no back-forward
// cache).
func xssBrowser(t *testing.T) context.Context {
	t.Helper()
	path := testenv.Chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-features", "IsolateSandboxedIframes,site-per-process,BackForwardCache"),
		chromedp.Flag("disable-site-isolation-trials", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

func shortURL(u string) string {
	if p, err := url.Parse(u); err == nil && p.Host != "" && (p.Hostname() == "127.0.0.1" || p.Hostname() == "localhost") {
		p.Scheme, p.Host = "", ""
		return clip(p.String(), 160)
	}
	if u == "" {
		return "(no URL)"
	}
	return clip(u, 160)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return clip(s, 200)
}

// clip shortens s to about n bytes, on a rune boundary, and makes control characters
// visible.
func clip(s string, n int) string {
	if len(s) > n {
		cut := n
		for cut > 0 && s[cut]&0xc0 == 0x80 {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '·'
		}
		return r
	}, s)
}

var devTimes [4]time.Duration
