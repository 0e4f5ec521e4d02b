#!/usr/bin/env bash
# Installs the npm packages pinned in web/package-lock.json into web/node_modules: Swagger UI
# (swagger-ui-dist) and Redoc, which the API serves at /docs and /redoc; the OpenAPI linter
# (@redocly/cli) and the browser driver (playwright-core) the tests use. Skips the install when
# web/node_modules already matches the lock file. Needs Node.js 20.19 or later with npm
# (scripts/install-deps.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/../web"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "install-web: node and npm are missing; run scripts/install-deps.sh" >&2
  exit 1
fi
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number);
              process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  echo "install-web: Node.js $(node --version) is too old; 20.19 or later is needed" >&2
  exit 1
fi

# npm writes node_modules/.package-lock.json last, as a copy of what it installed.
installed=node_modules/.package-lock.json
required=(swagger-ui-dist/swagger-ui-bundle.js redoc/bundles/redoc.standalone.js
          .bin/redocly playwright-core/package.json)
present=true
for file in "${required[@]}"; do [[ -e "node_modules/$file" ]] || present=false; done
if $present && [[ -f "$installed" ]] &&
   node -e 'const read = (f) => JSON.parse(require("fs").readFileSync(f)).packages;
            const [want, have] = [read("package-lock.json"), read(process.argv[1])];
            for (const [name, entry] of Object.entries(want)) {
              if (name && (!have[name] || have[name].version !== entry.version)) process.exit(1);
            }' "$installed"; then
  echo "install-web: web/node_modules is up to date"
  exit 0
fi

echo "install-web: installing web/package-lock.json into web/node_modules"
# No install scripts: the packages need none, and some would only report the install.
export SCARF_ANALYTICS=false
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
for file in "${required[@]}"; do
  [[ -e "node_modules/$file" ]] || { echo "install-web: node_modules/$file is missing" >&2; exit 1; }
done
