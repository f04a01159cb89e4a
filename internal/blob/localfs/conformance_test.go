package localfs

import (
	"testing"

	"github.com/parvis/parvis/internal/blob"
	"github.com/parvis/parvis/internal/blob/blobtest"
)

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, err := New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
