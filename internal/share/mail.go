package share

import (
	"html"
	"strings"

	"github.com/parvis/parvis/internal/mail"
	"github.com/parvis/parvis/internal/site"
)

// The invitation, in the site's language. It names the dossier (the mail is the member's
// alone) and carries the link with its key, and says what the link is: a key, to keep.
var invitationText = map[string]struct {
	subject, renewedSubject, intro, renewedIntro, open, keep, change, ask string
}{
	"fr": {
		subject:        "%s : un dossier est partagé avec vous",
		renewedSubject: "%s : votre nouveau lien vers un dossier partagé",
		intro:          "%s partage avec vous le dossier « %s ».",
		renewedIntro:   "La clé du dossier « %s », que %s partage avec vous, a changé. Votre ancien lien ne l'ouvre plus ; voici le nouveau.",
		open:           "Pour ouvrir le dossier, suivez ce lien personnel :",
		keep:           "Ce lien contient la clé qui déchiffre le dossier dans votre navigateur : gardez-le pour vous. La partie après le « # » n'est jamais envoyée au site.",
		change:         "Si la clé change (quand une personne quitte le dossier), vous recevrez un nouveau lien.",
		ask:            "Vous pensez avoir reçu ce message par erreur, ou vous ne souhaitez plus faire partie du dossier ? Écrivez à %s.",
	},
	"en": {
		subject:        "%s: a dossier is shared with you",
		renewedSubject: "%s: your new link to a shared dossier",
		intro:          "%s shares the dossier “%s” with you.",
		renewedIntro:   "The key of the dossier “%s”, which %s shares with you, has changed. Your old link no longer opens it; here is the new one.",
		open:           "To open the dossier, follow this personal link:",
		keep:           "This link holds the key that decrypts the dossier in your browser: keep it to yourself. The part after the “#” is never sent to the site.",
		change:         "If the key changes (when someone leaves the dossier), you will get a new link.",
		ask:            "Think you got this message by mistake, or no longer wish to be part of the dossier? Write to %s.",
	},
}

func invitation(cfg *site.Config, title, link string, renewed bool) mail.Message {
	t, ok := invitationText[cfg.Language]
	if !ok {
		t = invitationText["fr"]
	}
	who := cfg.Publisher
	if who == "" {
		who = cfg.Title
	}
	subject, intro := sprintf(t.subject, cfg.Title), sprintf(t.intro, who, title)
	if renewed {
		subject, intro = sprintf(t.renewedSubject, cfg.Title), sprintf(t.renewedIntro, title, who)
	}
	ask := sprintf(t.ask, who)
	paras := []string{intro, t.open, link, t.keep, t.change, ask}
	var h strings.Builder
	for i, p := range paras {
		if i == 2 {
			h.WriteString(`<p><a href="` + html.EscapeString(link) + `">` + html.EscapeString(link) + "</a></p>\n")
			continue
		}
		h.WriteString("<p>" + html.EscapeString(p) + "</p>\n")
	}
	return mail.Message{
		Kind:    "share",
		From:    cfg.Service.MailFrom,
		Subject: subject,
		Body:    strings.Join(paras, "\n\n") + "\n",
		HTML:    "<!doctype html>\n<html lang=\"" + html.EscapeString(cfg.Language) + "\"><body>\n" + h.String() + "</body></html>\n",
	}
}

func sprintf(format string, args ...string) string {
	for _, a := range args {
		format = strings.Replace(format, "%s", a, 1)
	}
	return format
}
