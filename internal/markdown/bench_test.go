package markdown

import (
	"io"
	"os"
	"testing"
)

// The generator renders 10,000 pages like testdata/article.md (about 600
// words of French) on two cores.

func BenchmarkRender(b *testing.B) {
	src, err := os.ReadFile("testdata/article.md")
	if err != nil {
		b.Fatal(err)
	}
	r := New(WithTypography("fr"))
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Render(io.Discard, src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderParallel(b *testing.B) {
	src, err := os.ReadFile("testdata/article.md")
	if err != nil {
		b.Fatal(err)
	}
	r := New(WithTypography("fr"))
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.Render(io.Discard, src); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkRenderComment(b *testing.B) {
	src := []byte("Merci pour ces **précisions** ! Je trouve \"excellente\" l'idée du verger : " +
		"pourrait-on prévoir des bancs ? Voir https://belcombe.fr/verger pour le plan.\n\n" +
		"> Les projets les mieux classés sont réalisés\n\nBonne journée...\n")
	r := NewComment(WithTypography("fr"))
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Render(io.Discard, src); err != nil {
			b.Fatal(err)
		}
	}
}
