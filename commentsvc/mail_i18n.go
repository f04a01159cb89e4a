package commentsvc

import "fmt"

// mailStrings are the notifications' texts and the pages their links open, in French (the
// default) and English.
var mailStrings = map[string]map[string]string{
	"fr": {
		"greeting":  "Bonjour,",
		"receipt":   "Suivre votre contribution à tout moment :",
		"someone":   "Quelqu’un",
		"reason":    "Motif donné par la modération :",
		"signature": "%s",

		"why_citizen":      "Vous recevez ce message parce que vous avez demandé, sur le site %s, à être prévenu de la suite donnée à votre contribution. Votre adresse n’est ni publiée ni conservée dans l’historique du site ; elle est effacée une fois le dernier message envoyé.",
		"why_replies":      "Vous recevez ce message parce que vous avez demandé, sur le site %s, à être prévenu des réponses à votre commentaire, jusqu’au %s. Votre adresse sera effacée ensuite.",
		"unsubscribe_text": "Ne plus recevoir ces messages (un clic, votre adresse est effacée) :",
		"unsubscribe":      "Ne plus recevoir ces messages",

		"confirm_subject":     "Confirmez votre adresse pour suivre votre contribution",
		"confirm_lead":        "Vous avez envoyé « %s » sur le site %s et demandé à être prévenu par courriel %s.",
		"confirm_decision":    "de sa publication ou de son refus",
		"confirm_replies":     "des réponses à votre commentaire",
		"confirm_both":        "de sa publication ou de son refus, puis des réponses à votre commentaire",
		"confirm_ask":         "Confirmez votre adresse pour recevoir ces messages. Sans confirmation, nous ne vous écrirons plus et votre adresse sera effacée dans %d jours.",
		"confirm_notme":       "Si vous n’êtes pas à l’origine de cette demande, ignorez ce message.",
		"confirm_action_text": "Pour confirmer votre adresse, ouvrez ce lien :",
		"confirm_action":      "Confirmer mon adresse",

		"published_subject":     "Votre contribution est publiée",
		"published_lead":        "Bonne nouvelle : « %s » est publié sur le site %s.",
		"published_replies":     "Vous serez prévenu des réponses à votre commentaire pendant %d jours.",
		"published_action_text": "Voir votre contribution :",
		"published_action":      "Voir votre contribution",

		"rejected_subject": "Votre contribution n’a pas été publiée",
		"rejected_lead":    "La modération du site %[2]s n’a pas publié « %[1]s ».",
		"rejected_after":   "Vous pouvez envoyer une nouvelle contribution qui tienne compte de ce motif.",

		"reply_subject":     "Nouvelle réponse à votre commentaire sur « %s »",
		"reply_lead":        "%s a répondu à votre commentaire sur « %s ».",
		"reply_quote":       "Le début de la réponse :",
		"reply_action_text": "Lire la réponse :",
		"reply_action":      "Lire la réponse",

		"digest_subject":     "%d nouvelle(s) contribution(s) à modérer",
		"digest_lead":        "%d contribution(s) attendent la modération sur le site %s depuis le dernier récapitulatif :",
		"digest_item":        "%s, %s, reçue le %s",
		"digest_action_text": "Ouvrir la file de modération :",
		"digest_action":      "Ouvrir la file de modération",
		"digest_why":         "Vous recevez ce récapitulatif parce que votre compte de modération (%s) a une adresse ; il part au plus une fois toutes les %d minutes.",
		"digest_unsub_text":  "Ne plus recevoir ce récapitulatif (votre adresse est effacée) :",
		"digest_unsub":       "Ne plus recevoir ce récapitulatif",

		"page_confirm_title":   "Confirmer votre adresse",
		"page_confirm_lead":    "Confirmez que vous souhaitez être prévenu par courriel de la suite donnée à votre contribution.",
		"page_confirm_button":  "Confirmer mon adresse",
		"page_confirmed_title": "Adresse confirmée",
		"page_confirmed_lead":  "Merci. Vous serez prévenu par courriel de la suite donnée à votre contribution. Chaque message permet de vous désabonner en un clic.",
		"page_unsub_title":     "Ne plus recevoir de messages",
		"page_unsub_lead":      "Vous ne recevrez plus de messages au sujet de cette contribution, et votre adresse sera effacée.",
		"page_unsub_button":    "Ne plus recevoir de messages",
		"page_unsubbed_title":  "Vous êtes désabonné",
		"page_unsubbed_lead":   "Vous ne recevrez plus de messages au sujet de cette contribution. Votre adresse est effacée.",
		"page_gone_title":      "Lien expiré",
		"page_gone_lead":       "Ce lien n’est plus valable : l’abonnement a pris fin ou n’a pas été confirmé à temps, et l’adresse a été effacée.",
		"page_digest_title":    "Ne plus recevoir le récapitulatif",
		"page_digest_lead":     "Le compte %s ne recevra plus le récapitulatif des contributions à modérer, et son adresse sera effacée.",
		"page_digest_done":     "Le compte %s ne recevra plus le récapitulatif. Pour le rétablir : parvis moderate adduser %s --email ADRESSE.",
		"page_receipt":         "Suivre votre contribution",
		"page_back":            "Retour au site",
	},
	"en": {
		"greeting":  "Hello,",
		"receipt":   "Follow your submission at any time:",
		"someone":   "Someone",
		"reason":    "The moderators’ reason:",
		"signature": "%s",

		"why_citizen":      "You get this message because you asked, on %s, to hear what becomes of your submission. Your address is neither published nor kept in the site’s history; it is deleted once the last message is sent.",
		"why_replies":      "You get this message because you asked, on %s, to hear of replies to your comment, until %s. Your address will be deleted then.",
		"unsubscribe_text": "Stop these messages (one click; your address is deleted):",
		"unsubscribe":      "Stop these messages",

		"confirm_subject":     "Confirm your address to follow your submission",
		"confirm_lead":        "You sent “%s” on %s and asked to be told by e-mail %s.",
		"confirm_decision":    "when it is published or rejected",
		"confirm_replies":     "of replies to your comment",
		"confirm_both":        "when it is published or rejected, then of replies to your comment",
		"confirm_ask":         "Confirm your address to get these messages. Without it we will not write again, and your address will be deleted in %d days.",
		"confirm_notme":       "If you did not ask for this, ignore this message.",
		"confirm_action_text": "To confirm your address, open this link:",
		"confirm_action":      "Confirm my address",

		"published_subject":     "Your submission is published",
		"published_lead":        "Good news: “%s” is published on %s.",
		"published_replies":     "You will hear of replies to your comment for %d days.",
		"published_action_text": "See your submission:",
		"published_action":      "See your submission",

		"rejected_subject": "Your submission was not published",
		"rejected_lead":    "The moderators of %[2]s did not publish “%[1]s”.",
		"rejected_after":   "You may send a new submission that takes this reason into account.",

		"reply_subject":     "A new reply to your comment on “%s”",
		"reply_lead":        "%s replied to your comment on “%s”.",
		"reply_quote":       "The reply begins:",
		"reply_action_text": "Read the reply:",
		"reply_action":      "Read the reply",

		"digest_subject":     "%d new submission(s) to moderate",
		"digest_lead":        "%d submission(s) await moderation on %s since the last digest:",
		"digest_item":        "%s, %s, received %s",
		"digest_action_text": "Open the moderation queue:",
		"digest_action":      "Open the moderation queue",
		"digest_why":         "You get this digest because your moderator account (%s) has an address; it goes at most once every %d minutes.",
		"digest_unsub_text":  "Stop this digest (your address is deleted):",
		"digest_unsub":       "Stop this digest",

		"page_confirm_title":   "Confirm your address",
		"page_confirm_lead":    "Confirm that you want to hear by e-mail what becomes of your submission.",
		"page_confirm_button":  "Confirm my address",
		"page_confirmed_title": "Address confirmed",
		"page_confirmed_lead":  "Thank you. You will hear by e-mail what becomes of your submission. Each message lets you unsubscribe in one click.",
		"page_unsub_title":     "Stop messages",
		"page_unsub_lead":      "You will get no more messages about this submission, and your address will be deleted.",
		"page_unsub_button":    "Stop messages",
		"page_unsubbed_title":  "You are unsubscribed",
		"page_unsubbed_lead":   "You will get no more messages about this submission. Your address is deleted.",
		"page_gone_title":      "Link expired",
		"page_gone_lead":       "This link is no longer valid: the subscription has ended or was not confirmed in time, and the address was deleted.",
		"page_digest_title":    "Stop the digest",
		"page_digest_lead":     "The account %s will get no more digests of submissions to moderate, and its address will be deleted.",
		"page_digest_done":     "The account %s will get no more digests. To have it again: parvis moderate adduser %s --email ADDRESS.",
		"page_receipt":         "Follow your submission",
		"page_back":            "Back to the site",
	},
}

// mailMsg returns a string in lang (French when unknown), formatted with args.
func mailMsg(lang, key string, args ...any) string {
	m, ok := mailStrings[lang]
	if !ok {
		m = mailStrings["fr"]
	}
	s, ok := m[key]
	if !ok {
		s = mailStrings["fr"][key]
	}
	if s == "" {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}
