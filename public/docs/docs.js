// /docs: Swagger UI over /openapi.json (generated from the route table, `npm run openapi`).
// A file, not an inline script, so the page runs under a CSP without 'unsafe-inline'.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  deepLinking: true,
  // Offline, and nothing leaves the origin: no badge from validator.swagger.io.
  validatorUrl: null,
  displayOperationId: false,
  displayRequestDuration: true,
  filter: true,
  docExpansion: "list",
  defaultModelsExpandDepth: 0,
  // Keys pasted under "Authorize" stay in this tab only (not localStorage): an admin key is a secret.
  persistAuthorization: false,
});
