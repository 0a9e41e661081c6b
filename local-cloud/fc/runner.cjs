'use strict';
/**
 * One instance of a function, as FC's Node.js runtime runs it: a child process that loads the
 * deployed code, runs the initializer once, then one invocation at a time.
 *
 * The parent (local-cloud/fc/instance.ts) talks over IPC:
 *   → { type: 'init', codeDir, handler, initializer?, context }
 *       ← { type: 'initialized' } | { type: 'failed', errorType, error }
 *   → { type: 'invoke', event (base64), context }
 *       ← { type: 'succeeded', body (base64) } | { type: 'failed', errorType, error }
 * Everything the function prints goes to stdout (stderr is folded into it), between FC's
 * `FC Invoke Start/End RequestId: …` lines; the parent cuts the log of a run at the end line.
 * Plain CommonJS with only Node built-ins: it runs under `node` with no loader and no packages.
 */
const fs = require('node:fs');
const path = require('node:path');
const util = require('node:util');
const { pathToFileURL } = require('node:url');

process.stderr.write = process.stdout.write.bind(process.stdout);
process.on('disconnect', () => process.exit(0));

const modules = new Map();
let codeDir = '';
let handlerEntry = '';
let handler;

process.on('message', (message) => {
  const work = message.type === 'init' ? initialize(message) : invoke(message);
  work.then((reply) => process.send(reply));
});

async function initialize({ codeDir: dir, handler: handlerName, initializer, context }) {
  codeDir = dir;
  handlerEntry = handlerName;
  try {
    handler = await loadExport(handlerName, 'HandlerNotFound');
    if (!initializer) return { type: 'initialized' };
    const initialize = await loadExport(initializer, 'InitializerNotFound');
    process.stdout.write(`FC Initialize Start RequestId: ${context.requestId}\n`);
    const outcome = await callUserFunction(initialize, [withLogger(context)]);
    process.stdout.write(`FC Initialize End RequestId: ${context.requestId}\n`);
    return outcome.ok ? { type: 'initialized' } : failure(outcome);
  } catch (error) {
    return { type: 'failed', errorType: 'UnhandledInvocationError', error: describeError(error) };
  }
}

async function invoke({ event, context }) {
  process.stdout.write(`FC Invoke Start RequestId: ${context.requestId}\n`);
  const outcome = await callUserFunction(handler, [Buffer.from(event, 'base64'), withLogger(context)]);
  process.stdout.write(`FC Invoke End RequestId: ${context.requestId}\n`);
  if (!outcome.ok) return failure(outcome);
  try {
    return { type: 'succeeded', body: encodeResult(outcome.value).toString('base64') };
  } catch (error) {
    return { type: 'failed', errorType: 'UnhandledInvocationError', error: describeError(error) };
  }
}

/** `module.export` → the function, from `<codeDir>/<module>.js|.mjs|.cjs`, loaded once. */
async function loadExport(entry, notFoundType) {
  const dot = entry.lastIndexOf('.');
  const moduleName = entry.slice(0, dot);
  const exportName = entry.slice(dot + 1);
  const exported = (await loadModule(moduleName))[exportName];
  if (typeof exported !== 'function') {
    throw Object.assign(new Error(`'${exportName}' is not a function exported by module '${moduleName}' (entry '${entry}')`), {
      name: notFoundType,
    });
  }
  return exported;
}

async function loadModule(moduleName) {
  if (!modules.has(moduleName)) {
    const file = ['.js', '.mjs', '.cjs'].map((ext) => path.join(codeDir, moduleName + ext)).find((f) => fs.existsSync(f));
    if (!file) throw Object.assign(new Error(`Cannot find module '${moduleName}' in the code of handler '${handlerEntry}'`), { name: 'ModuleNotFound' });
    modules.set(moduleName, await importFile(file));
  }
  return modules.get(moduleName);
}

async function importFile(file) {
  if (file.endsWith('.mjs')) return import(pathToFileURL(file).href);
  try {
    return require(file);
  } catch (error) {
    if (error && error.code === 'ERR_REQUIRE_ESM') return import(pathToFileURL(file).href);
    throw error;
  }
}

/** Async functions resolve or reject; callback-style ones (one more parameter than given) call back. */
function callUserFunction(fn, args) {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome) => {
      if (!settled) {
        settled = true;
        resolve(outcome);
      }
    };
    const callback = (error, value) => settle(error ? { ok: false, handled: true, error } : { ok: true, value });
    const takesCallback = fn.length > args.length;
    try {
      const returned = fn(...args, callback);
      if (returned && typeof returned.then === 'function') {
        returned.then(
          (value) => settle({ ok: true, value }),
          (error) => settle({ ok: false, handled: false, error }),
        );
      } else if (!takesCallback) {
        settle({ ok: true, value: returned });
      }
    } catch (error) {
      settle({ ok: false, handled: false, error });
    }
  });
}

function failure(outcome) {
  return {
    type: 'failed',
    errorType: outcome.handled ? 'HandledInvocationError' : 'UnhandledInvocationError',
    error: describeError(outcome.error),
  };
}

/** FC's return rules: a Buffer as is, a string as UTF-8, nothing as empty, anything else as JSON. */
function encodeResult(value) {
  if (value === undefined || value === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (typeof value === 'object') return Buffer.from(JSON.stringify(value), 'utf8');
  return Buffer.from(String(value), 'utf8');
}

function describeError(error) {
  if (error instanceof Error) {
    return { errorMessage: error.message, errorType: error.name, stackTrace: String(error.stack || '').split('\n') };
  }
  return { errorMessage: typeof error === 'string' ? error : util.inspect(error), errorType: typeof error };
}

function withLogger(context) {
  const line = (level) => (...args) =>
    process.stdout.write(`${new Date().toISOString()} ${context.requestId} [${level}] ${util.format(...args)}\n`);
  return {
    ...context,
    logger: { debug: line('DEBUG'), info: line('INFO'), warn: line('WARN'), error: line('ERROR'), log: line('INFO') },
  };
}
