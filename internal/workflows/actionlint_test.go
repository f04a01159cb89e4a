package workflows

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/parvis/parvis/internal/testenv"
)

// shellcheck is what actionlint checks the run: scripts with (scripts/test-deps.sh installs
// it); without it, it would leave them unchecked and say nothing.
const shellcheck = "/usr/bin/shellcheck"

func workflowsDir(t *testing.T) string {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, ".github", "workflows")
}

func actionlint(t *testing.T, files ...string) (string, error) {
	t.Helper()
	bin := testenv.Actionlint(t)
	if _, err := os.Stat(shellcheck); err != nil {
		t.Fatalf("no shellcheck at %s: run scripts/test-deps.sh (apt-get install shellcheck)", shellcheck)
	}
	out, err := exec.Command(bin, append([]string{"-no-color", "-shellcheck=" + shellcheck, "-pyflakes="}, files...)...).CombinedOutput()
	return string(out), err
}

// TestActionlint checks every workflow with the pinned actionlint.
func TestActionlint(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(workflowsDir(t), "*.yml"))
	if err != nil || len(files) < 2 {
		t.Fatalf("workflows: %v, %v", files, err)
	}
	if out, err := actionlint(t, files...); err != nil {
		t.Errorf("actionlint: %v\n%s", err, out)
	}
}

// TestActionlintCatches: the check is a real one, and a mistake a workflow could hold (a
// secret's name misspelt as a context, a shell variable unquoted) is told.
func TestActionlintCatches(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yml")
	os.WriteFile(bad, []byte("on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ secret.KEY }}\n      - run: cp $FROM dir/\n"), 0o644)
	out, err := actionlint(t, bad)
	if err == nil || !strings.Contains(out, `undefined variable "secret"`) || !strings.Contains(out, "SC2086") {
		t.Errorf("actionlint on a broken workflow: %v\n%s", err, out)
	}
}

type workflow struct {
	On   map[string]any `yaml:"on"`
	Jobs map[string]struct {
		If          string `yaml:"if"`
		Permissions map[string]string
		Steps       []struct {
			Uses string
			Run  string
			Env  map[string]string
			With map[string]any
		}
	}
}

func load(t *testing.T, name string) workflow {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(workflowsDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	var w workflow
	if err := yaml.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestCI: make test on every push and pull request, with the Go module cache and the cache
// of built test servers.
func TestCI(t *testing.T) {
	w := load(t, "ci.yml")
	if _, ok := w.On["push"]; !ok {
		t.Error("ci.yml does not run on push")
	}
	if _, ok := w.On["pull_request"]; !ok {
		t.Error("ci.yml does not run on pull requests")
	}
	var runs, cached []string
	for _, j := range w.Jobs {
		for _, s := range j.Steps {
			runs = append(runs, s.Run)
			if strings.HasPrefix(s.Uses, "actions/cache@") {
				cached = append(cached, strings.Fields(s.With["path"].(string))...)
			}
		}
	}
	if !slices.Contains(runs, "make test") {
		t.Errorf("ci.yml runs %q, not make test", runs)
	}
	for _, p := range []string{"~/.cache/parvis-test", "/go/pkg/mod", "~/.cache/go-build"} {
		if !slices.Contains(cached, p) {
			t.Errorf("ci.yml does not cache %s (it caches %v)", p, cached)
		}
	}
}

// TestDeployWorkflow: on a push to main, to a bucket with the keys and endpoint as secrets,
// or to GitHub Pages, as the repository variable PARVIS_DEPLOY says.
func TestDeployWorkflow(t *testing.T) {
	w := load(t, "deploy.yml")
	push, _ := w.On["push"].(map[string]any)
	if b, _ := push["branches"].([]any); len(b) != 1 || b[0] != "main" {
		t.Errorf("deploy.yml runs on pushes to %v, want main", push["branches"])
	}
	s3, pages := w.Jobs["s3"], w.Jobs["pages"]
	if s3.If != "vars.PARVIS_DEPLOY == 's3'" || pages.If != "vars.PARVIS_DEPLOY == 'pages'" {
		t.Errorf("the jobs are not switched by PARVIS_DEPLOY: %q, %q", s3.If, pages.If)
	}
	var deployed bool
	for _, s := range s3.Steps {
		if strings.Contains(s.Run, "bin/parvis deploy ") {
			deployed = true
			for k, want := range map[string]string{
				"AWS_ACCESS_KEY_ID": "secrets.", "AWS_SECRET_ACCESS_KEY": "secrets.", "PARVIS_ENDPOINT": "secrets.",
			} {
				if !strings.Contains(s.Env[k], want) {
					t.Errorf("the deploy step's %s is %q, not a secret", k, s.Env[k])
				}
			}
		}
	}
	if !deployed {
		t.Error("the s3 job runs no parvis deploy")
	}
	var uses []string
	for _, s := range pages.Steps {
		uses = append(uses, strings.Split(s.Uses, "@")[0])
	}
	if !slices.Contains(uses, "actions/deploy-pages") || !slices.Contains(uses, "actions/upload-pages-artifact") {
		t.Errorf("the pages job uses %v", uses)
	}
	if pages.Permissions["pages"] != "write" || pages.Permissions["id-token"] != "write" {
		t.Errorf("the pages job's permissions: %v", pages.Permissions)
	}
}
