package forms

import (
	"net/url"
	"strings"
	"testing"
)

// kitchen is a comment form with a field of every textual type.
const kitchen = `
order: [name, message, email]
fields:
  name: {type: text, label: Nom, required: true, max: 20}
  message: {type: markdown, label: Message, required: true, max: 200}
  bio: {type: textarea, label: Bio, min: 5, max: 50}
  email: {type: email, label: Courriel, private: true}
  site: {type: url, label: Site}
  day: {type: date, label: Jour}
  start: {type: datetime, label: Début}
  end: {type: datetime, label: Fin}
  license: {type: choice, label: Licence, choices: [CC-BY-4.0, CC0-1.0]}
  code: {type: text, label: Code, pattern: "[A-Z]{3}[0-9]{2}"}
options: [page, parent, redirect]
transforms:
  - {field: email, op: hash, to: avatar}
generated: {_id: id, date: date}
path: "comments/{options.page}"
filename: "{_id}.yaml"
antispam: {honeypot: website}
`

// valid is a request kitchen accepts; each case changes one key.
func valid() url.Values {
	return url.Values{
		"fields[name]":    {"Claire M."},
		"fields[message]": {"Merci."},
		"options[page]":   {"articles/budget-2026"},
	}
}

func TestDecodeRefuses(t *testing.T) {
	f := compile(t, "comment", kitchen)
	long := strings.Repeat("é", 21)
	tests := []struct {
		name     string
		key      string
		vals     []string // nil: the key is removed
		wantKey  string
		wantCode Code
	}{
		{"unknown field", "fields[bogus]", []string{"x"}, "fields[bogus]", CodeUnknownField},
		{"unknown option", "options[origin]", []string{"x"}, "options[origin]", CodeUnknownField},
		{"bare key", "name", []string{"x"}, "name", CodeUnknownField},
		{"nested key", "fields[name][0]", []string{"x"}, "fields[name][0]", CodeUnknownField},
		{"staticman recaptcha", "options[reCaptcha][siteKey]", []string{"x"}, "options[reCaptcha][siteKey]", CodeUnknownField},
		{"honeypot as option", "options[website]", []string{"x"}, "options[website]", CodeUnknownField},
		{"key with control characters", "fields[\x00na\nme]", []string{"x"}, "fields[\ufffdna\ufffdme]", CodeUnknownField},
		{"key not UTF-8", "fields[n\xffame]", []string{"x"}, "fields[n\ufffdame]", CodeUnknownField},
		{"repeated field", "fields[name]", []string{"a", "b"}, "fields[name]", CodeRepeated},
		{"repeated option", "options[page]", []string{"articles/a", "articles/b"}, "options[page]", CodeRepeated},
		{"repeated token", "options[token]", []string{"a", "b"}, "options[token]", CodeRepeated},
		{"missing name", "fields[name]", nil, "fields[name]", CodeRequired},
		{"blank name", "fields[name]", []string{" \u00a0\t "}, "fields[name]", CodeRequired},
		{"name too long", "fields[name]", []string{long}, "fields[name]", CodeTooLong},
		{"name on two lines", "fields[name]", []string{"Claire\nM."}, "fields[name]", CodeFormat},
		{"name with a carriage return", "fields[name]", []string{"Claire\rM."}, "fields[name]", CodeFormat},
		{"name with NUL", "fields[name]", []string{"Claire\x00"}, "fields[name]", CodeFormat},
		{"name with escape", "fields[name]", []string{"\x1b[31mClaire"}, "fields[name]", CodeFormat},
		{"name with C1 control", "fields[name]", []string{"Claire\u0085M."}, "fields[name]", CodeFormat},
		{"name with line separator", "fields[name]", []string{"Claire\u2028M."}, "fields[name]", CodeFormat},
		{"name not UTF-8", "fields[name]", []string{"Cl\xffaire"}, "fields[name]", CodeFormat},
		{"name is an e-mail address", "fields[name]", []string{"claire@example.fr"}, "fields[name]", CodePersonalData},
		{"message not UTF-8", "fields[message]", []string{"ok\xc3\x28"}, "fields[message]", CodeFormat},
		{"message only spaces", "fields[message]", []string{"\r\n \t\r\n"}, "fields[message]", CodeRequired},
		{"message too long", "fields[message]", []string{strings.Repeat("a", 201)}, "fields[message]", CodeTooLong},
		{"message with an e-mail address", "fields[message]", []string{"Écrivez à jean.dupont@gmail.com, merci"}, "fields[message]", CodePersonalData},
		{"message with an IDN address", "fields[message]", []string{"contact : élise@exämple.fr"}, "fields[message]", CodePersonalData},
		{"bio too short", "fields[bio]", []string{"abc"}, "fields[bio]", CodeTooShort},
		{"email without @", "fields[email]", []string{"claire.example.fr"}, "fields[email]", CodeFormat},
		{"email without local part", "fields[email]", []string{"@example.fr"}, "fields[email]", CodeFormat},
		{"email without domain", "fields[email]", []string{"claire@"}, "fields[email]", CodeFormat},
		{"email with a bare host", "fields[email]", []string{"claire@localhost"}, "fields[email]", CodeFormat},
		{"email with double dot", "fields[email]", []string{"claire..m@example.fr"}, "fields[email]", CodeFormat},
		{"email with leading dot", "fields[email]", []string{".claire@example.fr"}, "fields[email]", CodeFormat},
		{"email with space", "fields[email]", []string{"claire m@example.fr"}, "fields[email]", CodeFormat},
		{"email with bad label", "fields[email]", []string{"claire@-example.fr"}, "fields[email]", CodeFormat},
		{"email with numeric tld", "fields[email]", []string{"claire@10.0.0.1"}, "fields[email]", CodeFormat},
		{"email with a header", "fields[email]", []string{"claire@example.fr\r\nBcc: x@example.org"}, "fields[email]", CodeFormat},
		{"email local part too long", "fields[email]", []string{strings.Repeat("a", 65) + "@example.fr"}, "fields[email]", CodeFormat},
		{"url javascript", "fields[site]", []string{"javascript:alert(1)"}, "fields[site]", CodeFormat},
		{"url data", "fields[site]", []string{"data:text/html,<script>"}, "fields[site]", CodeFormat},
		{"url ftp", "fields[site]", []string{"ftp://example.fr/"}, "fields[site]", CodeFormat},
		{"url relative", "fields[site]", []string{"//example.fr/"}, "fields[site]", CodeFormat},
		{"url without host", "fields[site]", []string{"https:///x"}, "fields[site]", CodeFormat},
		{"url with credentials", "fields[site]", []string{"https://mairie.fr@evil.example/"}, "fields[site]", CodeFormat},
		{"url with space", "fields[site]", []string{"https://exa mple.fr/"}, "fields[site]", CodeFormat},
		{"url with bad host", "fields[site]", []string{"https://exa_mple.fr/"}, "fields[site]", CodeFormat},
		{"date impossible", "fields[day]", []string{"2026-02-30"}, "fields[day]", CodeFormat},
		{"date short", "fields[day]", []string{"2026-1-5"}, "fields[day]", CodeFormat},
		{"date french order", "fields[day]", []string{"05/12/2026"}, "fields[day]", CodeFormat},
		{"datetime bad hour", "fields[start]", []string{"2026-12-05T25:00"}, "fields[start]", CodeFormat},
		{"datetime words", "fields[start]", []string{"demain"}, "fields[start]", CodeFormat},
		{"choice unknown", "fields[license]", []string{"CC-BY-SA-4.0"}, "fields[license]", CodeChoice},
		{"choice case", "fields[license]", []string{"cc0-1.0"}, "fields[license]", CodeChoice},
		{"pattern", "fields[code]", []string{"abc12"}, "fields[code]", CodeFormat},
		{"pattern is anchored", "fields[code]", []string{"xABC12x"}, "fields[code]", CodeFormat},
		{"page missing", "options[page]", nil, "options[page]", CodeRequired},
		{"page climbs", "options[page]", []string{"../etc/passwd"}, "options[page]", CodeFormat},
		{"page climbs inside", "options[page]", []string{"articles/../../etc"}, "options[page]", CodeFormat},
		{"page absolute", "options[page]", []string{"/articles/budget"}, "options[page]", CodeFormat},
		{"page outside sections", "options[page]", []string{"static/x"}, "options[page]", CodeFormat},
		{"page in layouts", "options[page]", []string{"layouts/partials"}, "options[page]", CodeFormat},
		{"page section only", "options[page]", []string{"articles"}, "options[page]", CodeFormat},
		{"page git", "options[page]", []string{"articles/.git"}, "options[page]", CodeFormat},
		{"page hidden", "options[page]", []string{"articles/.hidden"}, "options[page]", CodeFormat},
		{"page empty segment", "options[page]", []string{"articles//x"}, "options[page]", CodeFormat},
		{"page trailing slash", "options[page]", []string{"articles/x/"}, "options[page]", CodeFormat},
		{"page backslash", "options[page]", []string{"articles\\x"}, "options[page]", CodeFormat},
		{"page index", "options[page]", []string{"articles/x/index"}, "options[page]", CodeFormat},
		{"page with space", "options[page]", []string{"articles/le budget"}, "options[page]", CodeFormat},
		{"page encoded", "options[page]", []string{"articles/%2e%2e"}, "options[page]", CodeFormat},
		{"page accented", "options[page]", []string{"articles/été"}, "options[page]", CodeFormat},
		{"page too long", "options[page]", []string{"articles/" + strings.Repeat("a", 300)}, "options[page]", CodeTooLong},
		{"parent climbs", "options[parent]", []string{"../x"}, "options[parent]", CodeFormat},
		{"parent too long", "options[parent]", []string{strings.Repeat("a", 65)}, "options[parent]", CodeTooLong},
		{"redirect javascript", "options[redirect]", []string{"javascript:alert(1)"}, "options[redirect]", CodeFormat},
		{"redirect scheme-relative", "options[redirect]", []string{"//evil.example/"}, "options[redirect]", CodeFormat},
		{"redirect backslash", "options[redirect]", []string{"/\\evil.example"}, "options[redirect]", CodeFormat},
		{"token too long", "options[token]", []string{strings.Repeat("t", 1025)}, "options[token]", CodeTooLong},
		{"answer on two lines", "options[answer]", []string{"a\nb"}, "options[answer]", CodeFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := valid()
			if tt.vals == nil {
				delete(v, tt.key)
			} else {
				v[tt.key] = tt.vals
			}
			s, errs := f.Decode(v, nil)
			if s != nil {
				t.Fatalf("accepted: %+v", s)
			}
			p, ok := errs[tt.wantKey]
			if !ok || p.Code != tt.wantCode || len(errs) != 1 {
				t.Fatalf("errors %v, want only %s %s", errs, tt.wantKey, tt.wantCode)
			}
			for _, lang := range []string{"fr", "en"} {
				msg := errs.Message(tt.wantKey, lang)
				vague := Problem{Code: "?", Label: p.Label}.message(tt.wantKey, lang)
				if msg == "" || msg == vague || p.Label != "" && !strings.Contains(msg, p.Label) {
					t.Errorf("%s message %q is missing, vague or does not name %q", lang, msg, p.Label)
				}
			}
		})
	}
}

func TestDecodeOrder(t *testing.T) {
	f := compile(t, "comment", kitchen)
	for _, tt := range []struct {
		start, end string
		ok         bool
	}{
		{"2026-12-05T18:30", "2026-12-05T18:30", true},
		{"2026-12-05T18:30", "2026-12-05T18:29", false},
		{"2026-10-25T02:30", "2026-10-25T01:45:00Z", true}, // the night summer time ends
		{"2026-12-05", "2026-12-05", true},
		{"2026-12-05", "2026-12-04T23:00", false},
	} {
		v := valid()
		v["fields[start]"], v["fields[end]"] = []string{tt.start}, []string{tt.end}
		_, errs := f.Decode(v, nil)
		if (errs == nil) != tt.ok || !tt.ok && errs["fields[end]"].Code != CodeOrder {
			t.Errorf("%s → %s: %v, want ok=%v", tt.start, tt.end, errs, tt.ok)
		}
		if !tt.ok && errs.Message("fields[end]", "fr") != "«\u00a0Fin\u00a0» ne peut pas précéder «\u00a0Début\u00a0»." {
			t.Errorf("message %q", errs.Message("fields[end]", "fr"))
		}
	}
}

func TestDecodeCleans(t *testing.T) {
	f := compile(t, "comment", kitchen)
	tests := []struct {
		name, key, in, field, want string
	}{
		{"trimmed", "fields[name]", "  Claire M. \u00a0", "name", "Claire M."},
		{"tab", "fields[name]", "Claire\tM.", "name", "Claire M."},
		{"bidi override dropped", "fields[name]", "Claire\u202e.M", "name", "Claire.M"},
		{"byte order mark dropped", "fields[name]", "\ufeffClaire", "name", "Claire"},
		{"NFC", "fields[name]", "Ame\u0301lie", "name", "Amélie"},
		{"emoji kept", "fields[name]", "Claire 👩\u200d🌾", "name", "Claire 👩\u200d🌾"},
		{"CRLF", "fields[message]", "a\r\nb\rc\nd", "message", "a\nb\nc\nd"},
		{"controls stripped", "fields[message]", "a\x00b\x07c\u0085d\u2028e", "message", "abcd\ne"},
		{"markdown spaces kept", "fields[message]", "ligne  \nsuite\n\n    code", "message", "ligne  \nsuite\n\n    code"},
		{"url kept", "fields[site]", " https://example.fr/a?b=c#d ", "site", "https://example.fr/a?b=c#d"},
		{"url idn", "fields[site]", "https://exämple.fr/", "site", "https://exämple.fr/"},
		{"url upper scheme", "fields[site]", "HTTPS://Example.fr", "site", "HTTPS://Example.fr"},
		{"url ipv6", "fields[site]", "http://[2001:db8::1]:8080/", "site", "http://[2001:db8::1]:8080/"},
		{"date", "fields[day]", "2026-12-05", "day", "2026-12-05"},
		{"datetime local winter", "fields[start]", "2026-12-05T18:30", "start", "2026-12-05T18:30:00+01:00"},
		{"datetime local summer", "fields[start]", "2026-07-05T18:30", "start", "2026-07-05T18:30:00+02:00"},
		{"datetime seconds and millis", "fields[start]", "2026-12-05T18:30:12.345", "start", "2026-12-05T18:30:12+01:00"},
		{"datetime with a space", "fields[start]", "2026-12-05 18:30", "start", "2026-12-05T18:30:00+01:00"},
		{"datetime RFC 3339", "fields[start]", "2026-12-05T17:30:00Z", "start", "2026-12-05T18:30:00+01:00"},
		{"datetime other offset", "fields[start]", "2026-12-05T12:30:00-05:00", "start", "2026-12-05T18:30:00+01:00"},
		{"datetime date only", "fields[start]", "2026-12-05", "start", "2026-12-05"},
		{"choice", "fields[license]", " CC0-1.0 ", "license", "CC0-1.0"},
		{"pattern", "fields[code]", "ABC12", "code", "ABC12"},
		{"mention is not an address", "fields[message]", "Merci @claire et rdv@18h", "message", "Merci @claire et rdv@18h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := valid()
			v[tt.key] = []string{tt.in}
			s, errs := f.Decode(v, nil)
			if errs != nil {
				t.Fatal(errs)
			}
			if got := s.Fields[tt.field]; got != tt.want {
				t.Errorf("%s = %q, want %q", tt.field, got, tt.want)
			}
		})
	}
}

func TestDecodeEmail(t *testing.T) {
	f := compile(t, "comment", kitchen)
	for in, want := range map[string]string{
		" Claire.Martin@Example.FR ":  "Claire.Martin@example.fr",
		"c+parvis@sub.example.co.uk":  "c+parvis@sub.example.co.uk",
		"o'brien@example.ie":          "o'brien@example.ie",
		"jean@exämple.fr":             "jean@xn--exmple-cua.fr",
		"x@example.xn--p1ai":          "x@example.xn--p1ai",
		"ab.cd-ef_gh@a-b.example.org": "ab.cd-ef_gh@a-b.example.org",
	} {
		v := valid()
		v["fields[email]"] = []string{in}
		s, errs := f.Decode(v, nil)
		if errs != nil {
			t.Errorf("%q: %v", in, errs)
			continue
		}
		if s.Private["email"] != want || s.Fields["email"] != "" {
			t.Errorf("%q: private %q, public %q; want private %q only", in, s.Private["email"], s.Fields["email"], want)
		}
	}
}

func TestDecodePassesOptions(t *testing.T) {
	f := compile(t, "comment", kitchen)
	v := valid()
	v["options[parent]"] = []string{"01JD8W0F3S6W6J8V5Q0Z3Y2X0Z"}
	v["options[redirect]"] = []string{"/articles/budget-2026/#comments"}
	v["options[token]"] = []string{"1712345678.c2lnbmVk"}
	v["options[pow]"] = []string{"000f3a:19"}
	v["options[question]"] = []string{"q7"}
	v["options[answer]"] = []string{" Quatre "}
	v["fields[website]"] = []string{"http://spam.example/"}
	v["fields[bio]"] = []string{""} // an empty optional field is left out
	s, errs := f.Decode(v, nil)
	if errs != nil {
		t.Fatal(errs)
	}
	want := map[string]string{
		"page": "articles/budget-2026", "parent": "01JD8W0F3S6W6J8V5Q0Z3Y2X0Z", "redirect": "/articles/budget-2026/#comments",
		"token": "1712345678.c2lnbmVk", "pow": "000f3a:19", "question": "q7", "answer": "Quatre",
	}
	if len(s.Options) != len(want) {
		t.Errorf("options %v, want %v", s.Options, want)
	}
	for k, w := range want {
		if s.Options[k] != w {
			t.Errorf("options[%s] = %q, want %q", k, s.Options[k], w)
		}
	}
	if s.Honeypot != "http://spam.example/" {
		t.Errorf("honeypot %q", s.Honeypot)
	}
	if _, ok := s.Fields["bio"]; ok {
		t.Error("an empty field is kept")
	}
	files, err := f.Encode(s, testGen)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"spam.example", "c2lnbmVk", "Quatre", "redirect", "website"} {
		if strings.Contains(string(files[0].Data), leak) {
			t.Errorf("%q written:\n%s", leak, files[0].Data)
		}
	}
}

// TestHoneypotDeclared: a policy may declare its honeypot among its fields (the generator
// renders it apart); it is still only the honeypot, never written.
func TestHoneypotDeclared(t *testing.T) {
	f := compile(t, "comment", strings.Replace(kitchen, "  bio:", "  website: {type: url, required: true}\n  bio:", 1))
	v := valid()
	v["fields[website]"] = []string{"buy cheap pills"}
	s, errs := f.Decode(v, nil)
	if errs != nil {
		t.Fatal(errs)
	}
	files, err := f.Encode(s, testGen)
	if err != nil {
		t.Fatal(err)
	}
	if s.Honeypot != "buy cheap pills" || s.Fields["website"] != "" || strings.Contains(string(files[0].Data), "pills") {
		t.Errorf("honeypot %q, fields %v, file:\n%s", s.Honeypot, s.Fields, files[0].Data)
	}
}

func TestDecodeStopsAtStructure(t *testing.T) {
	f := compile(t, "comment", kitchen)
	v := url.Values{}
	for i := range 100 {
		v.Set("fields[x"+strings.Repeat("y", i)+"]", "1")
	}
	v.Set("fields[name]", strings.Repeat("é", 50)) // too long, but not reached
	_, errs := f.Decode(v, nil)
	if len(errs) != maxStructural || errs.Status() != 400 {
		t.Errorf("%d errors, status %d; want %d and 400", len(errs), errs.Status(), maxStructural)
	}
	if _, ok := errs["fields[name]"]; ok {
		t.Error("values are checked although the request is malformed")
	}
}
