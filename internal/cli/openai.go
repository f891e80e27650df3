package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/chatsphere/bots/client"
	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/ijson"
)

// openAIModels maps the model ids of OpenAI's assistants to this service's catalog: a model
// and its dated snapshots map to the same catalog entry. A model not in this table is
// reported, never guessed. The README's "Command line" section shows the same table.
var openAIModels = map[string]string{
	"gpt-4o":                 "gpt-4o",
	"gpt-4o-2024-05-13":      "gpt-4o",
	"gpt-4o-2024-08-06":      "gpt-4o",
	"gpt-4o-2024-11-20":      "gpt-4o",
	"gpt-4o-mini":            "gpt-4o-mini",
	"gpt-4o-mini-2024-07-18": "gpt-4o-mini",
	"gpt-3.5-turbo":          "gpt-3.5-turbo",
	"gpt-3.5-turbo-0125":     "gpt-3.5-turbo",
	"gpt-3.5-turbo-1106":     "gpt-3.5-turbo",
}

// The contract's bounds on what an assistant becomes (openapi.yaml: BotDescription,
// BotSystemPrompt, BotTemperature; a test holds them to it), checked before anything is
// created so that an import either creates every bot or none. The name is checked by the
// service's own rule (bots.NormalizeName, bots.MaxNameLength).
const (
	maxDescriptionLength = 500
	maxPromptLength      = 1000
	maxTemperature       = 2.0
	// openAIDefaultTemperature is what OpenAI runs an assistant at whose temperature is null.
	openAIDefaultTemperature = 1.0
)

// openAIList is the answer of OpenAI's GET /v1/assistants, with the fields the import reads.
type openAIList struct {
	Object string            `json:"object"`
	Data   []openAIAssistant `json:"data"`
}

type openAIAssistant struct {
	ID             string            `json:"id"`
	Name           *string           `json:"name"`
	Description    *string           `json:"description"`
	Model          string            `json:"model"`
	Instructions   *string           `json:"instructions"`
	Temperature    *float64          `json:"temperature"`
	TopP           *float64          `json:"top_p"`
	Tools          []json.RawMessage `json:"tools"`
	Metadata       map[string]any    `json:"metadata"`
	ResponseFormat json.RawMessage   `json:"response_format"`
}

// assistantTexts are an assistant's texts as the file spells them: decoding replaces a lone
// surrogate escape and bytes that are not UTF-8 with U+FFFD, and only the file tells a text
// the service would refuse (I-JSON, RFC 7493) from one that holds U+FFFD.
type assistantTexts struct {
	Name         json.RawMessage `json:"name"`
	Description  json.RawMessage `json:"description"`
	Instructions json.RawMessage `json:"instructions"`
}

// importItem is one assistant and what the import makes of it: a bot to create, or the
// reasons it cannot be one; notes say what of the assistant the bot leaves out.
type importItem struct {
	assistant openAIAssistant
	bot       client.CreateParams
	reasons   []string
	notes     []string
}

func runImport(ctx context.Context, env Env, args []string) error {
	f := newPlainFlags("import")
	dryRun := f.Bool("dry-run", false, "report what would be created, create nothing")
	yes := f.Bool("yes", false, "if a create fails, delete the bots this import created without asking")
	c, pos, done, err := f.start(env, args, 2, 2)
	if done {
		return err
	}
	if pos[0] != "openai" {
		return f.usageError(fmt.Sprintf("cannot import from %q; the source is openai", pos[0]))
	}
	data, err := os.ReadFile(pos[1])
	if err != nil {
		return err
	}
	var list openAIList
	if err := json.Unmarshal(data, &list); err != nil {
		return fmt.Errorf("import: %s is not the JSON of OpenAI's list of assistants: %w", pos[1], err)
	}
	if list.Object != "list" {
		return fmt.Errorf("import: %s is not OpenAI's list of assistants (its object is %q, not \"list\")", pos[1], list.Object)
	}
	var texts struct {
		Data []assistantTexts `json:"data"`
	}
	if err := json.Unmarshal(data, &texts); err != nil {
		return fmt.Errorf("import: %s is not the JSON of OpenAI's list of assistants: %w", pos[1], err)
	}
	catalog, err := c.Models(ctx)
	if err != nil {
		return apiError(err)
	}
	taken := map[string]string{}
	for b, err := range c.All(ctx, client.ListOptions{}) {
		if err != nil {
			return apiError(err)
		}
		taken[bots.Fold(b.Name)] = fmt.Sprintf("your bot %q", b.Name)
	}
	items := make([]importItem, len(list.Data))
	rejected := 0
	for i, a := range list.Data {
		items[i] = convert(a, texts.Data[i], catalog, taken)
		if len(items[i].reasons) > 0 {
			rejected++
		}
	}
	printImport(env, items)
	if rejected > 0 {
		return fmt.Errorf("import: %d of %d assistants cannot be imported (see above); nothing created", rejected, len(items))
	}
	if *dryRun {
		fmt.Fprintf(env.Stdout, "Dry run: %d bots would be created.\n", len(items))
		return nil
	}
	env.writing()
	var created []client.Bot
	for _, it := range items {
		b, err := c.Create(ctx, it.bot)
		if err != nil {
			fmt.Fprintf(env.Stderr, "%s: %v\n", it.assistant.ID, apiError(err))
			return rollBack(ctx, env, c, *yes, created, err)
		}
		created = append(created, b)
		report(env.Stdout, "created", b.Name, "("+b.ID.String()+") from "+it.assistant.ID)
	}
	fmt.Fprintf(env.Stdout, "Imported %d assistants.\n", len(created))
	return nil
}

// convert makes a bot of an assistant, or says why it cannot: each reason is a bound of the
// contract or the catalog, or a rule of the service, that the assistant does not fit. The
// name is checked as the service checks it (bots.NormalizeName), in the form it is stored
// and sent in; taken maps the folded key (bots.Fold) of each of the caller's bots and of each
// assistant converted before this one to who has it, so that a name the service would find
// taken ("STRASSE" beside "Straße") is rejected here, before anything is created.
func convert(a openAIAssistant, raw assistantTexts, catalog []client.Model, taken map[string]string) importItem {
	it := importItem{assistant: a}
	reject := func(format string, v ...any) { it.reasons = append(it.reasons, fmt.Sprintf(format, v...)) }

	name, key, problems := "", "", []string(nil)
	if a.Name != nil {
		name, key, problems = bots.NormalizeName(*a.Name)
	}
	if name == "" {
		name, key, problems = bots.NormalizeName(a.ID)
		it.notes = append(it.notes, "it has no name: named after its id")
	}
	switch n := utf8.RuneCountInString(name); {
	case n > bots.MaxNameLength:
		reject("name is %d characters; at most %d fit", n, bots.MaxNameLength)
	case len(problems) > 0:
		reject("name %s", strings.Join(problems, "; "))
	case taken[key] != "":
		reject("name %q is taken by %s (names are compared ignoring case)", name, taken[key])
	default:
		taken[key] = fmt.Sprintf("assistant %s's %q", a.ID, name)
	}
	it.bot = client.CreateParams{Name: name, Description: a.Description, SystemPrompt: a.Instructions}
	if a.Description != nil {
		if n := utf8.RuneCountInString(*a.Description); n > maxDescriptionLength {
			reject("description is %d characters; at most %d fit", n, maxDescriptionLength)
		}
		if *a.Description == "" {
			it.bot.Description = nil
		}
	}
	if a.Instructions != nil {
		if n := utf8.RuneCountInString(*a.Instructions); n > maxPromptLength {
			reject("instructions are %d characters; a system prompt takes at most %d", n, maxPromptLength)
		}
	}
	for _, text := range []struct {
		field string
		s     *string
		raw   json.RawMessage
	}{{"name", a.Name, raw.Name}, {"description", a.Description, raw.Description}, {"instructions", a.Instructions, raw.Instructions}} {
		if text.s == nil {
			continue
		}
		switch {
		case !utf8.Valid(text.raw):
			reject("%s is not valid UTF-8, which the service refuses (I-JSON, RFC 7493)", text.field)
		case ijson.LoneSurrogate(text.raw):
			reject("%s has a \\u escape of a lone UTF-16 surrogate, which the service refuses (I-JSON, RFC 7493)", text.field)
		}
		if strings.ContainsRune(*text.s, 0) {
			reject("%s contains a NUL character", text.field)
		}
		if r, found := ijson.Noncharacter(*text.s); found {
			reject("%s contains the Unicode noncharacter U+%04X, which the service refuses (I-JSON, RFC 7493)", text.field, r)
		}
	}

	temperature := openAIDefaultTemperature
	if a.Temperature != nil {
		temperature = *a.Temperature
	}
	if temperature < 0 || temperature > maxTemperature {
		reject("temperature %g is outside 0 to %g", temperature, maxTemperature)
	}
	it.bot.Temperature = &temperature

	model, known := openAIModels[a.Model]
	i := slices.IndexFunc(catalog, func(m client.Model) bool { return m.ID == model })
	switch {
	case !known:
		reject("model %q has no equivalent in this service (see the README's table)", a.Model)
	case i < 0:
		reject("model %q maps to %q, which the service's catalog does not list", a.Model, model)
	case catalog[i].Retired:
		reject("model %q maps to %q, which the service has retired: it would not train", a.Model, model)
	case temperature <= maxTemperature && temperature > catalog[i].MaxTemperature:
		reject("temperature %g is above %g, the most %s supports", temperature, catalog[i].MaxTemperature, catalog[i].DisplayName)
	}
	it.bot.Model = model

	if len(a.Tools) > 0 {
		it.notes = append(it.notes, fmt.Sprintf("its %d tools are left out: bots have none", len(a.Tools)))
	}
	if a.TopP != nil && *a.TopP != 1 {
		it.notes = append(it.notes, fmt.Sprintf("its top_p %g is left out", *a.TopP))
	}
	if len(a.Metadata) > 0 {
		it.notes = append(it.notes, "its metadata is left out")
	}
	return it
}

// printImport writes what the import makes of each assistant.
func printImport(env Env, items []importItem) {
	for _, it := range items {
		if len(it.reasons) > 0 {
			report(env.Stdout, "rejected", it.assistant.ID, strings.Join(it.reasons, "; "))
			continue
		}
		details := append([]string{fmt.Sprintf("-> %q on %s, temperature %g", it.bot.Name, it.bot.Model, *it.bot.Temperature)}, it.notes...)
		report(env.Stdout, "create", it.assistant.ID, strings.Join(details, "; "))
	}
}

// rollBack deletes the bots an import created before one of its creates failed, so that no
// half-imported set is left behind. At a terminal it asks first (unless --yes); a script has
// nobody to ask, and gets the rule: nothing half-imported stays.
func rollBack(ctx context.Context, env Env, c *client.Client, yes bool, created []client.Bot, cause error) error {
	if len(created) == 0 {
		return fmt.Errorf("import: nothing created: %w", apiError(cause))
	}
	if env.Terminal && !yes {
		if err := confirm(env, false, "import", fmt.Sprintf("Delete the %d bots this import created?", len(created))); err != nil {
			return fmt.Errorf("import failed and its %d bots were kept: %w", len(created), apiError(cause))
		}
	}
	var kept []uuid.UUID
	for _, b := range created {
		if err := c.Delete(ctx, b.ID, ""); err != nil {
			fmt.Fprintf(env.Stderr, "%s: not deleted: %v\n", b.ID, apiError(err))
			kept = append(kept, b.ID)
			continue
		}
		report(env.Stdout, "deleted", b.Name, "("+b.ID.String()+")")
	}
	if len(kept) > 0 {
		return fmt.Errorf("import failed, and %d of the bots it created could not be deleted: %v", len(kept), kept)
	}
	return fmt.Errorf("import failed; the %d bots it had created are deleted: %w", len(created), apiError(cause))
}
