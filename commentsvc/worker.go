package commentsvc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/parvis/parvis/internal/forge"
	"github.com/parvis/parvis/internal/forms"
	"github.com/parvis/parvis/internal/queue"
	"github.com/parvis/parvis/internal/store"
)

const (
	leaseBatch = 16
	leaseTime  = 5 * time.Minute
)

// work turns queued submissions into changes until ctx is done.
func (s *Service) work(ctx context.Context) error {
	for {
		items, err := s.queue.Lease(ctx, leaseBatch, leaseTime)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, queue.ErrClosed) {
				return nil
			}
			s.log.Error("leasing submissions", "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
			continue
		}
		for _, it := range items {
			// Finish the item under way even when asked to stop: it was leased, and letting
			// the lease run out would only delay it.
			seen, start := s.intakes.Load(), time.Now()
			s.handle(context.WithoutCancel(ctx), it)
			if ctx.Err() != nil {
				break
			}
			s.yield(ctx, seen, time.Since(start))
		}
	}
}

// handle processes one item, acking it on success and giving it back otherwise.
func (s *Service) handle(ctx context.Context, it queue.Item) {
	err := s.process(ctx, it)
	if err == nil {
		if err := s.queue.Ack(ctx, it.Receipt); err != nil && !errors.Is(err, queue.ErrLeaseLost) {
			s.log.Error("acking a submission", "id", it.ID, "err", err)
		}
		return
	}
	delay := backoff(it.Attempts)
	var rl *forge.RateLimited
	kind := "forge"
	switch {
	case errors.As(err, &rl):
		// A rate limit is not the submission's fault: give it back without spending an attempt.
		s.metrics.workErrors.WithLabelValues("rate_limited").Inc()
		if rerr := s.queue.Release(ctx, it.Receipt, rl.RetryAfter); rerr != nil && !errors.Is(rerr, queue.ErrLeaseLost) {
			s.log.Error("giving a submission back", "id", it.ID, "err", rerr)
		}
		return
	case errors.Is(err, forge.ErrInvalid), errors.Is(err, errPermanent):
		// Retrying cannot help, but the submission is kept: the record shows the fault to
		// an operator, and the queue keeps the item among its failed ones once its attempts
		// are spent.
		kind = "invalid"
		delay = time.Hour
		s.markFailed(it, err)
	}
	s.metrics.workErrors.WithLabelValues(kind).Inc()
	s.log.Warn("submission not processed, will retry", "id", it.ID, "attempt", it.Attempts, "in", delay, "err", err)
	if rerr := s.queue.Retry(ctx, it.Receipt, delay, err); rerr != nil && !errors.Is(rerr, queue.ErrLeaseLost) {
		s.log.Error("giving a submission back", "id", it.ID, "err", rerr)
	}
}

var errPermanent = errors.New("permanent")

// yield paces the worker while citizens are submitting: taking a submission must stay quick
// under a rush, and the queue is there to hold what the worker has not reached. When
// submissions arrived while an item was processed, the worker rests nine times as long as
// the item took, keeping to a tenth of a processor; otherwise it goes on at once.
func (s *Service) yield(ctx context.Context, seen int64, took time.Duration) {
	if s.intakes.Load() == seen {
		return
	}
	t := time.NewTimer(min(9*took, 2*time.Second))
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// backoff grows from 2 s to an hour.
func backoff(attempts int) time.Duration {
	d := 2 * time.Second << min(attempts, 11)
	return min(d, time.Hour)
}

// process opens the change for a submission and records it. Each step is idempotent, keyed
// by the item's ID, because a crash may deliver the item again.
func (s *Service) process(ctx context.Context, it queue.Item) error {
	var p payload
	if err := json.Unmarshal(it.Payload, &p); err != nil {
		return fmt.Errorf("%w: unreadable payload: %v", errPermanent, err)
	}
	if rec, err := s.store.Get(it.ID); err == nil && rec.Status != store.Failed {
		return s.cleanUploads(ctx, p) // already done before a crash
	}
	f := s.forms[p.Form]
	if f == nil {
		return fmt.Errorf("%w: the form %q is no longer in parvis.yaml", errPermanent, p.Form)
	}
	sub := &forms.Submission{Form: p.Form, Fields: p.Fields, Private: p.Private, Options: p.Options}
	for _, u := range p.Uploads {
		data, err := s.blobs.Get(ctx, u.Key)
		if err != nil {
			return fmt.Errorf("reading upload %s: %w", u.Key, err)
		}
		sub.Uploads = append(sub.Uploads, forms.Upload{Field: u.Field, MediaType: u.MediaType, Ext: u.Ext, Width: u.Width, Height: u.Height, Data: data})
	}
	files, err := f.Encode(sub, forms.Generated{ID: it.ID, Now: p.Received})
	if err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	author := strings.TrimSpace(p.Fields["name"])
	if author == "" {
		author = strings.TrimSpace(p.Fields["author"])
	}
	title := s.title(p)
	if subj := f.Subject(sub, forms.Generated{ID: it.ID, Now: p.Received}); subj != "" {
		title = subj // the policy's own message template
	}
	c := &forge.Change{ID: it.ID, Form: p.Form, Page: p.Options["page"], Title: title, Author: author}
	for _, file := range files {
		c.Files = append(c.Files, forge.File{Path: file.Path, Data: file.Data})
	}
	pend, err := s.forge.Open(ctx, c)
	if err != nil {
		return err
	}
	rec := &store.Record{
		ID: it.ID, Form: p.Form, Page: p.Options["page"], Title: c.Title, Author: author, Excerpt: excerptOf(c.Files, s.cfg.Location),
		Status: store.Pending, Change: pend.Branch, ChangeURL: pend.URL, Signals: p.Signals, Created: p.Received,
	}
	for _, file := range files {
		rec.Files = append(rec.Files, file.Path)
	}
	if err := s.keepPrivate(ctx, it.ID, p); err != nil {
		return err
	}
	if err := s.store.Put(rec); err != nil {
		return err
	}
	if spec := s.cfg.Forms[p.Form]; spec != nil && !spec.Moderated() {
		if _, err := s.Approve(ctx, it.ID, ""); err != nil {
			s.log.Error("publishing an unmoderated submission", "id", it.ID, "err", err)
		}
	}
	return s.cleanUploads(ctx, p)
}

func (s *Service) cleanUploads(ctx context.Context, p payload) error {
	for _, u := range p.Uploads {
		if err := s.blobs.Delete(ctx, u.Key); err != nil {
			s.log.Warn("removing an upload", "key", u.Key, "err", err)
		}
	}
	return nil
}

// title is the line a moderator sees first: the form and what it is about.
func (s *Service) title(p payload) string {
	t := strings.TrimSpace(p.Fields["title"])
	if t == "" {
		t = strings.TrimSpace(p.Fields["caption"])
	}
	if t == "" {
		t = s.defaultTitle(p)
	}
	if len([]rune(t)) > 120 {
		t = string([]rune(t)[:119]) + "…"
	}
	return t
}

// defaultTitle names a submission that has no title of its own, in the site's language and
// by the page's title: "Commentaire sur « Le budget »", "Comment on “The budget”" (the
// author has a column of their own).
func (s *Service) defaultTitle(p payload) string {
	what := p.Form
	if spec := s.cfg.Forms[p.Form]; spec != nil && spec.Title != "" {
		what = spec.Title
	}
	fr := !strings.HasPrefix(s.cfg.Language, "en")
	if p.Form == "comment" {
		what = map[bool]string{true: "Commentaire", false: "Comment"}[fr]
	}
	page := p.Options["page"]
	if page == "" {
		return what
	}
	if pg := s.Site().Page(page); pg != nil {
		page = pg.Title
	}
	if fr {
		return what + " sur « " + page + " »"
	}
	return what + " on “" + page + "”"
}

// pageOf finds the page a published file makes or belongs to: a comment belongs to its page,
// a Markdown file is a page itself.
func pageOf(files []string) (ref string, isComment bool) {
	for _, f := range files {
		if strings.HasPrefix(f, "comments/") {
			return strings.TrimPrefix(path.Dir(f), "comments/"), true
		}
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".md") {
			ref := strings.TrimSuffix(f, ".md")
			ref = strings.TrimSuffix(strings.TrimSuffix(ref, "/index"), "/_index")
			return ref, false
		}
	}
	return "", false
}

// markFailed records that a submission cannot become a change, so that moderators and
// operators see it; the queue keeps the item itself.
func (s *Service) markFailed(it queue.Item, cause error) {
	_, err := s.store.Update(it.ID, func(r *store.Record) error { r.Status, r.Error = store.Failed, cause.Error(); return nil })
	if errors.Is(err, store.ErrNotFound) {
		err = s.store.Put(&store.Record{ID: it.ID, Form: it.Kind, Title: it.Kind, Status: store.Failed, Error: cause.Error(), Created: it.Enqueued})
	}
	if err != nil {
		s.log.Error("recording a failed submission", "id", it.ID, "err", err)
	}
}
