import path from 'node:path';
import { z } from 'zod';
import type { ApiModuleFactory } from '../deps';
import { defineRoute } from '../route';

/**
 * `GET /v1/docs`: the API's documentation, Swagger UI over `/v1/openapi.json`. Everything it
 * loads comes from the hub itself (swagger-ui-dist, installed with the hub), so it works on a
 * network without internet access and under the hub's Content-Security-Policy, which allows
 * no inline script: the page starts Swagger UI from a small script served as a file of its own.
 */

const ASSET_BASE = '/v1/docs/assets';
const SWAGGER_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));
/** The only files served from swagger-ui-dist (a fixed list: the `:file` parameter never reaches the file system unchecked). */
const SWAGGER_FILES: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

const INIT_SCRIPT = `'use strict';
window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/v1/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    // The default asks validator.swagger.io about the document: nothing leaves the hub's network.
    validatorUrl: null,
    persistAuthorization: false,
  });
});
`;

const PAGE = `<!DOCTYPE html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>联动数据共享交换接口文档 · Liandong exchange API</title>
  <link rel="stylesheet" href="${ASSET_BASE}/swagger-ui.css">
  <link rel="icon" type="image/png" href="${ASSET_BASE}/favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="${ASSET_BASE}/favicon-16x16.png" sizes="16x16">
</head>
<body>
  <noscript>本页面需要启用 JavaScript。接口定义（OpenAPI）见 <a href="/v1/openapi.json">/v1/openapi.json</a>.</noscript>
  <div id="swagger-ui"></div>
  <script src="${ASSET_BASE}/swagger-ui-bundle.js"></script>
  <script src="${ASSET_BASE}/init.js"></script>
</body>
</html>
`;

export const docsModule: ApiModuleFactory = () => ({
  routes: [
    defineRoute({
      method: 'get',
      path: '/docs',
      tag: 'docs',
      summary: 'This API\'s documentation page (接口文档)',
      auth: 'public',
      responses: { 200: { description: 'an HTML page (Swagger UI over /v1/openapi.json)', schema: z.string(), contentType: 'text/html' } },
      handler: async () => ({ body: PAGE, headers: { 'Content-Type': 'text/html; charset=utf-8' } }),
    }),
  ],
  // The page's assets are files, not API operations: mounted outside the documented routes.
  outside: (app) => {
    app.get(`${ASSET_BASE}/:file`, (req, res, next) => {
      res.locals.route = '/docs/assets/:file';
      const file = req.params.file;
      if (file === 'init.js') {
        res.type('text/javascript; charset=utf-8').set('Cache-Control', 'no-cache').send(INIT_SCRIPT);
        return;
      }
      const type = Object.prototype.hasOwnProperty.call(SWAGGER_FILES, file) ? SWAGGER_FILES[file] : undefined;
      if (!type) {
        next();
        return;
      }
      res.sendFile(file, { root: SWAGGER_DIR, maxAge: '1d', headers: { 'Content-Type': type } }, (err) => {
        if (err) next(err);
      });
    });
  },
});
