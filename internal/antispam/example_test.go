package antispam_test

import (
	"fmt"
	"time"

	"github.com/parvis/parvis/internal/antispam"
	"github.com/parvis/parvis/internal/site"
)

// The service builds one Checker from its settings and the forms policy, stamps the pages
// it serves, and checks each post; a client written in Go solves the proof of work itself.
func Example() {
	c, err := antispam.New(antispam.Config{
		Secret:    []byte("a secret of 16 bytes or more, from the service's store"),
		Challenge: true, // false when PARVIS_ANTISPAM_CHALLENGE=off
		Forms:     map[string]site.AntispamSpec{"comment": {Honeypot: "website", MaxLinks: 2}},
	})
	if err != nil {
		panic(err)
	}
	loaded := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tok := c.Issue("comment", loaded) // or c.Stamp(page, loaded), or the ChallengeHandler
	v := c.Check(antispam.Submission{
		Form: "comment", Page: "/articles/budget/", IP: "192.0.2.7",
		Token: tok, PoW: antispam.Solve(tok, antispam.Difficulty(tok)),
		Texts: []string{"Marie", "Voir https://www.belcombe.fr/budget/"},
	}, loaded.Add(42*time.Second))
	fmt.Println(v.OK, v.Signals)

	v = c.Check(antispam.Submission{Form: "comment", Page: "/articles/budget/", IP: "192.0.2.7",
		Token: tok, Texts: []string{"Marie", "Bonjour"}}, loaded.Add(time.Minute))
	fmt.Println(v.OK, v.Reason)
	// Output:
	// true [posted 42 s after load 1 link]
	// false challenge
}
