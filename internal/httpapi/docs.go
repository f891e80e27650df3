package httpapi

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	swaggerfiles "github.com/swaggo/files/v2"
	"go.yaml.in/yaml/v3"

	"github.com/chatsphere/bots/gen/spec"
)

// docsPage is Swagger UI's page, loading its assets from this server (no CDN) and the
// document from /openapi.yaml. Its script is a file of its own, docs.js, so that the page
// runs under a Content-Security-Policy that allows no inline script.
//
//go:embed docs.html
var docsPage []byte

//go:embed docs.js
var docsScript []byte

// swaggerAssets are the files of Swagger UI the page loads. Nothing else of the package is
// served: its index.html and initializer show the petstore example from the internet.
var swaggerAssets = []string{"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png"}

// docsPolicy lets the documentation load what it needs from this server and nothing else: no
// inline script or style, images also as data: URIs (Swagger UI's stylesheet draws its icons
// so), and no framing by other sites.
const docsPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// docs serves the OpenAPI document, Swagger UI on it, and a page for each problem type.
type docs struct {
	yaml, json, page *document
	assets           map[string]*document
	problems         map[string]*document // problem type URI -> its page
}

// builtDocs are the documents every server of the process serves alike, built once: they
// come from the binary, and compressing Swagger UI takes a moment.
var builtDocs = sync.OnceValues(func() (*docs, error) {
	asJSON, err := yamlToJSON(spec.YAML)
	if err != nil {
		return nil, fmt.Errorf("convert the OpenAPI document to JSON: %w", err)
	}
	assets := map[string][]byte{"docs.js": docsScript}
	for _, name := range swaggerAssets {
		if assets[name], err = fs.ReadFile(swaggerfiles.FS, name); err != nil {
			return nil, fmt.Errorf("read Swagger UI's %s: %w", name, err)
		}
	}
	d := &docs{
		yaml: newDocument("application/yaml", spec.YAML),
		// Written without HTML escapes, so that jsonWriter leaves the identity answer as
		// it is and both codings are the same document.
		json:   newDocument(echo.MIMEApplicationJSON, asJSON),
		page:   newDocument(echo.MIMETextHTMLCharsetUTF8, docsPage),
		assets: make(map[string]*document, len(assets)),
	}
	for name, b := range assets {
		d.assets[name] = newDocument(cmp.Or(mime.TypeByExtension(path.Ext(name)), echo.MIMEOctetStream), b)
	}
	return d, nil
})

func newDocs(doc *openapi3.T) (*docs, error) {
	built, err := builtDocs()
	if err != nil {
		return nil, err
	}
	d := *built
	pages, err := problemPages(doc.Info.Description)
	if err != nil {
		return nil, err
	}
	d.problems = make(map[string]*document, len(pages))
	for uri, page := range pages {
		d.problems[uri] = newDocument(echo.MIMETextHTMLCharsetUTF8, page)
	}
	return &d, nil
}

func (d *docs) register(e *echo.Echo) {
	// Each route takes docsHeaders itself: an Echo group with middleware would add a
	// catch-all route, turning every 405 of the API into a 404.
	e.GET("/openapi.yaml", d.yaml.serve, docsHeaders)
	e.GET("/openapi.json", d.json.serve, docsHeaders)
	e.GET("/docs", d.page.serve, docsHeaders)
	e.GET("/docs/", d.page.serve, docsHeaders)
	e.GET("/docs/index.html", d.page.serve, docsHeaders)
	e.GET("/docs/:asset", func(c echo.Context) error {
		asset, ok := d.assets[c.Param("asset")]
		if !ok {
			return echo.ErrNotFound
		}
		return asset.serve(c)
	}, docsHeaders)
	e.GET("/problems/:type", func(c echo.Context) error {
		page, ok := d.problems["/problems/"+c.Param("type")]
		if !ok {
			return fail(c.Request().Context(), kindNotFound, "there is no such problem type; the types are listed at /docs")
		}
		return page.serve(c)
	}, docsHeaders)
}

// docsCacheControl lets browsers and caches keep a document for an hour, and then ask again
// with If-None-Match. The URLs carry no version, so a longer time would keep a new release's
// documentation from its readers for longer.
const docsCacheControl = "public, max-age=3600"

// document is an answer of the documentation, the same bytes for the life of the process, so
// that its entity tag and its compression are worked out once. Swagger UI, the OpenAPI
// document and the pages are text that gzip makes several times smaller.
type document struct {
	contentType string
	identity    representation
	gzip        *representation // nil when the document is not served compressed
}

// representation is a document in one content coding, with its strong entity tag.
type representation struct {
	body []byte
	etag string
}

func newDocument(contentType string, body []byte) *document {
	d := &document{contentType: contentType, identity: newRepresentation(body)}
	// Compressed when that makes it smaller (not so the favicons, which are PNG).
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
	_, _ = w.Write(body)                                    // writes to a bytes.Buffer do not fail
	_ = w.Close()
	if buf.Len() < len(body) {
		gz := newRepresentation(buf.Bytes())
		d.gzip = &gz
	}
	return d
}

// newRepresentation tags body with a hash of its bytes: byte-identical answers, and only
// those, have the same strong entity tag, in this process, another replica or the next
// release.
func newRepresentation(body []byte) representation {
	sum := sha256.Sum256(body)
	return representation{body: body, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`}
}

// serve answers the document gzipped when the client accepts gzip and identity otherwise,
// and 304 when If-None-Match (weak comparison) names the entity tag of what it would send.
// A HEAD runs this too, so its headers are the GET's.
func (d *document) serve(c echo.Context) error {
	req, h := c.Request(), c.Response().Header()
	rep, coding := d.identity, ""
	if d.gzip != nil {
		h.Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
		if acceptsGzip(req.Header.Values(echo.HeaderAcceptEncoding)) {
			rep, coding = *d.gzip, "gzip"
		}
	}
	h.Set("ETag", rep.etag)
	h.Set(echo.HeaderCacheControl, docsCacheControl)
	var ifNoneMatch *string
	if lines := req.Header.Values("If-None-Match"); len(lines) > 0 {
		ifNoneMatch = &lines[0] // joinListHeaders made several lines one
	}
	if parseEntityTags(ifNoneMatch, true).has(rep.etag) {
		return c.NoContent(http.StatusNotModified)
	}
	if coding != "" {
		h.Set(echo.HeaderContentEncoding, coding)
	}
	h.Set(echo.HeaderContentLength, strconv.Itoa(len(rep.body)))
	return c.Blob(http.StatusOK, d.contentType, rep.body)
}

// acceptsGzip reports whether Accept-Encoding (RFC 9110 §12.5.3) accepts gzip: it names
// gzip (or x-gzip), or else "*", with a weight above 0. Without the header, identity.
func acceptsGzip(lines []string) bool {
	gzipWeight, anyWeight := -1.0, -1.0
	for _, line := range lines {
		for item := range strings.SplitSeq(line, ",") {
			coding, params, _ := strings.Cut(item, ";")
			weight := 1.0
			for param := range strings.SplitSeq(params, ";") {
				if name, value, _ := strings.Cut(param, "="); strings.EqualFold(strings.TrimSpace(name), "q") {
					var err error
					if weight, err = strconv.ParseFloat(strings.TrimSpace(value), 64); err != nil {
						weight = 0 // a weight that is not one accepts nothing
					}
				}
			}
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "gzip", "x-gzip":
				gzipWeight = max(gzipWeight, weight)
			case "*":
				anyWeight = max(anyWeight, weight)
			}
		}
	}
	if gzipWeight >= 0 {
		return gzipWeight > 0
	}
	return anyWeight > 0
}

// docsHeaders sets the security headers of every documentation answer, errors included.
func docsHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", docsPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		return next(c)
	}
}

// yamlToJSON converts a YAML document to indented JSON, keeping the order of its keys.
func yamlToJSON(doc []byte) ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := writeJSON(&buf, &root); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func writeJSON(buf *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return errors.New("expected one YAML document")
		}
		return writeJSON(buf, n.Content[0])
	case yaml.AliasNode:
		return writeJSON(buf, n.Alias)
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				buf.WriteByte(',')
			}
			key := n.Content[i]
			if key.Kind != yaml.ScalarNode || key.Tag == "!!merge" {
				return fmt.Errorf("line %d: only plain keys can be written as JSON", key.Line)
			}
			if err := writeValue(buf, key.Value); err != nil {
				return err
			}
			buf.WriteByte(':')
			if err := writeJSON(buf, n.Content[i+1]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, item := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSON(buf, item); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case yaml.ScalarNode:
		var v any
		switch n.ShortTag() {
		case "!!str", "!!timestamp", "!!binary":
			v = n.Value
		default:
			if err := n.Decode(&v); err != nil {
				return fmt.Errorf("line %d: %w", n.Line, err)
			}
		}
		return writeValue(buf, v)
	default:
		return fmt.Errorf("line %d: unexpected YAML node", n.Line)
	}
	return nil
}

func writeValue(buf *bytes.Buffer, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1) // Encode ends with a newline
	return nil
}
