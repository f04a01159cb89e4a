package generator_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/fstest"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parvis/parvis/generator"
)

// benchSite makes a site of n articles of about 600 words with two comments each (one a
// reply), n/20 events, tags from a small vocabulary, and the demo's forms: what a town's
// site looks like after some years, in memory so that the benchmark measures the build.
func benchSite(n int) fstest.MapFS {
	r := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("le la les de des un une conseil municipal commune budget école travaux rue place habitants projet réunion publique association marché fête culture sport jeunesse voirie urbanisme environnement eau déchets transport vélo médiathèque mairie maire adjoint quartier centre village")
	tags := []string{"budget", "travaux", "culture", "écoles", "environnement", "mobilité", "associations", "urbanisme"}
	sentence := func(min, max int) string {
		k := min + r.IntN(max-min+1)
		w := make([]string, k)
		for i := range w {
			w[i] = words[r.IntN(len(words))]
		}
		first, size := utf8.DecodeRuneInString(w[0])
		w[0] = string(unicode.ToUpper(first)) + w[0][size:]
		return strings.Join(w, " ") + "."
	}
	paragraph := func() string {
		var b strings.Builder
		for range 5 {
			b.WriteString(sentence(8, 20))
			b.WriteByte(' ')
		}
		return strings.TrimSpace(b.String())
	}
	fsys := siteFS(formsConfig)
	start := time.Date(2020, 1, 1, 9, 0, 0, 0, time.UTC)
	for i := range n {
		var body strings.Builder
		body.WriteString(paragraph() + "\n\n## " + sentence(3, 6) + "\n\n" + paragraph() + "\n\n- " + sentence(4, 8) + "\n- **" + sentence(2, 4) + "** " + sentence(4, 8) + "\n\n")
		body.WriteString("## " + sentence(3, 6) + "\n\n" + paragraph() + " [Voir aussi](/articles/a" + fmt.Sprint(r.IntN(n)) + "/).\n\n### " + sentence(2, 5) + "\n\n" + paragraph() + "\n")
		date := start.Add(time.Duration(i) * 4 * time.Hour)
		fm := fmt.Sprintf("---\ntitle: %q\ndate: %s\ntags: [%s, %s]\n---\n", sentence(4, 9), date.Format(time.RFC3339), tags[i%len(tags)], tags[(i*3+1)%len(tags)])
		fsys[fmt.Sprintf("articles/a%d.md", i)] = &fstest.MapFile{Data: []byte(fm + body.String())}
		for j := range 2 {
			parent := ""
			if j == 1 {
				parent = fmt.Sprintf("parent: c%d-0\n", i)
			}
			c := fmt.Sprintf("_id: c%d-%d\n%sname: Habitant %d\ndate: %s\nmessage: |\n  %s\n\n  %s\n", i, j, parent, j, date.Add(time.Duration(j+1)*time.Hour).Format(time.RFC3339), sentence(10, 25), sentence(5, 15))
			fsys[fmt.Sprintf("comments/articles/a%d/c%d-%d.yaml", i, i, j)] = &fstest.MapFile{Data: []byte(c)}
		}
	}
	for i := range n / 20 {
		s := start.Add(time.Duration(i) * 80 * time.Hour)
		fm := fmt.Sprintf("---\ntitle: %q\nstart: %s\nend: %s\nlocation: Salle des fêtes\naddress: 1 place de la Mairie\ngeo: {lat: 45.1, lon: 5.7}\n---\n%s\n", sentence(3, 6), s.Format(time.RFC3339), s.Add(2*time.Hour).Format(time.RFC3339), paragraph())
		fsys[fmt.Sprintf("events/e%d.md", i)] = &fstest.MapFile{Data: []byte(fm)}
	}
	return fsys
}

// formsConfig is formsSite's configuration and a plain page.
var formsConfig = formsSite[:strings.Index(formsSite, "-- articles/a.md --")] +
	"-- pages/a-propos.md --\n---\ntitle: À propos\n---\nLe site.\n"

func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{200, 2000} {
		fsys := benchSite(n)
		b.Run(fmt.Sprintf("articles=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var pages int
			for b.Loop() {
				out := generator.NewMemoryOutput()
				res, err := generator.New(generator.WithSource(fsys), generator.WithOutput(out), generator.WithNow(now)).Build(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				pages = res.Pages
			}
			b.ReportMetric(float64(pages)*float64(b.N)/b.Elapsed().Seconds(), "pages/s")
		})
	}
}
