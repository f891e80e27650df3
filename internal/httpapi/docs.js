// Swagger UI on this server's own document. The bearer token a user enters is kept for the
// page's lifetime only (persistAuthorization off: nothing goes to localStorage), and no
// online validator is asked about the document.
window.ui = SwaggerUIBundle({
  url: "/openapi.yaml",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: false,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
