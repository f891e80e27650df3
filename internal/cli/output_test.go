package cli

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// -o yaml takes its names from the json tags: both formats print the same fields, under the
// same names, with the same omissions, and a json.RawMessage as the value it holds.
func TestYAMLPrintsWhatJSONPrints(t *testing.T) {
	t.Parallel()
	type item struct {
		Name string          `json:"name"`
		Note string          `json:"note,omitempty"`
		Data json.RawMessage `json:"data"`
		Skip string          `json:"-"`
	}
	type view struct {
		Items   []item  `json:"items"`
		First   *item   `json:"first"`
		Missing *item   `json:"missing"`
		Count   int     `json:"count,omitempty"`
		Plain   float64 // no tag: json's name is the field's
	}
	v := view{Items: []item{{Name: "a", Data: json.RawMessage(`{"k":["x",true]}`), Skip: "s"}, {Name: "b", Note: "n"}}, Plain: 0.5}
	v.First = &v.Items[0]
	printed := map[string]any{}
	for _, format := range []string{"json", "yaml"} {
		var out bytes.Buffer
		ok, err := encode(&out, format, v)
		require.True(t, ok)
		require.NoError(t, err)
		var got any
		require.NoError(t, yaml.Unmarshal(out.Bytes(), &got), out.String()) // JSON is YAML
		printed[format] = got
	}
	require.Equal(t, printed["json"], printed["yaml"])
	require.Equal(t, map[string]any{"items": []any{
		map[string]any{"name": "a", "data": map[string]any{"k": []any{"x", true}}},
		map[string]any{"name": "b", "note": "n", "data": nil},
	}, "first": map[string]any{"name": "a", "data": map[string]any{"k": []any{"x", true}}}, "missing": nil, "Plain": 0.5}, printed["yaml"])
}
