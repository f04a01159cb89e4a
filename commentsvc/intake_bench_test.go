package commentsvc

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/time/rate"

	"github.com/parvis/parvis/internal/antispam"
)

// BenchmarkIntake measures a comment's intake in-process, without the network: decoding,
// policy, anti-spam, the queue's durable Put, the answer.
func BenchmarkIntake(b *testing.B) {
	// One token carries every post, as the figures before single-use tokens were taken: the
	// spent-token record a page load's one submission costs is a map insert.
	f := newFixture(b, WithAntispam(antispam.Config{RatePerIP: rate.Inf, RatePerPage: rate.Inf, TokenUses: -1}))
	token := f.token("comment")
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(50) // many citizens at once: their Puts share commits
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body := "fields%5Bname%5D=Claire+M.&fields%5Bmessage%5D=Merci+pour+ces+pr%C3%A9cisions+" + strconv.FormatInt(i, 10) +
				"&options%5Bpage%5D=articles%2Fbudget&options%5Btoken%5D=" + token
			req := httptest.NewRequest("POST", "/api/v1/entries/comment", strings.NewReader(body))
			req.Header.Set("Content-Type", form)
			req.Header.Set("Accept", "application/json")
			w := httptest.NewRecorder()
			f.svc.Handler().ServeHTTP(w, req)
			if w.Code != http.StatusAccepted {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
		}
	})
}
