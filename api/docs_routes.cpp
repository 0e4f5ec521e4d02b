// The API's own documentation: the OpenAPI document (api/openapi.json, compiled in) at
// `/openapi.json`, Swagger UI at `/docs` and Redoc at `/redoc`. The two viewers come from their
// npm packages, which scripts/install-web.sh installs into `web_dir`; only the files named here
// are served from there, so no request names a path of its own.
#include <sys/stat.h>

#include <array>
#include <fstream>
#include <sstream>

#include "api/routes.h"

namespace tidemark::api {

extern const std::string_view kOpenApiDocument;

namespace {

/// Scripts and styles only from this origin; inline styles for the viewers' own rendering,
/// blob workers for Redoc's search; requests ("Try it out") only to this API.
constexpr const char* kPageSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

constexpr const char* kSwaggerUiPage = R"(<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Tidemark API · Swagger UI</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
)";

/// A script of its own rather than inline, so the page's policy allows scripts from 'self' only.
constexpr const char* kSwaggerUiInit = R"(window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  displayRequestDuration: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout"
});
)";

constexpr const char* kRedocPage = R"(<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Tidemark API · Redoc</title>
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
  <style>body { margin: 0; padding: 0; }</style>
</head>
<body>
  <redoc spec-url="/openapi.json"></redoc>
  <script src="/redoc/redoc.standalone.js"></script>
</body>
</html>
)";

/// A file of an npm package that a page loads, under a name of ours.
struct Asset {
  std::string_view name;
  std::string_view package_path;  ///< under web_dir
  std::string_view content_type;
};

constexpr std::array<Asset, 4> kSwaggerUiAssets = {{
    {"swagger-ui.css", "swagger-ui-dist/swagger-ui.css", "text/css; charset=utf-8"},
    {"swagger-ui-bundle.js", "swagger-ui-dist/swagger-ui-bundle.js",
     "text/javascript; charset=utf-8"},
    {"favicon-32x32.png", "swagger-ui-dist/favicon-32x32.png", "image/png"},
    {"favicon-16x16.png", "swagger-ui-dist/favicon-16x16.png", "image/png"},
}};

constexpr std::array<Asset, 1> kRedocAssets = {{
    {"redoc.standalone.js", "redoc/bundles/redoc.standalone.js", "text/javascript; charset=utf-8"},
}};

HttpResponse not_installed(const std::string& web_dir, std::string_view viewer) {
  return error_response(503, std::string(viewer) + " is not installed in '" + web_dir +
                                 "'; run scripts/install-web.sh (or set web_dir)");
}

bool installed(const std::string& web_dir, std::string_view package_path) {
  struct stat status {};
  return ::stat((web_dir + "/" + std::string(package_path)).c_str(), &status) == 0 &&
         S_ISREG(status.st_mode);
}

HttpResponse page(std::string_view html) {
  HttpResponse response{200, std::string(html), "text/html; charset=utf-8", {}};
  response.headers.emplace_back("Content-Security-Policy", kPageSecurityPolicy);
  return response;
}

/// The asset's bytes with a validator, and 304 when the browser already has them.
HttpResponse serve_file(const HttpRequest& request, const std::string& path,
                        std::string_view content_type) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0 || !S_ISREG(status.st_mode)) {
    return error_response(404, "asset not found; run scripts/install-web.sh");
  }
  std::ostringstream tag;
  tag << "\"" << std::hex << status.st_size << "-" << status.st_mtim.tv_sec << "-"
      << status.st_mtim.tv_nsec << "\"";
  std::vector<std::pair<std::string, std::string>> headers{
      {"ETag", tag.str()}, {"Cache-Control", "public, max-age=3600, must-revalidate"}};
  if (request.header("if-none-match") == tag.str()) {
    return {304, "", std::string(content_type), std::move(headers)};
  }
  std::ifstream file(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << file.rdbuf();
  if (!file) return error_response(500, "cannot read " + path);
  return {200, bytes.str(), std::string(content_type), std::move(headers)};
}

template <std::size_t N>
Handler asset_route(std::shared_ptr<ApiContext> context, const std::array<Asset, N>& assets,
                    std::string_view extra_name = {}, std::string_view extra_body = {}) {
  return [context, &assets, extra_name, extra_body](
             const HttpRequest& request, const PathParameters& parameters, Respond respond) {
    const std::string& name = parameters.at("asset");
    if (!extra_name.empty() && name == extra_name) {
      respond({200, std::string(extra_body), "text/javascript; charset=utf-8", {}});
      return;
    }
    for (const auto& asset : assets) {
      if (asset.name == name) {
        respond(serve_file(request, context->web_dir + "/" + std::string(asset.package_path),
                           asset.content_type));
        return;
      }
    }
    respond(error_response(404, "no asset named '" + name + "'"));
  };
}

}  // namespace

void add_docs_routes(Router& router, std::shared_ptr<ApiContext> context) {
  router.add("GET", "/openapi.json",
             [](const HttpRequest&, const PathParameters&, Respond respond) {
               respond({200, std::string(kOpenApiDocument), "application/json", {}});
             });
  router.add("GET", "/docs", [context](const HttpRequest&, const PathParameters&, Respond respond) {
    respond(installed(context->web_dir, kSwaggerUiAssets[1].package_path)
                ? page(kSwaggerUiPage)
                : not_installed(context->web_dir, "Swagger UI"));
  });
  router.add("GET", "/docs/{asset}",
             asset_route(context, kSwaggerUiAssets, "init.js", kSwaggerUiInit));
  router.add("GET", "/redoc",
             [context](const HttpRequest&, const PathParameters&, Respond respond) {
               respond(installed(context->web_dir, kRedocAssets[0].package_path)
                           ? page(kRedocPage)
                           : not_installed(context->web_dir, "Redoc"));
             });
  router.add("GET", "/redoc/{asset}", asset_route(context, kRedocAssets));
}

}  // namespace tidemark::api
