package forms

import (
	"net/url"
	"testing"
)

// TestFinding8EmailAsRendered is finding 8 of the hostile-input review: the rule against e-mail
// addresses in public text was bypassed by "&#64;", by a full-width "＠" and by similar
// tricks, because it read the raw text. It now reads the text as it will render.
func TestFinding8EmailAsRendered(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"jean.dupont@mairie.fr", true},
		{"écrivez à jean&#64;mairie.fr", true},
		{"jean&#x40;mairie.fr", true},
		{"jean&commat;mairie.fr", true},
		{"jean&amp;#64;mairie.fr", true}, // shown escaped, but refused all the same
		{"jean＠mairie．fr", true},
		{"ｊｅａｎ＠ｍａｉｒｉｅ．ｆｒ", true},
		{"jean﹫mairie.fr", true},
		{"jean@mairie。fr", true},
		{"jean@mai\u200brie.fr", true},
		{"jean\u00ad@mairie.fr", true},
		{"jean@\u200dmairie\u2060.fr", true},
		{"jean\u200e@mairie.fr", true},
		{`jean\@mairie.fr`, true},
		{`[écrire](mailto:jean%40mairie.fr) à 100 % sûr`, true},
		{"https://x.fr/?to=jean%2540mairie.fr", true},
		{"jean%40mairie.fr", true},
		// Not addresses, however close.
		{"rendez-vous à 10 h @ la mairie", false},
		{"réduction de 50 % & plus", false},
		{"le site mairie.fr", false},
		{"@mairie sur les réseaux", false},
		{"AT&T", false},
		{"a&#64;b", false},
		{"Prix : 5 € ; 100 %", false},
	}
	for _, tt := range tests {
		if got := containsEmail(tt.text); got != tt.want {
			t.Errorf("containsEmail(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

// TestFinding8EmailRefusedAsRendered checks the rule where it applies: a field's value, through
// Decode, whatever the spelling of the address.
func TestFinding8EmailRefusedAsRendered(t *testing.T) {
	f := compile(t, "comment", base)
	for _, msg := range []string{"merci, jean&#64;mairie.fr", "jean＠mairie．fr", "jean@mai\u200brie.fr"} {
		_, errs := f.Decode(url.Values{"fields[name]": {"Claire"}, "fields[message]": {msg}, "options[page]": {"articles/budget"}}, nil)
		if errs["fields[message]"].Code != CodePersonalData {
			t.Errorf("%q: %v, want %s", msg, errs, CodePersonalData)
		}
	}
}

// TestFinding10OptionsAreNotUnknownFields is finding 10 of the hostile-input review: a bad option value was
// counted as an unknown field.
func TestFinding10OptionsAreNotUnknownFields(t *testing.T) {
	tests := []struct {
		errs Errors
		want string
	}{
		{Errors{"fields[url]": {Code: CodeUnknownField}}, "unknown_field"},
		{Errors{"fields[name]": {Code: CodeRepeated}, "options[page]": {Code: CodeFormat}}, "unknown_field"},
		{Errors{"options[page]": {Code: CodeFormat}}, "invalid_option"},
		{Errors{"options[redirect]": {Code: CodeFormat}, "fields[name]": {Code: CodeRequired}}, "invalid_option"},
		{Errors{"fields[name]": {Code: CodeRequired}}, "invalid"},
		{Errors{"fields[file]": {Code: CodeUnsafe}}, "invalid"},
	}
	for _, tt := range tests {
		if got := tt.errs.Reason(); got != tt.want {
			t.Errorf("%v: %q, want %q", tt.errs, got, tt.want)
		}
	}
}
