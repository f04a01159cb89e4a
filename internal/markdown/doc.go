// Package markdown is Parvis's goldmark set-up, shared by the static-site
// generator and the submission service.
//
// It offers three renderers built on the same extenders:
//
//   - New renders editors' pages: GitHub Flavored Markdown (tables,
//     strikethrough, autolinks, task lists), footnotes, heading attributes and
//     stable heading ids ("Éducation et écoles" → "education-et-ecoles").
//     Editors are trusted: raw HTML is kept when the site allows it.
//   - NewComment renders what citizens write. Anyone can post, so the output
//     is held to a short allow-list: raw HTML is shown as text, images become
//     links (a comment must not make readers' browsers fetch other origins),
//     headings become bold paragraphs (they would break the page's outline),
//     links keep only http, https and mailto and are marked
//     rel="nofollow ugc noopener noreferrer", and the HTML always goes through
//     a bluemonday policy as a last line of defence.
//   - NewCitizen renders the pages citizens submit through forms (a proposed
//     article's body, an event's description, a photo's story) with the
//     comments' rules plus headings and tables, every id prefixed with
//     CitizenIDPrefix. The site's markdown.unsafe never applies to them: that
//     switch is for editors' own files. What came through a form says so in
//     its front matter (site.Page.Submitted), and the generator and the
//     moderation preview both pick this renderer from it, so that the
//     moderator sees what will be published.
//
// Both can apply French typography (FrenchTypography), a goldmark extender that
// works on the syntax tree, so code, raw HTML and URLs are never touched.
//
// One Render call parses once and returns, besides the HTML, what the
// generator needs about the page: a summary, the headings for a table of
// contents and a word count. Renderers are safe for concurrent use.
package markdown
