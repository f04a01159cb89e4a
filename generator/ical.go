package generator

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// ics writes an iCalendar (RFC 5545) file for the events: times carry their zone's TZID and
// each zone used is described by a VTIMEZONE covering the years the events span, so that
// calendar programs place them right even across daylight-saving changes.
func (b *build) ics(events []*PageView) []byte {
	cfg := b.site.Config
	w := &icsWriter{}
	w.line("BEGIN:VCALENDAR")
	w.line("VERSION:2.0")
	w.line("PRODID:-//Parvis//Parvis//" + strings.ToUpper(cfg.Language))
	w.line("CALSCALE:GREGORIAN")
	w.line("METHOD:PUBLISH")
	w.prop("X-WR-CALNAME", cfg.Title)
	w.line("X-WR-TIMEZONE:" + cfg.Location.String())

	// The zones used, and the years to cover.
	type span struct{ lo, hi int }
	zones := map[string]span{}
	locs := map[string]*time.Location{}
	for _, v := range events {
		e := v.Event
		if e.AllDay || e.Location.String() == "UTC" {
			continue
		}
		name := e.Location.String()
		s, ok := zones[name]
		y := e.Start.Year()
		ye := y
		if !e.End.IsZero() {
			ye = e.End.Year()
		}
		if !ok {
			s = span{y, ye}
		}
		s.lo, s.hi = min(s.lo, y), max(s.hi, ye)
		zones[name] = s
		locs[name] = e.Location
	}
	names := make([]string, 0, len(zones))
	for n := range zones {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		writeTimezone(w, locs[n], zones[n].lo, zones[n].hi)
	}

	host := "parvis"
	if cfg.Base != nil && cfg.Base.Host != "" {
		host = cfg.Base.Hostname()
	}
	for _, v := range events {
		e := v.Event
		w.line("BEGIN:VEVENT")
		w.line("UID:" + strings.ReplaceAll(v.Ref, "/", "-") + "@" + host)
		// When this file was made (RFC 5545, 3.8.7.2): the build's time. The event's own
		// dates are in DTSTART and LAST-MODIFIED.
		w.line("DTSTAMP:" + b.g.now.UTC().Format("20060102T150405Z"))
		if e.AllDay {
			end := e.End
			if end.IsZero() {
				end = e.Start
			}
			w.line("DTSTART;VALUE=DATE:" + e.Start.Format("20060102"))
			w.line("DTEND;VALUE=DATE:" + end.AddDate(0, 0, 1).Format("20060102"))
		} else {
			w.line("DTSTART" + icsTime(e.Start, e.Location))
			if !e.End.IsZero() {
				w.line("DTEND" + icsTime(e.End, e.Location))
			}
		}
		w.prop("SUMMARY", v.Title)
		desc := v.Summary
		if desc != "" {
			desc += "\n\n"
		}
		w.prop("DESCRIPTION", desc+v.Permalink)
		if loc := eventLocation(e.Place, v.Address); loc != "" {
			w.prop("LOCATION", loc)
		}
		if e.Geo != nil {
			w.line(fmt.Sprintf("GEO:%.6f;%.6f", e.Geo.Lat, e.Geo.Lon))
		}
		w.line("URL:" + v.Permalink)
		if !v.Lastmod.IsZero() {
			w.line("LAST-MODIFIED:" + v.Lastmod.UTC().Format("20060102T150405Z"))
		}
		for _, t := range v.Tags {
			w.prop("CATEGORIES", t)
		}
		w.line("END:VEVENT")
	}
	w.line("END:VCALENDAR")
	return w.buf.Bytes()
}

// eventLocation is an event's place and address on one line.
func eventLocation(place, address string) string {
	switch {
	case place == "":
		return address
	case address == "":
		return place
	}
	return place + ", " + address
}

// addressAfter returns address without place when it starts with it, as in "Place des
// Tilleuls" at "Place des Tilleuls, 26999 Belcombe", so that the place is not said twice.
func addressAfter(place, address string) string {
	place, address = strings.TrimSpace(place), strings.TrimSpace(address)
	if place == "" || len(address) < len(place) || !strings.EqualFold(address[:len(place)], place) {
		return address
	}
	rest := address[len(place):]
	if rest != "" && !strings.HasPrefix(rest, ",") && !strings.HasPrefix(rest, " ") {
		return address // "Place des Tilleuls" in "Place des Tilleulsiers": another word
	}
	return strings.TrimLeft(rest, ", ")
}

func icsTime(t time.Time, loc *time.Location) string {
	if loc.String() == "UTC" {
		return ":" + t.UTC().Format("20060102T150405Z")
	}
	return ";TZID=" + loc.String() + ":" + t.In(loc).Format("20060102T150405")
}

// writeTimezone describes loc's offsets from the start of year lo to the end of year hi.
func writeTimezone(w *icsWriter, loc *time.Location, lo, hi int) {
	w.line("BEGIN:VTIMEZONE")
	w.line("TZID:" + loc.String())
	from := time.Date(lo, 1, 1, 0, 0, 0, 0, loc)
	until := time.Date(hi+1, 1, 1, 0, 0, 0, 0, loc)
	start, _ := from.ZoneBounds()
	if start.IsZero() {
		start = time.Date(1970, 1, 1, 0, 0, 0, 0, loc)
	}
	wrote := false
	for t := start; !t.After(until); {
		observance(w, t)
		wrote = true
		_, end := t.ZoneBounds()
		if end.IsZero() {
			break
		}
		t = end
	}
	if !wrote {
		observance(w, from)
	}
	w.line("END:VTIMEZONE")
}

// observance writes the STANDARD or DAYLIGHT block that begins at t.
func observance(w *icsWriter, t time.Time) {
	name, to := t.Zone()
	_, fromOff := t.Add(-time.Second).Zone()
	kind := "STANDARD"
	if t.IsDST() {
		kind = "DAYLIGHT"
	}
	w.line("BEGIN:" + kind)
	// DTSTART is the wall-clock time just before the change, in the offset being left.
	w.line("DTSTART:" + t.In(time.FixedZone("", fromOff)).Format("20060102T150405"))
	w.line("TZOFFSETFROM:" + icsOffset(fromOff))
	w.line("TZOFFSETTO:" + icsOffset(to))
	w.prop("TZNAME", name)
	w.line("END:" + kind)
}

func icsOffset(sec int) string {
	sign := '+'
	if sec < 0 {
		sign = '-'
		sec = -sec
	}
	return fmt.Sprintf("%c%02d%02d", sign, sec/3600, sec%3600/60)
}

type icsWriter struct{ buf bytes.Buffer }

// prop writes a TEXT property, escaped.
func (w *icsWriter) prop(name, value string) {
	r := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)
	w.line(name + ":" + r.Replace(value))
}

// line writes a content line folded at 75 octets, never inside a UTF-8 sequence, ending in CRLF.
func (w *icsWriter) line(s string) {
	limit := 75
	for len(s) > limit {
		i := limit
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		w.buf.WriteString(s[:i])
		w.buf.WriteString("\r\n ")
		s = s[i:]
		limit = 74 // the leading space counts
	}
	w.buf.WriteString(s)
	w.buf.WriteString("\r\n")
}
