package main

import (
	"math/rand/v2"
	"net/url"
	"strings"
)

// What citizens write under a town's news: a display name, one to three sentences, and for
// about half of them an e-mail address for the notification. Sentences are built from a
// template and the thing the article is about, so that bodies vary the way real ones do.
var (
	firstNames = []string{
		"Claire", "Paul", "Nadia", "Jean-Marc", "Sophie", "Karim", "Élodie", "Marc", "Inès",
		"Louis", "Hélène", "Thomas", "Fatou", "Bernard", "Chloé", "Yann", "Martine", "Hugo",
		"Léa", "Pierre", "Amélie", "Rachid", "Gaëlle", "Olivier", "Maëlys", "Denis", "Agnès",
		"Mehdi", "Josiane", "Théo",
	}
	topics = []string{
		"les travaux de la rue des Écoles", "le budget participatif", "la nouvelle piste cyclable",
		"la fermeture de la piscine", "le marché du samedi", "la cantine de l'école",
		"le plan local d'urbanisme", "l'éclairage public", "la navette des aînés",
		"les jardins partagés", "la collecte des biodéchets", "le stationnement place de la Mairie",
		"la rénovation du gymnase", "les horaires de la médiathèque", "la fête de la musique",
		"le réseau de chaleur", "les berges de la Vaudèze", "la concertation sur le centre-bourg",
	}
	templates = []string{
		"Merci pour ces précisions sur %s.",
		"Est-ce que la réunion sur %s sera diffusée en ligne ?",
		"Je rejoins l'avis précédent concernant %s.",
		"Qu'en est-il du calendrier pour %s ?",
		"Très bonne initiative pour %s, bravo à l'équipe.",
		"Les horaires proposés pour %s ne conviennent pas aux personnes qui travaillent.",
		"Où peut-on consulter le dossier complet sur %s ?",
		"Nous serons présents avec l'association pour parler de %s.",
		"Il faudrait penser aux personnes à mobilité réduite dans %s.",
		"Le calendrier annoncé pour %s me semble un peu optimiste.",
		"Pourquoi ne pas avoir consulté les riverains avant de décider de %s ?",
		"J'habite le quartier depuis vingt ans et %s est attendu par tous.",
		"Combien coûtera finalement %s à la commune ?",
		"Merci à l'équipe municipale pour la concertation sur %s.",
	}
	closings = []string{
		"Bonne journée.", "Merci d'avance pour votre réponse.", "Cordialement.",
		"À bientôt au conseil de quartier.", "Bravo aux bénévoles !", "Affaire à suivre.",
	}
	mailDomains = []string{"example.org", "example.net", "exemple.fr", "courriel.example"}
)

// comment is one citizen's post, before the form's token is added.
type comment struct {
	name, message, email, page string
}

// comments returns n distinct comments (distinct names and messages, so that every post has
// its own idempotency key even under one token), on the given pages, from a fixed seed.
func comments(n int, pages []string, seed uint64) []comment {
	r := rand.New(rand.NewPCG(seed, 0x70617276))
	seen := make(map[string]bool, n)
	out := make([]comment, 0, n)
	for len(out) < n {
		first := pick(r, firstNames)
		c := comment{name: first + " " + string(rune('A'+r.IntN(26))) + ".", page: pick(r, pages)}
		var b strings.Builder
		k := 1 + r.IntN(3)
		for s := range k {
			if s > 0 {
				b.WriteByte(' ')
			}
			if s == k-1 && k > 1 && r.IntN(3) == 0 {
				b.WriteString(pick(r, closings))
				continue
			}
			b.WriteString(strings.Replace(pick(r, templates), "%s", pick(r, topics), 1))
		}
		c.message = b.String()
		key := c.name + "\x00" + c.message
		if seen[key] {
			continue
		}
		seen[key] = true
		if r.IntN(2) == 0 {
			c.email = strings.ToLower(asciiName(first)) + "." + strings.ToLower(c.name[len(first)+1:len(first)+2]) +
				"@" + pick(r, mailDomains)
		}
		out = append(out, c)
	}
	return out
}

// body is the comment as a browser sends the site's form, urlencoded, with the page's token.
func (c comment) body(token, site string) string {
	v := url.Values{
		"fields[name]":      {c.name},
		"fields[message]":   {c.message},
		"fields[website]":   {""}, // the honeypot, left empty by a person
		"options[page]":     {c.page},
		"options[redirect]": {site + c.page + "/#comments"},
		"options[token]":    {token},
	}
	if c.email != "" {
		v.Set("fields[email]", c.email)
	}
	return v.Encode()
}

// asciiName spells a first name without its accents, as people do in an e-mail address.
func asciiName(s string) string {
	return strings.NewReplacer("é", "e", "è", "e", "ë", "e", "É", "E", "ï", "i", "ç", "c", "ô", "o").Replace(s)
}

func pick[T any](r *rand.Rand, l []T) T { return l[r.IntN(len(l))] }
