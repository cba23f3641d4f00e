'use strict';
// The JSONata functions AWS Step Functions adds to JSONata 2.0.6, and the one it takes away ($eval), as the
// Step Functions developer guide documents them ("Transforming data with JSONata in Step Functions").
// Where the guide leaves a case open, the behaviour below follows executions recorded on AWS (noted per function).
const crypto = require('crypto');

function evaluationError(message) {
  return new Error(message); // no JSONata error code: these checks are not JSONata's
}

// $partition(array, chunkSize): the array cut into chunks of chunkSize; the last chunk may be shorter.
// Recorded on AWS: $partition([0, 1], 2) is [[0, 1]] (one chunk stays an array of arrays).
function partition(array, chunkSize) {
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw evaluationError('$partition: the chunk size must be a positive integer');
  }
  const chunks = [];
  for (let start = 0; start < array.length; start += chunkSize) {
    chunks.push(array.slice(start, start + chunkSize));
  }
  return chunks;
}

// $range(start, end, step): start, start + step, ... up to and including end.
// Recorded on AWS: $range(0, 10, 3) is [0, 3, 6, 9] and $range(1, 9, 9) is 1 (a one-item range is its item, as
// a JSONata sequence is).
function range(start, end, step) {
  if (step === 0) {
    throw evaluationError('$range: the step must not be 0');
  }
  const values = [];
  for (let value = start; step > 0 ? value <= end : value >= end; value += step) {
    values.push(value);
  }
  return values.length === 1 ? values[0] : values;
}

const HASH_ALGORITHMS = {'MD5': 'md5', 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512'};

// $hash(value, algorithm): the hex digest of the string's UTF-8 bytes; MD5, SHA-1, SHA-256, SHA-384 or SHA-512.
function hash(value, algorithm) {
  const name = HASH_ALGORITHMS[algorithm];
  if (name === undefined) {
    throw evaluationError(`$hash: unsupported algorithm ${JSON.stringify(algorithm)} (use one of ${Object.keys(HASH_ALGORITHMS).join(', ')})`);
  }
  return crypto.createHash(name).update(value, 'utf8').digest('hex');
}

// $random([seed]): a number in [0, 1); with a seed, the same number for the same seed. AWS does not document its
// generator, so a seeded value here is deterministic but not the number AWS would return.
function random(seed) {
  if (seed === undefined) {
    return Math.random();
  }
  const bits = new DataView(new ArrayBuffer(8));
  bits.setFloat64(0, seed);
  let state = (bits.getUint32(0) ^ Math.imul(bits.getUint32(4), 0x9e3779b1)) >>> 0;
  // mulberry32, one step
  state = (state + 0x6d2b79f5) >>> 0;
  let mixed = Math.imul(state ^ (state >>> 15), state | 1);
  mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
  return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
}

// $uuid(): a version 4 UUID.
function uuid() {
  return crypto.randomUUID();
}

// $parse(text): the JSON value the string holds (Step Functions' replacement for $eval).
function parse(text) {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw evaluationError(`$parse: not a JSON text (${error.message})`);
  }
}

// $eval is "not available" on AWS: calling it fails the way calling any undefined function does
// (T1006, "Attempted to invoke a non-function"; JSONata supplies the message for its code).
function evalUnavailable() {
  const error = new Error('$eval is not available in AWS Step Functions: use $parse');
  error.code = 'T1006';
  throw error;
}

// [name, implementation, JSONata signature]
const FUNCTIONS = [
  ['partition', partition, '<an:a>'],
  ['range', range, '<nnn:x>'],
  ['hash', hash, '<ss:s>'],
  ['random', random, '<n?:n>'],
  ['uuid', uuid, '<:s>'],
  ['parse', parse, '<s:j>'],
  ['eval', evalUnavailable, '<x*:x>'],
];

function registerStepFunctionsFunctions(expression) {
  for (const [name, implementation, signature] of FUNCTIONS) {
    expression.registerFunction(name, implementation, signature);
  }
}

module.exports = {registerStepFunctionsFunctions};
