package cli

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

// The README's table of OpenAI models is what people read; openAIModels is what the import
// does. They must say the same.
func TestTheREADMEShowsTheOpenAIModelTable(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, rest, found := strings.Cut(string(readme), "| OpenAI `model` | bot `model` |\n|---|---|\n")
	require.True(t, found, "the README has no table of OpenAI models")
	tableText, _, _ := strings.Cut(rest, "\n\n")
	code := regexp.MustCompile("`([^`]+)`")
	shown := map[string]string{}
	for row := range strings.Lines(tableText) {
		cells := strings.Split(strings.Trim(strings.TrimSpace(row), "|"), "|")
		require.Len(t, cells, 2, "row %q", row)
		target := code.FindStringSubmatch(cells[1])
		if target == nil {
			continue // "any other"
		}
		for _, m := range code.FindAllStringSubmatch(cells[0], -1) {
			shown[m[1]] = target[1]
		}
	}
	require.Equal(t, openAIModels, shown)
}

// The import checks an assistant against the contract's bounds before it creates anything;
// they must be the bounds the service's validator applies.
func TestTheImportChecksTheContractsBounds(t *testing.T) {
	t.Parallel()
	spec, err := api.GetSwagger()
	require.NoError(t, err)
	schema := func(name string) *openapi3.Schema { return spec.Components.Schemas[name].Value }
	require.EqualValues(t, *schema("BotDescription").MaxLength, maxDescriptionLength, "BotDescription")
	require.EqualValues(t, *schema("BotSystemPrompt").MaxLength, maxPromptLength, "BotSystemPrompt")
	require.Equal(t, *schema("BotTemperature").Max, maxTemperature, "BotTemperature")
}

// Apply checks a file's aliases against the contract before it sends anything; the rules must
// be the contract's.
func TestTheApplyFileChecksTheContractsAliasRules(t *testing.T) {
	t.Parallel()
	spec, err := api.GetSwagger()
	require.NoError(t, err)
	name := spec.Components.Parameters["AliasName"].Value.Schema.Value
	require.Equal(t, name.Pattern, aliasName.String(), "AliasName")
	require.Equal(t, name.Extensions["x-pattern-message"], aliasNameRule, "AliasName")
	require.EqualValues(t, *spec.Components.Schemas["BotAliasPut"].Value.Properties["version"].Value.Min, minVersion, "BotAliasPut.version")
}
