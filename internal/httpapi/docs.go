package httpapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"

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
	yaml     []byte
	json     []byte
	assets   map[string][]byte
	problems map[string][]byte // problem type URI -> its page
}

func newDocs(doc *openapi3.T) (*docs, error) {
	asJSON, err := yamlToJSON(spec.YAML)
	if err != nil {
		return nil, fmt.Errorf("convert the OpenAPI document to JSON: %w", err)
	}
	d := &docs{yaml: spec.YAML, json: asJSON, assets: map[string][]byte{"docs.js": docsScript}}
	for _, name := range swaggerAssets {
		b, err := fs.ReadFile(swaggerfiles.FS, name)
		if err != nil {
			return nil, fmt.Errorf("read Swagger UI's %s: %w", name, err)
		}
		d.assets[name] = b
	}
	if d.problems, err = problemPages(doc.Info.Description); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *docs) register(e *echo.Echo) {
	// Each route takes docsHeaders itself: an Echo group with middleware would add a
	// catch-all route, turning every 405 of the API into a 404.
	e.GET("/openapi.yaml", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/yaml", d.yaml)
	}, docsHeaders)
	e.GET("/openapi.json", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/json", d.json)
	}, docsHeaders)
	page := func(c echo.Context) error { return c.HTMLBlob(http.StatusOK, docsPage) }
	e.GET("/docs", page, docsHeaders)
	e.GET("/docs/", page, docsHeaders)
	e.GET("/docs/index.html", page, docsHeaders)
	e.GET("/docs/:asset", func(c echo.Context) error {
		name := c.Param("asset")
		b, ok := d.assets[name]
		if !ok {
			return echo.ErrNotFound
		}
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = echo.MIMEOctetStream
		}
		return c.Blob(http.StatusOK, ct, b)
	}, docsHeaders)
	e.GET("/problems/:type", func(c echo.Context) error {
		b, ok := d.problems["/problems/"+c.Param("type")]
		if !ok {
			return fail(c.Request().Context(), kindNotFound, "there is no such problem type; the types are listed at /docs")
		}
		return c.HTMLBlob(http.StatusOK, b)
	}, docsHeaders)
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
