'use strict';
// The Node side of the JSONata bridge (bridge.py starts it): npm jsonata, the JavaScript reference
// implementation AWS Step Functions runs, plus Step Functions' own functions.
//
// Usage: node server.js <path of the jsonata package>
// Protocol: one JSON object per line each way, strictly one response per request, in order.
//   first line out: {"ready": true, "jsonata": "<version>"}
//   request:  {"expr": "<expression>", "now": <epoch millis or null>, "bindings": {"name": value, ...} or null}
//   response: {"value": <result>} | {"undefined": true} | {"unsupported": "<type>"}
//             | {"error": {"code": ..., "message": ..., "position": ..., "token": ...}}
//   request:  {"stats": true} -> {"value": {"parsed": <expressions parsed>, "evaluations": <evaluations>}}
// Each expression is parsed once (cache by text); "now" is the one timestamp of that evaluation.
const path = require('path');
const readline = require('readline');

const jsonataPackage = process.argv[2];
const jsonata = require(jsonataPackage);
const {version} = require(path.join(jsonataPackage, 'package.json'));
const {registerStepFunctionsFunctions} = require('./step_functions');

// $now(), $millis() and the date parts $toMillis() defaults all come from the one `new Date()` jsonata takes per
// evaluation; making that Date the engine clock's keeps them on virtual time together.
const SystemDate = Date;
let clockMillis = null;
class EngineClockDate extends SystemDate {
  constructor(...args) {
    if (args.length === 0 && clockMillis !== null) {
      super(clockMillis);
    } else {
      super(...args);
    }
  }

  static now() {
    return clockMillis !== null ? clockMillis : SystemDate.now();
  }
}
globalThis.Date = EngineClockDate;

const CACHE_LIMIT = 10000;
const compiled = new Map(); // expression text -> {expression} | {error}
const stats = {parsed: 0, evaluations: 0};

function compile(text) {
  let entry = compiled.get(text);
  if (entry === undefined) {
    stats.parsed += 1;
    try {
      const expression = jsonata(text);
      registerStepFunctionsFunctions(expression);
      entry = {expression};
    } catch (error) {
      entry = {error};
    }
    if (compiled.size >= CACHE_LIMIT) {
      compiled.delete(compiled.keys().next().value);
    }
    compiled.set(text, entry);
  }
  if (entry.error !== undefined) {
    throw entry.error;
  }
  return entry.expression;
}

function describeError(error) {
  const described = {message: error && error.message !== undefined ? String(error.message) : String(error)};
  for (const key of ['code', 'position', 'token']) {
    if (error && error[key] !== undefined) {
      described[key] = error[key];
    }
  }
  return described;
}

async function answer(request) {
  if (request.stats === true) {
    return {value: stats};
  }
  stats.evaluations += 1;
  clockMillis = typeof request.now === 'number' ? request.now : null;
  try {
    const expression = compile(request.expr);
    const result = await expression.evaluate(undefined, request.bindings === null ? undefined : request.bindings);
    if (result === undefined) {
      return {undefined: true};
    }
    if (typeof result === 'function' || (result && (result._jsonata_lambda || result._jsonata_function))) {
      return {unsupported: 'function'};
    }
    return {value: result};
  } catch (error) {
    return {error: describeError(error)};
  } finally {
    clockMillis = null;
  }
}

function send(message) {
  let line;
  try {
    line = JSON.stringify(message);
  } catch (error) { // e.g. a result JSON cannot hold
    line = JSON.stringify({error: describeError(error)});
  }
  process.stdout.write(line + '\n');
}

async function main() {
  send({ready: true, jsonata: version});
  const lines = readline.createInterface({input: process.stdin, crlfDelay: Infinity});
  for await (const line of lines) { // one at a time: the clock above belongs to the request being answered
    if (line.trim() === '') {
      continue;
    }
    let request;
    try {
      request = JSON.parse(line);
    } catch (error) {
      send({error: {message: `bridge: request is not JSON (${error.message})`}});
      continue;
    }
    send(await answer(request));
  }
}

main().catch((error) => {
  process.stderr.write(`jsonata bridge failed: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
