'use strict';
// Shared helpers of evaluate.js and evaluate-bulk.js: reading the environment and the cases,
// and printing one result line per case.

function fail(message) {
  process.stderr.write(`error: ${message}\n`);
  process.exit(2);
}

function readEnv() {
  const url = process.env.RAMP_URL;
  const token = process.env.RAMP_TOKEN;
  if (!url) fail('RAMP_URL is not set (base URL of the Ramp server, without /ofrep)');
  if (token === undefined) fail('RAMP_TOKEN is not set');
  try {
    new URL(url);
  } catch (_) {
    fail(`RAMP_URL is not a valid URL: ${url}`);
  }
  return { baseUrl: url.replace(/\/+$/, ''), token };
}

async function readCases() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  let cases;
  try {
    cases = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (e) {
    fail(`stdin is not JSON: ${e.message}`);
  }
  if (!Array.isArray(cases)) fail('stdin must be a JSON array of {"flag", "context"} objects');
  cases.forEach((c, i) => {
    if (!c || typeof c !== 'object' || typeof c.flag !== 'string') fail(`case ${i} has no string "flag"`);
    if (c.context !== undefined && (c.context === null || typeof c.context !== 'object' || Array.isArray(c.context))) {
      fail(`case ${i}: "context" must be an object`);
    }
  });
  return cases.map((c) => ({ flag: c.flag, context: c.context || {} }));
}

// A JSON text of the context with its keys sorted, to group equal contexts.
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function resultLine(flag, details) {
  if (details.errorCode && process.env.RAMP_DEBUG) {
    process.stderr.write(`${flag}: ${details.errorCode}: ${details.errorMessage}\n`);
  }
  return JSON.stringify({
    flag,
    value: details.value,
    reason: details.reason === undefined ? null : details.reason,
    errorCode: details.errorCode || null,
  });
}

module.exports = { fail, readEnv, readCases, canonical, resultLine };
