package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/chatsphere/bots/client"
	"github.com/chatsphere/bots/internal/bots"
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

// readBotsFile reads and checks a botsFile from path ("-": stdin), as JSON when it starts
// with "{", else as YAML. Both are read strictly: a field the format does not have is an
// error, so that a typo is not silently ignored.
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
	var f botsFile
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		err = dec.Decode(&f)
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err = dec.Decode(&f); errors.Is(err, io.EOF) {
			err = nil // an empty file lists no bots
		}
	}
	if err != nil {
		return botsFile{}, fmt.Errorf("%s: %w", path, err)
	}
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
	}
	if len(problems) > 0 {
		return botsFile{}, fmt.Errorf("%s: %w", path, errors.Join(problems...))
	}
	return f, nil
}
