package site

import (
	"fmt"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Layouts accepted for dates, as Hugo accepts them. Those without a zone are read in the site's.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05-0700",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
}

// parseDate reads a front matter date. dateOnly is true for a plain calendar date.
func parseDate(v any, loc *time.Location) (t time.Time, dateOnly bool, err error) {
	switch x := v.(type) {
	case time.Time:
		return x, false, nil
	case toml.LocalDate:
		return time.Date(x.Year, time.Month(x.Month), x.Day, 0, 0, 0, 0, loc), true, nil
	case toml.LocalDateTime:
		return time.Date(x.Year, time.Month(x.Month), x.Day, x.Hour, x.Minute, x.Second, x.Nanosecond, loc), false, nil
	case string:
		s := strings.TrimSpace(x)
		for _, layout := range dateLayouts {
			t, err := time.ParseInLocation(layout, s, loc)
			if err == nil {
				return t, layout == "2006-01-02", nil
			}
		}
		return time.Time{}, false, fmt.Errorf("%q is not a date (use 2006-01-02 or 2006-01-02T15:04:05+01:00)", x)
	case nil:
		return time.Time{}, false, fmt.Errorf("empty date")
	}
	return time.Time{}, false, fmt.Errorf("%v is not a date", v)
}
