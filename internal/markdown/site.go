package markdown

// Renderers are the renderers of one site: its editors' pages, the pages citizens send
// through forms, and comments. The generator and the moderation preview both make theirs
// with ForSite from the same settings, so that a moderator sees, before approving, the
// very HTML that will be published.
type Renderers struct {
	Editor, Citizen, Comment *Renderer
}

// ForSite makes a site's renderers from its language and parvis.yaml's markdown settings.
// unsafe applies to editors' pages alone; reserved names the theme's own ids, which editors'
// headings must not take (citizens' ids are prefixed, and comments have none).
func ForSite(lang string, unsafe bool, typography string, reserved ...string) Renderers {
	return Renderers{
		Editor:  New(WithLanguage(lang), WithUnsafe(unsafe), WithTypography(typography), WithReservedIDs(reserved...)),
		Citizen: NewCitizen(WithLanguage(lang), WithTypography(typography)),
		Comment: NewComment(WithLanguage(lang), WithTypography(typography)),
	}
}

// Page returns the renderer of a page's body: Citizen when a citizen sent it through a form
// (submitted names the form, site.Page.Submitted), Editor otherwise.
func (r Renderers) Page(submitted string) *Renderer {
	if submitted != "" {
		return r.Citizen
	}
	return r.Editor
}
