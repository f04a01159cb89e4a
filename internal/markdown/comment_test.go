package markdown

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestCommentLimits feeds comments that are deep or long; the expected HTML
// is built from the same counts. testdata/comment.txt has the short hostile
// cases.
func TestCommentLimits(t *testing.T) {
	const rel = ` rel="nofollow ugc noopener noreferrer"`
	tests := []struct {
		name, md, want string
	}{{
		name: "deep blockquotes",
		md:   strings.Repeat(">", 5000) + " x\n",
		want: strings.Repeat("<blockquote>\n", 5000) + "<p>x</p>\n" + strings.Repeat("</blockquote>\n", 5000),
	}, {
		name: "deep lists",
		md: func() string {
			var b strings.Builder
			for i := range 100 {
				b.WriteString(strings.Repeat("  ", i) + "- x\n")
			}
			return b.String()
		}(),
		want: strings.Repeat("<ul>\n<li>x\n", 99) + "<ul>\n<li>x</li>\n</ul>\n" + strings.Repeat("</li>\n</ul>\n", 99),
	}, {
		name: "deep emphasis",
		md:   strings.Repeat("*a _a ", 500) + "x" + strings.Repeat(" a_ a*", 500) + "\n",
		want: "<p>" + strings.Repeat("<em>a ", 1000) + "x" + strings.Repeat(" a</em>", 1000) + "</p>\n",
	}, {
		name: "deep links",
		md:   strings.Repeat("[", 500) + "x" + strings.Repeat("](https://x.fr)", 500) + "\n",
		// A link cannot hold a link: only the innermost is one, and the
		// last URL, after a "(", is found by linkify.
		want: "<p>" + strings.Repeat("[", 499) + `<a href="https://x.fr"` + rel + `>x</a>` +
			strings.Repeat("](https://x.fr)", 498) + `](<a href="https://x.fr"` + rel + `>https://x.fr</a>)</p>` + "\n",
	}, {
		name: "unclosed brackets",
		md:   strings.Repeat("[a](", 3000) + "\n",
		want: "<p>" + strings.Repeat("[a](", 3000) + "</p>\n",
	}, {
		name: "unclosed HTML comments",
		md:   strings.Repeat("a <!--a\n", 3000),
		want: "<p>" + strings.Repeat("a &lt;!--a<br>\n", 2999) + "a &lt;!--a</p>\n",
	}, {
		name: "long line",
		md:   strings.Repeat("mot ", MaxCommentSize/4-1) + "fin",
		want: "<p>" + strings.Repeat("mot ", MaxCommentSize/4-1) + "fin</p>\n",
	}, {
		name: "many lines",
		md:   strings.Repeat("ligne\n", MaxCommentSize/6),
		want: "<p>" + strings.Repeat("ligne<br>\n", MaxCommentSize/6-1) + "ligne</p>\n",
	}, {
		name: "many links",
		md:   strings.Repeat("https://x.fr ", 2000),
		want: "<p>" + strings.Repeat(`<a href="https://x.fr"`+rel+`>https://x.fr</a> `, 1999) +
			`<a href="https://x.fr"` + rel + `>https://x.fr</a></p>` + "\n",
	}}
	r := NewComment()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if _, err := r.Render(&b, []byte(tt.md)); err != nil {
				t.Fatal(err)
			}
			if got := b.String(); got != tt.want {
				i := 0
				for i < len(got) && i < len(tt.want) && got[i] == tt.want[i] {
					i++
				}
				from := max(i-100, 0)
				t.Errorf("got %d bytes, want %d; first difference at %d:\n got …%.200q\nwant …%.200q",
					len(got), len(tt.want), i, got[from:], tt.want[from:])
			}
		})
	}
}

func TestCommentTooLarge(t *testing.T) {
	r := NewComment()
	var b bytes.Buffer
	if _, err := r.Render(&b, bytes.Repeat([]byte("a"), MaxCommentSize)); err != nil {
		t.Fatalf("a comment of MaxCommentSize bytes: %v", err)
	}
	b.Reset()
	_, err := r.Render(&b, bytes.Repeat([]byte("a"), MaxCommentSize+1))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	if want := "markdown: the text is too large: 32769 bytes, more than 32768"; err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
	if b.Len() != 0 {
		t.Errorf("wrote %q for a refused comment", b.String())
	}
	// Editors' pages have no such limit.
	if _, err := New().Render(&b, bytes.Repeat([]byte("a "), MaxCommentSize)); err != nil {
		t.Errorf("a long page: %v", err)
	}
}

func TestSanitize(t *testing.T) {
	const rel = `rel="nofollow ugc noopener noreferrer"`
	tests := []struct{ name, in, want string }{
		{"allowed elements",
			"<p>a<br><em>b</em> <strong>c</strong> <del>d</del> <code>e</code></p><pre><code>f</code></pre><blockquote><p>g</p></blockquote><ul><li>h</li></ul><ol start=\"3\"><li>i</li></ol>",
			"<p>a<br><em>b</em> <strong>c</strong> <del>d</del> <code>e</code></p><pre><code>f</code></pre><blockquote><p>g</p></blockquote><ul><li>h</li></ul><ol start=\"3\"><li>i</li></ol>"},
		{"our own links kept",
			`<a href="https://x.fr/a?b=1&amp;c=2" ` + rel + `>x</a>`,
			`<a href="https://x.fr/a?b=1&amp;c=2" ` + rel + `>x</a>`},
		{"foreign links get nofollow noreferrer",
			`<a href="http://x.fr" rel="author" target="_blank" title="t">x</a> <a href="mailto:a@b.fr">m</a>`,
			`<a href="http://x.fr" rel="nofollow noreferrer">x</a> <a href="mailto:a@b.fr" rel="nofollow noreferrer">m</a>`},
		{"script and style removed with their content",
			`<script>alert(1)</script><style>p{}</style><p>ok</p>`,
			`<p>ok</p>`},
		{"event handlers removed",
			`<p onclick="alert(1)" onmouseover=x>a</p><img src=x onerror=alert(1)>`,
			`<p>a</p>`},
		{"javascript and data URLs removed",
			`<a href="javascript:alert(1)">a</a><a href=" JaVaScRiPt:alert(1)">b</a><a href="jav&#x09;ascript:alert(1)">c</a><a href="data:text/html,x">d</a>`,
			`abcd`},
		{"relative URLs removed",
			`<a href="/page">a</a><a href="#contenu">b</a><a href="//evil.example">c</a>`,
			`abc`},
		{"ids, classes and styles removed",
			`<p id="contenu" class="x" style="color:red">a</p><h1>Titre</h1>`,
			`<p>a</p>Titre`},
		{"images, frames and forms removed",
			`<img src="https://x.fr/a.png" alt="a"><iframe src="https://x.fr"></iframe><form action="/x"><input name="a"><button>b</button></form>`,
			`b`},
		{"ordered list start must be a number",
			`<ol start="1;x"><li>a</li></ol><ol start="-1"><li>b</li></ol>`,
			`<ol><li>a</li></ol><ol><li>b</li></ol>`},
		{"comments and CDATA removed",
			`<!-- x --><p>a</p><![CDATA[<script>]]>`,
			`<p>a</p>]]&gt;`}, // HTML reads "<![CDATA[<script>" as a bogus comment
		{"unterminated tags",
			`<p>a<em>b<a href="https://x.fr">c`,
			`<p>a<em>b<a href="https://x.fr" rel="nofollow noreferrer">c`},
		{"entities kept escaped",
			`&lt;script&gt;alert(1)&lt;/script&gt; &amp;lt; &#60;b&#62;`,
			`&lt;script&gt;alert(1)&lt;/script&gt; &amp;lt; &lt;b&gt;`},
		{"svg and math removed",
			`<svg onload=alert(1)><script>alert(2)</script></svg><math><mi xlink:href="javascript:alert(3)">x</mi></math>`,
			`x`},
	}
	for _, tt := range tests {
		if got := string(Sanitize([]byte(tt.in))); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}
