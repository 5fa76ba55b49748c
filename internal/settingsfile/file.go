// Package settingsfile reads the settings file: many formations from one
// YAML file. Its keys are the environment variables' names without the
// AUTOSCALE_ prefix, derived from settings.Vars, so a setting added there
// works in the file with no change here.
//
// The file's YAML is read by parseYAML (yaml.go); file.go checks and
// loads it, each formation through the environment loader.
package settingsfile

import (
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/autoscalebot/autoscalebot/internal/settings"
)

const (
	envPrefix     = "AUTOSCALE_"
	formationsKey = "FORMATIONS"
	// maxValueBytes bounds a value rendered from YAML (aliases can nest).
	maxValueBytes = 64 << 10
	// maxFileValueBytes bounds all the values of a file together: a short
	// list of aliases can name one large formation many times over.
	maxFileValueBytes = 4 << 20
	maxValueDepth     = 16
)

// fleetWide are the settings one stack or one local command has once: the
// file may set them at its top level only. A setting not listed here may
// differ per formation.
var fleetWide = map[string]string{
	settings.EnvTableName:           "the stack has one table",
	settings.EnvTopicARN:            "the stack has one topic",
	settings.EnvFunctionTimeout:     "the function has one timeout",
	settings.EnvTickQueueURL:        "the stack has one tick queue",
	settings.EnvHeartbeatInterval:   "the local runner ticks every formation at one interval",
	settings.EnvStateFile:           "one state file holds every formation",
	settings.EnvFanOutAbove:         "the scheduled invocation ticks the whole fleet one way",
	settings.EnvPerFormationMetrics: "the stack publishes one fleet's metrics",
}

// notInFile are the settings the file cannot set at all.
var notInFile = map[string]string{
	settings.EnvAPIKey:         "a secret does not belong in a file: use HEROKU_API_KEY_PARAMETER, or " + settings.EnvAPIKey + " in the environment",
	settings.EnvHeartbeatToken: "a secret does not belong in a file: use HEARTBEAT_TOKEN_PARAMETER, or " + settings.EnvHeartbeatToken + " in the environment",
	settings.EnvSettingsFile:   "a settings file cannot name another",
}

// Formation is the validated settings of one formation of a fleet.
type Formation struct {
	// Name says where the formation comes from, such as
	// "FORMATIONS[2] (blog/web)"; "app/type" for a file without FORMATIONS
	// or for the environment's single formation.
	Name     string
	Settings settings.Settings
	// Getenv reads the formation's settings as environment variables: its
	// entry, then the file's top level, then the environment.
	// settings.Load(Getenv) gives Settings again, so commands can derive
	// variants of it.
	Getenv func(string) string
}

// Load reads every formation: those of the YAML file
// AUTOSCALE_SETTINGS_FILE names, read with readFile (os.ReadFile when nil),
// or else the single formation of the environment, as settings.Load. A bad
// file is an *Error listing every problem in it.
func Load(getenv func(string) string, readFile func(string) ([]byte, error)) ([]Formation, error) {
	return load(getenv, readFile, false)
}

// LoadLambda is Load with settings.LoadLambda's checks on each formation:
// the Lambda function's loader, which `autoscalebot check` runs too.
func LoadLambda(getenv func(string) string, readFile func(string) ([]byte, error)) ([]Formation, error) {
	return load(getenv, readFile, true)
}

func load(getenv func(string) string, readFile func(string) ([]byte, error), lambda bool) ([]Formation, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if readFile == nil {
		readFile = os.ReadFile
	}
	path := strings.TrimSpace(getenv(settings.EnvSettingsFile))
	if path == "" {
		s, err := loadFormation(getenv, lambda)
		if err != nil {
			return nil, err
		}
		return []Formation{{Name: s.AppName + "/" + s.ProcessType, Settings: s, Getenv: getenv}}, nil
	}
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("read settings file (%s): %w", settings.EnvSettingsFile, err)
	}
	root, problems := parseYAML(data)
	fl := &fileLoader{file: path, getenv: getenv, lambda: lambda, problems: problems}
	return fl.load(root)
}

// loadFormation reads one formation through the environment loader, with
// the Lambda function's checks or without.
func loadFormation(getenv func(string) string, lambda bool) (settings.Settings, error) {
	if lambda {
		return settings.LoadLambda(getenv)
	}
	return settings.Load(getenv)
}

// Problem is one thing wrong in a settings file.
type Problem struct {
	Line int // 1-based; 0 when no line of the file is to blame
	// Formation is "FORMATIONS[2] (blog/web)" when the problem is one
	// formation's; "" when it is the file's (its top level, its syntax).
	Formation string
	// Key is the setting as the file spells it ("MAX_DYNOS"), or the
	// environment variable when the value came from there; "" for syntax.
	Key string
	Msg string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Formation != "" {
		b.WriteString(p.Formation + ": ")
	}
	if p.Key != "" {
		b.WriteString(p.Key + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error reports every problem found in one settings file.
type Error struct {
	File     string
	Problems []Problem
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = "  " + p.String()
	}
	return "invalid settings file " + e.File + ":\n" + strings.Join(lines, "\n")
}

// fileValue is one setting given in the file.
type fileValue struct {
	value string
	line  int
	// structured: written as a YAML map or list, rendered as JSON.
	structured bool
}

// entry is one formation's map, or the top level.
type entry struct {
	line   int
	values map[string]fileValue // by environment variable name
	// problems are its bad keys and values, named by formation once its
	// app and process type are known.
	problems []Problem
}

type fileLoader struct {
	file     string
	getenv   func(string) string
	lambda   bool
	problems []Problem
	// valueBytes counts the values read so far, against maxFileValueBytes.
	valueBytes int
}

// overBudget says whether the values read so far pass maxFileValueBytes;
// the file is then not read further.
func (fl *fileLoader) overBudget() bool { return fl.valueBytes > maxFileValueBytes }

func (fl *fileLoader) problem(line int, formation, key, msg string) {
	fl.problems = append(fl.problems, Problem{Line: line, Formation: formation, Key: key, Msg: msg})
}

func (fl *fileLoader) load(root *yaml.Node) ([]Formation, error) {
	top, entries, hasList := fl.read(root)
	formations := fl.validate(top, entries, hasList)
	if len(fl.problems) > 0 {
		fl.finish()
		return nil, &Error{File: fl.file, Problems: fl.problems}
	}
	return formations, nil
}

// finish puts the problems in file order, a problem without a line (from
// the environment) last, and takes the environment's API key and heartbeat
// token out of them.
func (fl *fileLoader) finish() {
	slices.SortStableFunc(fl.problems, func(a, b Problem) int {
		return lineOrder(a.Line) - lineOrder(b.Line)
	})
	for _, name := range []string{settings.EnvAPIKey, settings.EnvHeartbeatToken} {
		secret := strings.TrimSpace(fl.getenv(name))
		if secret == "" {
			continue
		}
		for i := range fl.problems {
			p := &fl.problems[i]
			for _, text := range []*string{&p.Formation, &p.Key, &p.Msg} {
				*text = strings.ReplaceAll(*text, secret, "[redacted]")
			}
		}
	}
}

// read walks the document: its top level, and each formation of the
// FORMATIONS list (or the top level as the one formation, as a file of the
// original was). A formation's problems wait in its entry until validate
// can name the formation.
func (fl *fileLoader) read(root *yaml.Node) (top entry, entries []entry, hasList bool) {
	root = fl.root(root)
	top = entry{line: 1, values: map[string]fileValue{}}
	if root == nil {
		return top, nil, false
	}
	top.line = root.Line
	list, hasList := fl.mapping(root, &top, true)
	fl.problems = append(fl.problems, top.problems...)
	if list != nil {
		entries = fl.formations(list)
	}
	if fl.overBudget() {
		return top, nil, hasList // a part of the file would only say more that is not so
	}
	if !hasList {
		entries = []entry{{line: top.line, values: map[string]fileValue{}}}
	}
	return top, entries, hasList
}

func lineOrder(line int) int {
	if line == 0 {
		return math.MaxInt32
	}
	return line
}

// root returns the document's root, or nil after reporting why there is
// none to read (unless parseYAML has: a syntax error, say).
func (fl *fileLoader) root(root *yaml.Node) *yaml.Node {
	switch {
	case root == nil && len(fl.problems) == 0:
		fl.problem(0, "", "", "the file is empty: give settings, and a "+formationsKey+" list for more than one formation")
	case root == nil:
	case root.Kind != yaml.MappingNode:
		fl.problem(root.Line, "", "", "the file must be a map of settings (KEY: value), not "+kindName(root))
	default:
		return root
	}
	return nil
}

// mapping reads a map of settings into e, reporting bad keys and values.
// At the top level it also returns the FORMATIONS list, and whether the
// key is present (with a list or not).
func (fl *fileLoader) mapping(n *yaml.Node, e *entry, topLevel bool) (list *yaml.Node, hasList bool) {
	seen := map[string]int{}
	problem := func(line int, key, msg string) {
		e.problems = append(e.problems, Problem{Line: line, Key: key, Msg: msg})
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			problem(k.Line, "", "a key must be a setting's name, not "+kindName(k))
			continue
		}
		key := k.Value
		if first, dup := seen[key]; dup {
			problem(k.Line, key, fmt.Sprintf("given twice (first on line %d)", first))
			continue
		}
		seen[key] = k.Line
		if key == formationsKey {
			if !topLevel {
				problem(k.Line, key, "only the top level holds the list of formations")
				continue
			}
			v = resolveAlias(v)
			hasList = true
			if v.Kind != yaml.SequenceNode {
				problem(v.Line, key, "must be a list of formations (- HEROKU_APP_NAME: …), not "+kindName(v))
				continue
			}
			list = v
			continue
		}
		name, msg := fileKey(key)
		if msg == "" && !topLevel && fleetWide[name] != "" {
			msg = "only the top level may set it: " + fleetWide[name]
		}
		if msg != "" {
			problem(k.Line, key, msg)
			continue
		}
		value, msg := valueText(v)
		if msg != "" {
			problem(v.Line, key, msg)
			continue
		}
		if fl.valueBytes += len(value); fl.overBudget() {
			fl.problem(v.Line, "", key, fmt.Sprintf("the file's values add up to more than %d MiB (an alias repeats all it names): read no further", maxFileValueBytes>>20))
			break
		}
		e.values[name] = fileValue{value: value, line: k.Line, structured: resolveAlias(v).Kind != yaml.ScalarNode}
	}
	return list, hasList
}

// formations reads the FORMATIONS list; an item that is not a map is
// reported and left out.
func (fl *fileLoader) formations(list *yaml.Node) []entry {
	if len(list.Content) == 0 {
		fl.problem(list.Line, "", formationsKey, "empty: give at least one formation")
		return nil
	}
	var entries []entry
	for i, item := range list.Content {
		if fl.overBudget() {
			break
		}
		item = resolveAlias(item)
		where := fmt.Sprintf("%s[%d]", formationsKey, i)
		e := entry{line: item.Line, values: map[string]fileValue{}}
		if item.Kind != yaml.MappingNode {
			fl.problem(item.Line, where, "", "a formation must be a map of settings (HEROKU_APP_NAME: …), not "+kindName(item))
			entries = append(entries, entry{}) // keeps the indexes; skipped below
			continue
		}
		fl.mapping(item, &e, false)
		entries = append(entries, e)
	}
	return entries
}

// validate loads each formation's settings through the environment loader,
// so the file and the environment share every check, and reports the
// problems by formation and key.
func (fl *fileLoader) validate(top entry, entries []entry, hasList bool) []Formation {
	var (
		all        []found
		formations []Formation
		loaded     int
		pairs      = map[string]int{} // app/type -> formation index
	)
	for i, e := range entries {
		if e.values == nil {
			continue // not a map, reported
		}
		loaded++
		getenv := fl.overlay(top, e)
		app, processType := strings.TrimSpace(getenv(settings.EnvAppName)), settings.Get(getenv, settings.EnvProcessType)
		label := fmt.Sprintf("%s/%s", app, processType)
		if !settings.IsAppName(app) || !settings.IsProcessType(processType) {
			label = strconv.Quote(label)
		}
		where := ""
		switch {
		case hasList && app == "":
			where = fmt.Sprintf("%s[%d]", formationsKey, i)
		case hasList:
			where = fmt.Sprintf("%s[%d] (%s)", formationsKey, i, label)
		}
		for _, p := range e.problems {
			p.Formation = where
			all = append(all, found{formation: i, problem: p})
		}
		s, err := loadFormation(getenv, fl.lambda)
		var lerr *settings.Error
		if errors.As(err, &lerr) {
			for _, p := range lerr.Problems {
				key, line, shared := fl.source(top, e, p.Var)
				all = append(all, found{formation: i, shared: shared, problem: Problem{
					Line: line, Formation: where, Key: key, Msg: fl.rename(top, e, unquoteJSON(top, e, p)),
				}})
			}
		} else if err != nil {
			all = append(all, found{formation: i, problem: Problem{Line: e.line, Formation: where, Msg: err.Error()}})
		}
		for _, name := range []string{settings.EnvAPIKeyParameter, settings.EnvHeartbeatTokenParameter} {
			if msg := fl.keyParameter(getenv, name); msg != "" {
				key, line, shared := fl.source(top, e, name)
				all = append(all, found{formation: i, shared: shared, problem: Problem{
					Line: line, Formation: where, Key: key, Msg: msg,
				}})
			}
		}
		if app != "" {
			if first, dup := pairs[label]; dup {
				key, line, _ := fl.source(top, e, settings.EnvAppName)
				all = append(all, found{formation: i, problem: Problem{Line: line, Formation: where, Key: key,
					Msg: fmt.Sprintf("%s is also %s[%d]: give each app and process type once", label, formationsKey, first)}})
			} else {
				pairs[label] = i
			}
		}
		if err == nil {
			if where == "" {
				where = label
			}
			formations = append(formations, Formation{Name: where, Settings: s, Getenv: getenv})
		}
	}
	fl.report(all, loaded)
	fl.fanOut(top, loaded)
	return formations
}

// found is a problem of one formation of the file.
type found struct {
	formation int
	problem   Problem
	shared    bool // from the top level or the environment: maybe every formation's
}

// report adds the problems found in the loaded formations: one of a shared
// value that every formation has is said once, for the file, rather than
// once per formation.
func (fl *fileLoader) report(all []found, loaded int) {
	count := map[Problem]int{}
	for _, f := range all {
		if f.shared {
			p := f.problem
			p.Formation = ""
			count[p]++
		}
	}
	said := map[Problem]bool{}
	for _, f := range all {
		p := f.problem
		if f.shared && loaded > 1 {
			general := p
			general.Formation = ""
			if count[general] == loaded {
				if !said[general] {
					said[general] = true
					fl.problems = append(fl.problems, general)
				}
				continue
			}
		}
		fl.problems = append(fl.problems, p)
	}
}

// keyParameter says what is wrong with the SSM parameter variable (the API
// key's or the heartbeat token's) names for a formation, in Lambda: the
// function's role may read only the environment's own parameter and those
// under settings.FleetParameterPrefix, so any other name would fail every
// one of its ticks.
func (fl *fileLoader) keyParameter(getenv func(string) string, variable string) string {
	if !fl.lambda {
		return ""
	}
	name := strings.TrimSpace(getenv(variable))
	own := strings.TrimSpace(fl.getenv(variable))
	if name == "" || name == own || strings.HasPrefix(name, settings.FleetParameterPrefix) && len(name) > len(settings.FleetParameterPrefix) {
		return ""
	}
	allowed := "parameters under " + settings.FleetParameterPrefix
	if own != "" {
		allowed = fmt.Sprintf("%s (%s) and %s", variable, strconv.Quote(truncate(own, 80)), allowed)
	}
	return strconv.Quote(truncate(name, 80)) + ": the function's role may read only " + allowed
}

// fanOut checks, in Lambda, that a fleet too large for the scheduled
// invocation has the tick queue it is fanned out over.
func (fl *fileLoader) fanOut(top entry, formations int) {
	if !fl.lambda {
		return
	}
	shared := fl.overlay(top, entry{})
	above, err := strconv.Atoi(settings.Get(shared, settings.EnvFanOutAbove))
	if err != nil || formations <= above || strings.TrimSpace(shared(settings.EnvTickQueueURL)) != "" {
		return // a bad number is reported with the rest
	}
	key, line, _ := fl.source(top, entry{}, settings.EnvTickQueueURL)
	for _, p := range fl.problems {
		if p.Key == key {
			return // already required, for the interval
		}
	}
	fl.problem(line, "", key, fl.rename(top, entry{}, fmt.Sprintf(
		"required in Lambda for a fleet of more than %s (%d) formations, which are fanned out over the tick queue (%d here)",
		settings.EnvFanOutAbove, above, formations)))
}

// overlay is the formation's view: its entry, the top level, then the
// environment. The settings file variable itself reads as unset, so the
// loader does not take the formation for a second file.
func (fl *fileLoader) overlay(top, e entry) func(string) string {
	return func(name string) string {
		if name == settings.EnvSettingsFile {
			return ""
		}
		if v, ok := e.values[name]; ok {
			return v.value
		}
		if v, ok := top.values[name]; ok {
			return v.value
		}
		return fl.getenv(name)
	}
}

// source names a setting as the user wrote it and where: the file's key
// and line, or the environment variable. shared: the value is not the
// formation's own, so other formations may have the same problem.
func (fl *fileLoader) source(top, e entry, name string) (key string, line int, shared bool) {
	short := strings.TrimPrefix(name, envPrefix)
	if v, ok := e.values[name]; ok {
		return short, v.line, false
	}
	if v, ok := top.values[name]; ok {
		return short, v.line, true
	}
	if strings.TrimSpace(fl.getenv(name)) != "" {
		return name + " (environment)", 0, true
	}
	// Unset everywhere: "required" belongs to the formation lacking it,
	// or to the top level for a setting only it may give.
	if fleetWide[name] != "" {
		return short, 0, true
	}
	return short, e.line, false
}

// unquoteJSON shows a value the file wrote as a map or list as the JSON it
// was read as, rather than as a quoted Go string full of backslashes.
func unquoteJSON(top, e entry, p settings.Problem) string {
	v, ok := e.values[p.Var]
	if !ok {
		v, ok = top.values[p.Var]
	}
	if !ok || !v.structured {
		return p.Msg
	}
	shown := truncate(v.value, 80) // as the loader's quote cuts it
	return strings.Replace(p.Msg, strconv.Quote(shown), shown, 1)
}

// envName finds the environment spelling of a setting in a message.
var envName = regexp.MustCompile(envPrefix + `[A-Z0-9_]+`)

// rename spells the settings a message mentions as the file does, when
// the file gives them.
func (fl *fileLoader) rename(top, e entry, msg string) string {
	return envName.ReplaceAllStringFunc(msg, func(name string) string {
		if _, ok := e.values[name]; ok {
			return strings.TrimPrefix(name, envPrefix)
		}
		if _, ok := top.values[name]; ok {
			return strings.TrimPrefix(name, envPrefix)
		}
		return name
	})
}

// fileKey maps a key of the file to its environment variable, or says
// what is wrong with it.
func fileKey(key string) (name, problem string) {
	if strings.HasPrefix(key, envPrefix) {
		if _, ok := settings.Lookup(key); ok {
			return "", "write it without the " + envPrefix + " prefix: " + strings.TrimPrefix(key, envPrefix)
		}
	}
	name = envPrefix + key
	if _, ok := settings.Lookup(name); !ok {
		msg := "unknown setting"
		if near := nearestKey(key); near != "" {
			msg += "; did you mean " + near + "?"
		}
		return "", msg
	}
	if why := notInFile[name]; why != "" {
		return "", "not allowed in the file: " + why
	}
	return name, ""
}

// nearestKey suggests the file key closest to a misspelt one.
func nearestKey(key string) string {
	key = strings.ToUpper(strings.TrimPrefix(strings.ToUpper(key), envPrefix))
	best, bestDist := "", 4 // more edits than this is no suggestion
	for _, v := range settings.Vars() {
		if notInFile[v.Name] != "" {
			continue
		}
		k := strings.TrimPrefix(v.Name, envPrefix)
		if d := editDistance(key, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if d := editDistance(key, formationsKey); d < bestDist {
		best = formationsKey
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
