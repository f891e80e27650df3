package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
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
		res := e.do(request{method: http.MethodGet, path: "/openapi.yaml"})
		require.Equal(t, http.StatusOK, res.code)
		require.Equal(t, "application/yaml", res.header.Get("Content-Type"))
		require.True(t, bytes.Equal(written, res.body), "/openapi.yaml is not openapi.yaml as written (run `go tool task generate`)")
	})

	t.Run("JSONIsTheSameDocumentInTheSameOrder", func(t *testing.T) {
		t.Parallel()
		res := e.do(request{method: http.MethodGet, path: "/openapi.json"})
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

func TestDocs(t *testing.T) {
	t.Parallel()
	e := setup(t)
	page := e.do(request{method: http.MethodGet, path: "/docs"})
	require.Equal(t, http.StatusOK, page.code)

	t.Run("EveryDocsAnswerCarriesTheSecurityHeaders", func(t *testing.T) {
		t.Parallel()
		for _, path := range []string{"/docs", "/docs/", "/docs/index.html", "/docs/docs.js", "/docs/swagger-ui.css",
			"/docs/swagger-ui-bundle.js", "/docs/missing", "/openapi.yaml", "/openapi.json", "/problems/validation"} {
			res := e.do(request{method: http.MethodGet, path: path})
			csp := res.header.Get("Content-Security-Policy")
			require.NotEmpty(t, csp, path)
			directives := map[string]string{}
			for d := range strings.SplitSeq(csp, ";") {
				name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
				directives[name] = value
			}
			require.Equal(t, "'none'", directives["frame-ancestors"], path)
			require.Equal(t, "'none'", directives["default-src"], path)
			require.Equal(t, "'self'", directives["script-src"], path, "scripts come from this server only, none inline")
			require.Equal(t, "'self'", directives["style-src"], path)
			require.Equal(t, "'self'", directives["connect-src"], path)
			require.Equal(t, "nosniff", res.header.Get("X-Content-Type-Options"), path)
		}
	})

	t.Run("ThePageNeedsNoInlineScriptOrStyle", func(t *testing.T) {
		t.Parallel()
		html := string(page.body)
		require.NotRegexp(t, `(?i)<script(\s[^>]*)?>\s*[^<\s]`, html, "an inline script would be blocked by the policy")
		require.NotRegexp(t, `(?i)<style|\sstyle\s*=|\son[a-z]+\s*=`, html, "inline styles and handlers would be blocked by the policy")
		for _, src := range regexp.MustCompile(`<script src="([^"]+)"`).FindAllStringSubmatch(html, -1) {
			res := e.do(request{method: http.MethodGet, path: src[1]})
			require.Equal(t, http.StatusOK, res.code, src[1])
			require.Equal(t, "text/javascript; charset=utf-8", res.header.Get("Content-Type"), src[1])
		}
	})

	t.Run("TheBearerTokenIsNotPersisted", func(t *testing.T) {
		t.Parallel()
		script := e.do(request{method: http.MethodGet, path: "/docs/docs.js"})
		require.Equal(t, http.StatusOK, script.code)
		require.Contains(t, string(script.body), `url: "/openapi.yaml"`)
		require.Regexp(t, `persistAuthorization:\s*false`, string(script.body))
	})

	t.Run("TheSlashAndIndexServeThisAPIsPageNotThePetstore", func(t *testing.T) {
		t.Parallel()
		for _, path := range []string{"/docs/", "/docs/index.html"} {
			res := e.do(request{method: http.MethodGet, path: path})
			require.Equal(t, http.StatusOK, res.code, path)
			require.Equal(t, page.body, res.body, path)
			require.NotContains(t, strings.ToLower(string(res.body)), "petstore", path)
		}
		require.NotContains(t, strings.ToLower(string(page.body)), "petstore")
	})

	t.Run("OnlyThePagesAssetsAreServed", func(t *testing.T) {
		t.Parallel()
		for _, path := range []string{"/docs/missing", "/docs/swagger-initializer.js", "/docs/oauth2-redirect.html", "/docs/index.css"} {
			e.do(request{method: http.MethodGet, path: path}).problem(t, http.StatusNotFound)
		}
	})
}

// problemTypes reads the problem types from the table in openapi.yaml's description.
func problemTypes(t *testing.T) []string {
	t.Helper()
	var types []string
	for _, m := range regexp.MustCompile("(?m)^    \\| `(/problems/[a-z-]+)` \\|").FindAllSubmatch(repoSpec(t), -1) {
		types = append(types, string(m[1]))
	}
	require.Greater(t, len(types), 10, "the problem table of openapi.yaml was not found")
	return types
}

func TestProblemTypesResolveToTheirDocumentation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, typ := range problemTypes(t) {
		res := e.do(request{method: http.MethodGet, path: typ})
		require.Equal(t, http.StatusOK, res.code, typ)
		require.Equal(t, "text/html; charset=UTF-8", res.header.Get("Content-Type"), typ)
		require.Contains(t, string(res.body), "<h1>"+typ+"</h1>")
		require.Contains(t, string(res.body), `href="/docs"`)
	}

	// A problem the server writes names a type that resolves.
	p := e.do(request{method: http.MethodGet, path: "/api/v1/bots"}).problem(t, http.StatusUnauthorized)
	require.Equal(t, http.StatusOK, e.do(request{method: http.MethodGet, path: p.Type}).code)

	for _, path := range []string{"/problems/no-such-type", "/problems/", "/problems/validation/more"} {
		e.do(request{method: http.MethodGet, path: path}).problem(t, http.StatusNotFound)
	}
}
