package site

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ConfigFile is the name of a site's configuration file, at the root of its folder.
const ConfigFile = "parvis.yaml"

// Config is the schema of parvis.yaml. Unknown keys are an error.
type Config struct {
	Title       string               `yaml:"title"`
	Description string               `yaml:"description"`
	BaseURL     string               `yaml:"baseURL"`
	Language    string               `yaml:"language"`
	TimeZone    string               `yaml:"timeZone"`
	Paginate    int                  `yaml:"paginate"`
	Copyright   string               `yaml:"copyright"`
	Publisher   string               `yaml:"publisher"` // the public body, for feeds and metadata
	Theme       string               `yaml:"theme"`
	Markdown    MarkdownConfig       `yaml:"markdown"`
	Service     ServiceConfig        `yaml:"service"`
	Menu        []MenuItem           `yaml:"menu"`
	Footer      []MenuItem           `yaml:"footer"`
	Params      map[string]any       `yaml:"params"`
	Forms       map[string]*FormSpec `yaml:"forms"`

	// Derived on load.
	Location *time.Location `yaml:"-"`
	Base     *url.URL       `yaml:"-"`
}

// MarkdownConfig sets up rendering of editors' pages. Comments never allow raw HTML.
type MarkdownConfig struct {
	Unsafe     bool   `yaml:"unsafe"`
	Typography string `yaml:"typography"` // "fr" or "" (none)
}

// ServiceConfig describes the submission service that the site's forms post to.
type ServiceConfig struct {
	URL string `yaml:"url"` // empty: the forms post to the site's own origin
	// Moderators are accounts written in the configuration, for a demo or a small site whose
	// repository is private. Real sites keep accounts in the service's private store
	// (parvis moderate adduser), out of Git.
	Moderators []ModeratorAccount `yaml:"moderators"`
	MailFrom   string             `yaml:"mailFrom"` // the sender of notifications
	Reasons    []string           `yaml:"reasons"`  // preset rejection reasons; default: the theme's
	// DigestMinutes is the least time between two digests of new submissions mailed to
	// moderators who gave an address (default 60).
	DigestMinutes int `yaml:"digestMinutes"`
	// TrustedProxies are the proxies (addresses or CIDR blocks) whose X-Forwarded-For and
	// X-Forwarded-Proto the service believes. None by default: behind no proxy, a client
	// that sends those headers would choose its own address.
	TrustedProxies []string `yaml:"trustedProxies"`
	// MetricsTokenFile names a file that holds the bearer token of /metrics (a path relative
	// to the service's data folder, or absolute). The token itself never goes here: this
	// file is in Git.
	MetricsTokenFile string `yaml:"metricsTokenFile"`
	// MetricsToken is only read to be refused with a clear message.
	MetricsToken string `yaml:"metricsToken"`
}

// ModeratorAccount is a login of the moderation pages. Password is a bcrypt hash, never a
// password in clear.
type ModeratorAccount struct {
	Name     string `yaml:"name"`
	Password string `yaml:"password"`
}

// MenuItem is an entry of the main or footer navigation.
type MenuItem struct {
	Name   string `yaml:"name"`
	URL    string `yaml:"url"`
	Weight int    `yaml:"weight"`
}

// FormSpec is the policy of one submission form, in the spirit of Staticman's properties.
// The service enforces it; the generator uses it to render the forms.
type FormSpec struct {
	Title      string                `yaml:"title"`
	Fields     map[string]*FieldSpec `yaml:"fields"`
	Order      []string              `yaml:"order"` // the order fields are shown in; default: sorted
	Options    []string              `yaml:"options"`
	Transforms []Transform           `yaml:"transforms"`
	Generated  map[string]string     `yaml:"generated"` // output field → generator: id, date, slug
	Path       string                `yaml:"path"`      // folder template, e.g. comments/{options.page}
	Filename   string                `yaml:"filename"`  // file name template, e.g. {_id}.yaml
	Format     string                `yaml:"format"`    // yaml | markdown
	Body       string                `yaml:"body"`      // markdown format: the field that becomes the body
	Moderation *bool                 `yaml:"moderation"`
	Antispam   AntispamSpec          `yaml:"antispam"`
	Message    string                `yaml:"message"` // commit message template
}

// Moderated reports whether submissions wait for a moderator (the default).
func (f *FormSpec) Moderated() bool { return f.Moderation == nil || *f.Moderation }

// FieldOrder lists the form's fields in display order.
func (f *FormSpec) FieldOrder() []string {
	seen := make(map[string]bool, len(f.Fields))
	var out []string
	for _, n := range f.Order {
		if _, ok := f.Fields[n]; ok && !seen[n] {
			out = append(out, n)
			seen[n] = true
		}
	}
	var rest []string
	for n := range f.Fields {
		if !seen[n] {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// FieldSpec is one field of a form.
type FieldSpec struct {
	Type     string   `yaml:"type"` // text, textarea, markdown, email, url, date, datetime, choice, image, file
	Label    string   `yaml:"label"`
	Help     string   `yaml:"help"`
	Required bool     `yaml:"required"`
	Min      int      `yaml:"min"` // characters
	Max      int      `yaml:"max"` // characters, or bytes for uploads
	Pattern  string   `yaml:"pattern"`
	Choices  []string `yaml:"choices"`
	Accept   []string `yaml:"accept"`  // media types for uploads, checked by content
	Private  bool     `yaml:"private"` // kept by the service (notifications), never written to Git
	Pixels   int      `yaml:"pixels"`  // images: longest side after re-encoding
}

// Transform derives a field from another, e.g. a keyed hash of the e-mail for the avatar.
type Transform struct {
	Field string `yaml:"field"`
	Op    string `yaml:"op"` // hash, slugify, lower, upper, trim
	To    string `yaml:"to"` // default: Field, in place
}

// AntispamSpec tunes the anti-spam rules of a form. Zero values take the service's defaults.
type AntispamSpec struct {
	Honeypot     string   `yaml:"honeypot"`   // the honeypot field's name
	MinSeconds   int      `yaml:"minSeconds"` // minimum time between fetching the form and posting it
	MaxLinks     int      `yaml:"maxLinks"`
	BlockedWords []string `yaml:"blockedWords"`
	Challenge    *bool    `yaml:"challenge"` // proof of work, with a question as fallback
}

var fieldTypes = map[string]bool{
	"text": true, "textarea": true, "markdown": true, "email": true, "url": true,
	"date": true, "datetime": true, "choice": true, "image": true, "file": true,
}

var transformOps = map[string]bool{"hash": true, "slugify": true, "lower": true, "upper": true, "trim": true}

var generators = map[string]bool{"id": true, "date": true, "slug": true}

var nameRE = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// ParseConfig decodes and checks parvis.yaml. Every fault names the key and, where known, the line.
func ParseConfig(data []byte) (*Config, error) {
	c := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(ConfigFile, 0, err)
	}
	var errs ErrorList
	bad := func(format string, args ...any) { errs = append(errs, errorf(ConfigFile, 0, format, args...)) }

	if strings.TrimSpace(c.Title) == "" {
		bad("title: required")
	}
	if c.BaseURL == "" {
		c.BaseURL = "/"
	}
	u, err := url.Parse(c.BaseURL)
	switch {
	case err != nil:
		bad("baseURL: %v", err)
	case c.BaseURL != "/" && (u.Scheme != "http" && u.Scheme != "https" || u.Host == ""):
		bad("baseURL: %q is not an absolute http(s) URL", c.BaseURL)
	default:
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		c.Base = u
		c.BaseURL = u.String()
	}
	if c.Language == "" {
		c.Language = "fr"
	}
	if c.Language != "fr" && c.Language != "en" {
		bad("language: %q is not supported (fr, en)", c.Language)
	}
	if c.TimeZone == "" {
		c.TimeZone = "Europe/Paris"
	}
	if loc, err := time.LoadLocation(c.TimeZone); err != nil {
		bad("timeZone: unknown time zone %q", c.TimeZone)
	} else {
		c.Location = loc
	}
	if c.Paginate == 0 {
		c.Paginate = 10
	}
	if c.Paginate < 1 || c.Paginate > 1000 {
		bad("paginate: %d is out of range (1 to 1000)", c.Paginate)
	}
	switch c.Markdown.Typography {
	case "", "fr", "none":
	default:
		bad("markdown.typography: %q is not one of fr, none", c.Markdown.Typography)
	}
	if c.Service.URL != "" {
		if u, err := url.Parse(c.Service.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("service.url: %q is not an absolute http(s) URL", c.Service.URL)
		}
		c.Service.URL = strings.TrimRight(c.Service.URL, "/")
	}
	for i, m := range c.Service.Moderators {
		if !nameRE.MatchString(m.Name) {
			bad("service.moderators[%d].name: %q must be lower-case letters, digits and _", i, m.Name)
		}
		if !strings.HasPrefix(m.Password, "$2a$") && !strings.HasPrefix(m.Password, "$2b$") && !strings.HasPrefix(m.Password, "$2y$") {
			bad("service.moderators[%d].password: expected a bcrypt hash ($2a$…, from 'parvis moderate hash'), never a password in clear", i)
		}
	}
	if strings.ContainsAny(c.Service.MailFrom, "\r\n") {
		bad("service.mailFrom: must be one line")
	}
	if c.Service.DigestMinutes < 0 {
		bad("service.digestMinutes: must be a number of minutes, 0 or more")
	}
	for i, p := range c.Service.TrustedProxies {
		if !validProxy(p) {
			bad("service.trustedProxies[%d]: %q is not an address or a CIDR block (such as 10.0.0.0/8)", i, p)
		}
	}
	if c.Service.MetricsToken != "" {
		bad("service.metricsToken: a secret does not belong in parvis.yaml, which is in Git; set PARVIS_METRICS_TOKEN, or name a file in service.metricsTokenFile")
	}
	if strings.ContainsAny(c.Service.MetricsTokenFile, "\x00\r\n") {
		bad("service.metricsTokenFile: must be a path on one line")
	}
	for i, m := range append(append([]MenuItem{}, c.Menu...), c.Footer...) {
		if m.Name == "" || m.URL == "" {
			bad("menu entry %d: name and url are required", i+1)
		}
	}
	names := make([]string, 0, len(c.Forms))
	for n := range c.Forms {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, e := range checkForm(n, c.Forms[n]) {
			bad("%s", e)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// validProxy reports whether s is an address or a CIDR block.
func validProxy(s string) bool {
	if strings.Contains(s, "/") {
		_, err := netip.ParsePrefix(s)
		return err == nil
	}
	a, err := netip.ParseAddr(s)
	return err == nil && a.Zone() == ""
}

func checkForm(name string, f *FormSpec) []string {
	var out []string
	bad := func(format string, args ...any) {
		out = append(out, fmt.Sprintf("forms.%s.", name)+fmt.Sprintf(format, args...))
	}
	if !nameRE.MatchString(name) {
		return []string{fmt.Sprintf("forms.%s: a form's name is lower-case letters, digits and _", name)}
	}
	if f == nil {
		return []string{fmt.Sprintf("forms.%s: empty form", name)}
	}
	if len(f.Fields) == 0 {
		bad("fields: a form needs at least one field")
	}
	for _, fn := range f.FieldOrder() {
		fs := f.Fields[fn]
		if !nameRE.MatchString(fn) {
			bad("fields.%s: a field's name is lower-case letters, digits and _", fn)
			continue
		}
		if fs == nil {
			f.Fields[fn] = &FieldSpec{Type: "text"}
			fs = f.Fields[fn]
		}
		if fs.Type == "" {
			fs.Type = "text"
		}
		if !fieldTypes[fs.Type] {
			bad("fields.%s.type: unknown type %q", fn, fs.Type)
		}
		if fs.Min < 0 || fs.Max < 0 || (fs.Max > 0 && fs.Min > fs.Max) {
			bad("fields.%s: min and max must be positive, min ≤ max", fn)
		}
		if fs.Pattern != "" {
			if _, err := regexp.Compile(fs.Pattern); err != nil {
				bad("fields.%s.pattern: %v", fn, err)
			}
		}
		if fs.Type == "choice" && len(fs.Choices) == 0 {
			bad("fields.%s.choices: a choice field needs choices", fn)
		}
	}
	for _, o := range f.Options {
		switch o {
		case "page", "parent", "redirect", "slug":
		default:
			bad("options: unknown option %q (page, parent, redirect, slug)", o)
		}
	}
	for i, t := range f.Transforms {
		if _, ok := f.Fields[t.Field]; !ok {
			bad("transforms[%d].field: no field %q", i, t.Field)
		}
		if !transformOps[t.Op] {
			bad("transforms[%d].op: unknown operation %q (hash, slugify, lower, upper, trim)", i, t.Op)
		}
		if t.To != "" && !nameRE.MatchString(t.To) {
			bad("transforms[%d].to: %q is not a field name", i, t.To)
		}
	}
	for out, g := range f.Generated {
		if !generators[g] {
			bad("generated.%s: unknown generator %q (id, date, slug)", out, g)
		}
	}
	if f.Path == "" {
		bad("path: required")
	} else if err := checkTemplate(f.Path); err != nil {
		bad("path: %v", err)
	}
	if f.Filename == "" {
		bad("filename: required")
	} else if err := checkTemplate(f.Filename); err != nil {
		bad("filename: %v", err)
	} else if strings.Contains(f.Filename, "/") {
		bad("filename: must not contain /")
	}
	switch f.Format {
	case "", "yaml":
		f.Format = "yaml"
	case "markdown":
		if f.Body == "" {
			bad("body: the markdown format needs the field that becomes the body")
		} else if _, ok := f.Fields[f.Body]; !ok {
			bad("body: no field %q", f.Body)
		}
	default:
		bad("format: %q is not yaml or markdown", f.Format)
	}
	return out
}

// checkTemplate checks a path template's placeholders are closed and its fixed parts stay
// inside the site: no absolute path, no "..".
func checkTemplate(t string) error {
	if strings.HasPrefix(t, "/") || strings.Contains(t, "\\") {
		return fmt.Errorf("%q must be a relative path", t)
	}
	depth := 0
	for _, r := range t {
		switch r {
		case '{':
			depth++
		case '}':
			depth--
		}
		if depth < 0 || depth > 1 {
			return fmt.Errorf("%q has unbalanced braces", t)
		}
	}
	if depth != 0 {
		return fmt.Errorf("%q has unbalanced braces", t)
	}
	for _, seg := range strings.Split(t, "/") {
		if seg == ".." || seg == "." {
			return fmt.Errorf("%q must not contain . or .. segments", t)
		}
	}
	return nil
}

// LoadConfig reads parvis.yaml from the root of fsys.
func LoadConfig(fsys fs.FS) (*Config, error) {
	data, err := fs.ReadFile(fsys, ConfigFile)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errorf(ConfigFile, 0, "not found: a site is a folder with a %s", ConfigFile)
		}
		return nil, errorf(ConfigFile, 0, "%v", err)
	}
	return ParseConfig(data)
}

// SetBaseURL replaces the base URL parvis.yaml gives, as parvis serve does when it serves a
// site made for localhost on another address, or when the operator says where it is.
func (c *Config) SetBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("base URL %q is not an absolute http(s) URL", raw)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	c.Base, c.BaseURL = u, u.String()
	return nil
}

// AbsURL joins a site path ("/articles/x/") to the base URL.
func (c *Config) AbsURL(p string) string {
	return strings.TrimSuffix(c.BaseURL, "/") + p
}

// RelURL prefixes a site path with the base URL's path, for sites served below a folder.
func (c *Config) RelURL(p string) string {
	if c.Base == nil {
		return p
	}
	return strings.TrimSuffix(c.Base.Path, "/") + p
}
