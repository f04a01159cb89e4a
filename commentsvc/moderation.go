package commentsvc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"path"
	"regexp"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/parvis/parvis/internal/forge"
	"github.com/parvis/parvis/internal/site"
	"github.com/parvis/parvis/internal/store"
)

// Errors of moderation, for the pages and the command line.
var (
	ErrNotFound   = errors.New("no such submission")
	ErrNotPending = errors.New("the submission is not awaiting moderation")
	ErrConflict   = errors.New("the submission conflicts with the site's current content")
	ErrOrphan     = errors.New("the comment answered is not published")
	ErrReason     = errors.New("a rejection needs a reason of at most 1,000 characters: the citizen's receipt shows it")
)

// Submission is a pending submission as a moderator sees it.
type Submission struct {
	*store.Record
	Diff    string        `json:"diff,omitempty"`
	Preview template.HTML `json:"preview,omitempty"` // the rendered Markdown, sanitized
	Files   []FilePreview `json:"file_previews,omitempty"`
	Page    *site.Page    `json:"-"`
}

// FilePreview is one file of a change.
type FilePreview struct {
	Path  string `json:"path"`
	Text  string `json:"text,omitempty"` // the file, when it is text
	Image bool   `json:"image,omitempty"`
	Size  int    `json:"size"`
}

// List returns submissions with the given statuses (all when none), newest first.
func (s *Service) List(before string, n int, statuses ...store.Status) ([]*store.Record, error) {
	return s.store.List(before, n, statuses...)
}

// Get returns a submission with, while it is pending, its diff and a rendered preview.
func (s *Service) Get(ctx context.Context, id string) (*Submission, error) {
	rec, err := s.store.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	sub := &Submission{Record: rec}
	if rec.Page != "" {
		sub.Page = s.Site().Page(rec.Page)
	}
	if rec.Status != store.Pending {
		return sub, nil
	}
	if sub.Diff, err = s.forge.Diff(ctx, id); err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	p, err := s.forge.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	var preview bytes.Buffer
	for _, f := range p.Files {
		fp := FilePreview{Path: f.Path, Size: len(f.Data)}
		switch strings.ToLower(path.Ext(f.Path)) {
		case ".md", ".yaml", ".yml", ".txt":
			fp.Text = string(f.Data)
			if err := s.renderPreview(&preview, f); err != nil {
				s.log.Warn("preview", "id", id, "file", f.Path, "err", err)
			}
		case ".jpg", ".jpeg", ".png", ".gif":
			fp.Image = true
		}
		sub.Files = append(sub.Files, fp)
	}
	sub.Preview = template.HTML(preview.String()) // a citizen's text, sanitized (preview.go)
	return sub, nil
}

// Approve lands a pending submission on the main branch and has the site rebuilt. moderator
// names who decided ("" for an unmoderated form).
func (s *Service) Approve(ctx context.Context, id, moderator string) (*store.Record, error) {
	rec, err := s.store.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if rec.Status != store.Pending {
		return rec, ErrNotPending
	}
	// A reply whose parent is not on the site would stop the build: refuse it.
	if err := s.checkParent(ctx, id, rec); err != nil {
		return rec, err
	}
	commit, err := s.forge.Approve(ctx, id)
	switch {
	case err == nil:
	case commit != "":
		// The change landed and a later step failed (the worktree's update): it is approved
		// all the same, and the rebuild will show it.
		s.log.Warn("approved with a later fault", "id", id, "commit", commit, "err", err)
	case errors.Is(err, forge.ErrConflict):
		return rec, ErrConflict
	case errors.Is(err, forge.ErrNotFound), errors.Is(err, forge.ErrClosed):
		return rec, ErrNotPending
	default:
		return rec, err
	}
	rec, err = s.store.Update(id, func(r *store.Record) error {
		r.Status, r.Moderator = store.Approved, moderator
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.metrics.moderation.WithLabelValues("approve").Inc()
	s.requestRebuild()
	return rec, nil
}

func (s *Service) checkParent(ctx context.Context, id string, rec *store.Record) error {
	if rec.Form != "comment" || rec.Page == "" {
		return nil
	}
	p, err := s.forge.Get(ctx, id)
	if err != nil {
		return nil // the forge's own answer comes with Approve
	}
	for _, f := range p.Files {
		c, err := site.ParseComment(f.Path, f.Data, s.cfg.Location)
		if err != nil || c.Parent == "" {
			continue
		}
		if !hasComment(s.Site().Comments[rec.Page], c.Parent) {
			return ErrOrphan
		}
	}
	return nil
}

// Reject closes a pending submission with a reason the citizen's receipt shows.
func (s *Service) Reject(ctx context.Context, id, moderator, reason string) (*store.Record, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > 1000 {
		return nil, ErrReason
	}
	rec, err := s.store.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if rec.Status != store.Pending {
		return rec, ErrNotPending
	}
	if err := s.forge.Reject(ctx, id, reason); err != nil && !errors.Is(err, forge.ErrNotFound) && !errors.Is(err, forge.ErrClosed) {
		return rec, err
	}
	rec, err = s.store.Update(id, func(r *store.Record) error {
		r.Status, r.Reason, r.Moderator = store.Rejected, reason, moderator
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.metrics.moderation.WithLabelValues("reject").Inc()
	s.notify(ctx, rec)
	return rec, nil
}

// watch follows the forge for merges and closures made elsewhere (plain Git, the forge's own
// pages) and brings the records in step.
func (s *Service) watch(ctx context.Context) error {
	err := s.forge.Watch(ctx, func(ev forge.Event) {
		switch ev.Kind {
		case forge.Merged:
			if _, err := s.store.Update(ev.ID, func(r *store.Record) error {
				if r.Status != store.Pending {
					return ErrNotPending
				}
				r.Status = store.Approved
				return nil
			}); err == nil {
				s.metrics.moderation.WithLabelValues("merged_elsewhere").Inc()
				s.requestRebuild()
			}
		case forge.Closed:
			if rec, err := s.store.Update(ev.ID, func(r *store.Record) error {
				if r.Status != store.Pending {
					return ErrNotPending
				}
				r.Status, r.Reason = store.Rejected, msg(s.cfg.Language, "closed_elsewhere")
				return nil
			}); err == nil {
				s.metrics.moderation.WithLabelValues("closed_elsewhere").Inc()
				s.notify(ctx, rec)
			}
		}
	})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// reconcile brings pending records in step with the forge after a restart: Watch reports
// only what happens while it runs, and a change may have been merged or closed with plain
// Git, or on the forge's pages, while the service was down. A change that is no longer
// pending counts as merged when the site as built shows it, and as closed otherwise.
func (s *Service) reconcile(ctx context.Context) error {
	recs, err := s.store.List("", 0, store.Pending)
	if err != nil {
		return err
	}
	built := s.Site()
	merged := 0
	for _, rec := range recs {
		if ctx.Err() != nil {
			return nil
		}
		_, err := s.forge.Get(ctx, rec.ID)
		if err == nil || !errors.Is(err, forge.ErrNotFound) && !errors.Is(err, forge.ErrClosed) {
			continue // still pending, or the forge cannot tell now: Watch or a later start will
		}
		if shows(built, rec) {
			if _, err := s.store.Update(rec.ID, func(r *store.Record) error { r.Status = store.Approved; return nil }); err == nil {
				merged++
			}
			continue
		}
		if r, err := s.store.Update(rec.ID, func(r *store.Record) error {
			r.Status, r.Reason = store.Rejected, msg(s.cfg.Language, "closed_elsewhere")
			return nil
		}); err == nil {
			s.notify(ctx, r)
		}
	}
	if merged > 0 {
		s.requestRebuild()
	}
	return nil
}

// shows reports whether the site holds what a submission's change writes.
func shows(built *site.Site, rec *store.Record) bool {
	if built == nil {
		return false
	}
	ref, isComment := pageOf(rec.Files)
	if isComment {
		return hasComment(built.Comments[ref], rec.ID)
	}
	return ref != "" && built.Page(ref) != nil
}

func (s *Service) requestRebuild() {
	select {
	case s.rebuildCh <- struct{}{}:
	default: // one is already asked for: it will include this approval
	}
}

func (s *Service) requestRebuildIfApproved() {
	if l, err := s.store.List("", 1, store.Approved); err == nil && len(l) > 0 {
		s.requestRebuild()
	}
}

// rebuilder rebuilds the site after approvals, one rebuild at a time, folding the requests
// that arrive meanwhile into the next one.
func (s *Service) rebuilder(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.rebuildCh:
		}
		if err := s.Publish(context.WithoutCancel(ctx)); err != nil {
			s.log.Error("rebuilding the site", "err", err)
		}
	}
}

// Publish rebuilds the site and marks the approved submissions it now shows as published.
// Run calls it after approvals; a caller that does not run the service (the command line
// with no server) calls it itself.
func (s *Service) Publish(ctx context.Context) error {
	approved, err := s.store.List("", 0, store.Approved)
	if err != nil {
		return err
	}
	if s.rebuild == nil {
		return errors.New("no rebuild function (WithRebuild)")
	}
	start := time.Now()
	built, err := s.rebuild(ctx)
	s.metrics.rebuildDur.Observe(time.Since(start).Seconds())
	if err != nil {
		s.metrics.rebuilds.WithLabelValues("error").Inc()
		return err
	}
	s.metrics.rebuilds.WithLabelValues("ok").Inc()
	s.current.Store(built)
	s.log.Info("site rebuilt", "took", time.Since(start).Round(time.Millisecond), "published", len(approved))
	for _, a := range approved {
		url := s.publishedURL(built, a)
		rec, err := s.store.Update(a.ID, func(r *store.Record) error {
			r.Status, r.URL = store.Published, url
			return nil
		})
		if err != nil {
			s.log.Error("marking a submission published", "id", a.ID, "err", err)
			continue
		}
		s.notify(ctx, rec)
	}
	return nil
}

// publishedURL is where a published submission can be seen: its page, at the comment's anchor.
func (s *Service) publishedURL(built *site.Site, rec *store.Record) string {
	ref, isComment := pageOf(rec.Files)
	p := built.Page(ref)
	if p == nil {
		return ""
	}
	u := built.Config.AbsURL(p.URL)
	if isComment {
		u += "#comment-" + rec.ID
	}
	return u
}

var moderatorName = regexp.MustCompile(`^[a-z][a-z0-9_.-]{1,39}$`)

// AddModerator adds or replaces an account of the moderation pages, kept in the private
// store. hash is a bcrypt hash of the password.
func (s *Service) AddModerator(name, hash string) error {
	if !moderatorName.MatchString(name) {
		return fmt.Errorf("%q: a moderator's name is 2 to 40 lower-case letters, digits, '.', '-' or '_'", name)
	}
	if _, err := bcrypt.Cost([]byte(hash)); err != nil {
		return fmt.Errorf("not a bcrypt hash: %v", err)
	}
	return s.store.PutModerator(store.Moderator{Name: name, Hash: hash})
}

// DeleteModerator removes an account kept in the private store, and its sessions.
func (s *Service) DeleteModerator(name string) error { return s.store.DeleteModerator(name) }
