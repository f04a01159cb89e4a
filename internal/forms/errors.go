package forms

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Code says, for machines, why a value was refused.
type Code string

const (
	CodeRequired     Code = "required"      // empty, or a needed option missing
	CodeTooShort     Code = "too_short"     // fewer characters than min
	CodeTooLong      Code = "too_long"      // more characters than max
	CodeFormat       Code = "format"        // not what the field's type takes (Problem.Want says what)
	CodeChoice       Code = "choice"        // not one of the choices
	CodeType         Code = "type"          // an upload whose content is not an accepted type
	CodeTooLarge     Code = "too_large"     // an upload larger than max bytes
	CodeTooSmall     Code = "too_small"     // an upload smaller than min bytes
	CodeDimensions   Code = "dimensions"    // an image with more pixels than allowed
	CodeUnsafe       Code = "unsafe"        // a document with active content: scripts, macros
	CodeProtected    Code = "protected"     // a password-protected document, which cannot be checked
	CodeUnpacked     Code = "unpacked"      // a document that unpacks to more than may be checked: a bomb
	CodePersonalData Code = "personal_data" // an e-mail address in a field that is published
	CodeOrder        Code = "order"         // an end before its start
	CodeUnknownField Code = "unknown_field" // a key the form does not declare
	CodeRepeated     Code = "repeated"      // a key sent more than once
)

// Problem is why one posted value was refused.
type Problem struct {
	Code  Code   `json:"code"`
	Label string `json:"label,omitempty"` // the field's label as the form shows it
	Limit int64  `json:"limit,omitempty"` // the bound crossed: characters, bytes or megapixels
	// Want is what was expected: for CodeFormat the field's type or "pattern", "text",
	// "slug", "image", "file"; for CodeType the accepted media types, comma-separated; for
	// CodeOrder the other field's label.
	Want string `json:"want,omitempty"`
}

// Errors maps each refused key, as posted ("fields[name]", "options[page]"), to its problem.
// Decode returns nil when there is none.
type Errors map[string]Problem

// Message returns the problem of key in lang ("fr" or "en"; French otherwise), or "".
func (e Errors) Message(key, lang string) string {
	p, ok := e[key]
	if !ok {
		return ""
	}
	return p.message(key, lang)
}

// Status is the HTTP status that answers the submission: 400 for keys a browser would not
// send (unknown, repeated, a bad hidden option), 413 for a file too large, 415 for a file of
// the wrong type, 422 for any other value to correct; 0 when there is no error.
func (e Errors) Status() int {
	// The most telling status wins: a malformed request, then a file too large, then one
	// of the wrong type.
	rank := func(s int) int {
		return map[int]int{http.StatusUnprocessableEntity: 1, http.StatusUnsupportedMediaType: 2, http.StatusRequestEntityTooLarge: 3, http.StatusBadRequest: 4}[s]
	}
	status := 0
	for key, p := range e {
		s := http.StatusUnprocessableEntity
		switch {
		case p.Code == CodeUnknownField || p.Code == CodeRepeated || hiddenOption(key):
			s = http.StatusBadRequest
		case p.Code == CodeTooLarge:
			s = http.StatusRequestEntityTooLarge
		case p.Code == CodeType:
			s = http.StatusUnsupportedMediaType
		}
		if rank(s) > rank(status) {
			status = s
		}
	}
	return status
}

// Reason names, for metrics and the answer's code, what is wrong with the submission as a
// whole: "unknown_field" when it has keys the form does not declare (or twice: a request
// no form of the site makes), "invalid_option" when an option the page's form sets itself
// holds a bad value (a page reference, a parent, a redirect), "invalid" when the citizen's
// values need correcting.
func (e Errors) Reason() string {
	reason := "invalid"
	for key, p := range e {
		switch {
		case p.Code == CodeUnknownField || p.Code == CodeRepeated:
			return "unknown_field"
		case hiddenOption(key):
			reason = "invalid_option"
		}
	}
	return reason
}

// hiddenOption reports the options a page's form sets itself, not the citizen.
func hiddenOption(key string) bool {
	switch key {
	case "options[page]", "options[parent]", "options[redirect]", "options[slug]":
		return true
	}
	return false
}

// Error lists the problems in key order, for logs.
func (e Errors) Error() string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(k + ": " + string(e[k].Code))
	}
	return b.String()
}

// optionNames name the options in messages, since they have no label in the form.
var optionNames = map[string][2]string{
	"options[page]":     {"page commentée", "page commented on"},
	"options[parent]":   {"commentaire auquel vous répondez", "comment replied to"},
	"options[redirect]": {"adresse de retour", "return address"},
	"options[slug]":     {"adresse de la page", "page slug"},
	"options[token]":    {"jeton du formulaire", "form token"},
	"options[pow]":      {"preuve de travail", "proof of work"},
	"options[answer]":   {"réponse à la question", "answer to the question"},
	"options[question]": {"question", "question"},
}

func (p Problem) message(key, lang string) string {
	en := strings.HasPrefix(lang, "en")
	pick := func(fr, en_ string) string {
		if en {
			return en_
		}
		return fr
	}
	label := p.Label
	if label == "" {
		if n, ok := optionNames[key]; ok {
			label = pick(n[0], n[1])
		} else {
			label = key
		}
	}
	q := "«\u00a0" + label + "\u00a0»"
	if en {
		q = "“" + label + "”"
	}
	switch p.Code {
	case CodeRequired:
		return pick("Le champ "+q+" est obligatoire.", q+" is required.")
	case CodeTooShort:
		return pick(fmt.Sprintf("%s doit compter au moins %s.", q, plural(p.Limit, "caractère", "caractères", false)),
			fmt.Sprintf("%s must be at least %s long.", q, plural(p.Limit, "character", "characters", true)))
	case CodeTooLong:
		return pick(fmt.Sprintf("%s doit compter au plus %s.", q, plural(p.Limit, "caractère", "caractères", false)),
			fmt.Sprintf("%s must be at most %s long.", q, plural(p.Limit, "character", "characters", true)))
	case CodeTooLarge:
		return pick(fmt.Sprintf("Le fichier %s dépasse la taille maximale de %s.", q, size(p.Limit, false)),
			fmt.Sprintf("The file %s is larger than %s.", q, size(p.Limit, true)))
	case CodeTooSmall:
		return pick(fmt.Sprintf("Le fichier %s est trop petit\u00a0: au moins %s.", q, size(p.Limit, false)),
			fmt.Sprintf("The file %s is too small: at least %s.", q, size(p.Limit, true)))
	case CodeChoice:
		return pick(q+" doit être l'un des choix proposés.", q+" must be one of the choices offered.")
	case CodeType:
		return pick(fmt.Sprintf("Le fichier %s doit être au format %s.", q, typeNames(p.Want, false)),
			fmt.Sprintf("The file %s must be %s.", q, typeNames(p.Want, true)))
	case CodeDimensions:
		return pick(fmt.Sprintf("L'image %s est trop grande\u00a0: %d mégapixels au plus.", q, p.Limit),
			fmt.Sprintf("The image %s is too large: at most %d megapixels.", q, p.Limit))
	case CodeUnsafe:
		return pick("Le fichier "+q+" contient du contenu actif (scripts ou macros), qui ne peut pas être publié.",
			"The file "+q+" holds active content (scripts or macros), which cannot be published.")
	case CodeUnpacked:
		return pick(fmt.Sprintf("Le fichier %s se décompresse en plus de %s\u00a0: il ne peut pas être vérifié, donc pas publié. Enregistrez-le à nouveau depuis votre logiciel.", q, size(p.Limit, false)),
			fmt.Sprintf("The file %s unpacks to more than %s: it cannot be checked, hence not published. Save it again from your software.", q, size(p.Limit, true)))
	case CodeProtected:
		return pick("Le fichier "+q+" est protégé par un mot de passe\u00a0: envoyez-en une version sans protection, car il sera publié.",
			"The file "+q+" is password-protected: send a version without protection, as it will be published.")
	case CodePersonalData:
		return pick(q+" contient une adresse électronique\u00a0: retirez-la, car ce champ sera publié.",
			q+" holds an e-mail address: remove it, as this field will be published.")
	case CodeOrder:
		other := "«\u00a0" + p.Want + "\u00a0»"
		if en {
			other = "“" + p.Want + "”"
		}
		return pick(q+" ne peut pas précéder "+other+".", q+" cannot be before "+other+".")
	case CodeUnknownField:
		return pick("Ce formulaire n'a pas de champ "+q+".", "This form has no field "+q+".")
	case CodeRepeated:
		return pick("Le champ "+q+" a été envoyé plusieurs fois.", q+" was sent more than once.")
	case CodeFormat:
		if strings.HasPrefix(key, "options[") {
			return pick("La valeur de "+q+" envoyée par le formulaire n'est pas valide.", "The form sent an invalid "+q+".")
		}
		switch p.Want {
		case "email":
			return pick(q+" n'est pas une adresse électronique valide.", q+" is not a valid e-mail address.")
		case "url":
			return pick(q+" doit être une adresse web commençant par http:// ou https://.", q+" must be a web address starting with http:// or https://.")
		case "date":
			return pick(q+" doit être une date de la forme 2026-12-05.", q+" must be a date such as 2026-12-05.")
		case "datetime":
			return pick(q+" doit être une date et une heure de la forme 2026-12-05T18:30.", q+" must be a date and time such as 2026-12-05T18:30.")
		case "pattern":
			return pick(q+" n'a pas la forme attendue.", q+" is not in the expected form.")
		case "slug":
			return pick(q+" doit contenir au moins une lettre ou un chiffre.", q+" must hold at least one letter or digit.")
		case "image":
			return pick("Le fichier "+q+" n'est pas une image lisible.", "The file "+q+" is not a readable image.")
		case "file":
			return pick("Le fichier "+q+" est endommagé ou incomplet.", "The file "+q+" is damaged or incomplete.")
		}
		return pick(q+" contient des caractères non autorisés.", q+" holds characters that are not allowed.")
	}
	return pick(q+" n'est pas valide.", q+" is not valid.")
}

func plural(n int64, one, many string, en bool) string {
	s := strconv.FormatInt(n, 10)
	if !en && n >= 10000 {
		s = thousands(s, "\u202f")
	} else if en && n >= 10000 {
		s = thousands(s, ",")
	}
	if n == 1 {
		return s + "\u00a0" + one
	}
	if en {
		return s + " " + many
	}
	return s + "\u00a0" + many
}

func thousands(s, sep string) string {
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	return b.String()
}

// size writes a byte count as people read it: "10 Mo", "1,5 Mo", "500 ko".
func size(n int64, en bool) string {
	unit, div := "octets", int64(1)
	switch {
	case n >= 1<<20:
		unit, div = "Mo", 1<<20
	case n >= 1<<10:
		unit, div = "ko", 1<<10
	}
	if en {
		unit = map[string]string{"octets": "bytes", "Mo": "MB", "ko": "kB"}[unit]
	}
	v := strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64)
	v = strings.TrimSuffix(v, ".0")
	if !en {
		v = strings.Replace(v, ".", ",", 1)
		return v + "\u00a0" + unit
	}
	return v + " " + unit
}

var typeName = map[string][2]string{
	"image/jpeg":      {"JPEG", "JPEG"},
	"image/png":       {"PNG", "PNG"},
	"image/gif":       {"GIF", "GIF"},
	"application/pdf": {"PDF", "PDF"},
	odt:               {"OpenDocument texte (.odt)", "OpenDocument text (.odt)"},
	ods:               {"OpenDocument classeur (.ods)", "OpenDocument spreadsheet (.ods)"},
	odp:               {"OpenDocument présentation (.odp)", "OpenDocument presentation (.odp)"},
}

// typeNames lists media types for people: "JPEG ou PNG", "a JPEG or PNG file".
func typeNames(list string, en bool) string {
	var names []string
	for t := range strings.SplitSeq(list, ",") {
		if n, ok := typeName[t]; ok {
			if en {
				names = append(names, n[1])
			} else {
				names = append(names, n[0])
			}
		}
	}
	or := " ou "
	if en {
		or = " or "
	}
	s := ""
	for i, n := range names {
		switch {
		case i == 0:
		case i == len(names)-1:
			s += or
		default:
			s += ", "
		}
		s += n
	}
	if en {
		return "a " + s + " file"
	}
	return s
}
