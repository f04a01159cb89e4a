package commentsvc

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parvis/parvis/internal/antispam"
	"github.com/parvis/parvis/internal/forms"
	"github.com/parvis/parvis/internal/queue"
)

// payload is what the queue keeps of a submission: everything but the uploads' bytes,
// which wait in the blob store.
type payload struct {
	Form     string            `json:"form"`
	Fields   map[string]string `json:"fields"`
	Private  map[string]string `json:"private,omitempty"`
	Options  map[string]string `json:"options,omitempty"`
	Uploads  []uploadRef       `json:"uploads,omitempty"`
	Signals  []string          `json:"signals,omitempty"`
	Received time.Time         `json:"received"`
}

type uploadRef struct {
	Field     string `json:"field"`
	MediaType string `json:"media_type"`
	Ext       string `json:"ext"`
	Width     int    `json:"width,omitempty"`
	Height    int    `json:"height,omitempty"`
	Key       string `json:"key"` // in the blob store
}

// memoryForms caps what a multipart body keeps in memory; the rest goes to temporary files.
// Uploads wait their turn to be checked (a few documents at a time), each holding this much
// at most, so that fifty in flight stay within the server's memory.
const memoryForms = 1 << 20

// handleEntry takes one submission: POST /api/v1/entries/{form}.
func (s *Service) handleEntry(w http.ResponseWriter, r *http.Request) {
	s.intake(w, r, r.PathValue("form"))
}

// handleStaticman takes Staticman's route, so that existing themes' forms work unchanged:
// the property is the form's name; the repository and branch are the service's own.
// Staticman's own options (its origin field, reCAPTCHA keys) mean nothing here and are
// dropped before the strict allowlist sees them.
func (s *Service) handleStaticman(w http.ResponseWriter, r *http.Request) {
	s.intake(w, r, r.PathValue("property"))
}

// staticmanOnly reports keys that Staticman's forms send for Staticman itself.
func staticmanOnly(key string) bool {
	return key == "options[origin]" || key == "g-recaptcha-response" ||
		strings.HasPrefix(key, "options[reCaptcha]") || key == "options[subscribe]"
}

// intake is decode → policy → anti-spam → store → answer. Nothing is kept unless every
// check passes, and the answer is sent only once the submission is on disk.
func (s *Service) intake(w http.ResponseWriter, r *http.Request, name string) {
	start := s.now()
	lang := s.cfg.Language
	f, ok := s.forms[name]
	if !ok {
		s.metrics.rejected("_unknown", "unknown_form") // not the name: any path would make a series
		s.fail(w, r, http.StatusNotFound, "unknown_form", msg(lang, "unknown_form", name), nil)
		return
	}
	s.metrics.received(name)
	s.intakes.Add(1)
	s.cors(w, r)
	if !s.originAllowed(r) {
		s.metrics.rejected(name, "origin")
		s.fail(w, r, http.StatusForbidden, "origin", msg(lang, "origin"), nil)
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" && mt != "multipart/form-data" {
		s.metrics.rejected(name, "media_type")
		s.fail(w, r, http.StatusUnsupportedMediaType, "media_type", msg(lang, "media_type"), nil)
		return
	}
	// A flood from one address is cut here, before its body is read, let alone its uploads
	// checked: the rest of the anti-spam rules need the body, this one does not.
	if wait, ok := s.checker.Admit(clientIP(r), start); !ok {
		s.metrics.rejected(name, antispam.ReasonRateIP)
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second)/time.Second)+1))
		s.fail(w, r, http.StatusTooManyRequests, antispam.ReasonRateIP, msg(lang, "rate"), nil)
		return
	}
	if r.ContentLength > f.MaxBytes() {
		s.metrics.rejected(name, "too_large")
		s.failTooLarge(w, r, msg(lang, "too_large", f.MaxBytes()/1000))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, f.MaxBytes())
	var values url.Values
	var err error
	if mt == "multipart/form-data" {
		err = r.ParseMultipartForm(memoryForms)
		if r.MultipartForm != nil {
			defer r.MultipartForm.RemoveAll()
			values = url.Values(r.MultipartForm.Value)
		}
	} else {
		values, err = readURLEncoded(r.Body, r.ContentLength)
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.metrics.rejected(name, "too_large")
			s.fail(w, r, http.StatusRequestEntityTooLarge, "too_large", msg(lang, "too_large", f.MaxBytes()/1000), nil)
			return
		}
		s.metrics.rejected(name, "malformed")
		s.fail(w, r, http.StatusBadRequest, "malformed", msg(lang, "malformed"), nil)
		return
	}
	if r.PathValue("property") != "" {
		for k := range values {
			if staticmanOnly(k) {
				delete(values, k)
			}
		}
	}
	sub, problems := f.Decode(values, multipartFiles(r))
	if len(problems) > 0 {
		status, reason := problems.Status(), problems.Reason()
		fields := make(map[string]string, len(problems))
		for key := range problems {
			fields[key] = problems.Message(key, lang)
		}
		s.metrics.rejected(name, reason)
		s.failForm(w, r, values, status, reason, msg(lang, reason), fields)
		return
	}
	// The page must exist and take submissions; a reply must answer a published comment.
	if code, ok := s.checkTarget(name, sub); !ok {
		s.metrics.rejected(name, code)
		s.failForm(w, r, values, http.StatusUnprocessableEntity, code, msg(lang, code), nil)
		return
	}
	// The key is known before the check, so that a resend of this very submission passes
	// on its spent token, for the queue to answer as a duplicate.
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		key = idempotencyKey(name, sub, antispam.Issued(sub.Options["token"]))
	} else {
		key = "h:" + key
	}
	verdict := s.checker.Check(antispam.Submission{
		Form:     name,
		Page:     sub.Options["page"],
		IP:       clientIP(r),
		Token:    sub.Options["token"],
		PoW:      sub.Options["pow"],
		Question: sub.Options["question"],
		Answer:   sub.Options["answer"],
		Honeypot: sub.Honeypot,
		Texts:    s.texts(name, sub),
		Key:      key,
		Admitted: true,
	}, start)
	if !verdict.OK {
		s.metrics.rejected(name, verdict.Reason)
		if verdict.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(verdict.RetryAfter.Round(time.Second)/time.Second)+1))
			s.failForm(w, r, values, http.StatusTooManyRequests, verdict.Reason, msg(lang, "rate"), nil)
			return
		}
		if !wantsJSON(r) && confirmable(verdict.Reason) {
			// A person without JavaScript: a page that asks the token's question.
			s.confirm(w, r, name, values, verdict.Reason)
			return
		}
		s.failForm(w, r, values, http.StatusUnprocessableEntity, verdict.Reason, msg(lang, "spam_"+verdict.Reason), nil)
		return
	}

	id := queue.NewID()
	p := payload{Form: name, Fields: sub.Fields, Private: sub.Private, Options: publicOptions(sub.Options), Signals: verdict.Signals, Received: start.UTC()}
	for _, u := range sub.Uploads {
		for _, l := range u.Links {
			p.Signals = append(p.Signals, docLinkSignal+l) // for the moderator: where a reader may be sent
		}
	}
	// dropUploads removes what this request stored, when it ends without a new item.
	dropUploads := func() {
		for _, u := range p.Uploads {
			_ = s.blobs.Delete(context.WithoutCancel(r.Context()), u.Key)
		}
	}
	for i, u := range sub.Uploads {
		key := fmt.Sprintf("uploads/%s/%d", id, i)
		if err := s.blobs.Put(r.Context(), key, u.Data); err != nil {
			s.log.Error("keeping an upload", "err", err)
			dropUploads()
			s.failForm(w, r, values, http.StatusServiceUnavailable, "unavailable", msg(lang, "unavailable"), nil)
			return
		}
		p.Uploads = append(p.Uploads, uploadRef{Field: u.Field, MediaType: u.MediaType, Ext: u.Ext, Width: u.Width, Height: u.Height, Key: key})
	}
	data, err := json.Marshal(p)
	if err != nil {
		dropUploads()
		s.failForm(w, r, values, http.StatusInternalServerError, "internal", msg(lang, "unavailable"), nil)
		return
	}
	got, err := s.queue.Put(r.Context(), queue.Item{ID: id, Key: key, Kind: name, Payload: data})
	switch {
	case errors.Is(err, queue.ErrDuplicate):
		// The same form sent again: answer as the first time, and drop the new uploads.
		dropUploads()
		s.metrics.duplicate(name)
		id = got
	case err != nil:
		// The uploads stay: the item may have reached the disk all the same (a commit that
		// failed to report), and a blob left over costs less than a submission without its
		// file.
		s.log.Error("queueing a submission", "form", name, "err", err)
		w.Header().Set("Retry-After", "5")
		s.failForm(w, r, values, http.StatusServiceUnavailable, "unavailable", msg(lang, "unavailable"), nil)
		return
	default:
		s.metrics.accepted(name, s.now().Sub(start))
	}
	s.sent(w, r, id, name, sub)
}

// bodies lends the buffers urlencoded bodies are read into.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readURLEncoded reads an urlencoded body (its size capped by the caller) and parses it as
// Request.ParseForm would, but reads it into a buffer of its known size and keeps the values
// of the body alone, with no copy merged with the URL's query: it is the path of every
// comment.
func readURLEncoded(body io.Reader, size int64) (url.Values, error) {
	buf := bodies.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 64<<10 {
			buf.Reset()
			bodies.Put(buf)
		}
	}()
	if size > 0 {
		buf.Grow(int(size) + bytes.MinRead) // ReadFrom wants MinRead bytes free before each read
	}
	if _, err := buf.ReadFrom(body); err != nil {
		return nil, err
	}
	return url.ParseQuery(buf.String())
}

func multipartFiles(r *http.Request) map[string][]*multipart.FileHeader {
	if r.MultipartForm == nil {
		return nil
	}
	return r.MultipartForm.File
}

// publicOptions drops the anti-spam options and a shared dossier's token: they have served.
func publicOptions(o map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range o {
		switch k {
		case "token", "pow", "question", "answer", "share":
		default:
			out[k] = v
		}
	}
	return out
}

// idempotencyKey identifies a submission by its form, its anti-spam token (one per page
// load) and its content, so that a form sent twice — a double click, a resent POST after a
// network error — makes one change. Two people writing the same words from two page loads
// have two tokens, hence two keys.
//
// The key is an entry of the queue's index of keys, where hashes land anywhere and each new
// one rewrites a page: 128 bits of the hash tell submissions apart as surely as a UUID, in a
// third of the hexadecimal digest's bytes, so that more keys share a page.
//
// The key starts with the token's issue time, so that keys mostly grow with time: the
// queue's index of keys then takes each new one at its end, not on a page of its own.
func idempotencyKey(form string, sub *forms.Submission, issued time.Time) string {
	b := make([]byte, 0, 1024)
	part := func(s string) { b = append(append(b, s...), 0) }
	write := func(kind string, m map[string]string) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			part(kind)
			part(k)
			part(strconv.Itoa(len(m[k])))
			part(m[k])
		}
	}
	part(form)
	write("f", sub.Fields)
	write("p", sub.Private)
	write("o", publicOptions(sub.Options))
	part("t")
	part(sub.Options["token"])
	for _, u := range sub.Uploads {
		sum := sha256.Sum256(u.Data)
		part("u")
		part(u.Field)
		part(hex.EncodeToString(sum[:]))
	}
	sum := sha256.Sum256(b)
	key := make([]byte, 0, 48)
	key = append(key, "k:"...)
	if !issued.IsZero() {
		key = fmt.Appendf(key, "%011x:", issued.UnixMilli()) // fixed width: sorts as time
	}
	return string(base64.RawURLEncoding.AppendEncode(key, sum[:16]))
}

// texts are the free-text fields, which the link and word rules read (a URL field is not
// free text: an event's registration link is not spam).
func (s *Service) texts(form string, sub *forms.Submission) []string {
	spec := s.cfg.Forms[form]
	var out []string
	for _, name := range spec.FieldOrder() {
		switch spec.Fields[name].Type {
		case "text", "textarea", "markdown":
			if v := sub.Fields[name]; v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// checkTarget checks the page a submission is about and the comment it answers.
func (s *Service) checkTarget(form string, sub *forms.Submission) (code string, ok bool) {
	ref, hasPage := sub.Options["page"]
	if !hasPage {
		return "", true
	}
	st := s.Site()
	p := st.Page(ref)
	if p == nil {
		// A page of a shared dossier takes its members' submissions (admin_share.go).
		var code string
		if p, code = s.sharedTarget(st, ref, sub.Options["share"]); p == nil {
			return code, false
		}
	}
	if form == "comment" && !p.Comments {
		return "comments_closed", false
	}
	if parent := sub.Options["parent"]; parent != "" {
		if !hasComment(st.Comments[ref], parent) {
			return "unknown_parent", false
		}
	}
	return "", true
}

// originAllowed refuses a browser's cross-site post: a form must come from the site (or the
// service itself). Requests without Origin (not sent by a browser) pass: they could forge it.
func (s *Service) originAllowed(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	for _, ok := range s.allowedOrigins(r) {
		if strings.EqualFold(o, ok) {
			return true
		}
	}
	return false
}

// allowedOrigins are the site's and the service's configured origins, those the service is
// reached at directly (WithPublicURL), and that of the socket the request came in on: the
// embedded default serves site and service together, on whatever address the operator
// chose. Never the request's Host header, which the client writes.
func (s *Service) allowedOrigins(r *http.Request) []string {
	l := make([]string, 0, 4+len(s.public))
	if so := s.siteOrigin(); so != "" {
		l = append(l, so)
	}
	if o := origin(s.base); o != "" {
		l = append(l, o)
	}
	l = append(l, s.public...)
	return append(l, localOrigins(r)...)
}

// cors lets the site's pages, served from another origin than the service, read the answer.
func (s *Service) cors(w http.ResponseWriter, r *http.Request) {
	o := r.Header.Get("Origin")
	if o == "" {
		return
	}
	for _, ok := range s.allowedOrigins(r) {
		if strings.EqualFold(o, ok) {
			w.Header().Set("Access-Control-Allow-Origin", o)
			w.Header().Add("Vary", "Origin")
			return
		}
	}
}

func (s *Service) handlePreflight(w http.ResponseWriter, r *http.Request) {
	s.cors(w, r)
	w.Header().Set("Access-Control-Allow-Methods", "POST")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type, Accept, Idempotency-Key")
	w.Header().Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// receiptToken is the secret part of a receipt's address. It is derived from the ID with
// the service's key, so that nothing needs storing and a resent form gets the same address.
func (s *Service) receiptToken(id string) string {
	m, _ := s.macs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, s.secret)
	}
	m.Reset()
	m.Write([]byte("receipt\x00"))
	m.Write([]byte(id))
	var sum [sha256.Size]byte
	token := base64.RawURLEncoding.EncodeToString(m.Sum(sum[:0])[:18])
	s.macs.Put(m)
	return token
}

func (s *Service) validReceipt(id, token string) bool {
	return token != "" && hmac.Equal([]byte(token), []byte(s.receiptToken(id)))
}

func (s *Service) statusURL(r *http.Request, id string) string {
	return s.absURL(r, "/api/v1/submissions/"+id+"?token="+s.receiptToken(id))
}

// accepted answers a stored submission: 202 JSON, or 303 to the redirect or the receipt.
func (s *Service) accepted(w http.ResponseWriter, r *http.Request, id, redirect string) {
	status := s.statusURL(r, id)
	if wantsJSON(r) {
		// Written by hand: it is the answer to every accepted submission, and the values are
		// an ID (letters and digits) and a URL, escaped as JSON requires.
		b := make([]byte, 0, 64+len(id)+len(status))
		b = append(b, `{"id":`...)
		b = strconv.AppendQuote(b, id)
		b = append(b, `,"status":"pending","status_url":`...)
		b = appendJSONString(b, status)
		b = append(b, "}\n"...)
		h := w.Header()
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write(b)
		return
	}
	target := status
	if redirect != "" && s.safeRedirect(r, redirect) {
		target = redirect
	}
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusSeeOther)
}

// safeRedirect allows only the site's own addresses, so that the service cannot be used
// to send people elsewhere.
func (s *Service) safeRedirect(r *http.Request, target string) bool {
	u, err := url.Parse(target)
	if err != nil || strings.HasPrefix(target, "//") || strings.ContainsAny(target, "\r\n\\") {
		return false
	}
	if !u.IsAbs() {
		return strings.HasPrefix(target, "/")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return false
	}
	origin := u.Scheme + "://" + u.Host
	for _, ok := range s.allowedOrigins(r) {
		if strings.EqualFold(origin, ok) {
			return true
		}
	}
	return false
}

// appendJSONString appends s as a JSON string, escaping what JSON and HTML require.
func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // escapes <, > and & too, as writeJSON does
	return append(b, q...)
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}
