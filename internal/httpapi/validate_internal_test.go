package httpapi

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"
)

// Every place a schema types as integer takes 1.0 and 1e0, at any depth, in objects and
// arrays; numbers typed number, and integers written plainly, are left as sent.
func TestIntegralNumbersAreRewrittenWhereTheSchemaSaysInteger(t *testing.T) {
	t.Parallel()
	var schema openapi3.Schema
	require.NoError(t, json.Unmarshal([]byte(`{
		"type": "object",
		"properties": {
			"count": {"type": "integer"},
			"ratio": {"type": "number"},
			"pages": {"type": "array", "items": {"type": "integer"}},
			"inner": {"type": "object", "properties": {"big": {"type": "integer", "format": "int64"}}}
		}
	}`), &schema))
	decode := func(body string) any {
		dec := json.NewDecoder(bytes.NewReader([]byte(body)))
		dec.UseNumber()
		var v any
		require.NoError(t, dec.Decode(&v))
		return v
	}

	v, changed := integralNumbers(decode(`{"count": 3.0, "ratio": 1.0, "pages": [1e0, 2, 30e-1], "inner": {"big": 9.007199254740993e15}, "other": 1.0}`), &schema)
	require.True(t, changed)
	out, err := json.Marshal(v)
	require.NoError(t, err)
	require.JSONEq(t, `{"count": 3, "ratio": 1.0, "pages": [1, 2, 3], "inner": {"big": 9007199254740993}, "other": 1.0}`, string(out))
	require.Contains(t, string(out), `"big":9007199254740993`, "exactly, beyond float64's integers")
	require.Contains(t, string(out), `"ratio":1.0`, "a number field is left as sent")

	_, changed = integralNumbers(decode(`{"count": 3, "ratio": 1.0, "pages": [1, 2], "inner": {"big": -4}}`), &schema)
	require.False(t, changed, "a body of plain integers is left as sent")
	_, changed = integralNumbers(decode(`{"count": 1.5}`), &schema)
	require.False(t, changed, "a fraction is the validator's to refuse")
}
