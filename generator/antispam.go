package generator

// formAntispam gives what a form's anti-spam inputs carry, from internal/antispam (the
// package the service checks submissions with): the token placeholder that the serving
// process, or challenge.js on static hosting, replaces with a signed token; and the question
// asked of people without JavaScript, chosen from seed so that two builds write the same page.
//
// internal/antispam has not landed yet: until it does, forms carry the placeholder below and
// no question (the layouts leave the question block out when its ID is empty).
func formAntispam(seed, lang string) (token string, q Question) {
	return "__PARVIS_TOKEN__", Question{}
}
