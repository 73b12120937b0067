// Renders the contract this server is built from (served at /openapi.yaml). A file of its own, not an
// inline script: the page's Content-Security-Policy allows scripts from this server only.
window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: new URL('../openapi.yaml', window.location.href).toString(),
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout',
    validatorUrl: null,
    tryItOutEnabled: false
  });
});
