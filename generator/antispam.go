package generator

import "github.com/parvis/parvis/internal/antispam"

// formAntispam gives what a form's anti-spam inputs carry, from internal/antispam (the
// package the service checks submissions with): the token placeholder that the serving
// process, or challenge.js on static hosting, replaces with a signed token; and the question
// asked of people without JavaScript. page is the form's options[page] value ("" when it has
// none): the service finds the same question from it, and two builds write the same page.
func formAntispam(form, page, lang string) (token string, q Question) {
	aq := antispam.QuestionFor(antispam.FormSeed(form, page), lang)
	return antispam.Placeholder, Question{ID: aq.ID, Text: aq.Text}
}
