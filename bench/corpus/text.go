package corpus

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// The vocabulary of a town's news: sentences are built from a subject, a verb, an object and
// a complement, so that paragraphs vary while reading like French civic prose.
var (
	subjects = []string{
		"La commune", "Le conseil municipal", "L'équipe municipale", "Les services techniques",
		"La communauté de communes", "Les habitants du quartier", "Le maire", "La première adjointe",
		"L'association des parents d'élèves", "La médiathèque", "Le comité des fêtes",
		"Le centre communal d'action sociale", "La police municipale", "Le conseil des jeunes",
		"Les agents de la voirie", "Le service urbanisme", "La maison de santé", "Le club de football",
		"Les commerçants du centre-bourg", "La direction de l'école élémentaire", "Le syndicat des eaux",
		"La région", "Le département", "Les bénévoles de l'épicerie solidaire",
	}
	// Each verb in the singular and the plural, for subjects such as "Les habitants".
	verbs = [][2]string{
		{"a présenté", "ont présenté"}, {"prévoit", "prévoient"}, {"annonce", "annoncent"},
		{"lance", "lancent"}, {"poursuit", "poursuivent"}, {"a voté", "ont voté"},
		{"organise", "organisent"}, {"étudie", "étudient"}, {"soutient", "soutiennent"},
		{"propose", "proposent"}, {"met en place", "mettent en place"}, {"engage", "engagent"},
		{"prépare", "préparent"}, {"a inauguré", "ont inauguré"}, {"finance", "financent"},
		{"accompagne", "accompagnent"}, {"relance", "relancent"}, {"confirme", "confirment"},
		{"a adopté", "ont adopté"}, {"souhaite développer", "souhaitent développer"},
		{"examine", "examinent"},
	}
	objects = []string{
		"un nouveau plan de circulation", "la rénovation de l'école élémentaire", "les travaux de voirie",
		"un budget participatif", "la réfection du gymnase", "un marché de producteurs locaux",
		"une consultation publique", "l'extension du réseau de chaleur", "des ateliers numériques",
		"la végétalisation des cours d'école", "un service de navette pour les aînés",
		"la révision du plan local d'urbanisme", "l'aménagement des berges de la Vaudèze",
		"une campagne de prévention contre la canicule", "la création de pistes cyclables",
		"le programme de la saison culturelle", "l'accueil de loisirs du mercredi",
		"la mise en accessibilité de la mairie", "le remplacement de l'éclairage public",
		"un plan de gestion des eaux pluviales", "la restauration de l'église Saint-Martin",
		"des jardins partagés", "le forum des associations", "la collecte des biodéchets",
		"un nouveau règlement de la cantine", "le portail famille en ligne",
	}
	complements = []string{
		"avant la fin de l'année", "dans le quartier de la Gare", "en lien avec les associations",
		"à partir du mois de septembre", "sur proposition de la commission des finances",
		"après plusieurs réunions publiques", "grâce au soutien de la région",
		"pour répondre aux demandes des riverains", "dans le respect du calendrier prévu",
		"en concertation avec les enseignants", "malgré la hausse du coût des matériaux",
		"au bénéfice de toutes les générations", "sur l'ensemble du territoire communal",
		"pendant les vacances scolaires", "avec l'appui des services de l'État",
		"comme le prévoyait le projet de mandat", "dès le printemps prochain",
	}
	openers = []string{
		"Par ailleurs,", "En outre,", "Comme l'an dernier,", "De plus,", "Enfin,", "Dans le même temps,",
		"Selon l'adjoint aux travaux,", "À cette occasion,", "Pour mémoire,", "Concrètement,",
		"D'après les premiers retours,", "En parallèle,",
	}
	remarks = []struct {
		format   string
		min, max int
	}{
		{"Le coût total de l'opération s'élève à %s euros.", 8000, 950000},
		{"Près de %s personnes ont participé aux échanges.", 20, 600},
		{"Le chantier devrait durer %s semaines.", 2, 30},
		{"La subvention obtenue couvre %s %% de la dépense.", 10, 80},
		{"Une réunion d'information aura lieu le %s du mois prochain.", 1, 28},
		{"Le dossier compte déjà %s contributions d'habitants.", 5, 400},
	}
	questions = []string{
		"Quels changements pour les familles ?", "Comment participer ?", "Pourquoi maintenant ?",
		"Qu'en pensent les riverains ?", "Et ensuite ?", "Quel calendrier ?",
	}
	quotes = []string{
		"« Nous avançons pas à pas, avec les habitants », explique le maire.",
		"« C'est une attente ancienne du quartier », rappelle une riveraine.",
		"« Le projet a été revu après la concertation », précise l'adjointe à l'urbanisme.",
		"« Chacun peut donner son avis jusqu'à la fin du mois », souligne le directeur des services.",
	}
	headings = []string{
		"Le calendrier", "Ce qui change", "Les chiffres clés", "Comment participer", "Le contexte",
		"Les prochaines étapes", "Questions pratiques", "En résumé", "Le financement",
	}
	listItems = []string{
		"une réunion publique à la salle des fêtes", "un registre ouvert en mairie",
		"une permanence le samedi matin", "un formulaire en ligne", "des visites de chantier",
		"un affichage dans chaque quartier", "une information dans le bulletin municipal",
		"une exposition à la médiathèque", "un atelier pour les enfants",
		"la diffusion du compte rendu sur ce site",
	}
	externals = []struct{ text, url string }{
		{"le site de la préfecture", "https://www.example-prefecture.gouv.fr/actualites"},
		{"le portail de la région", "https://www.example-region.fr/aides"},
		{"Service-Public.fr", "https://www.service-public.fr/particuliers/vosdroits/F1234"},
		{"la page de la communauté de communes", "https://www.example-cc.fr/dechets"},
	}
	names = []string{
		"Claire", "Paul", "Nadia", "Jean-Marc", "Sophie", "Karim", "Élodie", "Marc", "Inès", "Louis",
		"Hélène", "Thomas", "Fatou", "Bernard", "Chloé", "Yann", "Martine", "Hugo", "Léa", "Pierre",
	}
	commentSentences = []string{
		"Merci pour ces précisions.", "Enfin une bonne nouvelle pour le quartier !",
		"Est-ce que la réunion sera aussi diffusée en ligne ?", "Je rejoins l'avis précédent.",
		"Qu'en est-il du stationnement pendant les travaux ?", "Très bonne initiative, bravo aux bénévoles.",
		"Les horaires ne conviennent pas aux personnes qui travaillent.", "Où peut-on consulter le dossier complet ?",
		"Nous serons présents avec l'association.", "Il faudrait penser aussi aux personnes à mobilité réduite.",
		"Le calendrier me semble un peu optimiste.", "Merci à l'équipe municipale pour cette concertation.",
	}
	// Tags of a town's site; a few have spaces and accents, as real ones do.
	tagVocabulary = []string{
		"budget", "travaux", "voirie", "écoles", "culture", "sport", "environnement", "santé",
		"solidarité", "jeunesse", "aînés", "urbanisme", "mobilité", "associations", "commerce",
		"sécurité", "numérique", "patrimoine", "eau", "déchets", "énergie", "logement", "emploi",
		"tourisme", "agriculture", "conseil municipal", "vie associative", "petite enfance",
		"cantine", "bibliothèque", "transports", "concertation", "fêtes", "marché", "nature",
		"citoyenneté", "élections", "climat", "accessibilité", "intercommunalité",
	}
	places = []struct{ name, address string }{
		{"Salle des fêtes", "2 rue de la Tuilerie, 26999 Belcombe"},
		{"Médiathèque Louise-Michel", "14 avenue de la Gare, 26999 Belcombe"},
		{"Place de la République", "Place de la République, 26999 Belcombe"},
		{"Gymnase des Coteaux", "8 chemin des Coteaux, 26999 Belcombe"},
		{"Parc de la Vaudèze", "Quai de la Vaudèze, 26999 Belcombe"},
		{"Hôtel de ville, salle du conseil", "1 place de la République, 26999 Belcombe"},
		{"Église Saint-Martin", "Rue de l'Église, 26999 Belcombe"},
		{"Jardins partagés du Moulin", "Impasse du Moulin, 26999 Belcombe"},
	}
	eventKinds = []string{
		"Réunion publique", "Concert", "Atelier", "Conférence", "Marché nocturne", "Exposition",
		"Tournoi", "Visite guidée", "Conseil municipal", "Spectacle", "Balade nature", "Bal populaire",
	}
)

func pick[T any](r *rand.Rand, l []T) T { return l[r.IntN(len(l))] }

// text writes French-looking Markdown.
type text struct {
	r *rand.Rand
	b strings.Builder
}

// sentence returns one sentence, emphasized or not.
func (t *text) sentence() string {
	r := t.r
	switch r.IntN(12) {
	case 0:
		m := pick(r, remarks)
		return fmt.Sprintf(m.format, thousands(m.min+r.IntN(m.max-m.min+1)))
	case 1:
		return pick(r, quotes)
	}
	obj := pick(r, objects)
	switch r.IntN(8) {
	case 0:
		obj = "*" + obj + "*"
	case 1:
		obj = "**" + obj + "**"
	}
	s := clause(r, obj) + " " + pick(r, complements)
	if r.IntN(3) == 0 {
		s = pick(r, openers) + " " + strings.ToLower(s[:1]) + s[1:] // subjects start in ASCII
	}
	if r.IntN(4) == 0 {
		s += ", " + pick(r, complements)
	}
	return s + "."
}

// paragraph writes a paragraph of n sentences, with at most one link.
func (t *text) paragraph(n int, link string) {
	for i := range n {
		if i > 0 {
			t.b.WriteByte(' ')
		}
		if i == n/2 && link != "" {
			t.b.WriteString(link + " ")
		}
		t.b.WriteString(t.sentence())
	}
	t.b.WriteString("\n\n")
}

func (t *text) list() {
	n := 3 + t.r.IntN(3)
	for k, i := range t.r.Perm(len(listItems))[:n] {
		end := " ;\n"
		if k == n-1 {
			end = ".\n"
		}
		t.b.WriteString("- " + listItems[i] + end)
	}
	t.b.WriteString("\n")
}

// clause returns a subject, a verb agreed with it, and obj.
func clause(r *rand.Rand, obj string) string {
	subj := pick(r, subjects)
	v := pick(r, verbs)[0]
	if strings.HasPrefix(subj, "Les ") {
		v = pick(r, verbs)[1]
	}
	return subj + " " + v + " " + obj
}

// thousands writes n the French way: 120 000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + " " + s[i:]
	}
	return s
}

func (t *text) words() int { return len(strings.Fields(t.b.String())) }
