// Command gencorpus writes a deterministic Parvis site for benchmarks (see bench/corpus).
//
//	go run ./bench/gencorpus --articles 10000 --out /tmp/corpus
//
// Events and comments scale with --articles unless given.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/parvis/parvis/bench/corpus"
)

func main() {
	articles := flag.Int("articles", 10000, "number of articles")
	events := flag.Int("events", -1, "number of events (default: articles/20)")
	comments := flag.Int("comments", -1, "number of comments (default: 2 per article)")
	seed := flag.Uint64("seed", 1, "the random seed: the same seed gives the same corpus")
	out := flag.String("out", "", "the folder to write, which must not exist or be empty")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	o := corpus.Scaled(*articles)
	o.Seed = *seed
	if *events >= 0 {
		o.Events = *events
	}
	if *comments >= 0 {
		o.Comments = *comments
	}
	start := time.Now()
	st, err := corpus.Write(*out, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencorpus:", err)
		os.Exit(1)
	}
	fmt.Printf("%s: %d articles (%d drafts, %d words on average), %d events, %d comments (%d replies) in %s\n",
		*out, st.Articles, st.Drafts, st.Words/max(st.Articles, 1), st.Events, st.Comments, st.Replies,
		time.Since(start).Round(time.Millisecond))
}
