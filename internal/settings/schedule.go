package settings

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

const shapeHint = `not a whole number or a JSON object of "H:MM": dynos`

// parseBound reads a dyno count: a whole number, or a JSON object mapping
// "H:MM" times of day to whole numbers. Every value must be at least least.
// It returns what is wrong, if anything, one phrase per problem.
func parseBound(v string, least int) (Bound, []string) {
	if strings.HasPrefix(v, "{") {
		return parseSchedule(v, least)
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return Bound{}, []string{shapeHint}
	}
	if msg := checkDynos(n, least); msg != "" {
		return Bound{}, []string{msg}
	}
	return Fixed(n), nil
}

// parseSchedule reads a JSON object of "H:MM": dynos and reports every bad
// key and value at once. A token walk rather than a map, so that a
// repeated key is seen.
func parseSchedule(v string, least int) (Bound, []string) {
	dec := json.NewDecoder(strings.NewReader(v))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // the '{'
		return Bound{}, []string{shapeHint + " (" + err.Error() + ")"}
	}
	var (
		problems []string
		slots    []Slot
		seen     = map[int]string{} // minute of the day -> key as written
	)
	for dec.More() {
		key, tok, err := nextEntry(dec)
		if err != nil {
			return Bound{}, []string{shapeHint + " (" + err.Error() + ")"}
		}
		hour, minute, keyProblem := slotKey(key, seen)
		if keyProblem != "" {
			problems = append(problems, keyProblem)
		}
		n, valueProblem, nested := slotValue(key, tok, least)
		if valueProblem != "" {
			problems = append(problems, valueProblem)
			if nested { // skipping a nested value is not worth it: stop here
				return Bound{}, problems
			}
			continue
		}
		if keyProblem == "" {
			slots = append(slots, Slot{Hour: hour, Minute: minute, Value: n})
		}
	}
	if _, err := dec.Token(); err != nil { // the '}'
		return Bound{}, append(problems, shapeHint+" ("+err.Error()+")")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Bound{}, append(problems, "unexpected text after the schedule")
	}
	if len(problems) > 0 {
		return Bound{}, problems
	}
	if len(slots) == 0 {
		return Bound{}, []string{`empty schedule: give at least one "H:MM": dynos entry`}
	}
	return Schedule(slots), nil
}

// nextEntry reads one key and the first token of its value.
func nextEntry(dec *json.Decoder) (key string, value json.Token, err error) {
	tok, err := dec.Token()
	if err != nil {
		return "", nil, err
	}
	key, _ = tok.(string) // object keys are always strings
	value, err = dec.Token()
	return key, value, err
}

// slotKey reads a schedule key as a time of day and records it in seen
// (minute of the day -> key as written), saying what is wrong with it:
// not H:MM, or a time already given.
func slotKey(key string, seen map[int]string) (hour, minute int, problem string) {
	hour, minute, ok := parseSlotKey(key)
	if !ok {
		return hour, minute, fmt.Sprintf("schedule key %q is not H:MM (hour 0-23, minute 0-59)", key)
	}
	prev, dup := seen[hour*60+minute]
	switch {
	case dup && prev == key:
		return hour, minute, fmt.Sprintf("schedule key %q appears twice", key)
	case dup:
		return hour, minute, fmt.Sprintf("schedule keys %q and %q are the same time", prev, key)
	}
	seen[hour*60+minute] = key
	return hour, minute, ""
}

// slotValue reads the dyno count at key, saying what is wrong with it, and
// whether it is a nested object or array, which ends the walk.
func slotValue(key string, tok json.Token, least int) (n int, problem string, nested bool) {
	num, isNum := tok.(json.Number)
	if !isNum {
		_, nested = tok.(json.Delim)
		return 0, fmt.Sprintf("schedule value at %q is not a number", key), nested
	}
	n, err := strconv.Atoi(num.String())
	if err != nil {
		return 0, fmt.Sprintf("schedule value %s at %q is not a whole number", num, key), false
	}
	if msg := checkDynos(n, least); msg != "" {
		return 0, fmt.Sprintf("schedule value %d at %q %s", n, key, msg), false
	}
	return n, "", false
}

// parseSlotKey reads "H:MM" or "HH:MM" (digits only), hour 0-23 and
// minute 0-59.
func parseSlotKey(key string) (hour, minute int, ok bool) {
	h, m, found := strings.Cut(key, ":")
	if !found || len(h) < 1 || len(h) > 2 || len(m) != 2 || !digits(h) || !digits(m) {
		return 0, 0, false
	}
	hour, _ = strconv.Atoi(h)
	minute, _ = strconv.Atoi(m)
	return hour, minute, hour <= 23 && minute <= 59
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func checkDynos(n, least int) string {
	switch {
	case n < least && least == 1:
		return "must be at least 1 for the web process type"
	case n < least:
		return fmt.Sprintf("must be at least %d", least)
	case n > maxDynoCount:
		return fmt.Sprintf("must be at most %d", maxDynoCount)
	}
	return ""
}

// ParseBound reads a dyno count as written in AUTOSCALE_MIN_DYNOS or
// AUTOSCALE_MAX_DYNOS (a number or a schedule), for displays that show the
// bounds stored with the state.
func ParseBound(v string) (Bound, error) {
	b, problems := parseBound(v, 0)
	if len(problems) > 0 {
		return Bound{}, fmt.Errorf("dyno count %q: %s", v, strings.Join(problems, "; "))
	}
	return b, nil
}
