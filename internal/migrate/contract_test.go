package migrate_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/dbtest"
)

// TestTheSchemaHoldsTheContractsBounds checks every CHECK constraint that restates a rule of
// openapi.yaml against the spec. The spec owns the rule (the validator refuses a bad request
// with its message); the constraint holds it for every other writer. A change to one without
// the other fails here, with both texts.
func TestTheSchemaHoldsTheContractsBounds(t *testing.T) {
	t.Parallel()
	spec, err := api.GetSwagger()
	require.NoError(t, err)
	schema := func(name string) *openapi3.Schema {
		ref, ok := spec.Components.Schemas[name]
		require.True(t, ok, "openapi.yaml has no schema %s", name)
		return ref.Value
	}
	param := func(name string) *openapi3.Schema {
		ref, ok := spec.Components.Parameters[name]
		require.True(t, ok, "openapi.yaml has no parameter %s", name)
		return ref.Value.Schema.Value
	}
	lengths := func(column string, s *openapi3.Schema) string {
		if s.MinLength == 0 {
			return fmt.Sprintf("CHECK ((char_length(%s) <= %d))", column, *s.MaxLength)
		}
		return fmt.Sprintf("CHECK (((char_length(%[1]s) >= %[2]d) AND (char_length(%[1]s) <= %[3]d)))", column, s.MinLength, *s.MaxLength)
	}
	temperature := fmt.Sprintf("CHECK (((temperature >= (%v)::double precision) AND (temperature <= (%v)::double precision)))",
		*schema("BotTemperature").Min, *schema("BotTemperature").Max)
	oneOf := func(column string, values []any) string {
		quoted := make([]string, len(values))
		for i, v := range values {
			quoted[i] = fmt.Sprintf("'%s'::text", v)
		}
		return fmt.Sprintf("CHECK ((%s = ANY (ARRAY[%s])))", column, strings.Join(quoted, ", "))
	}
	aliasPattern := func(s *openapi3.Schema) string { return fmt.Sprintf("CHECK ((name ~ '%s'::text))", s.Pattern) }
	events := schema("WebhookEvents")
	subscribable := events.Items.Value.Enum
	require.Equal(t, "*", subscribable[0], "WebhookEvents lists \"*\" first, then the event types")
	var configAlias *openapi3.Schema
	for _, p := range spec.Paths.Find("/api/v1/bots/{bot_id}/config").Get.Parameters {
		if p.Value.Name == "alias" {
			configAlias = p.Value.Schema.Value
		}
	}
	require.NotNil(t, configAlias, "GET /config has an alias parameter")

	// Each row: a constraint, and what one place of the spec says it must be. Where the spec
	// states a rule twice, each copy has its row.
	want := []struct{ constraint, def, from string }{
		{"bots.bots_name_check", lengths("name", schema("BotName")), "BotName"},
		{"bots.bots_description_check", lengths("description", schema("BotDescription")), "BotDescription"},
		{"bots.bots_model_check", lengths("model", schema("BotModel")), "BotModel"},
		{"bots.bots_system_prompt_check", lengths("system_prompt", schema("BotSystemPrompt")), "BotSystemPrompt"},
		{"bots.bots_temperature_check", temperature, "BotTemperature"},
		{"bot_versions.bot_versions_model_check", lengths("model", schema("BotModel")), "BotModel"},
		{"bot_versions.bot_versions_system_prompt_check", lengths("system_prompt", schema("BotSystemPrompt")), "BotSystemPrompt"},
		{"bot_versions.bot_versions_temperature_check", temperature, "BotTemperature"},
		{"bot_versions.bot_versions_source_check", oneOf("source", schema("BotVersion").Properties["source"].Value.Enum), "BotVersion.source"},
		{"bot_aliases.bot_aliases_name_check", aliasPattern(param("AliasName")), "the AliasName parameter"},
		{"bot_aliases.bot_aliases_name_check", aliasPattern(configAlias), "GET /config's alias parameter"},
		{"bot_events.bot_events_type_check", oneOf("type", schema("BotEventType").Enum), "BotEventType"},
		{"bot_events.bot_events_type_check", oneOf("type", subscribable[1:]), "WebhookEvents' items"},
		{"webhooks.webhooks_url_check", lengths("url", schema("WebhookURL")), "WebhookURL"},
		{"webhooks.webhooks_description_check", lengths("description", schema("WebhookDescription")), "WebhookDescription"},
		{"webhooks.webhooks_events_check", fmt.Sprintf("CHECK (((cardinality(events) >= %d) AND (cardinality(events) <= %d)))",
			events.MinItems, *events.MaxItems), "WebhookEvents"},
		{"idempotency_keys.idempotency_keys_key_check", lengths("key", param("IdempotencyKey")), "the IdempotencyKey parameter"},
	}

	rows, err := dbtest.Pool(t).Query(t.Context(), `
		SELECT conrelid::regclass::text || '.' || conname, pg_get_constraintdef(oid)
		FROM pg_constraint WHERE contype = 'c' AND connamespace = 'public'::regnamespace`)
	require.NoError(t, err)
	have := map[string]string{}
	var name, def string
	_, err = pgx.ForEachRow(rows, []any{&name, &def}, func() error {
		have[name] = def
		return nil
	})
	require.NoError(t, err)
	for _, w := range want {
		require.Equal(t, w.def, have[w.constraint], "the constraint %s, against %s in openapi.yaml", w.constraint, w.from)
	}
	// The service checks a name's length again after normalising it, with its own constant.
	require.EqualValues(t, *schema("BotName").MaxLength, bots.MaxNameLength, "bots.MaxNameLength against BotName in openapi.yaml")
}
