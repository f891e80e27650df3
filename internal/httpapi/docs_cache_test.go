package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"
	swaggerfiles "github.com/swaggo/files/v2"
)

// The documentation is the same bytes for the life of a server: each answer has a strong
// ETag and may be cached for an hour, If-None-Match answers 304, and a client that accepts
// gzip gets it gzipped.
func TestDocsAreCachedAndCompressed(t *testing.T) {
	t.Parallel()
	e := setup(t)
	written := repoSpec(t)
	bundle, err := fs.ReadFile(swaggerfiles.FS, "swagger-ui-bundle.js")
	require.NoError(t, err)
	css, err := fs.ReadFile(swaggerfiles.FS, "swagger-ui.css")
	require.NoError(t, err)
	// want are the compressed documents, and the bytes each must be once decompressed when
	// they are known apart from the server (nil: the identity answer's).
	want := map[string][]byte{
		"/openapi.yaml":              written,
		"/docs":                      nil,
		"/docs/docs.js":              nil,
		"/docs/swagger-ui-bundle.js": bundle,
		"/docs/swagger-ui.css":       css,
		"/problems/validation":       nil,
		"/openapi.json":              nil,
	}
	get := func(t *testing.T, method, path string, header map[string]string) *response {
		t.Helper()
		return e.authzFor(t).do(request{method: method, path: path, header: header})
	}

	all := slices.Collect(maps.Keys(want))

	t.Run("TheETagIsStrongAndStableAndTheAnswerCachedForAnHour", func(t *testing.T) {
		t.Parallel()
		for _, path := range all {
			first, second := get(t, http.MethodGet, path, nil), get(t, http.MethodGet, path, nil)
			require.Equal(t, http.StatusOK, first.code, path)
			tag := first.header.Get("ETag")
			require.Regexp(t, `^"[^"]+"$`, tag, path)
			require.Equal(t, tag, second.header.Get("ETag"), path)
			require.Equal(t, "public, max-age=3600", first.header.Get("Cache-Control"), path)
		}
	})

	t.Run("IfNoneMatchWithTheETagAnswers304", func(t *testing.T) {
		t.Parallel()
		for _, path := range all {
			for _, coding := range []string{"", "gzip"} {
				ok := get(t, http.MethodGet, path, map[string]string{"Accept-Encoding": coding})
				tag := ok.header.Get("ETag")
				for _, sent := range []string{tag, "W/" + tag, `"other", ` + tag, "*"} {
					res := get(t, http.MethodGet, path, map[string]string{"Accept-Encoding": coding, "If-None-Match": sent})
					require.Equal(t, http.StatusNotModified, res.code, "%s %q %s", path, coding, sent)
					require.Empty(t, res.body)
					for _, name := range []string{"ETag", "Cache-Control", "Vary", "Content-Security-Policy"} {
						require.Equal(t, ok.header.Values(name), res.header.Values(name), "%s %q %s", path, coding, name)
					}
					require.Empty(t, res.header.Get("Content-Encoding"), "a 304 has no content")
				}
				res := get(t, http.MethodGet, path, map[string]string{"Accept-Encoding": coding, "If-None-Match": `"other"`})
				require.Equal(t, http.StatusOK, res.code, path)
				require.Equal(t, ok.body, res.body, path)
			}
		}
	})

	t.Run("GzipWhenAcceptedIsTheDocumentCompressed", func(t *testing.T) {
		t.Parallel()
		for path, original := range want {
			plain := get(t, http.MethodGet, path, nil)
			if original == nil {
				original = plain.body
			}
			require.Equal(t, original, plain.body, path)
			for _, accepted := range []string{"gzip, br", "br;q=1, gzip;q=0.5", "x-gzip", "*", "GZIP;Q=1"} {
				res := get(t, http.MethodGet, path, map[string]string{"Accept-Encoding": accepted})
				require.Equal(t, http.StatusOK, res.code, path)
				require.Equal(t, "gzip", res.header.Get("Content-Encoding"), "%s %s", path, accepted)
				require.Contains(t, res.header.Values("Vary"), "Accept-Encoding", path)
				require.Equal(t, plain.header.Get("Content-Type"), res.header.Get("Content-Type"), path)
				require.Equal(t, strconv.Itoa(len(res.body)), res.header.Get("Content-Length"), path)
				require.Less(t, len(res.body), len(original), path)
				require.NotEqual(t, plain.header.Get("ETag"), res.header.Get("ETag"), "%s: each coding has its own strong ETag", path)
				require.True(t, bytes.Equal(original, gunzip(t, res.body)), "%s decompressed is not the document", path)
			}
		}
	})

	t.Run("IdentityUnlessGzipIsAccepted", func(t *testing.T) {
		t.Parallel()
		for path, original := range want {
			plain := get(t, http.MethodGet, path, nil)
			require.Contains(t, plain.header.Values("Vary"), "Accept-Encoding", path)
			for _, accepted := range []string{"", "identity", "br", "gzip;q=0", "*;q=0", "gzip;q=0, *", "deflate, gzip;q=0.0"} {
				res := get(t, http.MethodGet, path, map[string]string{"Accept-Encoding": accepted})
				require.Equal(t, http.StatusOK, res.code, path)
				require.Empty(t, res.header.Get("Content-Encoding"), "%s %q", path, accepted)
				require.Equal(t, plain.header.Get("ETag"), res.header.Get("ETag"), path)
				require.Equal(t, plain.body, res.body, path)
				if original != nil {
					require.True(t, bytes.Equal(original, res.body), path)
				}
			}
		}
	})

	t.Run("HeadHasTheHeadersOfGet", func(t *testing.T) {
		t.Parallel()
		for _, path := range all {
			for _, header := range []map[string]string{nil, {"Accept-Encoding": "gzip, br"}, {"If-None-Match": "*"}} {
				g := get(t, http.MethodGet, path, header)
				h := get(t, http.MethodHead, path, header)
				require.Equal(t, g.code, h.code, path)
				require.Empty(t, h.body)
				// Each answer has its own request id; Content-Length, which a HEAD always has,
				// is the length of the GET's body.
				if g.code == http.StatusOK {
					require.Equal(t, strconv.Itoa(len(g.body)), h.header.Get("Content-Length"), path)
				}
				for _, name := range []string{echo.HeaderXRequestID, echo.HeaderContentLength} {
					g.header.Del(name)
					h.header.Del(name)
				}
				require.Equal(t, g.header, h.header, "%s %v", path, header)
			}
		}
	})
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	out, err := io.ReadAll(r)
	require.NoError(t, err)
	return out
}
