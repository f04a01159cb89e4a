package doccheck_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parvis/parvis/internal/doccheck"
	"github.com/parvis/parvis/internal/doccheck/doccorpus"
)

// fuzzHeap bounds the heap a check may grow by, whatever its input: an object stream and
// its parse, the index, and garbage not yet collected (the fuzzers do not collect before
// each input, which would slow them tenfold).
const fuzzHeap = 128 * mib

// checkOutcome fails on what a check must never do: run long, grow the heap past its
// caps, refuse without a kind, or report links that break their bounds.
func checkOutcome(t *testing.T, fn func() (doccheck.Report, error)) {
	var rep doccheck.Report
	var err error
	peak, d := sampleHeap(func() { rep, err = fn() }, true)
	if d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	if peak > fuzzHeap {
		t.Errorf("the heap grew by %d MiB", peak/mib)
	}
	if err != nil {
		var e *doccheck.Error
		if !errors.As(err, &e) {
			t.Fatalf("%T %v is not a *doccheck.Error", err, err)
		}
		switch e.Kind {
		case doccheck.ErrActive, doccheck.ErrBomb, doccheck.ErrProtected, doccheck.ErrMalformed:
		default:
			t.Fatalf("%v: unknown kind %v", err, e.Kind)
		}
		if len(rep.Links) != 0 {
			t.Fatal("a refusal with links")
		}
		return
	}
	if len(rep.Links) > doccheck.MaxLinks {
		t.Fatalf("%d links", len(rep.Links))
	}
	for _, l := range rep.Links {
		if l == "" || len(l) > doccheck.MaxLinkLen || !utf8.ValidString(l) || strings.ContainsFunc(l, unicode.IsControl) {
			t.Fatalf("link %q", l)
		}
	}
}

func seeds(f *testing.F, pdf bool) {
	for _, c := range doccorpus.Small() {
		if (c.MediaType == doccorpus.PDF) == pdf {
			f.Add(c.Data())
		}
	}
}

// FuzzPDF: any input is accepted or refused with a kind, fast and in bounded memory.
func FuzzPDF(f *testing.F) {
	seeds(f, true)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkOutcome(t, func() (doccheck.Report, error) { return doccheck.PDF(data) })
	})
}

// FuzzODF: the same for OpenDocument files.
func FuzzODF(f *testing.F) {
	seeds(f, false)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkOutcome(t, func() (doccheck.Report, error) { return doccheck.ODF(data, doccorpus.ODT) })
	})
}

// FuzzODFContent fuzzes content.xml inside a well-formed package, where mutations of a
// whole zip seldom reach: the XML tokeniser and the rules.
func FuzzODFContent(f *testing.F) {
	f.Add(doccorpus.Content("", ""))
	f.Add(doccorpus.Content(`<office:event-listeners><script:event-listener xlink:href="vnd.sun.star.script:x"/></office:event-listeners>`, ""))
	f.Add(doccorpus.Content("", `<text:p><text:a xlink:href="&#118;nd.sun.star.script:x">a</text:a><![CDATA[<x>]]><!-- c --><?p q?></text:p>`))
	f.Add(doccorpus.Content("", `<text:a xlink:href="https://www.mairie-exemple.fr/">a &amp; b</text:a>`))
	f.Fuzz(func(t *testing.T, content []byte) {
		// Stored, not deflated: writing the package must not cost more than checking it.
		data := doccorpus.Zip(doccorpus.Entry{Name: "mimetype", Data: []byte(doccorpus.ODT)}, doccorpus.Entry{Name: "content.xml", Data: content, Store: true},
			doccorpus.Entry{Name: "META-INF/manifest.xml", Data: doccorpus.Manifest(doccorpus.ODT, ""), Store: true})
		checkOutcome(t, func() (doccheck.Report, error) { return doccheck.ODF(data, doccorpus.ODT) })
	})
}
