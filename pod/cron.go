package pod

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// A CronJob's schedule is cron's five fields (minute hour day-of-month month
// day-of-week, with lists, ranges, steps and names) or a descriptor
// (@hourly, @daily, ...), as Kubernetes reads it. CalendarSpecs turns it
// into systemd OnCalendar= expressions (man systemd.time) that fire at the
// same minutes: each field's values written out, and cron's rule that a
// restricted day of month and day of week match either way as two
// expressions (a timer fires when any of its expressions does).

type cronField struct {
	name     string
	min, max int
	names    []string // names[i] is min+i
}

var cronFields = []cronField{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day of month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
	{name: "day of week", min: 0, max: 6, names: []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
}

var cronDescriptors = map[string]string{
	"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
	"@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}

// Cron is a parsed schedule: each field's values, and whether the day
// fields were given as "*" (cron matches either restricted day field).
type Cron struct {
	Minutes, Hours, Days, Months, Weekdays []int
	AnyDay, AnyWeekday                     bool
}

// ParseCron reads a schedule as Kubernetes does (robfig/cron's standard
// parser: five fields or a descriptor; TZ= and CRON_TZ= prefixes are
// refused, as the API server refuses them: spec.timeZone says it).
func ParseCron(s string) (*Cron, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "TZ=") || strings.HasPrefix(s, "CRON_TZ=") {
		return nil, fmt.Errorf("cannot use TZ or CRON_TZ in schedule, use timeZone field instead")
	}
	if strings.HasPrefix(s, "@") {
		d, ok := cronDescriptors[strings.ToLower(s)]
		if !ok {
			return nil, fmt.Errorf("unrecognized descriptor: %s", s)
		}
		s = d
	}
	f := strings.Fields(s)
	if len(f) != 5 {
		return nil, fmt.Errorf("expected exactly 5 fields, found %d: %s", len(f), s)
	}
	var c Cron
	sets := make([][]int, 5)
	for i, spec := range f {
		vals, star, err := parseCronField(spec, cronFields[i])
		if err != nil {
			return nil, err
		}
		sets[i] = vals
		switch i {
		case 2:
			c.AnyDay = star
		case 4:
			c.AnyWeekday = star
		}
	}
	c.Minutes, c.Hours, c.Days, c.Months, c.Weekdays = sets[0], sets[1], sets[2], sets[3], sets[4]
	return &c, nil
}

// parseCronField reads one field: its values, sorted, and whether it was a
// plain * (or ?).
func parseCronField(spec string, f cronField) ([]int, bool, error) {
	seen := map[int]bool{}
	star := false
	for _, part := range strings.Split(spec, ",") {
		rng, stepText, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n <= 0 {
				return nil, false, fmt.Errorf("%s: bad step %q in %q", f.name, stepText, part)
			}
			step = n
		}
		lo, hi := f.min, f.max
		switch {
		case rng == "*" || rng == "?":
			star = star || step == 1
		default:
			a, b, isRange := strings.Cut(rng, "-")
			var err error
			if lo, err = cronValue(a, f); err != nil {
				return nil, false, err
			}
			hi = lo
			if isRange {
				if hi, err = cronValue(b, f); err != nil {
					return nil, false, err
				}
			} else if hasStep {
				hi = f.max // a/n: from a to the end
			}
			if hi < lo {
				return nil, false, fmt.Errorf("%s: beginning of range (%d) beyond end of range (%d): %s", f.name, lo, hi, part)
			}
		}
		for v := lo; v <= hi; v += step {
			seen[v%(f.max+1)] = true // day of week 7 is Sunday
		}
	}
	out := make([]int, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	slices.Sort(out)
	return out, star, nil
}

func cronValue(s string, f cronField) (int, error) {
	if i := slices.Index(f.names, strings.ToLower(s)); i >= 0 {
		return f.min + i, nil
	}
	n, err := strconv.Atoi(s)
	max := f.max
	if f.name == "day of week" {
		max = 7
	}
	if err != nil || n < f.min || n > max {
		return 0, fmt.Errorf("%s: %q is not a value from %d to %d", f.name, s, f.min, max)
	}
	return n, nil
}

// CalendarSpecs are the OnCalendar= expressions of the schedule, in
// timeZone ("" for the host's).
func (c *Cron) CalendarSpecs(timeZone string) []string {
	tz := ""
	if timeZone != "" {
		tz = " " + timeZone
	}
	clock := fmt.Sprintf("%s:%s:00", calList(c.Hours, 0, 23, 2), calList(c.Minutes, 0, 59, 2))
	months := calList(c.Months, 1, 12, 2)
	days := calList(c.Days, 1, 31, 2)
	var weekdays []string
	for _, d := range c.Weekdays {
		weekdays = append(weekdays, []string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}[d])
	}
	wd := strings.Join(weekdays, ",")
	switch {
	case c.AnyDay && c.AnyWeekday:
		return []string{fmt.Sprintf("*-%s-%s %s%s", months, days, clock, tz)}
	case c.AnyWeekday:
		return []string{fmt.Sprintf("*-%s-%s %s%s", months, days, clock, tz)}
	case c.AnyDay:
		return []string{fmt.Sprintf("%s *-%s-* %s%s", wd, months, clock, tz)}
	default:
		// both restricted: either matches, as in cron
		return []string{
			fmt.Sprintf("*-%s-%s %s%s", months, days, clock, tz),
			fmt.Sprintf("%s *-%s-* %s%s", wd, months, clock, tz),
		}
	}
}

// calList writes values as a systemd calendar component: * for all of
// lo..hi, else a comma-separated list, zero-padded to width.
func calList(vals []int, lo, hi, width int) string {
	if len(vals) == hi-lo+1 {
		return "*"
	}
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = fmt.Sprintf("%0*d", width, v)
	}
	return strings.Join(parts, ",")
}
