// Package hugotest checks that Parvis content stays portable to Hugo, as docs/content.md
// promises: Hugo (the version pinned in tools/go.mod) must build the demo site and the
// fixtures in testdata with no error, and read the same titles, dates, drafts, tags, URLs
// and comments as Parvis does.
//
// The package holds only tests. Hugo reads a site through testdata/hugo.toml, whose mounts
// map Parvis's folders onto Hugo's (comments/ as data), and the minimal theme in
// testdata/themes/check, whose home page is a JSON dump of what Hugo read.
package hugotest
