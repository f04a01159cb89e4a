package main

import (
	"bytes"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
)

// dataFolder resolves --data: the flag when given, else the site's own var/ folder. The
// data folder belongs to the site, not to the folder a command runs from, so that parvis
// serve and parvis moderate given the same --site find the same store wherever they run.
func dataFolder(siteDir, flag string) string {
	if flag != "" {
		return flag
	}
	return filepath.Join(siteDir, "var")
}

// storeExists reports whether data holds a store.
func storeExists(data string) bool {
	_, err := os.Stat(filepath.Join(data, "parvis.db"))
	return err == nil
}

// checkDataFolder keeps a command other than serve from making a second store beside the
// site's: a moderator added to a store no server reads would never log in. With --data
// naming another folder than the site's while a server runs on the site's, it refuses;
// without a store in the folder, only adduser may make one (before the first serve), and
// it says where.
func checkDataFolder(e *env, siteDir, data, flag, action string) error {
	own := dataFolder(siteDir, "")
	if flag != "" && !sameFolder(flag, own) && runningServer(own) != nil {
		return fmt.Errorf("parvis serve runs on this site with the data folder %s, not %s: drop --data, or pass --data %s", own, flag, own)
	}
	if storeExists(data) {
		return nil
	}
	if action != "adduser" {
		return fmt.Errorf("no store in %s: parvis serve --site %s has not run with it yet; pass the --data it was given", data, siteDir)
	}
	fmt.Fprintf(e.stderr, "Making the store of %s in %s (parvis serve --site %s will use it).\n", siteDir, data, siteDir)
	return nil
}

func sameFolder(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == bb
}

// keepOutOfGit adds the data folder to the site repository's own exclude list when the site
// is a Git repository holding it: the folder holds the store's secret, its accounts and the
// e-mail addresses citizens left, which must never be committed, not even by an editor's
// "git add -A". The exclude list is the repository's local one, never pushed.
func keepOutOfGit(siteDir, data string) error {
	gitDir := filepath.Join(siteDir, ".git")
	if fi, err := os.Stat(gitDir); err != nil || !fi.IsDir() {
		return nil
	}
	absSite, err := filepath.Abs(siteDir)
	if err != nil {
		return err
	}
	absData, err := filepath.Abs(data)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(absSite, absData)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return nil // outside the repository
	}
	line := "/" + filepath.ToSlash(rel) + "/"
	excl := filepath.Join(gitDir, "info", "exclude")
	old, err := os.ReadFile(excl)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	for _, l := range strings.Split(string(old), "\n") {
		if strings.TrimSpace(l) == line {
			return nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(excl), 0o755); err != nil {
		return err
	}
	if len(old) > 0 && !bytes.HasSuffix(old, []byte("\n")) {
		old = append(old, '\n')
	}
	return os.WriteFile(excl, append(old, "# Parvis's data folder: private, never committed\n"+line+"\n"...), 0o644)
}

// whoDecides names the moderator a decision made from the command line is recorded under:
// --as, else the system user, so that no decision goes unsigned.
func whoDecides(as string, getenv func(string) string) string {
	if as != "" {
		return as
	}
	for _, k := range []string{"USER", "LOGNAME"} {
		if v := getenv(k); v != "" {
			return v
		}
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return fmt.Sprintf("uid %d", os.Getuid())
}
