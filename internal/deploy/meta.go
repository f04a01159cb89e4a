package deploy

import (
	"bytes"
	"path"
	"regexp"
	"strings"
)

// Cache-Control values. A fingerprinted asset never changes under its name; a page, a feed
// or the search index changes at every build and a CDN should ask again soon; the rest
// (pictures, documents) may be replaced under the same name by an editor, now and then.
const (
	CacheImmutable = "public, max-age=31536000, immutable"
	CacheShort     = "public, max-age=60"
	CacheDefault   = "public, max-age=3600"
)

// fingerprinted matches the theme's assets, named with the first bytes of their content's
// hash (css/parvis.3f2a9c1d.css, js/search.0a1b2c3d.js).
var fingerprinted = regexp.MustCompile(`\.[0-9a-f]{8,64}\.(css|js|mjs)$`)

// types maps extensions to media types. It is a table of its own rather than the system's
// (mime.TypeByExtension reads /etc/mime.types, which differs between machines), and what it
// does not know is sent as application/octet-stream: a file is never shown as HTML because
// its bytes look like HTML.
var types = map[string]string{
	".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
	".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
	".json": "application/json", ".map": "application/json", ".webmanifest": "application/manifest+json",
	".geojson": "application/geo+json", ".gpx": "application/gpx+xml",
	".ics": "text/calendar; charset=utf-8", ".txt": "text/plain; charset=utf-8", ".md": "text/markdown; charset=utf-8",
	".csv": "text/csv; charset=utf-8",
	".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
	".webp": "image/webp", ".avif": "image/avif", ".ico": "image/x-icon", ".bmp": "image/bmp", ".tif": "image/tiff", ".tiff": "image/tiff",
	".pdf": "application/pdf", ".odt": "application/vnd.oasis.opendocument.text",
	".ods": "application/vnd.oasis.opendocument.spreadsheet", ".odp": "application/vnd.oasis.opendocument.presentation",
	".doc": "application/msword", ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xls": "application/vnd.ms-excel", ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".ppt": "application/vnd.ms-powerpoint", ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	".rtf": "application/rtf", ".epub": "application/epub+zip", ".zip": "application/zip",
	".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf", ".otf": "font/otf",
	".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".opus": "audio/ogg", ".wav": "audio/wav", ".m4a": "audio/mp4",
	".mp4": "video/mp4", ".webm": "video/webm", ".vtt": "text/vtt; charset=utf-8",
	".wasm": "application/wasm", ".bin": "application/octet-stream",
}

// contentType is the media type of a built file: by its extension, and for XML by its root
// element, since a feed and a sitemap are both .xml.
func contentType(key string, head []byte) string {
	ext := strings.ToLower(path.Ext(key))
	if ext == ".xml" {
		switch root := xmlRoot(head); root {
		case "rss":
			return "application/rss+xml; charset=utf-8"
		case "feed":
			return "application/atom+xml; charset=utf-8"
		}
		return "application/xml; charset=utf-8"
	}
	if t, ok := types[ext]; ok {
		return t
	}
	return "application/octet-stream"
}

// xmlRoot returns the name of the first element in head, past the declaration, comments
// and processing instructions.
func xmlRoot(head []byte) string {
	for {
		i := bytes.IndexByte(head, '<')
		if i < 0 || i+1 >= len(head) {
			return ""
		}
		head = head[i+1:]
		if head[0] == '?' || head[0] == '!' {
			continue
		}
		end := bytes.IndexAny(head, " \t\r\n>/")
		if end < 0 {
			return ""
		}
		name := string(head[:end])
		if _, local, ok := strings.Cut(name, ":"); ok {
			name = local
		}
		return name
	}
}

// isDocument tells the files that point at others (pages, feeds, the search index, the
// sitemap) from those they point at: the second kind is uploaded first, so that a reader
// never gets a new page whose picture or style sheet is not there yet.
func isDocument(key string) bool {
	switch strings.ToLower(path.Ext(key)) {
	case ".html", ".htm", ".xml", ".json", ".txt", ".ics", ".bin", ".webmanifest":
		return true
	}
	return false
}

// cacheControl is the default Cache-Control of a built file.
func cacheControl(key string) string {
	switch {
	case fingerprinted.MatchString(key):
		return CacheImmutable
	case isDocument(key):
		return CacheShort
	}
	return CacheDefault
}

// sitePaths are the paths a reader asks for to get the object key, under basePath: a
// folder's index.html is also its folder.
func sitePaths(basePath, key string) []string {
	p := strings.TrimSuffix(basePath, "/") + "/" + key
	if dir, ok := strings.CutSuffix(p, "index.html"); ok && strings.HasSuffix(dir, "/") {
		return []string{p, dir}
	}
	return []string{p}
}

// normalize is the content that decides whether a file changed. It is the file itself but
// for an iCalendar file, whose DTSTAMP lines only say when the build ran (RFC 5545,
// 3.8.7.2): without this, every event's file would be uploaded again at every deploy.
func normalize(key string, data []byte) []byte {
	if strings.ToLower(path.Ext(key)) != ".ics" || !bytes.Contains(data, []byte("DTSTAMP:")) {
		return data
	}
	var out bytes.Buffer
	for line := range bytes.Lines(data) {
		if !bytes.HasPrefix(line, []byte("DTSTAMP:")) {
			out.Write(line)
		}
	}
	return out.Bytes()
}
