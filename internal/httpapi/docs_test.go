package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"
)

// repoSpec is openapi.yaml as it is in the repository.
func repoSpec(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../openapi.yaml")
	require.NoError(t, err)
	return b
}

func TestOpenAPIDocumentIsServedAsWritten(t *testing.T) {
	t.Parallel()
	e := setup(t)
	written := repoSpec(t)

	t.Run("YAMLByteForByte", func(t *testing.T) {
		t.Parallel()
		res := authzServe(e, "/openapi.yaml")
		require.Equal(t, http.StatusOK, res.code)
		require.Equal(t, "application/yaml", res.header.Get("Content-Type"))
		require.True(t, bytes.Equal(written, res.body), "/openapi.yaml is not openapi.yaml as written (run `go tool task generate`)")
	})

	t.Run("JSONIsTheSameDocumentInTheSameOrder", func(t *testing.T) {
		t.Parallel()
		res := authzServe(e, "/openapi.json")
		require.Equal(t, http.StatusOK, res.code)
		require.Equal(t, "application/json", res.header.Get("Content-Type"))
		require.True(t, json.Valid(res.body))

		fromYAML, err := openapi3.NewLoader().LoadFromData(written)
		require.NoError(t, err)
		fromJSON, err := openapi3.NewLoader().LoadFromData(res.body)
		require.NoError(t, err)
		require.NoError(t, fromJSON.Validate(context.Background()))
		want, err := fromYAML.MarshalJSON()
		require.NoError(t, err)
		got, err := fromJSON.MarshalJSON()
		require.NoError(t, err)
		require.JSONEq(t, string(want), string(got))

		// Keys keep the order of openapi.yaml, which is not the alphabetical one.
		order := []string{`"openapi"`, `"info"`, `"servers"`, `"paths"`, `"/api/v1/bots"`, `"/healthz"`, `"/readyz"`, `"components"`}
		for _, key := range order {
			require.Contains(t, string(res.body), key)
		}
		for i := 1; i < len(order); i++ {
			require.Less(t, bytes.Index(res.body, []byte(order[i-1])), bytes.Index(res.body, []byte(order[i])),
				"%s comes after %s", order[i-1], order[i])
		}
		require.NotContains(t, string(res.body), `\u003c`, "the JSON document is HTML-escaped")
	})
}
