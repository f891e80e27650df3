package cli

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
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
