package commentsvc

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/parvis/parvis/internal/store"
)

// adminMessages holds the moderation pages' strings. They are kept apart from the citizens'
// (messages) because moderators and citizens are told different things about the same event.
var adminMessages = map[string]map[string]string{
	"fr": {
		"moderation":          "Modération",
		"colon":               "\u00a0: ",
		"skip":                "Aller au contenu",
		"signed_in_as":        "Connecté en tant que %s",
		"logout":              "Se déconnecter",
		"queue":               "Contributions",
		"shared_nav":          "Dossiers partagés",
		"login_title":         "Connexion à la modération",
		"login_intro":         "Espace réservé à l’équipe de modération.",
		"name":                "Identifiant",
		"password":            "Mot de passe",
		"login":               "Se connecter",
		"login_failed":        "Identifiant ou mot de passe incorrect.",
		"login_locked":        "Trop de tentatives de connexion ont échoué. Par sécurité, la connexion est bloquée jusqu’à %s.",
		"login_slowed":        "Trop de tentatives de connexion ont échoué. Par sécurité, attendez %d secondes avant de réessayer.",
		"login_required_name": "Saisissez votre identifiant.",
		"login_required_pass": "Saisissez votre mot de passe.",
		"login_errors":        "Le formulaire contient des erreurs.",
		"logged_out":          "Vous êtes déconnecté.",
		"session_expired":     "Votre session a expiré. Connectez-vous à nouveau.",
		"no_account":          "Aucun compte de modération n’existe encore : personne ne peut se connecter.",
		"no_account_how":      "Sur le serveur, créez un compte avec la commande suivante (elle demande le mot de passe) :",
		"no_account_yaml":     "Pour un site de démonstration, un compte peut aussi être écrit dans parvis.yaml (service.moderators) avec une empreinte obtenue par « parvis moderate hash ».",
		"cmd_name":            "NOM",
		"cmd_dir":             "DOSSIER_DU_SITE",
		"unavailable":         "Le service est momentanément indisponible. Réessayez dans un instant.",

		"forbidden_title":  "Action refusée",
		"forbidden_csrf":   "Par sécurité, cette action a été refusée : le formulaire a expiré, ou il a été envoyé depuis un autre site. Rechargez la page et recommencez.",
		"forbidden_cookie": "Par sécurité, la connexion a été refusée : le formulaire a expiré ou votre navigateur bloque les cookies de ce site. Rechargez la page et recommencez.",
		"forbidden_login":  "Votre session a expiré : l’action n’a pas été faite. Connectez-vous à nouveau, puis recommencez.",
		"not_found_title":  "Page introuvable",
		"not_found_page":   "Cette page de la modération n’existe pas.",
		"not_found_sub":    "Aucune contribution ne porte cet identifiant.",
		"back_queue":       "Revenir aux contributions",
		"go_login":         "Se connecter",

		"status_pending":   "En attente",
		"status_approved":  "Approuvées, en cours de publication",
		"status_published": "Publiées",
		"status_rejected":  "Refusées",
		"status_failed":    "En échec",
		"state_pending":    "En attente",
		"state_approved":   "Approuvée, en cours de publication",
		"state_published":  "Publiée",
		"state_rejected":   "Refusée",
		"state_failed":     "En échec",

		"by_status":        "Par statut",
		"by_form":          "Formulaire",
		"all_forms":        "Tous les formulaires",
		"filter":           "Filtrer",
		"caption":          "Contributions « %s », les plus récentes d’abord",
		"caption_form":     "Contributions « %s » du formulaire « %s », les plus récentes d’abord",
		"empty":            "Aucune contribution ici.",
		"col_select":       "Sélection",
		"col_contribution": "Contribution",
		"col_form":         "Formulaire",
		"col_page":         "Page",
		"col_author":       "Auteur",
		"col_received":     "Reçue le",
		"col_signals":      "Signaux",
		"col_decision":     "Décision",
		"select_row":       "Sélectionner « %s »",
		"no_page":          "Aucune page",
		"page_missing":     "%s (page introuvable)",
		"anonymous":        "Anonyme",
		"no_signal":        "Aucun",
		"older":            "Contributions plus anciennes",
		"newest":           "Revenir aux plus récentes",
		"pagination":       "Pagination",

		"bulk_title":       "Décider pour la sélection",
		"bulk_help":        "Cochez des contributions dans le tableau, puis approuvez-les ou refusez-les toutes avec le même motif.",
		"bulk_approve":     "Approuver la sélection",
		"bulk_reject":      "Refuser la sélection",
		"bulk_none":        "Sélectionnez au moins une contribution.",
		"bulk_too_many":    "Sélectionnez au plus %d contributions à la fois.",
		"approve":          "Approuver et publier",
		"reject":           "Refuser",
		"reject_title":     "Refuser la contribution",
		"reason":           "Motif du refus",
		"reason_help":      "La personne le lira sur la page de suivi de sa contribution. Choisissez un motif, et précisez-le si besoin.",
		"reason_none":      "Aucun motif prédéfini",
		"details":          "Précisions (facultatif si un motif est choisi)",
		"details_help":     "1 000 caractères au plus. Ne recopiez pas de données personnelles.",
		"reason_missing":   "Choisissez un motif ou écrivez-en un : la personne verra pourquoi sa contribution n’est pas publiée.",
		"reason_too_long":  "Le motif est trop long (1 000 caractères au plus).",
		"approve_title":    "Approuver la contribution",
		"approve_help":     "La contribution sera publiée sur le site, qui est mis à jour dans la foulée.",
		"decision_errors":  "La décision n’a pas été enregistrée : le formulaire contient des erreurs.",
		"submission_title": "Contribution : %s",
		"details_title":    "Informations",
		"received":         "Reçue le",
		"form":             "Formulaire",
		"page":             "Page",
		"author":           "Auteur",
		"moderator":        "Décision de",
		"decided_reason":   "Motif",
		"published_at":     "En ligne",
		"change":           "Proposition sur la forge",
		"error":            "Erreur",
		"signals":          "Signaux anti-spam",
		"preview":          "Aperçu",
		"preview_help":     "Le texte tel qu’il sera publié sur le site, au balisage près, dans un cadre isolé : rien de ce qu’il contient ne peut agir sur ces pages.",
		"preview_frame":    "Aperçu de « %s »",
		"preview_none":     "Pas d’aperçu : la contribution n’a pas de texte à afficher.",
		"files":            "Fichiers",
		"file_size":        "%s octets",
		"diff":             "Modifications proposées",
		"diff_help":        "Les lignes ajoutées commencent par « + », les lignes retirées par « - ».",
		"not_pending_info": "Cette contribution n’attend plus de décision : son contenu n’est plus affiché ici.",
		"image_alt":        "Image jointe : %s",

		"contribution":      "La contribution",
		"document_download": "Télécharger « %s »",
		"document_help":     "Le document se télécharge, pour être ouvert dans votre lecteur habituel : ces pages ne l’affichent jamais elles-mêmes. Les adresses vers lesquelles il renvoie sont dans les signaux.",
		"fields_title":      "Ce que la personne a saisi",
		"diff_show":         "Afficher les fichiers tels qu’ils seront enregistrés (diff Git)",
		"quoted":            "«\u00a0%s\u00a0»",
		"yes":               "oui",
		"no":                "non",

		"flash_title":       "Résultat",
		"flash_summary":     "%d approuvée(s), %d refusée(s), %d non traitée(s).",
		"res_approved":      "Approuvée : elle sera en ligne après la mise à jour du site.",
		"res_rejected":      "Refusée : le motif est transmis à la personne.",
		"res_not_pending":   "Non traitée : elle a déjà été approuvée ou refusée.",
		"res_conflict":      "Non approuvée : elle entre en conflit avec le contenu actuel du site. Refusez-la ou demandez à un éditeur de l’intégrer à la main.",
		"res_orphan":        "Non approuvée : elle répond à un commentaire qui n’est pas publié. Approuvez d’abord ce commentaire, ou refusez la réponse.",
		"res_not_found":     "Non traitée : aucune contribution ne porte cet identifiant.",
		"res_reason":        "Non refusée : le motif manque ou dépasse 1 000 caractères.",
		"res_failed":        "Non traitée : une erreur est survenue. Réessayez ; si elle persiste, prévenez l’exploitant du service.",
		"res_unknown_title": "contribution %s",

		"sig_posted":   "envoyée %s après l’affichage du formulaire",
		"sig_question": "a répondu à la question de vérification (sans JavaScript)",
		"sig_no_token": "sans jeton de formulaire (page sans JavaScript)",
		"sig_link":     "1 lien",
		"sig_doc_link": "Le document renvoie vers %s",
		"sig_links":    "%s liens",
	},
	"en": {
		"moderation":          "Moderation",
		"colon":               ": ",
		"skip":                "Skip to content",
		"signed_in_as":        "Signed in as %s",
		"logout":              "Sign out",
		"queue":               "Submissions",
		"shared_nav":          "Shared dossiers",
		"login_title":         "Sign in to moderation",
		"login_intro":         "For the moderation team only.",
		"name":                "User name",
		"password":            "Password",
		"login":               "Sign in",
		"login_failed":        "Wrong user name or password.",
		"login_locked":        "Too many sign-in attempts failed. For safety, signing in is blocked until %s.",
		"login_slowed":        "Too many sign-in attempts failed. For safety, wait %d seconds before trying again.",
		"login_required_name": "Enter your user name.",
		"login_required_pass": "Enter your password.",
		"login_errors":        "The form has errors.",
		"logged_out":          "You are signed out.",
		"session_expired":     "Your session has expired. Please sign in again.",
		"no_account":          "No moderation account exists yet: nobody can sign in.",
		"no_account_how":      "On the server, create one with this command (it asks for the password):",
		"no_account_yaml":     "For a demonstration site, an account may also be written in parvis.yaml (service.moderators) with a hash made by “parvis moderate hash”.",
		"cmd_name":            "NAME",
		"cmd_dir":             "SITE_FOLDER",
		"unavailable":         "The service is unavailable for a moment. Please try again shortly.",

		"forbidden_title":  "Action refused",
		"forbidden_csrf":   "For safety, this action was refused: the form has expired, or it was sent from another site. Reload the page and try again.",
		"forbidden_cookie": "For safety, signing in was refused: the form has expired or your browser blocks this site's cookies. Reload the page and try again.",
		"forbidden_login":  "Your session has expired: the action was not done. Sign in again, then try again.",
		"not_found_title":  "Page not found",
		"not_found_page":   "This moderation page does not exist.",
		"not_found_sub":    "No submission has this identifier.",
		"back_queue":       "Back to the submissions",
		"go_login":         "Sign in",

		"status_pending":   "Pending",
		"status_approved":  "Approved, being published",
		"status_published": "Published",
		"status_rejected":  "Rejected",
		"status_failed":    "Failed",
		"state_pending":    "Pending",
		"state_approved":   "Approved, being published",
		"state_published":  "Published",
		"state_rejected":   "Rejected",
		"state_failed":     "Failed",

		"by_status":        "By status",
		"by_form":          "Form",
		"all_forms":        "All forms",
		"filter":           "Filter",
		"caption":          "Submissions “%s”, newest first",
		"caption_form":     "Submissions “%s” from the form “%s”, newest first",
		"empty":            "No submission here.",
		"col_select":       "Selection",
		"col_contribution": "Submission",
		"col_form":         "Form",
		"col_page":         "Page",
		"col_author":       "Author",
		"col_received":     "Received",
		"col_signals":      "Signals",
		"col_decision":     "Decision",
		"select_row":       "Select “%s”",
		"no_page":          "No page",
		"page_missing":     "%s (page not found)",
		"anonymous":        "Anonymous",
		"no_signal":        "None",
		"older":            "Older submissions",
		"newest":           "Back to the newest",
		"pagination":       "Pagination",

		"bulk_title":       "Decide for the selection",
		"bulk_help":        "Tick submissions in the table, then approve them all or reject them all with the same reason.",
		"bulk_approve":     "Approve the selection",
		"bulk_reject":      "Reject the selection",
		"bulk_none":        "Select at least one submission.",
		"bulk_too_many":    "Select at most %d submissions at a time.",
		"approve":          "Approve and publish",
		"reject":           "Reject",
		"reject_title":     "Reject the submission",
		"reason":           "Reason for rejecting",
		"reason_help":      "The author will read it on their submission's status page. Choose a reason, and add details if needed.",
		"reason_none":      "No preset reason",
		"details":          "Details (optional when a reason is chosen)",
		"details_help":     "1,000 characters at most. Do not copy personal data.",
		"reason_missing":   "Choose or write a reason: the author will see why their submission is not published.",
		"reason_too_long":  "The reason is too long (1,000 characters at most).",
		"approve_title":    "Approve the submission",
		"approve_help":     "The submission will be published on the site, which is rebuilt straight away.",
		"decision_errors":  "The decision was not recorded: the form has errors.",
		"submission_title": "Submission: %s",
		"details_title":    "Details",
		"received":         "Received",
		"form":             "Form",
		"page":             "Page",
		"author":           "Author",
		"moderator":        "Decided by",
		"decided_reason":   "Reason",
		"published_at":     "Online",
		"change":           "Change on the forge",
		"error":            "Error",
		"signals":          "Anti-spam signals",
		"preview":          "Preview",
		"preview_help":     "The text exactly as the site will publish it, in an isolated frame: nothing in it can act on these pages.",
		"preview_frame":    "Preview of “%s”",
		"preview_none":     "No preview: the submission has no text to show.",
		"files":            "Files",
		"file_size":        "%s bytes",
		"diff":             "Proposed changes",
		"diff_help":        "Added lines start with “+”, removed lines with “-”.",
		"not_pending_info": "This submission no longer awaits a decision: its content is not shown here any more.",
		"image_alt":        "Attached image: %s",

		"contribution":      "The submission",
		"document_download": "Download “%s”",
		"document_help":     "The document downloads, to be opened in your usual reader: these pages never show it themselves. The addresses it links to are in the signals.",
		"fields_title":      "What the author filled in",
		"diff_show":         "Show the files as they will be saved (Git diff)",
		"quoted":            "“%s”",
		"yes":               "yes",
		"no":                "no",

		"flash_title":       "Result",
		"flash_summary":     "%d approved, %d rejected, %d not done.",
		"res_approved":      "Approved: it will be online once the site is rebuilt.",
		"res_rejected":      "Rejected: the reason is passed on to the author.",
		"res_not_pending":   "Not done: it was already approved or rejected.",
		"res_conflict":      "Not approved: it conflicts with the site's current content. Reject it, or ask an editor to merge it by hand.",
		"res_orphan":        "Not approved: it answers a comment that is not published. Approve that comment first, or reject the reply.",
		"res_not_found":     "Not done: no submission has this identifier.",
		"res_reason":        "Not rejected: the reason is missing or longer than 1,000 characters.",
		"res_failed":        "Not done: an error occurred. Try again; if it persists, tell the service's operator.",
		"res_unknown_title": "submission %s",

		"sig_posted":   "sent %s after the form was shown",
		"sig_question": "answered the check question (no JavaScript)",
		"sig_no_token": "no form token (page without JavaScript)",
		"sig_link":     "1 link",
		"sig_doc_link": "The document links to %s",
		"sig_links":    "%s links",
	},
}

// adminMsg returns a moderation page's string in lang (French when the language is
// unknown), formatted with args.
func adminMsg(lang, key string, args ...any) string {
	m, ok := adminMessages[lang]
	if !ok {
		m = adminMessages["fr"]
	}
	s, ok := m[key]
	if !ok {
		s = adminMessages["fr"][key]
	}
	if s == "" {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// adminDefaultReasons are the preset rejection reasons when parvis.yaml names none
// (service.reasons). Each is a whole sentence, as the author reads it on their receipt.
var adminDefaultReasons = map[string][]string{
	"fr": {
		"Votre contribution est sans rapport avec la page ou l’objet de ce site.",
		"Votre contribution contient des propos injurieux, diffamatoires ou discriminatoires.",
		"Votre contribution contient des données personnelles (adresse, téléphone, nom d’un tiers) qui ne peuvent pas être publiées.",
		"Votre contribution contient de la publicité ou s’apparente à un envoi indésirable.",
		"Votre contribution fait doublon avec un contenu déjà publié.",
	},
	"en": {
		"Your submission is unrelated to the page or to this site's purpose.",
		"Your submission contains insulting, defamatory or discriminatory remarks.",
		"Your submission contains personal data (an address, a phone number, a third party's name) that cannot be published.",
		"Your submission contains advertising or looks like spam.",
		"Your submission duplicates content already published.",
	},
}

// adminStatuses are the queue's filters, in the order the tabs show them.
var adminStatuses = []store.Status{store.Pending, store.Approved, store.Published, store.Rejected, store.Failed}

var (
	sigPosted = regexp.MustCompile(`^posted (.+) after load$`)
	sigLinks  = regexp.MustCompile(`^(\d+) links$`)
)

// docLinkSignal starts the signal that names an address a document's links lead to, for
// the moderator to judge before approving.
const docLinkSignal = "document links to "

// signalText translates the anti-spam checker's signals, which it writes in English for
// logs and the command line. An unknown signal is shown as it is.
func signalText(lang, sig string) string {
	switch {
	case sig == "answered the question (no JavaScript)":
		return adminMsg(lang, "sig_question")
	case sig == "no form token: static page without JavaScript":
		return adminMsg(lang, "sig_no_token")
	case sig == "1 link":
		return adminMsg(lang, "sig_link")
	}
	if m := sigPosted.FindStringSubmatch(sig); m != nil {
		return adminMsg(lang, "sig_posted", m[1])
	}
	if m := sigLinks.FindStringSubmatch(sig); m != nil {
		return adminMsg(lang, "sig_links", m[1])
	}
	if u, ok := strings.CutPrefix(sig, docLinkSignal); ok {
		return adminMsg(lang, "sig_doc_link", u)
	}
	return sig
}

var adminMonths = map[string][12]string{
	"fr": {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
}

// adminTime writes a date and time as people of lang read them, in the site's time zone.
func adminTime(lang string, t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	if loc != nil {
		t = t.In(loc)
	}
	if lang == "en" {
		return fmt.Sprintf("%d %s %d, %02d:%02d", t.Day(), adminMonths["en"][t.Month()-1], t.Year(), t.Hour(), t.Minute())
	}
	day := fmt.Sprint(t.Day())
	if t.Day() == 1 {
		day = "1er"
	}
	return fmt.Sprintf("%s %s %d à %d h %02d", day, adminMonths["fr"][t.Month()-1], t.Year(), t.Hour(), t.Minute())
}

// adminDigits writes n with a thin space between thousands (fr) or a comma (en).
func adminDigits(lang string, n int) string {
	s := fmt.Sprint(n)
	sep := "\u202f"
	if lang == "en" {
		sep = ","
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	return b.String()
}
