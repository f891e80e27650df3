package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"regexp"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/chatsphere/bots/client"
	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/ijson"
)

// botsFile is the declarative document that `bots export` writes and `bots apply` reads, in
// YAML or JSON: the caller's bots by name, with their configuration and aliases. The README
// ("Command line") documents it.
type botsFile struct {
	Bots []fileBot `json:"bots" yaml:"bots"`
}

// fileBot is one bot of a botsFile. Name identifies the bot among the caller's; Name and Model
// are required. A field left out is not managed: a bot created from the file gets the
// service's default, and apply leaves the field of an existing bot as it is. Export writes
// every field, so that applying its file reproduces the bots.
type fileBot struct {
	Name         string   `json:"name" yaml:"name"`
	Description  *string  `json:"description,omitempty" yaml:"description,omitempty"`
	Model        string   `json:"model" yaml:"model"`
	Temperature  *float64 `json:"temperature,omitempty" yaml:"temperature,omitempty"`
	SystemPrompt *string  `json:"system_prompt,omitempty" yaml:"system_prompt,omitempty"`
	IsPublic     *bool    `json:"is_public,omitempty" yaml:"is_public,omitempty"`
	// Aliases maps an alias name to the number of the bot's version it points at. Apply
	// moves an alias that points elsewhere and creates a missing one; it removes none.
	Aliases map[string]int32 `json:"aliases,omitempty" yaml:"aliases,omitempty"`
}

// fileBotOf is the entry of a bot as export writes it.
func fileBotOf(b client.Bot) fileBot {
	return fileBot{Name: b.Name, Description: b.Description, Model: b.Model, Temperature: ptr(b.Temperature),
		SystemPrompt: ptr(b.SystemPrompt), IsPublic: ptr(b.IsPublic)}
}

// The contract's rules for an alias a file names (openapi.yaml: the AliasName parameter and
// BotAliasPut's version; a test holds them to it), checked before anything is sent so that a
// file with a mistake writes nothing.
var aliasName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`)

const (
	aliasNameRule = "must be 1 to 40 lowercase letters, digits or hyphens, starting with a letter"
	minVersion    = 1
)

// errNoBotsKey refuses a file that does not list its bots under `bots:` (an empty file, `null`,
// another document): read as no bots, it would have --prune delete every bot.
var errNoBotsKey = errors.New("the file must list its bots under `bots:`; to delete every bot with --prune, write `bots: []`")

// readBotsFile reads and checks a botsFile from path ("-": stdin), as JSON when it starts
// with "{", else as YAML. Both are read strictly: a field the format does not have, a key twice
// in one object, anything after the document, and a file without `bots:` (or with `bots:
// null`) are errors, so that a typo is not silently ignored and no file means "no bots" unless
// it says `bots: []`.
func readBotsFile(env Env, path string) (botsFile, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(env.Stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return botsFile{}, err
	}
	// read is the file as decoded: Bots is nil when the file has no `bots:` or it is null.
	var read struct {
		Bots *[]fileBot `json:"bots" yaml:"bots"`
	}
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		err = decodeJSON(data, &read)
	} else {
		err = decodeYAML(data, &read)
	}
	if err == nil && read.Bots == nil {
		err = errNoBotsKey
	}
	if err != nil {
		return botsFile{}, fmt.Errorf("%s: %w", path, err)
	}
	f := botsFile{Bots: *read.Bots}
	var problems []error
	// seen is the number of the first bot of each folded name: two names the service
	// compares as one (bots.Fold) would be one bot, which the file cannot say twice.
	seen := map[string]int{}
	for i, b := range f.Bots {
		stored, key, _ := bots.NormalizeName(b.Name)
		first, twice := seen[key]
		switch {
		case b.Name == "":
			problems = append(problems, fmt.Errorf("bot %d: name is required", i+1))
		case twice && storedName(f.Bots[first-1].Name) == stored:
			problems = append(problems, fmt.Errorf("bot %d: %q is in the file twice", i+1, b.Name))
		case twice:
			problems = append(problems, fmt.Errorf("bot %d: %q is the same name as bot %d's %q to the service (names are compared ignoring case)",
				i+1, b.Name, first, f.Bots[first-1].Name))
		case key != "":
			seen[key] = i + 1
		}
		if b.Model == "" {
			problems = append(problems, fmt.Errorf("bot %d (%q): model is required", i+1, b.Name))
		}
		// YAML reads .nan and .inf, which JSON, and so the request, cannot carry.
		if t := b.Temperature; t != nil && (math.IsNaN(*t) || math.IsInf(*t, 0)) {
			problems = append(problems, fmt.Errorf("bot %d (%q): temperature %v is not a finite number", i+1, b.Name, *t))
		}
		for _, alias := range slices.Sorted(maps.Keys(b.Aliases)) {
			if !aliasName.MatchString(alias) {
				problems = append(problems, fmt.Errorf("bot %d (%q): alias %q: an alias name %s", i+1, b.Name, alias, aliasNameRule))
			}
			if v := b.Aliases[alias]; v < minVersion {
				problems = append(problems, fmt.Errorf("bot %d (%q): alias %q: version %d: versions are numbered from %d", i+1, b.Name, alias, v, minVersion))
			}
		}
	}
	if len(problems) > 0 {
		return botsFile{}, fmt.Errorf("%s: %w", path, errors.Join(problems...))
	}
	return f, nil
}

// decodeJSON decodes data, one JSON value, into v, and refuses what encoding/json would let
// through: a field v does not have, a member name twice in one object at any depth (Go keeps
// the last, other readers the first; and Go matches field names ignoring case, so "bots" and
// "Bots" are one member), and anything after the value.
func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("there is more after the JSON value; a file holds one")
	}
	return uniqueMembers(data)
}

// uniqueMembers refuses data, valid JSON, when an object has a member name twice (I-JSON,
// package ijson), compared ignoring case as encoding/json matches them to fields.
func uniqueMembers(data []byte) error {
	var dup *ijson.DuplicateError
	if err := ijson.CheckNames(data, ijson.FoldCase); errors.As(err, &dup) {
		return fmt.Errorf("the member %q is twice in one object (as %q and %q); write each once", dup.Name, dup.First, dup.Name)
	} else if err != nil {
		return err
	}
	return nil
}

// decodeYAML decodes data, one YAML document, into v; yaml.v3 already refuses a key twice in
// one mapping, and KnownFields a field v does not have. A second document is refused, an
// empty file left to the caller (v stays as it was).
func decodeYAML(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	var more any
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return errors.New("there is more than one YAML document; a file holds one")
	}
	return nil
}
