package forms

import (
	"bytes"
	"mime/multipart"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/parvis/parvis/internal/site"
)

var (
	paris   = mustZone("Europe/Paris")
	secret  = []byte("a test secret of 32 bytes, fixed")
	testGen = Generated{ID: "01JD8W0F3S6W6J8V5Q0Z3Y2X1A", Now: time.Date(2026, 3, 14, 9, 22, 5, 0, time.UTC)}
)

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// spec reads a form's policy written as in parvis.yaml.
func spec(t testing.TB, src string) *site.FormSpec {
	t.Helper()
	var fs site.FormSpec
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&fs); err != nil {
		t.Fatalf("form policy: %v\n%s", err, src)
	}
	return &fs
}

func compile(t testing.TB, name, src string) *Form {
	t.Helper()
	f, err := Compile(name, spec(t, src), Options{Secret: secret, Location: paris})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// request reads posted values, one "key: value" a line; a value in double quotes is
// unquoted as in Go, so that cases can hold control characters and invalid UTF-8.
func request(t testing.TB, src string) url.Values {
	t.Helper()
	v := url.Values{}
	for line := range strings.SplitSeq(strings.TrimRight(src, "\n"), "\n") {
		if line == "" {
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("request line %q: want key: value", line)
		}
		val = strings.TrimPrefix(val, " ")
		if strings.HasPrefix(val, `"`) {
			u, err := strconv.Unquote(val)
			if err != nil {
				t.Fatalf("request line %q: %v", line, err)
			}
			val = u
		}
		v.Add(key, val)
	}
	return v
}

// upload is one file part of a multipart request.
type upload struct {
	key, name string
	data      []byte
}

// multipartFiles posts files through a real multipart body and returns them as the
// service's parser does. Client file names are hostile on purpose.
func multipartFiles(t testing.TB, ups ...upload) map[string][]*multipart.FileHeader {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, u := range ups {
		name := u.name
		if name == "" {
			name = "../../.git/hooks/pre-commit.php"
		}
		fw, err := w.CreateFormFile(u.key, name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(u.data)
	}
	w.Close()
	form, err := multipart.NewReader(&buf, w.Boundary()).ReadForm(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { form.RemoveAll() })
	return form.File
}

// problems lists errors as "key code" lines, sorted, for comparing with a case file.
func problems(errs Errors) string {
	var lines []string
	for k, p := range errs {
		lines = append(lines, k+" "+string(p.Code))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
