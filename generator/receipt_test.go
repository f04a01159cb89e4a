package generator_test

import (
	"strings"
	"testing"
)

// Finding 8: the page the service writes receipts into is a page of the site, with its
// header, menu and footer, a slot the service fills, and no place in search engines.
func TestFirstHour8ReceiptPage(t *testing.T) {
	out := mustBuild(t, formsSite)
	assertFile(t, out, "receipt.html",
		`<html lang="fr"`, `<meta name="robots" content="noindex">`, "<title>Suivi de votre contribution – ",
		`<header class="site-header">`, `<footer class="site-footer"`, `<div class="page page-receipt" data-parvis-receipt>`,
		"<h1>Suivi de votre contribution</h1>", "Ouvrez le lien de suivi", `/css/parvis.`, "! challenge.js")
	assertFile(t, out, "sitemap.xml", "! receipt")
	en := mustBuild(t, strings.Replace(formsSite, "language: fr", "language: en", 1))
	assertFile(t, en, "receipt.html", "<h1>Your contribution</h1>", "Open the follow-up link")
}
