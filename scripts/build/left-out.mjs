// Modules the SDKs require but the functions never run: scripts/build.mjs bundles a stub in their
// place, so that a function neither reads nor parses them when it starts. Each one is reached only
// through an SDK feature the functions do not use (WebSockets, local files, date and merge helpers,
// building XML); the reason says which. An entry must match: test/deploy/bundle.test.ts checks that
// every one stands in for a module the bundles would otherwise hold.
//
// A stub that is reached all the same fails loudly rather than quietly: whatever touches it (a call,
// `new`, any property but `__esModule`) writes `LeftOutModuleReached: <module> …` to stderr, which
// FC keeps in the function's log even where an SDK swallows the error, and throws an error named
// and coded `LeftOutModuleReached`. test/deploy/left-out.test.ts runs whole rotations, error paths
// and the dispatcher on the built bundles and finds no such line; the fault matrix
// (scripts/faults/matrix.ts) counts one as a problem of its cell.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** What a stub writes to stderr and names its error when it is reached. */
export const LEFT_OUT_MARKER = 'LeftOutModuleReached';

/** The namespace of the stubs in esbuild's metafile: an input `left-out:<name>` is a stub (see stubName). */
export const LEFT_OUT_NAMESPACE = 'left-out';

/**
 * `module`: a package, or a file of `importer` (`./name`), as the SDKs require it; `importer`: only
 * where that package requires it (another copy, required elsewhere, is bundled as usual).
 */
export const LEFT_OUT = [
  {
    module: './websocket',
    importer: '@darabonba/typescript',
    reason: "its WebSocket transport ($dara.newWebSocketClientAndConnect, …, with ws and three proxy agents), used by @alicloud/openapi-core only for a ws:/wss: endpoint",
  },
  {
    module: './websocketUtils',
    importer: '@alicloud/openapi-core',
    reason: "its WebSocket sub-protocols, used only for a ws:/wss: endpoint; the functions' endpoints are http or https",
  },
  { module: './file', importer: '@darabonba/typescript', reason: "its local-file class ($dara.File), for uploads; the functions upload no file" },
  { module: 'moment', reason: "the date class of @darabonba/typescript ($dara.Date, File's times), which none of the SDK calls the functions make uses" },
  { module: 'lodash', reason: 'the merge helper of @darabonba/typescript ($dara.merge), which none of the SDK calls the functions make uses' },
  {
    module: 'xmlbuilder',
    reason: "xml2js's Builder, which builds XML ($dara.XML.toXML); the functions send no XML (parsing an XML error body, with sax, stays in)",
  },
  {
    module: 'xml2js',
    importer: '@alicloud/rpc-util',
    reason: "RpcUtil.parseXml, which @alicloud/rpc-client never calls: it asks for Format=json and reads every answer as JSON",
  },
];

/** esbuild plugin: each module of `modules` (default LEFT_OUT) becomes a stub that fails loudly if reached. */
export function leaveOut(modules = LEFT_OUT) {
  const names = [...new Set(modules.map((entry) => entry.module))];
  return {
    name: 'leave-out',
    setup(build) {
      build.onResolve({ filter: new RegExp(`^(${names.map(escapeRegExp).join('|')})$`) }, (args) => {
        const entry = modules.find((candidate) => candidate.module === args.path && (!candidate.importer || packageOf(args.importer) === candidate.importer));
        if (!entry) return undefined;
        const exportNames = entry.module.startsWith('.') ? exportsOf(createRequire(args.importer).resolve(entry.module)) : [];
        return { path: stubName(entry), namespace: LEFT_OUT_NAMESPACE, pluginData: { ...entry, exportNames } };
      });
      build.onLoad({ filter: /.*/, namespace: LEFT_OUT_NAMESPACE }, (args) => ({ contents: stubSource(args.pluginData), loader: 'js' }));
    },
  };
}

/** How a stub is named (in the metafile, `left-out:<name>`): the package, or `<importer>/<file>`. */
export function stubName({ module, importer }) {
  return module.startsWith('.') ? `${importer}/${module.replace(/^\.\//, '')}` : module;
}

/**
 * The stub, CommonJS: a callable Proxy. It answers `__esModule` with true, so that TypeScript's
 * interop helpers (`__importDefault`, `__importStar`) hand the Proxy itself to the SDK's code, and
 * symbols and `then` with undefined (inspection, `await`); anything else reaches it. A file's stub
 * lists the names the file exports, so that `__exportStar` re-exports each as a getter that reaches it.
 */
export function stubSource({ module, importer, reason, exportNames = [] }) {
  const name = stubName({ module, importer });
  const message = `${name} was left out of this bundle by scripts/build.mjs (${reason}), yet the function reached it`;
  return `"use strict";
const MARKER = ${JSON.stringify(LEFT_OUT_MARKER)};
function reached(how) {
  const error = new Error(${JSON.stringify(message)} + " (" + how + "): take it off LEFT_OUT in scripts/build/left-out.mjs");
  error.name = MARKER;
  error.code = MARKER;
  process.stderr.write(MARKER + ": " + ${JSON.stringify(name)} + " " + how + "\\n" + error.stack + "\\n");
  throw error;
}
const NAMES = ${JSON.stringify(exportNames)};
module.exports = new Proxy(function leftOut() {}, {
  get(target, key) {
    if (key === "__esModule") return true;
    if (typeof key === "symbol" || key === "then") return undefined;
    return reached("read ." + key);
  },
  ownKeys: (target) => [...Reflect.ownKeys(target), ...NAMES],
  getOwnPropertyDescriptor: (target, key) =>
    NAMES.includes(key) ? { value: undefined, writable: true, enumerable: true, configurable: true } : Reflect.getOwnPropertyDescriptor(target, key),
  apply: () => reached("called"),
  construct: () => reached("constructed"),
});
`;
}

/** The names a CommonJS file compiled by TypeScript exports (`exports.name = …`). */
function exportsOf(file) {
  const names = [...readFileSync(file, 'utf8').matchAll(/\bexports\.([A-Za-z_$][\w$]*)\s*=/g)].map((match) => match[1]);
  return [...new Set(names)].filter((name) => name !== '__esModule' && name !== 'default');
}

/** `/…/node_modules/@alicloud/rpc-util/dist/client.js` → `@alicloud/rpc-util`. */
function packageOf(file) {
  const parts = file.split(/[\\/]/);
  const last = parts.lastIndexOf('node_modules');
  if (last === -1) return undefined;
  return parts.slice(last + 1, last + (parts[last + 1]?.startsWith('@') ? 3 : 2)).join('/');
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
