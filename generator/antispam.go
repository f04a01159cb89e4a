package generator

import "github.com/parvis/parvis/internal/antispam"

// formAntispam gives what a form's anti-spam inputs carry, from internal/antispam (the
// package the service checks submissions with): placeholders, the same at every build, that
// the serving process, or challenge.js on static hosting, replaces with a signed token and
// the question that token asks of people without JavaScript. later is the question's text
// until then: that a question will be asked once the form is sent.
func formAntispam(later string) (token string, q Question) {
	return antispam.Placeholder, Question{ID: antispam.QuestionPlaceholder, Text: later}
}
