package commentsvc

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parvis/parvis/internal/forge"
	"github.com/parvis/parvis/internal/queue"
	"github.com/parvis/parvis/internal/site"
	"github.com/parvis/parvis/internal/store"
)

// hostileName and hostileMessage are what a citizen may send to attack a moderator's
// browser: every page must show them as text.
const (
	hostileName    = `<script>alert("name")</script>`
	hostileMessage = "<img src=x onerror=alert(1)> Du **gras**, <script>alert(2)</script> et un lien https://example.org/x"
)

func TestAdminQueue(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	hostile := h.submitComment(t, hostileName, hostileMessage)
	plain := h.submitComment(t, "Claire M.", "Merci pour ces précisions.")
	c := h.signedIn(t)

	p := c.get("/admin/")
	if p.StatusCode != http.StatusOK {
		t.Fatalf("status %d", p.StatusCode)
	}
	mustContain(t, "the queue", p.body,
		`<caption id="queue-caption">Contributions « En attente », les plus récentes d’abord</caption>`,
		`<th scope="col">Auteur</th>`,
		`aria-current="page">En attente <span class="count">2</span>`,
		`<a href="https://www.testville.example/articles/budget/">Le budget 2026</a>`,
		`<td>Commentaire</td>`,
		`href="/admin/submissions/`+hostile+`"`,
		`&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;`,
		`<span class="excerpt">&lt;img src=x onerror=alert(1)&gt; Du **gras**`,
		`<li>1 lien</li>`,
		`<li>envoyée 10 s après l’affichage du formulaire</li>`,
		`<input type="checkbox" name="id" value="`+plain+`" id="sel-`+plain+`">`,
		`Sélectionner « Commentaire sur « Le budget 2026 » »`,
		`name="csrf"`,
		// The default reasons, in the site's language.
		"Votre contribution fait doublon avec un contenu déjà publié.",
	)
	mustNotContain(t, "the queue", p.body, "<script>alert", "<img src=x", "onerror=alert(1)>")
	if strings.Index(p.body, "sel-"+plain) > strings.Index(p.body, "sel-"+hostile) {
		t.Errorf("the newest submission is not first")
	}

	failed := queue.NewID()
	if err := h.svc.store.Put(&store.Record{ID: failed, Form: "comment", Title: "comment", Status: store.Failed, Error: "forge: <unreachable>"}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		query  string
		want   []string
		absent []string
	}{
		{"?form=article", []string{"Aucune contribution ici.", `<option value="article" selected>Proposer un article</option>`}, []string{"sel-" + plain}},
		{"?status=published", []string{"Aucune contribution ici.", `aria-current="page">Publiées`}, []string{"sel-" + plain}},
		{"?status=nonsense&form=nonsense&before=../x", []string{"sel-" + plain, `aria-current="page">En attente`}, nil},
		{"?form=comment", []string{"sel-" + plain, "sel-" + hostile, `Contributions « En attente » du formulaire « Commentaire »`}, nil},
		{"?before=" + plain, []string{"sel-" + hostile, "Revenir aux plus récentes"}, []string{"sel-" + plain}},
		{"?status=failed", []string{`<p class="error-text">forge: &lt;unreachable&gt;</p>`, `<th scope="col">Décision</th>`, `En échec <span class="count">1</span>`}, []string{`type="checkbox"`, "Décider pour la sélection"}},
	}
	for _, tt := range tests {
		p := c.get("/admin/" + tt.query)
		if p.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d", tt.query, p.StatusCode)
		}
		mustContain(t, tt.query, p.body, tt.want...)
		mustNotContain(t, tt.query, p.body, tt.absent...)
	}
}

func TestAdminQueuePagination(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var ids []string
	for i := range 2*adminPageSize + 3 {
		id := queue.NewID()
		form := "comment"
		if i%3 == 0 {
			form = "article"
		}
		rec := &store.Record{ID: id, Form: form, Title: fmt.Sprintf("Contribution %02d", i), Status: store.Published, Created: time.Now(), URL: "https://www.testville.example/articles/budget/#comment-" + id, Moderator: "ana"}
		if err := h.svc.store.Put(rec); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	c := h.signedIn(t)
	older := regexp.MustCompile(`<a href="([^"]+)">Contributions plus anciennes</a>`)
	rows := regexp.MustCompile(`href="/admin/submissions/([^"]+)"`)
	for _, tt := range []struct {
		form  string
		pages []int
	}{
		{"", []int{adminPageSize, adminPageSize, 3}},
		{"article", []int{adminPageSize - 7}}, // 18 of 53
		{"comment", []int{adminPageSize, 2*adminPageSize + 3 - 18 - adminPageSize}},
	} {
		next := "/admin/?status=published"
		if tt.form != "" {
			next += "&form=" + tt.form
		}
		var seen []string
		for i, want := range tt.pages {
			p := c.get(next)
			got := rows.FindAllStringSubmatch(p.body, -1)
			if len(got) != want {
				t.Fatalf("form %q, page %d: %d rows, want %d", tt.form, i+1, len(got), want)
			}
			for _, m := range got {
				seen = append(seen, m[1])
			}
			mustContain(t, "a page of published submissions", p.body, "Décision de\u00a0: ana", ">En ligne</a>")
			m := older.FindStringSubmatch(p.body)
			if i == len(tt.pages)-1 {
				if m != nil {
					t.Errorf("form %q: a link past the last page", tt.form)
				}
				break
			}
			if m == nil {
				t.Fatalf("form %q, page %d: no link to older submissions", tt.form, i+1)
			}
			next = strings.ReplaceAll(m[1], "&amp;", "&")
		}
		// Newest first, each once.
		for i := 1; i < len(seen); i++ {
			if seen[i] >= seen[i-1] {
				t.Errorf("form %q: %s listed after %s", tt.form, seen[i], seen[i-1])
			}
		}
	}
}

func TestAdminSubmissionPage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.submitComment(t, hostileName, hostileMessage)
	c := h.signedIn(t)
	p := c.get("/admin/submissions/" + id)
	if p.StatusCode != http.StatusOK {
		t.Fatalf("status %d\n%s", p.StatusCode, p.body)
	}
	mustContain(t, "the submission page", p.body,
		`<h1>Commentaire sur « Le budget 2026 »</h1>`,
		`<dd>&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;</dd>`,
		`<dd><a href="https://www.testville.example/articles/budget/">Le budget 2026</a></dd>`,
		// The preview, in a sandboxed frame of its own (finding 4 of the hostile-input review).
		`<iframe class="preview" sandbox src="/admin/submissions/`+id+`/preview" title="Aperçu de « Commentaire sur « Le budget 2026 » »"></iframe>`,
		// The diff, escaped, with its lines marked.
		`<span class="line meta">&#43;&#43;&#43; b/comments/articles/budget/`+id+`.yaml</span>`+"\n",
		`<span class="line add">&#43;name: &#34;&lt;script&gt;alert(\&#34;name\&#34;)&lt;/script&gt;&#34;</span>`+"\n",
		`<span class="line add">&#43;message: &#34;&lt;img src=x onerror=alert(1)&gt;`,
		// What the citizen filled in, escaped (issue 11, finding 11).
		`<div><dt>name</dt><dd>&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;</dd></div>`,
		`<div><dt>message</dt><dd class="multiline">&lt;img src=x onerror=alert(1)&gt; Du **gras**`,
		`<li>1 lien</li>`,
		`action="/admin/submissions/`+id+`/approve"`, `action="/admin/submissions/`+id+`/reject"`,
		`<legend>Motif du refus</legend>`,
		`<input type="radio" name="reason" id="reason-none" value="" checked>`,
		`role="region" aria-labelledby="h-diff"`,
	)
	mustNotContain(t, "the submission page", p.body, "<script>alert", "<img src=x", "onerror=alert(1)>")
	// The preview itself: the comment as the site will render it (the Markdown applies, the
	// markup does not), under a policy that runs nothing and gives the frame an origin of
	// its own.
	pv := c.get("/admin/submissions/" + id + "/preview")
	if pv.StatusCode != http.StatusOK {
		t.Fatalf("preview: status %d\n%s", pv.StatusCode, pv.body)
	}
	mustContain(t, "the preview", pv.body, `<strong>gras</strong>`, `<p class="author">&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;</p>`)
	mustNotContain(t, "the preview", pv.body, "<script>alert", "<img src=x", "onerror=alert(1)>")
	if csp := pv.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") || !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("preview CSP %q", csp)
	}
	if xfo := pv.Header.Get("X-Frame-Options"); xfo != "SAMEORIGIN" {
		t.Errorf("preview X-Frame-Options %q", xfo)
	}
	if p := h.client(t).get("/admin/submissions/" + id + "/preview"); p.StatusCode != http.StatusSeeOther {
		t.Errorf("the preview without a session: %d", p.StatusCode)
	}

	if p := c.get("/admin/submissions/01NOSUCHSUBMISSION"); p.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown submission: %d", p.StatusCode)
	} else {
		mustContain(t, "the 404 page", p.body, "Aucune contribution ne porte cet identifiant.", `href="/admin/"`)
	}
}

func TestAdminApprove(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.submitComment(t, hostileName, "Bonjour")
	c := h.signedIn(t)
	tok := c.csrf("/admin/submissions/" + id)

	p := c.post("/admin/submissions/"+id+"/approve", url.Values{"csrf": {tok}})
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/admin/" {
		t.Fatalf("approve: %d to %q\n%s", p.StatusCode, p.Header.Get("Location"), p.body)
	}
	if ck := setCookie(p.Response, flashCookie); ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.MaxAge <= 0 {
		t.Errorf("flash cookie %+v", ck)
	}
	rec := h.waitStatus(t, id, store.Published)
	if rec.Moderator != "ana" || !strings.HasSuffix(rec.URL, "/articles/budget/#comment-"+id) {
		t.Errorf("record %+v", rec)
	}
	queue := c.get("/admin/")
	mustContain(t, "the queue after approving", queue.body,
		`<div class="notice notice-success" role="status">`,
		`<a href="/admin/submissions/`+id+`">Commentaire sur « Le budget 2026 »</a>`,
		"Approuvée : elle sera en ligne après la mise à jour du site.")
	if again := c.get("/admin/"); strings.Contains(again.body, "Approuvée : elle") {
		t.Errorf("the flash message shows twice")
	}

	// The published submission's page shows the decision and no form.
	page := c.get("/admin/submissions/" + id)
	mustContain(t, "the decided submission", page.body, `<span class="badge badge-published">Publiée</span>`, "<dd>ana</dd>", "n’attend plus de décision")
	mustNotContain(t, "the decided submission", page.body, "/approve", "<script>alert")

	// Deciding again says why nothing happened, on the submission's page.
	p = c.post("/admin/submissions/"+id+"/approve", url.Values{"csrf": {tok}})
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/admin/submissions/"+id {
		t.Fatalf("approving twice: %d to %q", p.StatusCode, p.Header.Get("Location"))
	}
	mustContain(t, "approving twice", c.get("/admin/submissions/"+id).body, `role="alert"`, "elle a déjà été approuvée ou refusée")

	// An unknown ID goes back to the queue with the reason.
	p = c.post("/admin/submissions/01NOSUCHSUBMISSION/approve", url.Values{"csrf": {tok}})
	if p.Header.Get("Location") != "/admin/" {
		t.Errorf("unknown ID: to %q", p.Header.Get("Location"))
	}
	mustContain(t, "an unknown ID", c.get("/admin/").body, "aucune contribution ne porte cet identifiant")

	// A flash cookie not signed by the service shows nothing.
	u, _ := url.Parse(h.srv.URL + "/admin/")
	c.c.Jar.SetCookies(u, []*http.Cookie{{Name: flashCookie, Value: fmt.Sprintf("%d.%s:a~forged", time.Now().Add(time.Minute).Unix(), id), Path: "/admin/"}})
	mustNotContain(t, "a forged flash", c.get("/admin/").body, "Approuvée : elle")
}

func TestAdminReject(t *testing.T) {
	t.Parallel()
	preset := "Ce message est sans rapport avec la page commentée."
	h := newHarness(t, harnessConfig{reasons: []string{preset, "Doublon."}})
	id := h.submitComment(t, "Claire", "Hors sujet")
	c := h.signedIn(t)
	tok := c.csrf("/admin/submissions/" + id)
	path := "/admin/submissions/" + id + "/reject"

	for _, tt := range []struct {
		name string
		form url.Values
		want []string
	}{
		{"no reason", url.Values{"reason": {""}, "details": {"  "}}, []string{"Choisissez un motif ou écrivez-en un"}},
		{"too long", url.Values{"details": {strings.Repeat("é", 1001)}}, []string{"Le motif est trop long"}},
	} {
		tt.form.Set("csrf", tok)
		p := c.post(path, tt.form)
		if p.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("%s: status %d", tt.name, p.StatusCode)
		}
		mustContain(t, tt.name, p.body, append(tt.want,
			`<div class="notice notice-error" role="alert">`, `<a href="#details">`,
			`<p class="error-text" id="reason-error">`,
			`aria-describedby="details-help reason-error" aria-invalid="true"`,
			`<fieldset class="reasons field-error" aria-describedby="reason-help reason-error">`,
		)...)
		if r := h.record(t, id); r.Status != store.Pending {
			t.Fatalf("%s: the submission was decided", tt.name)
		}
	}

	// The configured reasons are offered, and the one chosen comes back checked.
	p := c.post(path, url.Values{"csrf": {tok}, "reason": {"Doublon."}, "details": {strings.Repeat("x", 1000)}})
	mustContain(t, "the page with a preset chosen", p.body, `value="Doublon." checked>`, preset)
	mustNotContain(t, "the page with configured reasons", p.body, "Votre contribution fait doublon")

	p = c.post(path, url.Values{"csrf": {tok}, "reason": {preset}, "details": {"Merci d’écrire à la mairie."}})
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/admin/" {
		t.Fatalf("reject: %d to %q\n%s", p.StatusCode, p.Header.Get("Location"), p.body)
	}
	rec := h.record(t, id)
	if rec.Status != store.Rejected || rec.Moderator != "ana" || rec.Reason != preset+" Merci d’écrire à la mairie." {
		t.Errorf("record %+v", rec)
	}
	mustContain(t, "the queue after rejecting", c.get("/admin/").body, "Refusée : le motif est transmis à la personne.")
	mustContain(t, "the rejected list", c.get("/admin/?status=rejected").body, "Motif\u00a0: "+preset, "Décision de\u00a0: ana")
	// The author's receipt gives the reason.
	res, err := http.Get(h.srv.URL + "/api/v1/submissions/" + id + "?token=" + h.svc.ReceiptToken(id))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(res.Body)
	res.Body.Close()
	mustContain(t, "the receipt", buf.String(), preset)
}

// TestAdminBulk decides for several submissions at once: each is decided on its own, and
// those that cannot be (an orphan reply, a conflict, one already decided) are reported
// without stopping the others.
func TestAdminBulk(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	good1 := h.submitComment(t, "Claire", "Premier")
	good2 := h.submitComment(t, "Paul", "Second")
	orphan, dupA, dupB := queue.NewID(), queue.NewID(), queue.NewID()
	reply := func(id, parent string) forge.File {
		return forge.File{Path: "comments/articles/budget/" + id + ".yaml", Data: []byte("_id: " + id + "\nparent: " + parent + "\nname: Léa\ndate: 2026-03-16\nmessage: Réponse.\n")}
	}
	h.openChange(t, orphan, "Réponse orpheline", reply(orphan, "gone"))
	// Two changes writing the same file: once the first lands, the second conflicts.
	same := func(text string) forge.File {
		return forge.File{Path: "comments/articles/budget/same.yaml", Data: []byte("_id: same\nname: Léa\ndate: 2026-03-16\nmessage: " + text + "\n")}
	}
	h.openChange(t, dupA, "Première version", same("Une version."))
	h.openChange(t, dupB, "Seconde version", same("Une autre version."))
	c := h.signedIn(t)
	tok := c.csrf("/admin/")

	t.Run("nothing selected", func(t *testing.T) {
		p := c.post("/admin/bulk", url.Values{"csrf": {tok}, "action": {"approve"}})
		if p.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("status %d", p.StatusCode)
		}
		mustContain(t, "the queue", p.body, `<p class="error-text" id="selection-error">Sélectionnez au moins une contribution.</p>`, `<table id="selection" aria-describedby="selection-error">`, `<a href="#selection">`)
	})
	t.Run("reject without a reason keeps the selection", func(t *testing.T) {
		p := c.post("/admin/bulk", url.Values{"csrf": {tok}, "action": {"reject"}, "id": {good1, good2}})
		if p.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("status %d", p.StatusCode)
		}
		mustContain(t, "the queue", p.body, `value="`+good1+`" id="sel-`+good1+`" checked>`, `value="`+good2+`" id="sel-`+good2+`" checked>`, "Choisissez un motif")
		mustNotContain(t, "the queue", p.body, `id="sel-`+orphan+`" checked`)
	})
	t.Run("too many", func(t *testing.T) {
		ids := make([]string, maxBulk+1)
		for i := range ids {
			ids[i] = fmt.Sprintf("ID%03d", i)
		}
		p := c.post("/admin/bulk", url.Values{"csrf": {tok}, "action": {"approve"}, "id": ids})
		if p.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("status %d", p.StatusCode)
		}
	})

	p := c.post("/admin/bulk", url.Values{"csrf": {tok}, "action": {"approve"}, "id": {good1, orphan, dupA, dupB, good2}, "form": {"comment"}})
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/admin/?form=comment" {
		t.Fatalf("bulk approve: %d to %q\n%s", p.StatusCode, p.Header.Get("Location"), p.body)
	}
	for _, id := range []string{good1, good2, dupA} {
		if r := h.waitStatus(t, id, store.Published); r.Moderator != "ana" {
			t.Errorf("%s: moderator %q", id, r.Moderator)
		}
	}
	for _, id := range []string{orphan, dupB} {
		if r := h.record(t, id); r.Status != store.Pending {
			t.Errorf("%s: %s, want pending", id, r.Status)
		}
	}
	q := c.get("/admin/?form=comment")
	mustContain(t, "the bulk result", q.body,
		`<div class="notice notice-error" role="alert">`,
		"3 approuvée(s), 0 refusée(s), 2 non traitée(s).",
		`Réponse orpheline</a>`+"\u00a0: Non approuvée : elle répond à un commentaire qui n’est pas publié.",
		`Seconde version</a>`+"\u00a0: Non approuvée : elle entre en conflit avec le contenu actuel du site.",
		`Première version</a>`+"\u00a0: Approuvée",
	)

	reason := "Votre contribution fait doublon avec un contenu déjà publié."
	p = c.post("/admin/bulk", url.Values{"csrf": {tok}, "action": {"reject"}, "id": {orphan, good1, dupB}, "reason": {reason}})
	if p.StatusCode != http.StatusSeeOther {
		t.Fatalf("bulk reject: %d\n%s", p.StatusCode, p.body)
	}
	for _, id := range []string{orphan, dupB} {
		if r := h.record(t, id); r.Status != store.Rejected || r.Reason != reason || r.Moderator != "ana" {
			t.Errorf("%s: %+v", id, r)
		}
	}
	if r := h.record(t, good1); r.Status != store.Published {
		t.Errorf("the published submission changed: %s", r.Status)
	}
	mustContain(t, "the bulk rejection", c.get("/admin/").body, "0 approuvée(s), 2 refusée(s), 1 non traitée(s).", "Non traitée : elle a déjà été approuvée ou refusée.")
	mustContain(t, "the counts", c.get("/admin/").body, `En attente <span class="count">0</span>`, `Publiées <span class="count">3</span>`, `Refusées <span class="count">2</span>`)
}

// TestAdminFile serves a proposed photo to the moderator, and nothing that is not an image.
func TestAdminFile(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var img bytes.Buffer
	if err := png.Encode(&img, image.NewGray(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	id := queue.NewID()
	h.openChange(t, id, "Une photo",
		forge.File{Path: "photos/pont/index.md", Data: []byte("---\ntitle: Le pont\n---\nLe pont au matin.\n")},
		forge.File{Path: "photos/pont/pont.png", Data: img.Bytes()},
		forge.File{Path: "photos/pont/fake.png", Data: []byte("<html><script>alert(1)</script>")},
	)
	c := h.signedIn(t)
	mustContain(t, "the queue", c.get("/admin/").body, `<span class="excerpt">Le pont au matin.</span>`)
	page := c.get("/admin/submissions/" + id)
	mustContain(t, "the photo's page", page.body, `<img src="/admin/submissions/`+id+`/files/photos/pont/pont.png" alt="Image jointe : Le pont">`)
	mustContain(t, "the photo's preview", c.get("/admin/submissions/"+id+"/preview").body, "<h1>Le pont</h1>", "<p>Le pont au matin.</p>")
	for _, tt := range []struct {
		path   string
		status int
		ctype  string
	}{
		{"photos/pont/pont.png", http.StatusOK, "image/png"},
		{"photos/pont/fake.png", http.StatusNotFound, "text/html; charset=utf-8"},
		{"photos/pont/index.md", http.StatusNotFound, "text/html; charset=utf-8"},
		{"parvis.yaml", http.StatusNotFound, "text/html; charset=utf-8"},
	} {
		p := c.get("/admin/submissions/" + id + "/files/" + tt.path)
		if p.StatusCode != tt.status || p.Header.Get("Content-Type") != tt.ctype {
			t.Errorf("%s: %d %q", tt.path, p.StatusCode, p.Header.Get("Content-Type"))
		}
		if p.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", tt.path)
		}
	}
	if p := h.client(t).get("/admin/submissions/" + id + "/files/photos/pont/pont.png"); p.StatusCode != http.StatusSeeOther {
		t.Errorf("the image without a session: %d", p.StatusCode)
	}
}

func TestAdminMisc(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.signedIn(t)
	p := c.get("/admin/nothing/here")
	if p.StatusCode != http.StatusNotFound {
		t.Errorf("unknown page: %d", p.StatusCode)
	}
	mustContain(t, "the 404 page", p.body, "<h1>Page introuvable</h1>", "Cette page de la modération n’existe pas.")
	css := c.get(regexp.MustCompile(`href="(/admin/admin\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(p.body)[1])
	if css.StatusCode != http.StatusOK || css.Header.Get("Content-Type") != "text/css; charset=utf-8" || !strings.Contains(css.Header.Get("Cache-Control"), "immutable") || !strings.Contains(css.body, "--blue") {
		t.Errorf("style sheet: %d %q %q", css.StatusCode, css.Header.Get("Content-Type"), css.Header.Get("Cache-Control"))
	}
	if p := c.get("/admin"); p.StatusCode/100 != 3 || p.Header.Get("Location") != "/admin/" {
		t.Errorf("/admin: %d to %q", p.StatusCode, p.Header.Get("Location"))
	}
	// The admin API keeps its bearer token: a moderator's cookie does not open it.
	if p := c.get("/admin/api/submissions"); p.StatusCode != http.StatusUnauthorized {
		t.Errorf("the API with a session cookie: %d", p.StatusCode)
	}
}

// TestAdminEnglish checks that a site in English gets the pages in English.
func TestAdminEnglish(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessConfig{language: "en"})
	id := h.submitComment(t, "Claire", "Hello")
	c := h.client(t)
	mustContain(t, "the login page", c.get("/admin/login").body, `<html lang="en">`, "Sign in to moderation", "User name")
	if p := c.login("ana", anaPassword); p.StatusCode != http.StatusSeeOther {
		t.Fatal(p.StatusCode)
	}
	mustContain(t, "the queue", c.get("/admin/").body, "Submissions “Pending”, newest first", "Approve the selection", "Your submission duplicates content already published.", "sent 10 s after the form was shown")
	mustContain(t, "the submission", c.get("/admin/submissions/"+id).body, "Proposed changes", "Reason for rejecting", "Approve and publish")
}

// TestAdminBelowAPath runs the pages behind a proxy that serves the service below a path:
// links, cookies and redirects carry it.
func TestAdminBelowAPath(t *testing.T) {
	t.Parallel()
	cfg, err := site.ParseConfig([]byte("title: Testville\n"))
	if err != nil {
		t.Fatal(err)
	}
	a := newAdmin(&Service{cfg: cfg, base: "https://services.testville.example/participation/"})
	if a.root != "/participation/admin/" {
		t.Fatalf("root %q", a.root)
	}
	for next, want := range map[string]string{
		"/participation/admin/submissions/x":  "/participation/admin/submissions/x",
		"/participation/admin/?status=failed": "/participation/admin/?status=failed",
		"/admin/submissions/x":                "/participation/admin/",
	} {
		if got := a.safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
	if got := a.queueURL(store.Rejected, "comment", ""); got != "/participation/admin/?form=comment&status=rejected" {
		t.Errorf("queueURL: %q", got)
	}
	r := httptest.NewRequest("GET", "/admin/", nil)
	if ck := a.cookie(r, sessionCookie, "x", 0); ck.Path != "/participation/admin/" {
		t.Errorf("cookie path %q", ck.Path)
	}
	if a.cssURL[:len(a.root)] != a.root {
		t.Errorf("style sheet at %q", a.cssURL)
	}
}
