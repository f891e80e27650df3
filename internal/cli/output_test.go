package cli

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/chatsphere/bots/client"
	"github.com/chatsphere/bots/gen/api"
)

// Every view names its fields twice, for -o json and for -o yaml: both formats must print the
// same fields under the same names and leave out the same ones, whether the fields are empty
// or set.
func TestYAMLPrintsWhatJSONPrints(t *testing.T) {
	t.Parallel()
	views := []any{botView{}, modelView{}, changeView{}, versionView{}, patchView{}, aliasView{}, eventView{}, webhookView{}, deliveryView{}}
	for _, view := range views {
		t.Run(reflect.TypeOf(view).Name(), func(t *testing.T) {
			t.Parallel()
			filled := reflect.New(reflect.TypeOf(view)).Elem()
			fill(filled)
			for _, v := range []any{view, filled.Interface()} {
				require.Equal(t, printedKeys(t, "json", v), printedKeys(t, "yaml", v))
			}
		})
	}
}

// fill sets every field of the struct v to a value that is not empty.
func fill(v reflect.Value) {
	for i := range v.NumField() {
		fillValue(v.Field(i))
	}
}

func fillValue(f reflect.Value) {
	switch {
	case f.Type() == reflect.TypeFor[time.Time]():
		f.Set(reflect.ValueOf(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)))
	case f.Type() == reflect.TypeFor[json.RawMessage]():
		f.SetBytes([]byte(`{"k":1}`))
	case f.Kind() == reflect.Interface:
		f.Set(reflect.ValueOf(map[string]any{"k": 1}))
	case f.Kind() == reflect.Pointer:
		f.Set(reflect.New(f.Type().Elem()))
		fillValue(f.Elem())
	case f.Kind() == reflect.String:
		f.SetString("x")
	case f.Kind() == reflect.Bool:
		f.SetBool(true)
	case f.CanInt():
		f.SetInt(1)
	case f.CanFloat():
		f.SetFloat(0.5)
	case f.Kind() == reflect.Struct:
		fill(f)
	case f.Kind() == reflect.Slice:
		f.Set(reflect.MakeSlice(f.Type(), 1, 1))
	}
}

// printedKeys is the names of the fields v prints as in format.
func printedKeys(t *testing.T, format string, v any) []string {
	t.Helper()
	var out bytes.Buffer
	ok, err := encode(&out, format, v)
	require.True(t, ok)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, yaml.Unmarshal(out.Bytes(), &got), out.String()) // JSON is YAML
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// oneLine, which every table cell goes through, leaves printable text as it is and shows every
// control and format character visibly, never raw, but for those emoji and scripts are
// written with.
func TestOneLineEscapesControlAndFormatCharacters(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Café 日本 🤖 a\\b": "Café 日本 🤖 a\\b",
		"👩\u200d💻 नमस्\u200cते 🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f": "👩\u200d💻 नमस्\u200cते 🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
		"a\r\nb\nc\rd\te":                                  "a⏎b⏎c⏎d e",
		"\x1b[2K\x07\x00\x7f\u0085":                        `\x1b[2K\a\x00\x7f\u0085`,
		"\u202a\u202b\u202c\u202d\u202e":                   `\u202a\u202b\u202c\u202d\u202e`,
		"\u2066\u2067\u2068\u2069\u200e\u200f\ufeff\u00ad": `\u2066\u2067\u2068\u2069\u200e\u200f\ufeff\u00ad`,
		"\u2028\u2029\U000e0001\u200b":                     `\u2028\u2029\U000e0001\u200b`,
		"bad\xffbyte":                                      `bad\xffbyte`,
	} {
		require.Equal(t, want, oneLine(in), "%q", in)
	}
	var out bytes.Buffer
	require.NoError(t, table(&out, [][]string{{"a:", "x\x1b]0;t\x07"}, {"bb:", "\u202eb"}}))
	require.Equal(t, "a:   x\\x1b]0;t\\a\nbb:  \\u202eb\n", out.String(), "every cell of a table goes through oneLine")
}

// -o json and -o yaml print what the API sends, under its field names: every field of the
// contract's schema, a null one as null, even when the view's fields are all empty.
func TestViewsPrintEveryFieldOfTheAPI(t *testing.T) {
	t.Parallel()
	spec, err := api.GetSwagger()
	require.NoError(t, err)
	for schema, view := range map[string]any{
		"BotResponse": botView{}, "BotVersion": versionView{}, "BotEvent": changeView{}, "StatusEvent": eventView{},
		"Webhook": webhookView{}, "WebhookDelivery": deliveryView{}, "Model": modelView{}, "BotAlias": aliasView{},
	} {
		t.Run(schema, func(t *testing.T) {
			t.Parallel()
			props := slices.Sorted(maps.Keys(spec.Components.Schemas[schema].Value.Properties))
			require.Equal(t, props, printedKeys(t, "json", view))
		})
	}
}

// A bot's first status change has no previous status: watch prints it as the API does, null.
func TestWatchPrintsTheFirstChangeFromNull(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.NoError(t, printEvent(Env{Stdout: &out}, "json", client.StatusEvent{ID: 1, To: client.StatusTraining}))
	var got map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &got))
	require.Contains(t, got, "from_status")
	require.Nil(t, got["from_status"])
	require.Contains(t, got, "message")
	require.Nil(t, got["message"])
}
