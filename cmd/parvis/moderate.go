package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/term"

	"github.com/parvis/parvis/commentsvc"
	"github.com/parvis/parvis/internal/site"
	"github.com/parvis/parvis/internal/store"
)

const moderateUsage = `Usage: parvis moderate <action> [flags]

Actions:
  list                      the submissions awaiting moderation (--status to choose others)
  show ID                   one submission, with its diff and preview
  approve ID                merge it and rebuild the site
  reject ID --reason TEXT   close it; the citizen's receipt shows the reason
  adduser NAME              add a moderator (asks for the password, or reads it with --password-stdin);
                            --email ADDRESS sends them the digest of new submissions
  deluser NAME              remove a moderator
  hash                      print a bcrypt hash of a password, for parvis.yaml

It works on the same store and repository as 'parvis serve --site DIR --data DIR': through the
running server when there is one, directly otherwise.`

func runModerate(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(e.stderr, moderateUsage)
		if len(args) == 0 {
			return usageError{"an action is needed"}
		}
		return nil
	}
	action, args := args[0], args[1:]
	fs := newFlags(e, "moderate "+action, "[flags]", moderateUsage)
	siteDir := fs.String("site", ".", "the site's folder (the one holding parvis.yaml)")
	data := fs.String("data", "", "the service's data folder, as given to parvis serve (default: the site's var/)")
	asJSON := fs.Bool("json", false, "print JSON")
	status := fs.String("status", "pending", "list: the statuses to list, comma-separated, or all")
	reason := fs.String("reason", "", "reject: the reason the citizen will read")
	as := fs.String("as", "", "the moderator's name recorded with the decision (default: the system user)")
	stdinPass := fs.Bool("password-stdin", false, "adduser, hash: read the password from standard input")
	email := fs.String("email", "", "adduser: the moderator's address, for the digest of new submissions (kept in the private store, never in Git)")
	// Flags may come after the ID, as people type them.
	var pos []string
	rest := args
	for len(rest) > 0 {
		if err := parse(e, fs, rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	*as = whoDecides(*as, e.getenv)
	need := map[string]int{"list": 0, "show": 1, "approve": 1, "reject": 1, "adduser": 1, "deluser": 1, "hash": 0}
	n, ok := need[action]
	if !ok {
		fmt.Fprintln(e.stderr, moderateUsage)
		return usageError{fmt.Sprintf("unknown action %q", action)}
	}
	if len(pos) != n {
		return usageError{fmt.Sprintf("%s takes %d argument(s), got %d", action, n, len(pos))}
	}
	if action == "hash" {
		pw, err := readPassword(e, *stdinPass)
		if err != nil {
			return err
		}
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, string(h))
		return nil
	}

	dataDir := dataFolder(*siteDir, *data)
	if err := checkDataFolder(e, *siteDir, dataDir, *data, action); err != nil {
		return err
	}
	m, closeFn, err := moderatorFor(ctx, *siteDir, dataDir, e)
	if err != nil {
		return err
	}
	defer closeFn()
	// Times are read by people: in the site's time zone, which is named, as /admin/ shows them.
	loc := time.Local
	if cfg, err := site.LoadConfig(os.DirFS(*siteDir)); err == nil && cfg.Location != nil {
		loc = cfg.Location
	}
	when := func(t time.Time, layout string) string { return t.In(loc).Format(layout) }
	switch action {
	case "list":
		var sts []store.Status
		if *status != "all" {
			for _, s := range strings.Split(*status, ",") {
				sts = append(sts, store.Status(strings.TrimSpace(s)))
			}
		}
		l, err := m.list(ctx, sts)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, l)
		}
		if len(l) == 0 {
			fmt.Fprintln(e.stdout, "Nothing to moderate.")
			return nil
		}
		tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATUS\tFORM\tPAGE\tAUTHOR\tRECEIVED\tTITLE")
		for _, r := range l {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Status, r.Form, r.Page, r.Author, when(r.Created, "2006-01-02 15:04 MST"), r.Title)
		}
		return tw.Flush()
	case "show":
		sub, err := m.show(ctx, pos[0])
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, sub)
		}
		r := sub.Record
		fmt.Fprintf(e.stdout, "%s  %s  %s\nForm: %s\nPage: %s\nAuthor: %s\nReceived: %s\n", r.ID, r.Status, r.Title, r.Form, r.Page, r.Author, when(r.Created, "Mon 2 Jan 2006 15:04 MST"))
		if len(r.Signals) > 0 {
			fmt.Fprintf(e.stdout, "Signals: %s\n", strings.Join(r.Signals, ", "))
		}
		if r.Reason != "" {
			fmt.Fprintf(e.stdout, "Reason: %s\n", r.Reason)
		}
		if r.URL != "" {
			fmt.Fprintf(e.stdout, "Published at: %s\n", r.URL)
		}
		if sub.Diff != "" {
			fmt.Fprintf(e.stdout, "\n%s", sub.Diff)
		}
		return nil
	case "approve":
		r, err := m.approve(ctx, pos[0], *as)
		if err != nil {
			return err
		}
		return report(e, *asJSON, r, "Approved %s: %s\n")
	case "reject":
		if strings.TrimSpace(*reason) == "" {
			return usageError{"reject needs --reason: the citizen's receipt shows it"}
		}
		r, err := m.reject(ctx, pos[0], *as, *reason)
		if err != nil {
			return err
		}
		return report(e, *asJSON, r, "Rejected %s: %s\n")
	case "adduser":
		if err := commentsvc.CheckEmail(*email); err != nil {
			return usageError{"--email: " + err.Error()}
		}
		pw, err := readPassword(e, *stdinPass)
		if err != nil {
			return err
		}
		if len(pw) < 12 {
			return errors.New("the password must be at least 12 characters long")
		}
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
		if err != nil {
			return err
		}
		if err := m.addUser(ctx, pos[0], string(h), *email); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Moderator %s can now log in at /admin/.\n", pos[0])
		if *email != "" {
			fmt.Fprintf(e.stdout, "The digest of new submissions goes to %s.\n", *email)
		}
		return nil
	case "deluser":
		if err := m.delUser(ctx, pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Moderator %s removed.\n", pos[0])
		return nil
	}
	return nil
}

func report(e *env, asJSON bool, r *store.Record, format string) error {
	if asJSON {
		return printJSON(e.stdout, r)
	}
	fmt.Fprintf(e.stdout, format, r.ID, r.Title)
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// readPassword reads a password from the terminal without echo, or from standard input.
func readPassword(e *env, fromStdin bool) (string, error) {
	if !fromStdin {
		if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			fmt.Fprint(e.stderr, "Password: ")
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(e.stderr)
			return string(b), err
		}
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password given")
	}
	return line, nil
}

// moderator is what the command does, through a running server or on the store directly.
type moderator interface {
	list(ctx context.Context, statuses []store.Status) ([]*store.Record, error)
	show(ctx context.Context, id string) (*commentsvc.Submission, error)
	approve(ctx context.Context, id, as string) (*store.Record, error)
	reject(ctx context.Context, id, as, reason string) (*store.Record, error)
	addUser(ctx context.Context, name, hash, email string) error
	delUser(ctx context.Context, name string) error
}

// moderatorFor goes through the running server when one answers; otherwise it opens the store
// itself (bbolt allows one process at a time).
func moderatorFor(ctx context.Context, siteDir, data string, e *env) (moderator, func(), error) {
	if r := runningServer(data); r != nil {
		return r, func() {}, nil
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := openStore(siteDir, data, log)
	if errors.Is(err, errLocked) {
		// The server holds the store: it is starting, or answered too slowly. Ask it again.
		if r := runningServer(data); r != nil {
			return r, func() {}, nil
		}
		return nil, nil, fmt.Errorf("%w, and it does not answer: is 'parvis serve' starting or stopping? Try again in a moment", err)
	}
	if err != nil {
		return nil, nil, err
	}
	s, err := site.Load(os.DirFS(st.repoDir), site.Options{})
	if err != nil {
		st.close()
		return nil, nil, err
	}
	st.site = s
	svc, err := st.service()
	if err != nil {
		st.close()
		return nil, nil, err
	}
	return &localModerator{svc: svc}, st.close, nil
}

type localModerator struct{ svc *commentsvc.Service }

func (l *localModerator) list(ctx context.Context, sts []store.Status) ([]*store.Record, error) {
	return l.svc.List("", 0, sts...)
}
func (l *localModerator) show(ctx context.Context, id string) (*commentsvc.Submission, error) {
	return l.svc.Get(ctx, id)
}
func (l *localModerator) approve(ctx context.Context, id, as string) (*store.Record, error) {
	if _, err := l.svc.Approve(ctx, id, as); err != nil {
		return nil, err
	}
	// No server runs the rebuild: do it now, so that the site shows the approval.
	if err := l.svc.Publish(ctx); err != nil {
		return nil, fmt.Errorf("approved, but the site could not be rebuilt: %w", err)
	}
	sub, err := l.svc.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return sub.Record, nil
}
func (l *localModerator) reject(ctx context.Context, id, as, reason string) (*store.Record, error) {
	return l.svc.Reject(ctx, id, as, reason)
}
func (l *localModerator) addUser(ctx context.Context, name, hash, email string) error {
	if err := l.svc.AddModerator(name, hash); err != nil {
		return err
	}
	return l.svc.SetModeratorEmail(name, email)
}
func (l *localModerator) delUser(ctx context.Context, name string) error {
	return l.svc.DeleteModerator(name)
}

// remoteModerator talks to the running server's admin API.
type remoteModerator struct {
	base, token string
	client      *http.Client
}

func runningServer(data string) *remoteModerator {
	b, err := os.ReadFile(filepath.Join(data, "serve.json"))
	if err != nil {
		return nil
	}
	var info struct {
		URL string `json:"url"`
	}
	if json.Unmarshal(b, &info) != nil || info.URL == "" {
		return nil
	}
	tok, err := os.ReadFile(filepath.Join(data, "admin.token"))
	if err != nil {
		return nil
	}
	c := &http.Client{Timeout: 2 * time.Minute}
	// A server under load may take a while to answer; one that is gone refuses at once.
	probe := &http.Client{Timeout: 15 * time.Second}
	res, err := probe.Get(info.URL + "/healthz")
	if err != nil {
		return nil
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil
	}
	return &remoteModerator{base: info.URL, token: fmt.Sprintf("%x", tok), client: c}
}

func (r *remoteModerator) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.NewDecoder(res.Body).Decode(&e)
		if e.Error == "" {
			e.Error = res.Status
		}
		return errors.New(e.Error)
	}
	if out != nil {
		return json.NewDecoder(res.Body).Decode(out)
	}
	return nil
}

func (r *remoteModerator) list(ctx context.Context, sts []store.Status) ([]*store.Record, error) {
	q := url.Values{}
	for _, s := range sts {
		q.Add("status", string(s))
	}
	var l []*store.Record
	return l, r.do(ctx, "GET", "/admin/api/submissions?"+q.Encode(), nil, &l)
}
func (r *remoteModerator) show(ctx context.Context, id string) (*commentsvc.Submission, error) {
	var s commentsvc.Submission
	return &s, r.do(ctx, "GET", "/admin/api/submissions/"+url.PathEscape(id), nil, &s)
}
func (r *remoteModerator) approve(ctx context.Context, id, as string) (*store.Record, error) {
	var rec store.Record
	return &rec, r.do(ctx, "POST", "/admin/api/submissions/"+url.PathEscape(id)+"/approve?moderator="+url.QueryEscape(as), nil, &rec)
}
func (r *remoteModerator) reject(ctx context.Context, id, as, reason string) (*store.Record, error) {
	var rec store.Record
	return &rec, r.do(ctx, "POST", "/admin/api/submissions/"+url.PathEscape(id)+"/reject", map[string]string{"reason": reason, "moderator": as}, &rec)
}
func (r *remoteModerator) addUser(ctx context.Context, name, hash, email string) error {
	return r.do(ctx, "PUT", "/admin/api/moderators/"+url.PathEscape(name), map[string]string{"hash": hash, "email": email}, nil)
}
func (r *remoteModerator) delUser(ctx context.Context, name string) error {
	return r.do(ctx, "DELETE", "/admin/api/moderators/"+url.PathEscape(name), nil, nil)
}
