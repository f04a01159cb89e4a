package doccheck_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/parvis/parvis/internal/doccheck"
	"github.com/parvis/parvis/internal/doccheck/doccorpus"
)

func check(c *doccorpus.Case) (doccheck.Report, error) {
	if c.MediaType == doccorpus.PDF {
		return doccheck.PDF(c.Data())
	}
	return doccheck.ODF(c.Data(), c.MediaType)
}

// TestCorpus runs every document of the corpus through its check (findings 1, 2 and 9):
// each hostile one is refused for the reason it was made for, each benign one accepted
// with its links.
func TestCorpus(t *testing.T) {
	refused, accepted := 0, 0
	for _, c := range doccorpus.All() {
		if c.Large && testing.Short() {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			rep, err := check(&c)
			if c.Want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if !slices.Equal(rep.Links, c.Links) {
					t.Errorf("links %q, want %q", rep.Links, c.Links)
				}
				accepted++
				return
			}
			if !errors.Is(err, c.Want) {
				t.Fatalf("got %v, want %v (%s)", err, c.Want, c.Reason)
			}
			if !strings.Contains(err.Error(), c.Reason) {
				t.Errorf("reason %q, want it to contain %q", err.Error(), c.Reason)
			}
			var e *doccheck.Error
			if !errors.As(err, &e) {
				t.Errorf("%T is not a *doccheck.Error", err)
			} else if e.Kind == doccheck.ErrBomb && e.Limit <= 0 {
				t.Errorf("a bomb without the limit it crossed")
			}
			refused++
		})
	}
	t.Logf("documents: %d refused, %d accepted", refused, accepted)
}
