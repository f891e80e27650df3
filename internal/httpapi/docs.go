package httpapi

import (
	_ "embed"
	"fmt"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	"github.com/oasdiff/yaml"
	swaggerfiles "github.com/swaggo/files/v2"
)

// docsPage is Swagger UI's page, loading its assets from this server (no CDN) and the
// document from /openapi.yaml.
//
//go:embed docs.html
var docsPage []byte

// docs serves the OpenAPI document and Swagger UI on it.
type docs struct {
	yaml []byte
}

func newDocs(spec *openapi3.T) (*docs, error) {
	raw, err := spec.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encode the OpenAPI document: %w", err)
	}
	doc, err := yaml.JSONToYAML(raw)
	if err != nil {
		return nil, fmt.Errorf("encode the OpenAPI document as YAML: %w", err)
	}
	return &docs{yaml: doc}, nil
}

func (d *docs) register(e *echo.Echo) {
	e.GET("/openapi.yaml", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/yaml", d.yaml)
	})
	e.GET("/docs", func(c echo.Context) error {
		return c.HTMLBlob(http.StatusOK, docsPage)
	})
	e.GET("/docs/*", echo.WrapHandler(http.StripPrefix("/docs/", http.FileServerFS(swaggerfiles.FS))))
}
