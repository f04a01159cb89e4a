package generator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"
	"golang.org/x/text/unicode/norm"

	"github.com/parvis/parvis/internal/markdown"
	"github.com/parvis/parvis/internal/site"
)

// Layouts every theme provides. Each one but the standalone ones defines "main" (and may
// define "head") and is executed through baseof.html.
var layoutNames = []string{
	"home", "article", "event", "dossier", "document", "photo", "page",
	"section", "tag", "tags", "gallery", "calendar", "month", "form", "forms", "404", "receipt",
}

var standaloneLayouts = []string{"alias"}

// theme is a parsed theme: templates, strings, and fingerprinted assets.
type theme struct {
	layouts map[string]*template.Template
	strings map[string]any
	lang    string
	assets  map[string]string // logical name (css/parvis.css) → fingerprinted site path
	static  []themeFile       // files to copy, fingerprinted or not
	loc     *time.Location
	cfg     *site.Config
	months  []string // the language's month names, January first
	abbr    []string // their short forms
	days    []string // weekday names, Sunday first
	cached  sync.Map // partialCached: name and keys → template.HTML
}

type themeFile struct {
	name string // output path
	data []byte
}

// overlay reads a file from the site's layouts/ first, then the theme's.
type overlay struct{ site, theme fs.FS }

func (o overlay) read(name string) ([]byte, error) {
	if o.site != nil {
		if b, err := fs.ReadFile(o.site, name); err == nil {
			return b, nil
		}
	}
	return fs.ReadFile(o.theme, path.Join("layouts", name))
}

func loadTheme(themeFS fs.FS, s *site.Site) (*theme, error) {
	cfg := s.Config
	th := &theme{layouts: map[string]*template.Template{}, lang: cfg.Language, assets: map[string]string{}, loc: cfg.Location, cfg: cfg}

	data, err := fs.ReadFile(themeFS, "i18n/"+cfg.Language+".yaml")
	if err != nil {
		return nil, fmt.Errorf("theme: no strings for language %q: %w", cfg.Language, err)
	}
	if err := yaml.Unmarshal(data, &th.strings); err != nil {
		return nil, fmt.Errorf("theme: i18n/%s.yaml: %w", cfg.Language, err)
	}
	th.months, th.abbr, th.days = th.list("months"), th.list("months_abbr"), th.list("weekdays")

	// Static files: those under static/ with a fingerprint marker in their name are
	// fingerprinted (css/parvis.css → css/parvis.3f2a9c1d.css), the rest copied as they are.
	err = fs.WalkDir(themeFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(themeFS, p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		out := name
		switch path.Ext(name) {
		case ".css", ".js":
			sum := sha256.Sum256(b)
			ext := path.Ext(name)
			out = strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:4]) + ext
			th.assets[name] = out
		}
		th.static = append(th.static, themeFile{name: out, data: b})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("theme: static: %w", err)
	}

	ov := overlay{site: s.Layouts, theme: themeFS}
	base := template.New("baseof.html").Funcs(th.funcs())
	src, err := ov.read("baseof.html")
	if err != nil {
		return nil, fmt.Errorf("theme: baseof.html: %w", err)
	}
	if _, err := base.Parse(string(src)); err != nil {
		return nil, fmt.Errorf("theme: %w", err)
	}
	partials, err := partialNames(ov)
	if err != nil {
		return nil, err
	}
	for _, name := range partials {
		src, err := ov.read(name)
		if err != nil {
			return nil, fmt.Errorf("theme: %s: %w", name, err)
		}
		if _, err := base.New(name).Parse(string(src)); err != nil {
			return nil, fmt.Errorf("theme: %w", err)
		}
	}
	for _, name := range layoutNames {
		src, err := ov.read(name + ".html")
		if err != nil {
			return nil, fmt.Errorf("theme: layout %s.html: %w", name, err)
		}
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.New(name + ".html").Parse(string(src)); err != nil {
			return nil, fmt.Errorf("theme: %w", err)
		}
		th.layouts[name] = t
	}
	for _, name := range standaloneLayouts {
		src, err := ov.read(name + ".html")
		if err != nil {
			return nil, fmt.Errorf("theme: layout %s.html: %w", name, err)
		}
		t, err := template.New(name + ".html").Funcs(th.funcs()).Parse(string(src))
		if err != nil {
			return nil, fmt.Errorf("theme: %w", err)
		}
		th.layouts[name] = t
	}
	return th, nil
}

// partialNames lists partials/*.html from the theme and the site's overrides, sorted.
func partialNames(ov overlay) ([]string, error) {
	seen := map[string]bool{}
	for _, fsys := range []fs.FS{ov.site, ov.theme} {
		if fsys == nil {
			continue
		}
		dir := "partials"
		if fsys == ov.theme {
			dir = "layouts/partials"
		}
		entries, err := fs.ReadDir(fsys, dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".html") {
				seen["partials/"+e.Name()] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

func (th *theme) execute(buf *bytes.Buffer, layout string, data any) error {
	t := th.layouts[layout]
	if t == nil {
		return fmt.Errorf("theme: no layout %q", layout)
	}
	name := "baseof.html"
	for _, s := range standaloneLayouts {
		if s == layout {
			name = layout + ".html"
		}
	}
	if err := t.ExecuteTemplate(buf, name, data); err != nil {
		return fmt.Errorf("theme: layout %s: %w", layout, err)
	}
	return nil
}

// partialCached renders a partial once per build for each set of keys and reuses the HTML,
// as Hugo's partialCached does: for parts of the page that depend on the site and the keys
// only, such as the footer, or the header for each state of the menu. Keys are compared by
// their printed value.
func (th *theme) partialCached(name string, data any, keys ...any) (template.HTML, error) {
	key := name
	for _, k := range keys {
		key += "\x00" + fmt.Sprint(k)
	}
	if h, ok := th.cached.Load(key); ok {
		return h.(template.HTML), nil
	}
	var buf bytes.Buffer
	if err := th.layouts["404"].ExecuteTemplate(&buf, name, data); err != nil {
		return "", err
	}
	h := template.HTML(buf.String())
	th.cached.Store(key, h)
	return h, nil
}

// menuState tells which entries of the main menu a page at url is in, one letter each:
// p for the page itself, t for a page below it, - for neither. It keys the cached header.
func (th *theme) menuState(url string) string {
	b := make([]byte, len(th.cfg.Menu))
	for i, m := range th.cfg.Menu {
		u := th.cfg.RelURL(m.URL)
		switch {
		case url == u:
			b[i] = 'p'
		case u != "/" && strings.HasPrefix(url, u):
			b[i] = 't'
		default:
			b[i] = '-'
		}
	}
	return string(b)
}

// fields renders form fields with the theme's partials/field.html.
func (th *theme) fields(fields []*FieldView) (template.HTML, error) {
	var buf bytes.Buffer
	t := th.layouts["form"]
	for _, f := range fields {
		if err := t.ExecuteTemplate(&buf, "partials/field.html", f); err != nil {
			return "", fmt.Errorf("theme: %w", err)
		}
		buf.WriteByte('\n')
	}
	return template.HTML(buf.String()), nil
}

func (th *theme) funcs() template.FuncMap {
	return template.FuncMap{
		"T":             th.translate,
		"hasT":          th.has,
		"when":          th.when,
		"date":          th.formatDate,
		"isoDate":       isoDate,
		"relURL":        th.cfg.RelURL,
		"absURL":        th.cfg.AbsURL,
		"asset":         th.asset,
		"hasAsset":      th.hasAsset,
		"partialCached": th.partialCached,
		"menuState":     th.menuState,
		"license":       th.license,
		"humanSize":     th.humanSize,
		"excerpt":       func(s string, n int) string { return markdown.Excerpt(s, n) },
		"typo":          func(v any) string { return markdown.Typography(fmt.Sprint(v), th.cfg.Markdown.Typography) },
		"fileType":      fileType,
		"slugify":       Slugify,
		"dict":          dict,
		"add":           func(a, b int) int { return a + b },
		"sub":           func(a, b int) int { return a - b },
		"formAction": func(form string) string {
			base := th.cfg.Service.URL
			if base == "" {
				base = strings.TrimSuffix(th.cfg.RelURL("/"), "/")
			}
			return base + "/api/v1/entries/" + form
		},
		"sameDay": func(a, b time.Time) bool {
			a, b = a.In(th.loc), b.In(th.loc)
			return a.Year() == b.Year() && a.YearDay() == b.YearDay()
		},
		"hasPrefix": strings.HasPrefix,
		"lower":     strings.ToLower,
		"upper":     strings.ToUpper,
		"join":      strings.Join,
	}
}

// translate looks up a string of the theme's language. A value may be plural:
// {one: "1 commentaire", other: "%d commentaires"}, chosen by the first argument.
func (th *theme) translate(key string, args ...any) string {
	v, ok := th.strings[key]
	if !ok {
		return key
	}
	switch x := v.(type) {
	case string:
		return sprintf(x, args)
	case map[string]any:
		// The count is the first whole-number argument: "%s: %d events" takes (month, n).
		n := 0
		for _, a := range args {
			if i, ok := toInt(a); ok {
				n = i
				break
			}
		}
		form := "other"
		if n == 0 {
			if _, ok := x["zero"]; ok {
				form = "zero"
			}
		}
		// French counts 0 and 1 as singular; English only 1.
		if n == 1 || (n == 0 && th.lang == "fr" && form != "zero") {
			form = "one"
		}
		s, _ := x[form].(string)
		return sprintf(s, args)
	}
	return key
}

// sprintf formats s with as many of args as it has verbs: a plural form may leave the count
// out ("Aucun commentaire") where another shows it ("%d commentaires").
func sprintf(s string, args []any) string {
	if len(args) == 0 || !strings.Contains(s, "%") {
		return s
	}
	verbs := strings.Count(s, "%") - 2*strings.Count(s, "%%")
	return fmt.Sprintf(s, args[:min(verbs, len(args))]...)
}

// has reports whether the theme's language has a string for key, for optional texts.
func (th *theme) has(key string) bool {
	_, ok := th.strings[key]
	return ok
}

// when tells an event's date and time in words, in the site's zone: "samedi 20 juin 2026,
// de 18 h à 23 h". All-day events keep the dates they were given, whatever the zone.
func (th *theme) when(e *site.Event) string {
	if e == nil || e.Start.IsZero() {
		return ""
	}
	if e.AllDay {
		start, end := e.Start, e.End
		if end.IsZero() || sameDate(start, end) {
			return th.formatDateIn("full", start, start.Location())
		}
		return th.translate("date_range", th.formatDateIn("full", start, start.Location()), th.formatDateIn("full", end, end.Location()))
	}
	start, end := e.Start.In(th.loc), e.End
	if end.IsZero() {
		return th.translate("date_at", th.formatDate("full", start), th.formatDate("time", start))
	}
	end = end.In(th.loc)
	if sameDate(start, end) {
		return th.translate("date_time_range", th.formatDate("full", start), th.formatDate("time", start), th.formatDate("time", end))
	}
	return th.translate("date_range",
		th.translate("date_at", th.formatDate("full", start), th.formatDate("time", start)),
		th.translate("date_at", th.formatDate("full", end), th.formatDate("time", end)))
}

func sameDate(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

func toInt(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int64:
		return int(x), true
	}
	return 0, false
}

func (th *theme) list(key string) []string {
	l, _ := th.strings[key].([]any)
	out := make([]string, len(l))
	for i, v := range l {
		out[i], _ = v.(string)
	}
	return out
}

// formatDate formats t in the site's zone: long (14 mars 2026), full (samedi 14 mars 2026),
// short (14/03/2026), time (14 h 30), month (mars 2026), day (14), monthShort (mars),
// monthAbbr (mars, janv.), weekday (samedi).
func (th *theme) formatDate(style string, t time.Time) string {
	return th.formatDateIn(style, t, th.loc)
}

// formatDateIn is formatDate in a given zone.
func (th *theme) formatDateIn(style string, t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(loc)
	months, days := th.months, th.days
	month := t.Month().String()
	if len(months) == 12 {
		month = months[t.Month()-1]
	}
	day := t.Weekday().String()
	if len(days) == 7 {
		day = days[t.Weekday()]
	}
	en := th.lang == "en"
	switch style {
	case "full":
		if en {
			return fmt.Sprintf("%s %s %d, %d", day, month, t.Day(), t.Year())
		}
		return fmt.Sprintf("%s %s %s %d", day, frDay(t.Day()), month, t.Year())
	case "short":
		if en {
			return t.Format("2006-01-02")
		}
		return t.Format("02/01/2006")
	case "time":
		if en {
			return t.Format("3:04 PM")
		}
		// No-break spaces: "18 h 30" never splits across lines.
		if t.Minute() == 0 {
			return fmt.Sprintf("%d\u00a0h", t.Hour())
		}
		return fmt.Sprintf("%d\u00a0h\u00a0%02d", t.Hour(), t.Minute())
	case "month":
		return fmt.Sprintf("%s %d", month, t.Year())
	case "day":
		return strconv.Itoa(t.Day())
	case "monthShort":
		return month
	case "monthAbbr":
		if len(th.abbr) == 12 {
			return th.abbr[t.Month()-1]
		}
		return month
	case "weekday":
		return day
	}
	if en {
		return fmt.Sprintf("%s %d, %d", month, t.Day(), t.Year())
	}
	return fmt.Sprintf("%s %s %d", frDay(t.Day()), month, t.Year())
}

// frDay writes the first of the month as French does: 1er.
func frDay(d int) string {
	if d == 1 {
		return "1er"
	}
	return strconv.Itoa(d)
}

func isoDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

func (th *theme) asset(name string) string {
	if out, ok := th.assets[name]; ok {
		return th.cfg.RelURL("/" + out)
	}
	return th.cfg.RelURL("/" + name)
}

// hasAsset reports whether the theme ships a static file, so that a layout links only to
// files that exist (a site's theme may leave one out).
func (th *theme) hasAsset(name string) bool {
	_, ok := th.assets[name]
	return ok
}

// License is a licence's short name and the page that explains it.
type License struct {
	Name string
	URL  string // empty for "all rights reserved" and unknown codes
}

var licenses = map[string]License{
	"CC-BY-4.0":       {"CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/deed."},
	"CC-BY-SA-4.0":    {"CC BY-SA 4.0", "https://creativecommons.org/licenses/by-sa/4.0/deed."},
	"CC-BY-NC-4.0":    {"CC BY-NC 4.0", "https://creativecommons.org/licenses/by-nc/4.0/deed."},
	"CC-BY-ND-4.0":    {"CC BY-ND 4.0", "https://creativecommons.org/licenses/by-nd/4.0/deed."},
	"CC-BY-NC-SA-4.0": {"CC BY-NC-SA 4.0", "https://creativecommons.org/licenses/by-nc-sa/4.0/deed."},
	"CC-BY-NC-ND-4.0": {"CC BY-NC-ND 4.0", "https://creativecommons.org/licenses/by-nc-nd/4.0/deed."},
	"CC0-1.0":         {"CC0 1.0", "https://creativecommons.org/publicdomain/zero/1.0/deed."},
	"etalab-2.0":      {"Licence Ouverte 2.0", "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"},
}

// license names an SPDX-like licence code (CC-BY-4.0) for readers, with a link to its text
// in the site's language.
func (th *theme) license(code string) License {
	if code == "all-rights-reserved" {
		return License{Name: th.translate("all_rights_reserved")}
	}
	for k, l := range licenses {
		if strings.EqualFold(k, code) {
			if strings.HasSuffix(l.URL, "deed.") {
				l.URL += th.lang
			}
			return l
		}
	}
	return License{Name: code}
}

func (th *theme) humanSize(n int64) string {
	units := []string{"o", "Ko", "Mo", "Go"}
	if th.lang == "en" {
		units = []string{"B", "KB", "MB", "GB"}
	}
	// Binary multiples, as file managers show them and as upload limits are written
	// (15728640 bytes: 15 Mo).
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	var s string
	if i == 0 || f >= 10 {
		s = strconv.FormatFloat(f, 'f', 0, 64)
	} else {
		s = strconv.FormatFloat(f, 'f', 1, 64)
	}
	if th.lang == "fr" {
		s = strings.Replace(s, ".", ",", 1)
		return s + "\u00a0" + units[i]
	}
	return s + " " + units[i]
}

var typeNames = map[string]string{
	"application/pdf":                                 "PDF",
	"application/vnd.oasis.opendocument.text":         "ODT",
	"application/vnd.oasis.opendocument.spreadsheet":  "ODS",
	"application/vnd.oasis.opendocument.presentation": "ODP",
	"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WebP",
	"image/svg+xml": "SVG", "text/csv": "CSV", "text/plain": "TXT", "application/zip": "ZIP",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":       "XLSX",
}

func fileType(mediaType string) string {
	if n, ok := typeNames[mediaType]; ok {
		return n
	}
	if _, sub, ok := strings.Cut(mediaType, "/"); ok {
		return strings.ToUpper(sub)
	}
	return mediaType
}

func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// Slugify makes a URL segment of a tag or title: "Conseil municipal" → "conseil-municipal",
// accents dropped, anything but letters and digits turned into single dashes.
func Slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(unicode.ToLower(r))
		default:
			dash = true
		}
	}
	return b.String()
}
