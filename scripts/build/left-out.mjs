// Packages the SDKs require but the functions never run: scripts/build.mjs bundles a stub in their
// place, so that a function neither reads nor parses them when it starts. Each one is reached only
// through an SDK feature the functions do not use (WebSockets, date and merge helpers, building XML);
// the reason says which.
//
// A stub that is reached all the same fails loudly rather than quietly: whatever touches it (a call,
// `new`, any property but `__esModule`) writes `LeftOutModuleReached: <package> …` to stderr, which
// FC keeps in the function's log even where an SDK swallows the error, and throws an error named
// and coded `LeftOutModuleReached`. test/deploy/left-out.test.ts runs whole rotations, error paths
// and the dispatcher on the built bundles and finds no such line; the fault matrix
// (scripts/faults/matrix.ts) counts one as a problem of its cell.

/** What a stub writes to stderr and names its error when it is reached. */
export const LEFT_OUT_MARKER = 'LeftOutModuleReached';

/** The namespace of the stubs in esbuild's metafile: an input `left-out:<package>` is a stub. */
export const LEFT_OUT_NAMESPACE = 'left-out';

/**
 * `module`: the package as the SDKs require it; `importer`: only where that package requires it
 * (another copy, required elsewhere, is bundled as usual).
 */
export const LEFT_OUT = [
  {
    module: 'ws',
    reason: "the WebSocket transport of @darabonba/typescript, used by @alicloud/openapi-core only for a ws:/wss: endpoint; the functions' endpoints are http or https",
  },
  { module: 'http-proxy-agent', reason: 'a proxy for the WebSocket transport of @darabonba/typescript only' },
  { module: 'https-proxy-agent', reason: 'a proxy for the WebSocket transport of @darabonba/typescript only' },
  { module: 'socks-proxy-agent', reason: 'a proxy for the WebSocket transport of @darabonba/typescript only' },
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

/** esbuild plugin: each package of `modules` (default LEFT_OUT) becomes a stub that fails loudly if reached. */
export function leaveOut(modules = LEFT_OUT) {
  const names = [...new Set(modules.map((entry) => entry.module))];
  return {
    name: 'leave-out',
    setup(build) {
      build.onResolve({ filter: new RegExp(`^(${names.map(escapeRegExp).join('|')})$`) }, (args) => {
        const entry = modules.find((candidate) => candidate.module === args.path && (!candidate.importer || packageOf(args.importer) === candidate.importer));
        return entry && { path: entry.module, namespace: LEFT_OUT_NAMESPACE, pluginData: entry };
      });
      build.onLoad({ filter: /.*/, namespace: LEFT_OUT_NAMESPACE }, (args) => ({ contents: stubSource(args.pluginData), loader: 'js' }));
    },
  };
}

/**
 * The stub, CommonJS: a callable Proxy. It answers `__esModule` with true, so that TypeScript's
 * interop helpers (`__importDefault`, `__importStar`) hand the Proxy itself to the SDK's code, and
 * symbols and `then` with undefined (inspection, `await`); anything else reaches it.
 */
export function stubSource({ module, reason }) {
  const message = `${module} was left out of this bundle by scripts/build.mjs (${reason}), yet the function reached it`;
  return `"use strict";
const MARKER = ${JSON.stringify(LEFT_OUT_MARKER)};
function reached(how) {
  const error = new Error(${JSON.stringify(message)} + " (" + how + "): take it off LEFT_OUT in scripts/build/left-out.mjs");
  error.name = MARKER;
  error.code = MARKER;
  process.stderr.write(MARKER + ": " + ${JSON.stringify(module)} + " " + how + "\\n" + error.stack + "\\n");
  throw error;
}
module.exports = new Proxy(function leftOut() {}, {
  get(target, key) {
    if (key === "__esModule") return true;
    if (typeof key === "symbol" || key === "then") return undefined;
    return reached("read ." + key);
  },
  apply: () => reached("called"),
  construct: () => reached("constructed"),
});
`;
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
